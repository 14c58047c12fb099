import type { SiteConfig } from '../config/schema.ts';
import { buildCore, type CoreModel } from './core.ts';

/** The whole platform derived from the site configuration; renderers read only this. */
export interface Model extends CoreModel {}

export function buildModel(config: SiteConfig): Model {
  const core = buildCore(config);
  return { ...core };
}
