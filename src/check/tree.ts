import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { UsageError } from '../lib/errors.ts';
import type { TreeFiles } from './types.ts';

/** Reads every file of the rendered tree except the server's local state (env file, secrets). */
export async function readTree(dir: string, localState: readonly string[]): Promise<TreeFiles> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) {
    throw new UsageError(
      `${dir}: no such folder (expected the rendered tree; run \`npx academy synth\` first)`,
    );
  }
  const files: TreeFiles['files'] = new Map();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const rel = relative(root, path).split('\\').join('/');
      if (localState.some((k) => (k.endsWith('/') ? `${rel}/`.startsWith(k) : rel === k))) continue;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile())
        files.set(rel, { content: await readFile(path, 'utf8'), mode: (await stat(path)).mode & 0o777 });
    }
  };
  await walk(root);
  return { root, files };
}
