import type { RenderedFile } from '../file.ts';
import { textFile } from '../file.ts';
import { blank, block, comment, d } from './ast.ts';
import { printNginx } from './print.ts';
import type { NginxInput } from './types.ts';

// conf.d files with http-level settings: included once, in the http block of nginx.conf, never in a server
// (map and geo are not allowed there).

/** the client address is CF-Connecting-IP, believed only from Cloudflare's edge. */
function realIp({ edge }: NginxInput): RenderedFile {
  const nodes = [
    comment(
      'Requests from these ranges carry the client address in CF-Connecting-IP; from anywhere else the',
    ),
    comment('header is ignored and $remote_addr stays the peer address.'),
    ...edge.realIp.ranges.map((range) => d('set_real_ip_from', range)),
    d('real_ip_header', edge.realIp.header),
  ];
  return textFile(edge.files.realIp, printNginx(nodes));
}

function rateLimits({ edge }: NginxInput): RenderedFile {
  const rl = edge.rateLimits;
  const nodes = [
    comment(
      'Zones are keyed on the client address ($remote_addr after real-ip); exempt clients get an empty',
    ),
    comment('key, and nginx does not count requests with an empty key.'),
    block('geo', [rl.exemptVariable], [d('default', 0), ...rl.exempt.map((range) => d(range, 1))]),
    block('map', [rl.exemptVariable, rl.key], [d('default', '$binary_remote_addr'), d('1', '')]),
    blank(),
    ...rl.zones.map((z) => d('limit_req_zone', rl.key, `zone=${z.name}:${z.size}`, `rate=${z.rate}`)),
    d('limit_conn_zone', rl.key, `zone=${rl.conn.zone}:${rl.conn.size}`),
    d('limit_req_status', rl.status),
    d('limit_conn_status', rl.status),
  ];
  return textFile(edge.files.rateLimits, printNginx(nodes));
}

function maps({ edge }: NginxInput): RenderedFile {
  const nodes = [
    comment('WebSocket upgrades get "Connection: upgrade"; other requests send no Connection header, so'),
    comment('upstream keepalive connections are reused.'),
    block('map', ['$http_upgrade', '$connection_upgrade'], [d('default', 'upgrade'), d('', '')]),
    blank(),
    comment('The API answers CORS requests from these origins only.'),
    block(
      'map',
      ['$http_origin', edge.cors.variable],
      [d('default', ''), ...edge.cors.origins.map((origin) => d(origin, '$http_origin'))],
    ),
    blank(),
    comment('Content-Security-Policy of each site; empty means the header is not sent.'),
    block(
      'map',
      ['$server_name', edge.csp.variable],
      [d('default', ''), ...edge.csp.byServerName.map((c) => d(c.serverName, c.policy))],
    ),
  ];
  return textFile(edge.files.maps, printNginx(nodes));
}

function proxyCache({ edge }: NginxInput): RenderedFile {
  const c = edge.proxyCache;
  const nodes = [
    comment('Cache of the web app build files and optimised images (used, not just declared).'),
    d(
      'proxy_cache_path',
      edge.paths.proxyCache,
      'levels=1:2',
      `keys_zone=${c.zone}:${c.size}`,
      `max_size=${c.maxSize}`,
      `inactive=${c.inactive}`,
      'use_temp_path=off',
    ),
  ];
  return textFile(edge.files.proxyCache, printNginx(nodes));
}

export function renderHttpConf(model: NginxInput): RenderedFile[] {
  return [realIp(model), rateLimits(model), maps(model), proxyCache(model)];
}
