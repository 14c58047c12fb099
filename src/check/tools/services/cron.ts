import type { Row } from '../../exec.ts';
import type { Check, CheckContext } from '../../types.ts';

// `cron`: every rendered cron file (in a `cron/` or `cron.d/` folder, or named *.cron) is read as an
// /etc/cron.d file: `min hour day-of-month month day-of-week user command`, `@daily user command`,
// `NAME=value` lines and comments. cron itself has no "check this file" mode, and a bad line only shows up as a
// syslog message when cron loads the file, so the parser below follows Debian's cron (Vixie cron 3.0).

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  // 7 is Sunday too.
  { name: 'day of week', min: 0, max: 7, names: DAYS },
];

const SPECIALS = new Set([
  '@reboot',
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
]);

function fieldValue(text: string, field: Field): number | string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < field.min || n > field.max) return `${field.name} ${n} is outside ${field.min}-${field.max}`;
    return n;
  }
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (index >= 0) return field.name === 'month' ? index + 1 : index;
  return `${field.name}: ${JSON.stringify(text)} is not a number${field.names ? ' or a name' : ''}`;
}

/** Checks one time field (`*`, `*\/5`, `1-5`, `1-10/2`, `mon-fri`, lists of those); returns the problem or null. */
export function checkCronField(text: string, field: Field): string | null {
  for (const item of text.split(',')) {
    if (item === '') return `${field.name}: empty item in ${JSON.stringify(text)}`;
    const m = /^([^/]+)(?:\/(.*))?$/.exec(item);
    if (!m) return `${field.name}: cannot read ${JSON.stringify(item)}`;
    const range = m[1] as string;
    const step = m[2];
    if (step !== undefined) {
      if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > field.max) {
        return `${field.name}: step ${JSON.stringify(step)} must be a number from 1 to ${field.max}`;
      }
    }
    if (range === '*') continue;
    const bounds = range.split('-');
    if (bounds.length > 2) return `${field.name}: cannot read range ${JSON.stringify(range)}`;
    const values = bounds.map((b) => fieldValue(b, field));
    const bad = values.find((v) => typeof v === 'string');
    if (bad !== undefined) return bad as string;
    if (bounds.length === 1 && step !== undefined) {
      return `${field.name}: a step needs a range or * (${JSON.stringify(item)}; cron reads no "N/step")`;
    }
    if (bounds.length === 2 && (values[0] as number) > (values[1] as number)) {
      return `${field.name}: range ${JSON.stringify(range)} runs backwards`;
    }
  }
  return null;
}

/** The text after the first `count` whitespace-separated words (the command keeps its own spacing). */
const afterWords = (line: string, count: number) =>
  new RegExp(`^\\s*(?:\\S+\\s+){${count}}(.*)$`).exec(line)?.[1] ?? '';

export interface CronProblem {
  line: number;
  message: string;
}

/** Checks an /etc/cron.d file's text; returns the problems with their 1-based line numbers. */
export function checkCronFile(text: string): CronProblem[] {
  const problems: CronProblem[] = [];
  const lines = text.split('\n');
  if (text !== '' && !text.endsWith('\n')) {
    problems.push({
      line: lines.length,
      message: 'the file does not end with a newline: cron ignores its last line',
    });
  }
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (/^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(line)) return;
    const words = line.split(/\s+/);
    let command: string;
    let user: string | undefined;
    if (line.startsWith('@')) {
      const special = (words[0] as string).toLowerCase();
      if (!SPECIALS.has(special)) {
        problems.push({
          line: lineNo,
          message: `${words[0]} is not a cron schedule (${[...SPECIALS].join(', ')})`,
        });
        return;
      }
      user = words[1];
      command = afterWords(line, 2);
    } else {
      if (words.length < 7) {
        problems.push({
          line: lineNo,
          message: `expected 5 time fields, a user and a command; found ${words.length} field${words.length === 1 ? '' : 's'}`,
        });
        return;
      }
      for (const [i, field] of FIELDS.entries()) {
        const problem = checkCronField(words[i] as string, field);
        if (problem) {
          problems.push({ line: lineNo, message: problem });
          return;
        }
      }
      user = words[5];
      command = afterWords(line, 6);
    }
    if (!user || !/^[a-z_][a-z0-9_-]*\$?$/i.test(user)) {
      problems.push({
        line: lineNo,
        message: `${JSON.stringify(user ?? '')} is not a user name (cron.d lines name the user)`,
      });
      return;
    }
    if (command.trim() === '') {
      problems.push({ line: lineNo, message: 'no command' });
      return;
    }
    if (/(^|[^\\])%/.test(command)) {
      problems.push({
        line: lineNo,
        message: 'an unescaped % in the command: cron turns it into a newline (write \\%)',
      });
    }
  });
  return problems;
}

/** Whether a tree path is a cron file. */
export const isCronFile = (path: string) => /(^|\/)cron(\.d)?\//.test(path) || path.endsWith('.cron');

function runCron(ctx: CheckContext): Promise<Row[]> {
  const tool = 'cron.d parser';
  const files = [...ctx.tree.files.keys()].filter(isCronFile).sort();
  if (files.length === 0) {
    return Promise.resolve([
      { target: 'cron files', tool, status: 'pass', notes: ['no cron files rendered'] },
    ]);
  }
  return Promise.resolve(
    files.map((target): Row => {
      const problems = checkCronFile(ctx.tree.files.get(target)?.content ?? '');
      const base = target.split('/').pop() ?? target;
      const notes = /[^A-Za-z0-9_-]/.test(base)
        ? [
            `installed under /etc/cron.d as ${base}, cron would ignore it: names there may only hold letters, digits, _ and -`,
          ]
        : [];
      return problems.length === 0
        ? { target, tool, status: 'pass', ...(notes.length > 0 ? { notes } : {}) }
        : {
            target,
            tool,
            status: 'fail',
            message: problems.map((p) => `line ${p.line}: ${p.message}`).join('\n'),
            ...(notes.length > 0 ? { notes } : {}),
          };
    }),
  );
}

export const cronCheck: Check = {
  name: 'cron',
  tool: 'cron.d parser',
  requires: [],
  install: 'nothing to install',
  run: runCron,
};
