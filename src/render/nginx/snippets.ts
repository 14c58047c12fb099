import { type EdgeModel, installedPath } from '../../model/edge.ts';
import type { RenderedFile } from '../file.ts';
import { textFile } from '../file.ts';
import { comment, d, type NginxDirective } from './ast.ts';
import { printNginx } from './print.ts';
import type { NginxInput } from './types.ts';

// Snippets included per server and per location. nginx drops every inherited add_header (and every inherited
// proxy_set_header) in a context that defines one of its own, so each such context includes the whole set.

export const includeSecurityHeaders = (edge: EdgeModel): NginxDirective =>
  d('include', installedPath(edge, edge.files.securityHeaders));

export const includeProxyHeaders = (edge: EdgeModel): NginxDirective =>
  d('include', installedPath(edge, edge.files.proxyHeaders));

export const addHeader = (name: string, value: string): NginxDirective =>
  d('add_header', name, value, 'always');

/** The CORS headers of every API response (preflights add methods, headers and max-age). */
export const corsHeaders = (edge: EdgeModel): NginxDirective[] => [
  addHeader('Access-Control-Allow-Origin', edge.cors.variable),
  addHeader('Vary', 'Origin'),
];

export function renderSnippets({ edge }: NginxInput): RenderedFile[] {
  const security = [
    comment(
      'include in every server and in every location or if block with its own add_header.\n' +
        'No X-XSS-Protection: obsolete, and harmful in old browsers.',
    ),
    ...edge.securityHeaders.map((h) => addHeader(h.name, h.value)),
    comment('Empty (not sent) on sites that set their own policy; see the map in conf.d.'),
    addHeader('Content-Security-Policy', edge.csp.variable),
  ];
  const proxy = [
    comment('HTTP/1.1 without "Connection: close" keeps upstream connections alive;'),
    comment('$connection_upgrade is "upgrade" only for WebSocket requests.'),
    d('proxy_http_version', '1.1'),
    d('proxy_set_header', 'Host', '$host'),
    d('proxy_set_header', 'X-Real-IP', '$remote_addr'),
    d('proxy_set_header', 'X-Forwarded-For', '$proxy_add_x_forwarded_for'),
    d('proxy_set_header', 'X-Forwarded-Proto', '$scheme'),
    d('proxy_set_header', 'Connection', '$connection_upgrade'),
    d('proxy_set_header', 'Upgrade', '$http_upgrade'),
  ];
  return [
    textFile(edge.files.securityHeaders, printNginx(security)),
    textFile(edge.files.proxyHeaders, printNginx(proxy)),
  ];
}
