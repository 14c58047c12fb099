import { readFile } from 'node:fs/promises';
import { UsageError } from './errors.ts';

// The env file Compose reads (KEY=VALUE lines) is where every secret lives. One strict reader for every
// command: a line Compose would refuse or read differently is an error with its line number, never
// skipped, so no command appends to a file it cannot parse and no duplicate silently wins.

/** One problem of an env file: the 1-based line and what is wrong with it. */
export interface EnvFileProblem {
  line: number;
  message: string;
}

/** The env file cannot be trusted; nothing has been written. */
export class EnvFileError extends UsageError {
  constructor(
    readonly file: string,
    readonly problems: EnvFileProblem[],
  ) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the env file (nothing was changed; fix the file by hand, values are never printed):\n${problems
        .map((p) => `  - line ${p.line}: ${p.message}`)
        .join('\n')}`,
    );
    this.name = 'EnvFileError';
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Control characters other than tab: what random bytes or a binary file leave behind. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/;

/** The value of one assignment: quotes removed when they wrap the whole value, undefined if unbalanced. */
function unquote(raw: string): string | undefined {
  const value = raw.trim();
  const quote = value[0];
  if (quote !== '"' && quote !== "'") return value;
  if (value.length < 2 || value.at(-1) !== quote) return undefined;
  return value.slice(1, -1);
}

/** Parses the env file strictly: every problem with its line number, values never shown. */
export function parseEnvFile(text: string, file = '.env'): Map<string, string> {
  const values = new Map<string, string>();
  const firstLine = new Map<string, number>();
  const problems: EnvFileProblem[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    const text = raw.replace(/\r$/, '');
    if (CONTROL.test(text)) {
      problems.push({ line, message: 'expected text, found control characters or bytes that are not UTF-8' });
      return;
    }
    if (/^\s*(#|$)/.test(text)) return;
    const eq = text.indexOf('=');
    if (eq < 0) {
      const word = text.trim().split(/\s+/)[0] ?? '';
      problems.push({
        line,
        message: `expected NAME=value, found no "=" (after "${NAME.test(word) ? word : '...'}")`,
      });
      return;
    }
    const name = text
      .slice(0, eq)
      .trim()
      .replace(/^export\s+/, '');
    if (!NAME.test(name)) {
      problems.push({ line, message: 'expected a variable name of letters, digits and _ before "="' });
      return;
    }
    const value = unquote(text.slice(eq + 1));
    if (value === undefined) {
      problems.push({
        line,
        message: `${name}: expected a value with matching quotes, found an unclosed quote`,
      });
      return;
    }
    const earlier = firstLine.get(name);
    if (earlier !== undefined) {
      problems.push({ line, message: `${name}: expected once, already set on line ${earlier}` });
      return;
    }
    firstLine.set(name, line);
    values.set(name, value);
  });
  if (problems.length > 0) throw new EnvFileError(file, problems);
  return values;
}

/** Reads and parses the env file; a missing file is empty, an unreadable one an error naming it. */
export async function readEnvFile(path: string): Promise<{ text: string; values: Map<string, string> }> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new UsageError(`${path}: cannot read the env file (${error.code ?? error.message})`);
  });
  return { text, values: parseEnvFile(text, path) };
}
