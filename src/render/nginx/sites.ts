import type { EdgeLocation, EdgeModel, EdgeServer, EdgeSite } from '../../model/edge.ts';
import type { RenderedFile } from '../file.ts';
import { generatedHeader, textFile } from '../file.ts';
import { blank, block, comment, d, type NginxBlock, type NginxChild, type NginxDirective } from './ast.ts';
import { printNginx } from './print.ts';
import { addHeader, corsHeaders, includeProxyHeaders, includeSecurityHeaders } from './snippets.ts';
import type { NginxInput } from './types.ts';

/**
 * The headers of a context that defines add_header of its own: nginx then inherits none from the server, so
 * the security headers (and the API's CORS headers) are repeated through the snippet.
 */
function ownHeaders(edge: EdgeModel, server: EdgeServer, headers: NginxDirective[]): NginxDirective[] {
  if (headers.length === 0) return [];
  return [
    ...(server.securityHeaders ? [includeSecurityHeaders(edge)] : []),
    ...(server.cors ? corsHeaders(edge) : []),
    ...headers,
  ];
}

function preflight(edge: EdgeModel, server: EdgeServer): NginxBlock {
  return block(
    'if',
    ['($request_method', '=', 'OPTIONS)'],
    [
      ...ownHeaders(edge, server, [
        addHeader('Access-Control-Allow-Methods', edge.cors.methods),
        addHeader('Access-Control-Allow-Headers', edge.cors.headers),
        addHeader('Access-Control-Max-Age', String(edge.cors.maxAgeSeconds)),
      ]),
      d('return', 204),
    ],
  );
}

const limitReq = (l: { zone: string; burst: number }) =>
  d('limit_req', `zone=${l.zone}`, `burst=${l.burst}`, 'nodelay');

function location(edge: EdgeModel, server: EdgeServer, loc: EdgeLocation): NginxBlock {
  const handlers = [loc.deny, loc.return, loc.proxy, loc.root, loc.stubStatus].filter((h) => h !== undefined);
  if (handlers.length !== 1) {
    throw new Error(
      `internal error: location ${loc.modifier} ${loc.path} of ${server.id} needs exactly one handler`,
    );
  }
  const { proxy, timeouts } = loc;
  const cacheHeaders = loc.cache ? [addHeader('X-Cache-Status', '$upstream_cache_status')] : [];
  const children: NginxChild[] = [
    loc.comment !== undefined && comment(loc.comment),
    loc.deny && d('deny', 'all'),
    ...(loc.stubStatus
      ? [d('stub_status'), ...loc.stubStatus.allow.map((a) => d('allow', a)), d('deny', 'all')]
      : []),
    loc.accessLog === false && d('access_log', 'off'),
    loc.limitReq && limitReq(loc.limitReq),
    loc.maxBodyMiB !== undefined && d('client_max_body_size', `${loc.maxBodyMiB}m`),
    ...(loc.locations ?? []).map((nested) => location(edge, server, nested)),
    loc.corsPreflight && server.cors && preflight(edge, server),
    ...ownHeaders(edge, server, cacheHeaders),
    loc.expires !== undefined && d('expires', loc.expires),
    ...(loc.root ? [d('root', loc.root.dir), loc.root.internal && d('internal')] : []),
    loc.return?.text !== undefined && loc.return.code === 200 && d('default_type', 'text/plain'),
    loc.return &&
      (loc.return.text === undefined
        ? d('return', loc.return.code)
        : d('return', loc.return.code, loc.return.text)),
    ...(proxy
      ? [
          proxy.stripPrefix !== undefined && d('rewrite', `^${proxy.stripPrefix}(/.*)$`, '$1', 'break'),
          includeProxyHeaders(edge),
          d('proxy_pass', `http://${proxy.upstream}${proxy.uri ?? ''}`),
        ]
      : []),
    ...(timeouts
      ? [
          d('proxy_connect_timeout', `${timeouts.connect}s`),
          d('proxy_send_timeout', `${timeouts.send}s`),
          d('proxy_read_timeout', `${timeouts.read}s`),
        ]
      : []),
    ...(loc.buffers
      ? [
          d('proxy_buffering', 'on'),
          d('proxy_buffer_size', loc.buffers.size),
          d('proxy_buffers', loc.buffers.count, loc.buffers.size),
        ]
      : []),
    loc.requestBuffering === false && d('proxy_request_buffering', 'off'),
    ...(loc.cache
      ? [
          d('proxy_cache', loc.cache.zone),
          d('proxy_cache_valid', ...loc.cache.valid),
          d('proxy_cache_use_stale', 'error', 'timeout', 'updating', 'http_502', 'http_503', 'http_504'),
          d('proxy_cache_lock', 'on'),
        ]
      : []),
  ];
  return block('location', loc.modifier === '' ? [loc.path] : [loc.modifier, loc.path], children);
}

function server(edge: EdgeModel, s: EdgeServer): NginxBlock {
  const listen = s.listen.map((l) =>
    d(
      'listen',
      l.address,
      ...(l.ssl ? ['ssl'] : []),
      ...(l.http2 ? ['http2'] : []),
      ...(l.defaultServer ? ['default_server'] : []),
    ),
  );
  return block(
    'server',
    [],
    [
      ...listen,
      s.http2Directive && d('http2', 'on'),
      d('server_name', ...s.serverNames),
      s.rejectHandshake && d('ssl_reject_handshake', 'on'),
      blank(),
      s.accessLog === null
        ? d('access_log', 'off')
        : d(
            'access_log',
            s.accessLog,
            edge.logs.format,
            `buffer=${edge.logs.buffer}`,
            `flush=${edge.logs.flush}`,
          ),
      d('error_log', s.errorLog, 'warn'),
      blank(),
      ...(s.allow.length > 0
        ? [
            comment('only these client ranges.'),
            ...s.allow.map((a) => d('allow', a)),
            d('deny', 'all'),
            blank(),
          ]
        : []),
      s.securityHeaders && includeSecurityHeaders(edge),
      ...(s.cors ? corsHeaders(edge) : []),
      s.limitReq && limitReq(s.limitReq),
      s.limitConn !== undefined && d('limit_conn', edge.rateLimits.conn.zone, s.limitConn),
      s.errorPage && d('error_page', ...s.errorPage.codes, s.errorPage.uri),
      s.return !== undefined && d('return', s.return),
      ...s.locations.flatMap((loc) => [blank(), location(edge, s, loc)]),
    ],
  );
}

function siteFile(edge: EdgeModel, site: EdgeSite): RenderedFile {
  const nodes = site.servers.flatMap((s, i) => [
    ...(i > 0 ? [blank()] : []),
    comment(s.comment),
    server(edge, s),
  ]);
  return textFile(site.file, printNginx(nodes));
}

/** The page nginx shows when an upstream is down (500, 502, 503, 504). */
function errorPage(model: NginxInput): RenderedFile {
  const title = model.title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const html = [
    '<!doctype html>',
    `<!--${generatedHeader('').trimEnd()} -->`,
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title} - temporarily unavailable</title>`,
    '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}</style>',
    '</head>',
    '<body>',
    `<h1>${title} is temporarily unavailable</h1>`,
    '<p>We are working on it. Please try again in a few minutes.</p>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { path: model.edge.files.errorPage, content: html, mode: 0o644 };
}

export function renderSites(model: NginxInput): RenderedFile[] {
  return [...model.edge.sites.map((site) => siteFile(model.edge, site)), errorPage(model)];
}
