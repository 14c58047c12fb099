// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are bash, where ${...} is bash's own syntax
// Bash building blocks shared by the provisioning scripts.

/** A value as one bash word: bare when it has only safe characters, single-quoted otherwise. */
export function shQuote(value: string | number): string {
  const text = String(value);
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `readonly NAME=value` lines for the script's settings. */
export const shConstants = (vars: readonly (readonly [string, string | number])[]): string =>
  vars.map(([name, value]) => `readonly ${name}=${shQuote(value)}`).join('\n');

export interface ScriptHead {
  /** The script's tree-relative path; its depth locates the tree's root. */
  path: string;
  /** What the script does, as comment lines under the shebang. */
  purpose: readonly string[];
  /** Define SCRIPT_DIR (and TREE, the rendered tree's root) to reach sibling scripts and tree files. */
  locate: boolean;
  /** Fail with a clear message unless run as root. */
  root: boolean;
}

/** Shebang, purpose, strict mode, the root check and the script's location. */
export function scriptHead(head: ScriptHead): string {
  const name = head.path.split('/').pop() ?? head.path;
  const depth = head.path.split('/').length - 1;
  const up = Array.from({ length: depth }, () => '..').join('/');
  const parts = [
    ['#!/usr/bin/env bash', ...head.purpose.map((line) => `# ${line}`), 'set -euo pipefail'].join('\n'),
  ];
  if (head.root) {
    parts.push(
      [
        'if [[ ${EUID} -ne 0 ]]; then',
        `  echo "${name} must run as root: sudo $0" >&2`,
        '  exit 1',
        'fi',
      ].join('\n'),
    );
  }
  if (head.locate) {
    parts.push(
      [
        'SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
        `TREE="$(cd "$SCRIPT_DIR/${up}" && pwd)"`,
        'readonly SCRIPT_DIR TREE',
      ].join('\n'),
    );
  }
  return parts.join('\n\n');
}

/** The apt-get invocation that never prompts: keeps locally changed conffiles, takes defaults otherwise. */
export const APT_GET = 'apt-get -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';
