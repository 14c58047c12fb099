import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { RenderedFile } from '../render/file.ts';

export interface TreeDrift {
  missing: string[];
  extra: string[];
  changed: string[];
}

async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(relative(root, path).split('\\').join('/'));
    }
  };
  await walk(root);
  return out.sort();
}

/** Compares the rendered files with what is on disk: content and executable bit. */
export async function diffTree(dir: string, files: RenderedFile[]): Promise<TreeDrift> {
  const onDisk = new Set(await listFiles(dir));
  const drift: TreeDrift = { missing: [], extra: [], changed: [] };
  for (const file of files) {
    const path = join(dir, file.path);
    if (!onDisk.delete(file.path)) {
      drift.missing.push(file.path);
      continue;
    }
    const [content, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    const executable = (info.mode & 0o111) !== 0;
    const wantExecutable = (file.mode & 0o111) !== 0;
    if (content !== file.content || executable !== wantExecutable) drift.changed.push(file.path);
  }
  drift.extra = [...onDisk].sort();
  return drift;
}

export const hasDrift = (d: TreeDrift) => d.missing.length + d.extra.length + d.changed.length > 0;

/**
 * Replaces `dir` with exactly the rendered files. The new tree is written beside it first and swapped in
 * with renames, so a failure leaves the previous tree untouched.
 */
export async function writeTree(dir: string, files: RenderedFile[]): Promise<void> {
  const target = resolve(dir);
  const staging = `${target}.synth-${process.pid}`;
  const previous = `${target}.previous-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    for (const file of files) {
      const path = join(staging, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.content);
      await chmod(path, file.mode);
    }
    await mkdir(dirname(target), { recursive: true });
    const exists = await stat(target).then(
      () => true,
      () => false,
    );
    if (exists) await rename(target, previous);
    await rename(staging, target);
    if (exists) await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
