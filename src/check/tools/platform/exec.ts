import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Row } from '../../exec.ts';
import type { TreeFiles } from '../../types.ts';

/** Platform checks call the shared runner `runTool` (it reads better beside their own `run` variables). */
export { type Row, type RunResult, run as runTool } from '../../exec.ts';

/** At most `max` lines of a tool's output, saying how many were left out. */
export function trimOutput(text: string, max = 25): string {
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (lines.length <= max) return lines.join('\n');
  return [...lines.slice(0, max), `... (${lines.length - max} more lines)`].join('\n');
}

/** The environment a tool runs with: PATH and HOME only, so the caller's variables cannot change a result. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    ...extra,
  }))
    if (value !== undefined) env[key] = value;
  return env;
}

/** Tree paths under `dir/` (or equal to a file path), sorted. */
export function treePathsUnder(tree: TreeFiles, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return [...tree.files.keys()].filter((p) => p.startsWith(prefix)).sort();
}

/** Writes files (absolute path -> content) creating their folders. */
export async function writeFiles(files: Iterable<[string, string]>, mode = 0o644): Promise<void> {
  for (const [path, content] of files) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content, { mode });
  }
}

export async function link(target: string, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await symlink(target, path);
}

/** `root` + an absolute path: `/tmp/x` + `/etc/a` = `/tmp/x/etc/a`. */
export const under = (root: string, absolute: string) => join(root, absolute);

/** A row for a file the check expected in the tree and did not find. */
export function missingRow(target: string, tool: string, what: string): Row {
  return { target, tool, status: 'fail', message: `${target}: missing from the tree (${what})` };
}
