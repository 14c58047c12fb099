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

/**
 * Paths inside the tree that belong to the server, not to synth (the env file, secret files): never
 * compared, never removed. A trailing slash keeps a whole folder.
 */
export type KeepList = readonly string[];

const kept = (keep: KeepList, path: string) =>
  keep.some((k) => (k.endsWith('/') ? path.startsWith(k) : path === k));

/** Compares the rendered files with what is on disk: content and executable bit. */
export async function diffTree(dir: string, files: RenderedFile[], keep: KeepList = []): Promise<TreeDrift> {
  const onDisk = new Set((await listFiles(dir)).filter((path) => !kept(keep, path)));
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

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Replaces `dir` with exactly the rendered files, keeping the paths of `keep`. The new tree is written
 * beside it and swapped in with renames; kept files move by rename (owner and mode intact). Any failure
 * puts the previous tree, kept files included, back as it was.
 */
export async function writeTree(dir: string, files: RenderedFile[], keep: KeepList = []): Promise<void> {
  const target = resolve(dir);
  const staging = `${target}.synth-${process.pid}`;
  const previous = `${target}.previous-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  const moved: string[] = [];
  try {
    for (const file of files) {
      const path = join(staging, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.content);
      await chmod(path, file.mode);
    }
    await mkdir(dirname(target), { recursive: true });
    if (await exists(target)) {
      for (const path of keep) {
        const source = join(target, path.replace(/\/$/, ''));
        if (!(await exists(source))) continue;
        await mkdir(dirname(join(staging, path.replace(/\/$/, ''))), { recursive: true });
        await rename(source, join(staging, path.replace(/\/$/, '')));
        moved.push(path.replace(/\/$/, ''));
      }
      await rename(target, previous);
    }
    await rename(staging, target);
    await rm(previous, { recursive: true, force: true });
  } catch (error) {
    if (!(await exists(target)) && (await exists(previous))) await rename(previous, target);
    for (const path of moved) await rename(join(staging, path), join(target, path)).catch(() => undefined);
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
