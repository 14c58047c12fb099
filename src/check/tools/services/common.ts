import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { TreeFiles } from '../../types.ts';

// Helpers shared by the service and host checks: placing copies of tree files in a temporary folder and
// turning the program's output into a message that names tree paths.

/** A throwaway password: letters and digits only, so it needs no quoting anywhere. */
export const throwawayPassword = () => randomBytes(18).toString('hex');

/** A TCP port on 127.0.0.1 that is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** Files of the tree under `folder` (tree-relative, no trailing slash), sorted; `filter` on the path. */
export function filesUnder(
  tree: TreeFiles,
  folder: string,
  filter: (path: string) => boolean = () => true,
): string[] {
  return [...tree.files.keys()].filter((p) => p.startsWith(`${folder}/`) && filter(p)).sort();
}

/** Writes `content` to `dir/name` (creating folders) with `mode`; returns the absolute path. */
export async function writeCopy(dir: string, name: string, content: string, mode = 0o644): Promise<string> {
  const path = join(dir, name);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode });
  await chmod(path, mode);
  return path;
}

/** Replaces every occurrence of each temporary path with the tree path it stands for (longest first). */
export function relabel(text: string, paths: ReadonlyArray<readonly [string, string]>): string {
  let out = text;
  for (const [from, to] of [...paths].sort((a, b) => b[0].length - a[0].length)) {
    if (from !== '') out = out.split(from).join(to);
  }
  return out;
}

/** The lines of a text file. */
export const splitLines = (text: string) => text.split('\n');

/** The last `count` non-empty lines of a program's output. */
export function tail(text: string, count: number): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-count).join('\n');
}

/** Whether this process runs as root (servers that refuse root then run as their own user). */
export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
