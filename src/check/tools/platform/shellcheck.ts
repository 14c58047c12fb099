import type { Check, TreeFiles } from '../../types.ts';
import { type Row, runTool, trimOutput, under, writeFiles } from './exec.ts';

const TOOL = 'shellcheck';

/** `#!/bin/sh`, `#!/usr/bin/env bash`, `#!/bin/bash -e`: a script shellcheck reads. */
export function isShellShebang(firstLine: string): boolean {
  return /^#!\s*\S*\/(?:env\s+(?:-\S+\s+)*)?(?:ba|da)?sh(?:\s|$)/.test(firstLine);
}

/** Every shell script of the tree: `*.sh`, and any file whose first line is an sh or bash shebang. Sorted. */
export function shellScripts(tree: TreeFiles): string[] {
  return [...tree.files]
    .filter(([path, file]) => path.endsWith('.sh') || isShellShebang(file.content.split('\n', 1)[0] ?? ''))
    .map(([path]) => path)
    .sort();
}

/**
 * `shellcheck -S style -x -P SCRIPTDIR` over the scripts (tree-relative paths, run from a copy of the tree):
 * every script sources its neighbours from its own folder, as on the server.
 */
export function shellcheckArgs(scripts: readonly string[]): string[] {
  return ['--severity=style', '--external-sources', '--source-path=SCRIPTDIR', '--format=gcc', ...scripts];
}

/** gcc-format findings (`path:line:col: level: message [SCnnnn]`) grouped by script. */
export function findingsByScript(output: string, scripts: readonly string[]): Map<string, string[]> {
  const found = new Map<string, string[]>(scripts.map((s) => [s, []]));
  for (const line of output.split('\n')) {
    const script = scripts.find((s) => line.startsWith(`${s}:`));
    if (script) found.get(script)?.push(line);
  }
  return found;
}

export const shellcheckCheck: Check = {
  name: 'shellcheck',
  tool: TOOL,
  requires: ['shellcheck'],
  install: 'apt-get install -y shellcheck',
  run: async (ctx) => {
    const scripts = shellScripts(ctx.tree);
    if (scripts.length === 0) return [];
    const root = await ctx.tempDir('shellcheck');
    // The whole tree, so `source` of a file that is not a script resolves too.
    await writeFiles([...ctx.tree.files].map(([path, file]) => [under(root, path), file.content]));
    const run = await runTool('shellcheck', shellcheckArgs(scripts), { cwd: root, timeoutMs: 120_000 });
    const findings = findingsByScript(run.output, scripts);
    const unexplained = run.exitCode !== 0 && [...findings.values()].every((f) => f.length === 0);
    return scripts.map((script): Row => {
      const lines = findings.get(script) ?? [];
      if (lines.length > 0)
        return { target: script, tool: TOOL, status: 'fail', message: trimOutput(lines.join('\n')) };
      // shellcheck failed without a finding on any script (bad option, unreadable file): every row says so.
      if (unexplained) return { target: script, tool: TOOL, status: 'fail', message: trimOutput(run.output) };
      return { target: script, tool: TOOL, status: 'pass' };
    });
  },
};
