import type { RenderedFile } from '../file.ts';
import { renderHttpConf } from './http-conf.ts';
import { renderNginxConf } from './nginx-conf.ts';
import { renderSites } from './sites.ts';
import { renderSnippets } from './snippets.ts';
import { renderTls } from './tls.ts';
import type { NginxInput } from './types.ts';
import { renderUpstreams } from './upstreams.ts';

export type { NginxInput } from './types.ts';
export { renderUpstreams } from './upstreams.ts';

/** Every file of the tree's nginx/ directory. */
export function renderNginx(model: NginxInput): RenderedFile[] {
  return [
    ...renderNginxConf(model),
    ...renderHttpConf(model),
    ...renderTls(model),
    ...renderUpstreams(model),
    ...renderSnippets(model),
    ...renderSites(model),
  ];
}
