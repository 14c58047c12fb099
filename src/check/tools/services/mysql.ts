import type { Row } from '../../exec.ts';
import type { Check, CheckContext } from '../../types.ts';
import { mysql84Options, mysqlRetired, type RetiredOption } from './mysql-options.ts';

// `mysql-options`: production runs MySQL 8.4, and this machine has none (Debian ships MariaDB, which reads a
// different option set: it would reject valid 8.4 options and accept removed ones). So a list, not a server,
// judges my.cnf: every option of the server's groups must be a MySQL 8.4 server option, and none may be removed
// or deprecated in 8.4. MariaDB has no equivalent of mysqld --validate-config, so it is not run at all.

/** Option groups mysqld reads from an option file. */
const SERVER_GROUPS = new Set(['mysqld', 'server', 'mysqld-8.4']);

const MARIADB_NOTE = 'MariaDB is not MySQL: the option list, not a server, checks my.cnf';

/** An option name as MySQL matches it: lowercase, dashes and underscores alike. */
export const normalizeMysqlOption = (name: string) => name.trim().toLowerCase().replace(/-/g, '_');

export interface MysqlOptionVerdict {
  status: 'ok' | 'unknown' | 'removed' | 'deprecated' | 'loose-unknown';
  /** The option the name resolved to (without skip-/loose-/... prefixes). */
  option: string;
  retired?: RetiredOption;
}

const retiredEntry = (name: string): RetiredOption | undefined =>
  Object.hasOwn(mysqlRetired, name) ? mysqlRetired[name] : undefined;

/**
 * What MySQL 8.4 makes of one option name: the name itself, or after the prefixes the option parser strips
 * (`loose-` ignores an unknown option; `skip-`/`disable-`/`enable-` set a boolean; `maximum-` caps a variable).
 */
export function classifyMysqlOption(raw: string): MysqlOptionVerdict {
  let name = normalizeMysqlOption(raw);
  let loose = false;
  for (;;) {
    const retired = retiredEntry(name);
    if (retired) return { status: retired.status, option: name, retired };
    if (mysql84Options.has(name)) return { status: 'ok', option: name };
    const prefix = /^(loose|skip|disable|enable|maximum)_(.+)$/.exec(name);
    if (!prefix) break;
    if (prefix[1] === 'loose') loose = true;
    name = prefix[2] as string;
  }
  return { status: loose ? 'loose-unknown' : 'unknown', option: name };
}

/** The closest known option (edit distance at most 3), for "did you mean". */
export function nearestMysqlOption(name: string): string | undefined {
  let best: { option: string; distance: number } | undefined;
  for (const option of mysql84Options) {
    if (Math.abs(option.length - name.length) > 3) continue;
    const d = editDistance(name, option);
    if (d <= 3 && (!best || d < best.distance)) best = { option, distance: d };
  }
  return best?.option;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** Checks the server groups of a my.cnf text; returns the problems (with line numbers) and notes. */
export function checkMysqlOptions(text: string): { problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  let group: string | null = null;
  text.split('\n').forEach((rawLine, index) => {
    const lineNo = index + 1;
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]+)\]\s*(#.*)?$/.exec(line);
    if (header) {
      group = (header[1] as string).trim().toLowerCase();
      return;
    }
    if (/^!include(dir)?\s/.test(line)) {
      notes.push(`line ${lineNo}: ${line} is not followed by this check`);
      return;
    }
    if (group === null) {
      problems.push(
        `line ${lineNo}: an option before any [group] header (mysqld stops: "Found option without preceding group")`,
      );
      return;
    }
    if (!SERVER_GROUPS.has(group)) return;
    const m = /^([A-Za-z0-9_.-]+)\s*(=.*)?$/.exec(line);
    if (!m) {
      problems.push(`line ${lineNo}: cannot read ${JSON.stringify(line)}`);
      return;
    }
    const name = m[1] as string;
    if (name.includes('.')) {
      notes.push(
        `line ${lineNo}: ${name} is a component variable; the server list does not cover components`,
      );
      return;
    }
    const verdict = classifyMysqlOption(name);
    const where = `line ${lineNo} [${group}]: ${name}`;
    const use = verdict.retired?.use ? `; use ${verdict.retired.use}` : '';
    switch (verdict.status) {
      case 'ok':
        return;
      case 'removed':
        problems.push(
          `${where} was removed in MySQL ${verdict.retired?.since}: MySQL 8.4 does not start with it${use}`,
        );
        return;
      case 'deprecated':
        problems.push(`${where} is deprecated in MySQL 8.4 (since ${verdict.retired?.since})${use}`);
        return;
      case 'loose-unknown':
        notes.push(
          `${where}: ${verdict.option} is not a MySQL 8.4 server option; loose- makes mysqld only warn`,
        );
        return;
      default: {
        const near = nearestMysqlOption(verdict.option);
        problems.push(
          `${where} is not a MySQL 8.4 server option (mysqld stops: "unknown variable")${near ? `; did you mean ${near}?` : ''}`,
        );
      }
    }
  });
  return { problems, notes };
}

function runMysqlOptions(ctx: CheckContext): Promise<Row[]> {
  const target = ctx.model.data.mysql.files.conf;
  const tool = 'mysql 8.4 option list';
  const text = ctx.tree.files.get(target)?.content;
  if (text === undefined) {
    return Promise.resolve([
      { target, tool, status: 'fail', message: 'missing from the tree (run `npx academy synth`)' },
    ]);
  }
  const { problems, notes } = checkMysqlOptions(text);
  const allNotes = [MARIADB_NOTE, ...notes];
  return Promise.resolve([
    problems.length === 0
      ? { target, tool, status: 'pass', notes: allNotes }
      : { target, tool, status: 'fail', message: problems.join('\n'), notes: allNotes },
  ]);
}

export const mysqlOptionsCheck: Check = {
  name: 'mysql-options',
  tool: 'mysql 8.4 option list',
  requires: [],
  install: 'nothing to install: the list is part of the project',
  run: runMysqlOptions,
};
