import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Row } from '../../exec.ts';
import type { Check, CheckContext } from '../../types.ts';
import { filesUnder } from './common.ts';

// `sysctl`: every key of the rendered sysctl.d files must exist under /proc/sys of the running kernel;
// `sysctl --system` skips an unknown key with an error and the setting is silently not applied. This machine's
// kernel is not production's (Ubuntu 24.04), so keys that exist only once a module is loaded or a feature is on
// are allowed to be missing here (a note, not a failure): see SYSCTL_MAY_BE_MISSING.

/**
 * Key prefixes that a correct file may set although this kernel lacks them, and why. Everything else that is
 * missing fails: a typo, or a key the kernel removed.
 */
export const SYSCTL_MAY_BE_MISSING: ReadonlyArray<{ prefix: string; why: string }> = [
  { prefix: 'net.netfilter.nf_conntrack_', why: 'exists once nf_conntrack is loaded (Docker loads it)' },
  { prefix: 'net.bridge.bridge-nf-', why: 'exists once br_netfilter is loaded (Docker loads it)' },
  { prefix: 'net.ipv6.', why: 'missing when IPv6 is disabled on this machine' },
  { prefix: 'net.ipv4.tcp_congestion_control', why: 'bbr and others exist once their module is loaded' },
  { prefix: 'kernel.apparmor_', why: 'exists on kernels with AppArmor (Ubuntu), not on every test kernel' },
];

export interface SysctlEntry {
  key: string;
  value: string;
  line: number;
  /** A leading `-`: systemd-sysctl ignores the key when it does not exist. */
  optional: boolean;
}

/** Parses a sysctl.d file: `key = value`, `#`/`;` comments, an optional leading `-`. */
export function parseSysctl(text: string): { entries: SysctlEntry[]; errors: string[] } {
  const entries: SysctlEntry[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const m = /^(-?)([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      errors.push(`line ${index + 1}: not "key = value": ${JSON.stringify(line)}`);
      return;
    }
    entries.push({
      key: m[2] as string,
      value: (m[3] as string).trim(),
      line: index + 1,
      optional: m[1] === '-',
    });
  });
  return { entries, errors };
}

/** The /proc/sys path of a key: dots separate levels, unless the key is written with slashes. */
export const sysctlPath = (key: string) =>
  `/proc/sys/${key.includes('/') ? key.replace(/^\/+/, '') : key.replace(/\./g, '/')}`;

/** Why a missing key is allowed, or undefined when it is not. */
export const sysctlAllowance = (key: string) =>
  SYSCTL_MAY_BE_MISSING.find((a) => key.startsWith(a.prefix))?.why;

async function runSysctl(ctx: CheckContext): Promise<Row[]> {
  const folder = dirname(ctx.model.host.files.sysctl);
  const tool = 'sysctl (/proc/sys)';
  const files = filesUnder(ctx.tree, folder, (p) => p.endsWith('.conf'));
  if (files.length === 0)
    return [{ target: `${folder}/`, tool, status: 'pass', notes: ['no sysctl files rendered'] }];
  const rows: Row[] = [];
  for (const target of files) {
    const { entries, errors } = parseSysctl(ctx.tree.files.get(target)?.content ?? '');
    const problems = [...errors];
    const notes: string[] = [];
    for (const entry of entries) {
      if (entry.key.includes('*')) {
        notes.push(`line ${entry.line}: ${entry.key} is a glob; not checked`);
        continue;
      }
      const exists = await access(sysctlPath(entry.key)).then(
        () => true,
        () => false,
      );
      if (exists) continue;
      const allowed = sysctlAllowance(entry.key);
      if (entry.optional)
        notes.push(`line ${entry.line}: ${entry.key} does not exist here (the leading - makes that fine)`);
      else if (allowed)
        notes.push(`line ${entry.line}: ${entry.key} does not exist on this kernel: ${allowed}`);
      else
        problems.push(
          `line ${entry.line}: ${entry.key} is not a kernel parameter (no ${sysctlPath(entry.key)})`,
        );
    }
    rows.push(
      problems.length === 0
        ? { target, tool, status: 'pass', ...(notes.length > 0 ? { notes } : {}) }
        : {
            target,
            tool,
            status: 'fail',
            message: problems.join('\n'),
            ...(notes.length > 0 ? { notes } : {}),
          },
    );
  }
  return rows;
}

export const sysctlCheck: Check = {
  name: 'sysctl',
  tool: 'sysctl (/proc/sys)',
  requires: [],
  install: 'nothing to install: reads /proc/sys',
  run: runSysctl,
};
