import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
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
    // tsImport loads the file as ESM TypeScript wherever it lives (no package.json "type" needed).
    mod = await tsImport(pathToFileURL(path).href, import.meta.url);
  } catch (error) {
    throw new UsageError(`${file}: cannot be loaded: ${(error as Error).message}`);
  }
  // Outside an ESM package tsx compiles the file as CommonJS: the export arrives wrapped once more.
  const inner = mod.default as { default?: unknown } | undefined;
  if (
    inner &&
    typeof inner === 'object' &&
    Object.keys(inner).every((k) => k === 'default' || k === '__esModule')
  ) {
    mod = { default: inner.default };
  }
  if (mod.default === undefined) {
    throw new UsageError(`${file}: expected \`export default defineConfig({...})\`, found no default export`);
  }
  return validateConfig(mod.default, file);
}
