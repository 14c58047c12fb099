import type { SiteConfigInput } from './schema.ts';

/** Typed helper for academy.config.ts: every field is optional and defaults to the specification's values. */
export function defineConfig(config: SiteConfigInput): SiteConfigInput {
  return config;
}

export type { SiteConfig, SiteConfigInput } from './schema.ts';
