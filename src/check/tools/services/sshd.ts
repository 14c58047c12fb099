import { dirname, join } from 'node:path';
import { type Row, run } from '../../exec.ts';
import type { Check, CheckContext } from '../../types.ts';
import { filesUnder, relabel, writeCopy } from './common.ts';

// `sshd`: the rendered files are drop-ins for /etc/ssh/sshd_config.d/. The check writes a main sshd_config like
// Ubuntu 24.04's (an Include of the drop-in folder first, then the distribution's settings), generates a
// throwaway host key, runs `sshd -t` (syntax and values) and then `sshd -T` (the effective configuration) to
// confirm that each setting of the drop-in is the one in force: in sshd the first value wins, so a drop-in that
// is not included, or included too late, would lose to the main file.

/** Ubuntu 24.04's /etc/ssh/sshd_config, active lines, with the drop-in folder replaced. */
export function mainSshdConfig(dropInGlob: string): string {
  return [
    `Include ${dropInGlob}`,
    'KbdInteractiveAuthentication no',
    'UsePAM yes',
    'X11Forwarding yes',
    'PrintMotd no',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

/** Keyword/value pairs of an sshd_config text outside Match blocks (keywords lowercased). */
export function sshdSettings(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = (m[1] as string).toLowerCase();
    if (key === 'match') break;
    out.push([key, (m[2] as string).trim()]);
  }
  return out;
}

/** Values sshd -T prints differently from how they are written. */
const SSHD_ALIASES: Record<string, Record<string, string>> = {
  permitrootlogin: { 'prohibit-password': 'without-password' },
};

/** The drop-in settings that `sshd -T` output does not show as written (first occurrence of each keyword). */
export function sshdMismatches(dropIn: readonly [string, string][], effectiveOutput: string): string[] {
  const effective = new Map<string, string[]>();
  for (const line of effectiveOutput.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const list = effective.get(m[1] as string) ?? [];
    list.push((m[2] as string).trim());
    effective.set(m[1] as string, list);
  }
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const [key, value] of dropIn) {
    if (seen.has(key) || key === 'include') continue;
    seen.add(key);
    const have = effective.get(key);
    if (!have) continue; // keywords sshd -T does not print (deprecated aliases...)
    const want = value.toLowerCase();
    const alias = SSHD_ALIASES[key]?.[want] ?? want;
    if (!have.some((h) => h.toLowerCase() === want || h.toLowerCase() === alias)) {
      problems.push(`${key} ${value} is not in force: sshd -T shows ${key} ${have.join(', ')}`);
    }
  }
  return problems;
}

async function runSshd(ctx: CheckContext): Promise<Row[]> {
  const folder = dirname(ctx.model.host.files.sshd);
  const tool = 'sshd -t';
  const files = filesUnder(ctx.tree, folder, (p) => p.endsWith('.conf'));
  if (files.length === 0)
    return [{ target: `${folder}/`, tool, status: 'pass', notes: ['no sshd drop-ins rendered'] }];
  const dir = await ctx.tempDir('sshd');
  const dropIns = join(dir, 'sshd_config.d');
  const labels: [string, string][] = [];
  for (const target of files) {
    const copy = await writeCopy(
      dropIns,
      target.slice(folder.length + 1),
      ctx.tree.files.get(target)?.content ?? '',
    );
    labels.push([copy, target]);
  }
  const main = await writeCopy(dir, 'sshd_config', mainSshdConfig(`${dropIns}/*.conf`));
  labels.push([main, '(main sshd_config, as on Ubuntu 24.04)']);
  const key = join(dir, 'ssh_host_ed25519_key');
  const keygen = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'academy-check', '-f', key]);
  const target = files.length === 1 ? (files[0] as string) : `${folder}/`;
  if (keygen.exitCode !== 0) {
    return [
      {
        target,
        tool,
        status: 'fail',
        message: `ssh-keygen could not make a throwaway host key:\n${keygen.output}`,
      },
    ];
  }
  const sshd = 'sshd';
  const notes = ["OpenSSH here is Debian 12's (9.2); Ubuntu 24.04 has 9.6"];
  const test = await run(sshd, ['-t', '-f', main, '-h', key], { timeoutMs: 15_000 });
  const output = relabel(test.output, labels);
  if (/Missing privilege separation directory/.test(output)) {
    return [
      {
        target,
        tool,
        status: 'skip',
        message: `${output}\n(sshd wants its run directory, which the ssh service creates: mkdir -m 0755 /run/sshd)`,
      },
    ];
  }
  if (test.exitCode !== 0)
    return [
      { target, tool, status: 'fail', message: output || `sshd -t exited with ${test.exitCode}`, notes },
    ];
  const effective = await run(sshd, ['-T', '-f', main, '-h', key], { timeoutMs: 15_000 });
  if (effective.exitCode !== 0) {
    return [{ target, tool: 'sshd -T', status: 'fail', message: relabel(effective.output, labels), notes }];
  }
  const problems = files.flatMap((f) =>
    sshdMismatches(sshdSettings(ctx.tree.files.get(f)?.content ?? ''), effective.output),
  );
  return [
    problems.length === 0
      ? { target, tool: 'sshd -t, sshd -T', status: 'pass', notes }
      : { target, tool: 'sshd -T', status: 'fail', message: problems.join('\n'), notes },
  ];
}

export const sshdCheck: Check = {
  name: 'sshd',
  tool: 'sshd -t',
  requires: ['sshd', 'ssh-keygen'],
  install: 'apt-get install openssh-server (the service need not run)',
  run: runSshd,
};
