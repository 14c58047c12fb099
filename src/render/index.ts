import type { Model } from '../model/index.ts';
import type { RenderedFile } from './file.ts';

type Renderer = (model: Model) => RenderedFile[];

const renderers: Renderer[] = [];

/** Renders the whole tree, sorted by path; two renderers claiming one path is a bug, reported as such. */
export function renderTree(model: Model): RenderedFile[] {
  const files = renderers.flatMap((render) => render(model));
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) throw new Error(`internal error: two renderers produce ${file.path}`);
    seen.add(file.path);
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
