import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffTree, hasDrift, writeTree } from '../../src/lib/tree.ts';
import type { RenderedFile } from '../../src/render/file.ts';

const files: RenderedFile[] = [
  { path: 'a.conf', content: 'a\n', mode: 0o644 },
  { path: 'scripts/run.sh', content: '#!/bin/sh\n', mode: 0o755 },
  { path: 'deep/er/b.yml', content: 'b: 1\n', mode: 0o644 },
];

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'tree-')), 'out');
});
afterEach(async () => rm(join(dir, '..'), { recursive: true, force: true }));

describe('tree writer and drift check', () => {
  it('writes every file with its mode and then reports no drift', async () => {
    await writeTree(dir, files);
    expect(await readFile(join(dir, 'deep/er/b.yml'), 'utf8')).toBe('b: 1\n');
    expect((await stat(join(dir, 'scripts/run.sh'))).mode & 0o777).toBe(0o755);
    expect(hasDrift(await diffTree(dir, files))).toBe(false);
  });

  it('detects a changed, a missing and an extra file', async () => {
    await writeTree(dir, files);
    await writeFile(join(dir, 'a.conf'), 'edited by hand\n');
    await rm(join(dir, 'deep/er/b.yml'));
    await writeFile(join(dir, 'stray.txt'), 'x');
    expect(await diffTree(dir, files)).toEqual({
      missing: ['deep/er/b.yml'],
      extra: ['stray.txt'],
      changed: ['a.conf'],
    });
  });

  it('detects a lost executable bit', async () => {
    await writeTree(dir, files);
    await chmod(join(dir, 'scripts/run.sh'), 0o644);
    expect((await diffTree(dir, files)).changed).toEqual(['scripts/run.sh']);
  });

  it('reports everything missing for a tree that does not exist', async () => {
    expect((await diffTree(dir, files)).missing).toHaveLength(3);
  });

  it('replaces the previous tree whole: stale files go, a failed write leaves the old tree', async () => {
    await writeTree(dir, files);
    await writeFile(join(dir, 'stray.txt'), 'x');
    await writeTree(dir, files.slice(0, 1));
    expect(await diffTree(dir, files.slice(0, 1))).toEqual({ missing: [], extra: [], changed: [] });
    const bad = [{ path: 'a.conf/cannot-be-both', content: 'x', mode: 0o644 }, ...files];
    await expect(writeTree(dir, bad)).rejects.toThrow();
    expect(await readFile(join(dir, 'a.conf'), 'utf8')).toBe('a\n');
  });
});

describe('local state inside the tree', () => {
  const keep = ['docker/.env', 'secrets/'];

  it('survives a rewrite and a failed write, and is never reported as drift', async () => {
    await writeTree(dir, files, keep);
    await mkdir(join(dir, 'docker'), { recursive: true });
    await mkdir(join(dir, 'secrets'), { recursive: true });
    await writeFile(join(dir, 'docker/.env'), 'A=1\n', { mode: 0o600 });
    await writeFile(join(dir, 'secrets/token'), 't', { mode: 0o400 });
    expect(hasDrift(await diffTree(dir, files, keep))).toBe(false);

    await writeTree(dir, files, keep);
    expect(await readFile(join(dir, 'docker/.env'), 'utf8')).toBe('A=1\n');
    expect((await stat(join(dir, 'secrets/token'))).mode & 0o777).toBe(0o400);

    const bad = [...files, { path: 'a.conf/x', content: 'x', mode: 0o644 }];
    await expect(writeTree(dir, bad, keep)).rejects.toThrow();
    expect(await readFile(join(dir, 'docker/.env'), 'utf8')).toBe('A=1\n');
    expect(await readFile(join(dir, 'secrets/token'), 'utf8')).toBe('t');
  });
});
