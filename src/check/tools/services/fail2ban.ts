import { cp, readdir } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { type Row, run } from '../../exec.ts';
import type { Check, CheckContext } from '../../types.ts';
import { filesUnder, relabel, writeCopy } from './common.ts';

// `fail2ban`: `fail2ban-client -c <dir> -t` on a copy of this machine's /etc/fail2ban with the rendered files
// dropped in where provisioning installs them. fail2ban 1.0.2 (Debian 12) refuses a jail whose logpath matches
// no file; where a rendered logpath matches nothing on this machine (no nginx here, say), the copy points it
// at an empty stand-in and the row says so.

const FAIL2BAN_ETC = '/etc/fail2ban';

/** Splits a glob into a regex per path segment. */
const segmentRegex = (segment: string) =>
  new RegExp(
    `^${segment
      .split('')
      .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  );

/** Whether an absolute glob (`*`, `?` in any segment) matches at least one existing path. */
export async function globExists(pattern: string): Promise<boolean> {
  const segments = pattern.split('/').filter((s) => s !== '');
  const walk = async (dir: string, index: number): Promise<boolean> => {
    if (index === segments.length) return true;
    const segment = segments[index] as string;
    const entries = await readdir(dir).catch(() => [] as string[]);
    const re = segmentRegex(segment);
    for (const entry of entries) {
      if (re.test(entry) && (await walk(posix.join(dir, entry), index + 1))) return true;
    }
    return false;
  };
  return pattern.startsWith('/') ? walk('/', 0) : false;
}

export interface LogpathUse {
  jail: string;
  /** 0-based index of the `logpath` line. */
  line: number;
  /** 0-based indexes of its continuation lines. */
  continuation: number[];
  patterns: string[];
}

/** Every `logpath` of a fail2ban INI text, with its continuation lines and patterns (`tail`/`head` dropped). */
export function fail2banLogpaths(text: string): LogpathUse[] {
  const lines = text.split('\n');
  const uses: LogpathUse[] = [];
  let jail = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const section = /^\s*\[([^\]]+)\]/.exec(line);
    if (section) {
      jail = (section[1] as string).trim();
      continue;
    }
    const m = /^logpath\s*[=:]\s*(.*)$/.exec(line);
    if (!m) continue;
    const start = i;
    const values = [(m[1] as string).trim()];
    const continuation: number[] = [];
    while (i + 1 < lines.length && /^[ \t]+\S/.test(lines[i + 1] as string)) {
      i++;
      continuation.push(i);
      values.push((lines[i] as string).trim());
    }
    uses.push({
      jail,
      line: start,
      continuation,
      patterns: values.filter((v) => v !== '').map((v) => v.replace(/\s+(tail|head)$/, '').trim()),
    });
  }
  return uses;
}

/** Replaces the logpath of the given uses with a stand-in file each; returns the new text. */
export function replaceLogpaths(
  text: string,
  uses: readonly LogpathUse[],
  standIn: (jail: string) => string,
): string {
  const lines = text.split('\n');
  const drop = new Set<number>();
  for (const use of uses) {
    lines[use.line] = `logpath = ${standIn(use.jail)}`;
    for (const c of use.continuation) drop.add(c);
  }
  // Continuation lines become comments so that line numbers in fail2ban's messages still match the tree.
  return lines.map((l, i) => (drop.has(i) ? `#${l}` : l)).join('\n');
}

/** fail2ban-client's ERROR lines (and the lines of detail after them), without the timestamp prefixes. */
export function fail2banErrors(output: string): string[] {
  const out: string[] = [];
  let inError = false;
  for (const line of output.split('\n')) {
    const logged = /^\d{4}-\d\d-\d\d [\d:,]+ \S+\s+\[\d+\]: (\w+)\s+(.*)$/.exec(line);
    if (logged) {
      inError = logged[1] === 'ERROR' || logged[1] === 'CRITICAL';
      if (inError && !/ERROR: test configuration failed/.test(line)) out.push(`${logged[1]} ${logged[2]}`);
      continue;
    }
    if (inError && line.trim() !== '') out.push(`  ${line.trim()}`);
  }
  return out;
}

async function runFail2ban(ctx: CheckContext): Promise<Row[]> {
  const folder = dirname(ctx.model.host.files.fail2banJail);
  const tool = 'fail2ban-client -t';
  const files = filesUnder(ctx.tree, folder);
  if (files.length === 0)
    return [{ target: `${folder}/`, tool, status: 'pass', notes: ['no fail2ban files rendered'] }];
  const dir = await ctx.tempDir('fail2ban');
  const etc = join(dir, 'fail2ban');
  await cp(FAIL2BAN_ETC, etc, { recursive: true });

  const installed = new Map(
    Object.values(ctx.model.host.installs)
      .filter((i) => i.target.startsWith(`${FAIL2BAN_ETC}/`))
      .map((i) => [i.source, i.target.slice(FAIL2BAN_ETC.length + 1)]),
  );
  const labels: [string, string][] = [];
  const notes: string[] = [];
  for (const target of files) {
    const relative = installed.get(target) ?? target.slice(folder.length + 1);
    let text = ctx.tree.files.get(target)?.content ?? '';
    const missing: LogpathUse[] = [];
    for (const use of fail2banLogpaths(text)) {
      const found = await Promise.all(use.patterns.map(globExists));
      if (!found.some(Boolean)) missing.push(use);
    }
    if (missing.length > 0) {
      const standIn = (jail: string) => join(dir, 'logs', `${jail.replace(/[^A-Za-z0-9_-]/g, '_')}.log`);
      for (const use of missing) {
        await writeCopy(join(dir, 'logs'), `${use.jail.replace(/[^A-Za-z0-9_-]/g, '_')}.log`, '');
        notes.push(
          `[${use.jail}] logpath ${use.patterns.join(' ')} matches no file on this machine; checked with an empty stand-in`,
        );
      }
      text = replaceLogpaths(text, missing, standIn);
    }
    const copy = await writeCopy(etc, relative, text, 0o644);
    labels.push([copy, target]);
  }
  labels.push([etc, FAIL2BAN_ETC]);
  const result = await run('fail2ban-client', ['-c', etc, '-t'], { timeoutMs: 60_000 });
  const output = relabel(result.output, labels);
  const target = files.length === 1 ? (files[0] as string) : `${folder}/`;
  if (result.exitCode === 0) {
    return [
      {
        target,
        tool,
        status: 'pass',
        notes: [`fail2ban here reads this machine's ${FAIL2BAN_ETC}`, ...notes],
      },
    ];
  }
  const errors = fail2banErrors(output);
  return [
    {
      target,
      tool,
      status: 'fail',
      message: errors.length > 0 ? errors.join('\n') : output.split('\n').slice(-10).join('\n'),
      ...(notes.length > 0 ? { notes } : {}),
    },
  ];
}

export const fail2banCheck: Check = {
  name: 'fail2ban',
  tool: 'fail2ban-client -t',
  requires: ['fail2ban-client'],
  install: 'apt-get install fail2ban (the service need not run)',
  run: runFail2ban,
};
