import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../lib/errors.ts';
import { memoryMiB } from './memory.ts';
import { type SiteConfig, siteConfigSchema } from './schema.ts';

const show = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/** The inclusive minimum of the number schema at `path`, to say "a number >= 2" for a wrong type too. */
function minimumAt(path: PropertyKey[]): number | undefined {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definition tree
  let node: any = siteConfigSchema;
  const unwrap = () => {
    while (node?._zod?.def?.innerType) node = node._zod.def.innerType;
  };
  for (const key of path) {
    unwrap();
    node = typeof key === 'number' ? node?._zod?.def?.element : node?._zod?.def?.shape?.[key];
  }
  unwrap();
  const checks: { _zod: { def: { check: string; value: unknown; inclusive?: boolean } } }[] =
    node?._zod?.def?.checks ?? [];
  const min = checks.find((c) => c._zod.def.check === 'greater_than' && c._zod.def.inclusive)?._zod.def.value;
  return typeof min === 'number' ? min : undefined;
}

/** Turns one schema issue into "expected ..., got ..." wording a person can act on. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const found = `got ${show(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type': {
      const min = issue.expected === 'number' ? minimumAt(issue.path) : undefined;
      return `expected ${article(issue.expected)}${min === undefined ? '' : ` >= ${min}`}, ${found}`;
    }
    case 'too_small': {
      const op = issue.inclusive ? '>=' : '>';
      if (issue.origin === 'array')
        return `expected at least ${issue.minimum} entr${issue.minimum === 1 ? 'y' : 'ies'}, ${found}`;
      if (issue.origin === 'string') return `expected at least ${issue.minimum} character(s), ${found}`;
      return `expected a number ${op} ${issue.minimum}, ${found}`;
    }
    case 'too_big': {
      const op = issue.inclusive ? '<=' : '<';
      return `expected a number ${op} ${issue.maximum}, ${found}`;
    }
    case 'invalid_format':
    case 'custom':
      return `expected ${issue.message}, ${found}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => show(v)).join(', ')}, ${found}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling; see academy.config.ts for the fields)`;
    default:
      return issue.message;
  }
}

const pathOf = (path: PropertyKey[]): string =>
  path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  ) || '(root)';

/** Sizes that parse but cannot work together on the configured server. */
function sizingProblems(config: SiteConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const serverMiB = config.server.memoryGiB * 1024;
  let reserved = 0;
  for (const [service, r] of Object.entries(config.resources)) {
    const limit = memoryMiB(r.memory, config.server.memoryGiB);
    const reservation = memoryMiB(r.reserveMemory, config.server.memoryGiB);
    // Both colours run side by side during a deployment, so application reservations count twice.
    reserved += ['api', 'web', 'admin'].includes(service) ? 2 * reservation : reservation;
    const at = `resources.${service}`;
    if (limit < 64)
      problems.push({
        path: `${at}.memory`,
        message: `expected at least 64 MiB, got ${limit} MiB (${r.memory} of ${config.server.memoryGiB} GiB)`,
      });
    if (limit > serverMiB)
      problems.push({
        path: `${at}.memory`,
        message: `expected at most the server's ${serverMiB} MiB, got ${limit} MiB (${r.memory})`,
      });
    if (reservation > limit)
      problems.push({
        path: `${at}.reserveMemory`,
        message: `expected at most the limit of ${limit} MiB, got ${reservation} MiB`,
      });
    if (r.cpus > config.server.cpus)
      problems.push({
        path: `${at}.cpus`,
        message: `expected at most server.cpus (${config.server.cpus}), got ${r.cpus}`,
      });
    if (r.reserveCpus > r.cpus)
      problems.push({
        path: `${at}.reserveCpus`,
        message: `expected at most resources.${service}.cpus (${r.cpus}), got ${r.reserveCpus}`,
      });
  }
  if (reserved > serverMiB)
    problems.push({
      path: 'resources',
      message: `expected memory reservations (applications counted twice for blue and green) to fit the server's ${serverMiB} MiB, got ${reserved} MiB`,
    });
  return problems;
}

/** Validates a site configuration; throws ConfigError listing every problem with its path. */
export function validateConfig(input: unknown, file = 'academy.config.ts'): SiteConfig {
  const result = siteConfigSchema.safeParse(input ?? {}, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(
      file,
      result.error.issues.map((issue) => ({ path: pathOf(issue.path), message: describeIssue(issue) })),
    );
  }
  const problems = sizingProblems(result.data);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return result.data;
}
