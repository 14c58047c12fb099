import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../lib/errors.ts';
import type { SiteConfig } from './schema.ts';
import { validateConfig } from './validate.ts';

export const DEFAULT_CONFIG_FILE = 'academy.config.ts';

/** Imports the site configuration module and validates its default export. */
export async function loadConfig(file = DEFAULT_CONFIG_FILE): Promise<SiteConfig> {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new UsageError(`${file}: no such file (expected the site configuration; pass --config PATH)`);
  }
  let mod: { default?: unknown };
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new UsageError(`${file}: cannot be loaded: ${(error as Error).message}`);
  }
  if (mod.default === undefined) {
    throw new UsageError(`${file}: expected \`export default defineConfig({...})\`, found no default export`);
  }
  return validateConfig(mod.default, file);
}
