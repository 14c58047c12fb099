import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** One input of an image: a file of its build context, or a plain fact (base image id, build argument). */
export interface HashEntry {
  /** Unique name: a context-relative path (`Dockerfile`) or a fact key (`arg:BASE_IMAGE`). */
  name: string;
  /** Executable bit of a file: COPY keeps it, so it changes the image. */
  executable?: boolean;
  content: string | Uint8Array;
}

/**
 * sha256 over the entries sorted by name. Each entry is framed with its name, mode and byte length, so
 * moving bytes from one file to another or renaming a file changes the hash.
 */
export function hashEntries(entries: readonly HashEntry[]): string {
  const names = new Set<string>();
  const hash = createHash('sha256');
  for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (names.has(entry.name)) throw new Error(`hashEntries: duplicate entry ${entry.name}`);
    names.add(entry.name);
    const bytes = typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content;
    hash.update(`${entry.name}\0${entry.executable ? 'x' : '-'}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

/** Plain facts as hash entries (`prefix:key` = value). */
export const factEntries = (prefix: string, facts: Readonly<Record<string, string>>): HashEntry[] =>
  Object.entries(facts).map(([key, value]) => ({ name: `${prefix}:${key}`, content: value }));

/**
 * Every regular file under `dir` as hash entries named `prefix` + the path relative to `dir` (forward
 * slashes). `skip` gets that relative path of each file and directory; true leaves it (and what is in it) out.
 */
export async function readTreeEntries(
  dir: string,
  options: { prefix?: string; skip?: (path: string) => boolean } = {},
): Promise<HashEntry[]> {
  const entries: HashEntry[] = [];
  const walk = async (current: string): Promise<void> => {
    const items = await readdir(current, { withFileTypes: true });
    for (const item of items) {
      const full = join(current, item.name);
      const path = relative(dir, full).split(sep).join('/');
      if (options.skip?.(path)) continue;
      if (item.isDirectory()) await walk(full);
      else if (item.isFile()) {
        const info = await stat(full);
        entries.push({
          name: `${options.prefix ?? ''}${path}`,
          executable: (info.mode & 0o111) !== 0,
          content: await readFile(full),
        });
      }
    }
  };
  await walk(dir);
  return entries;
}
