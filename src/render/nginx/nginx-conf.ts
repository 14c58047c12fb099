import { installedPath } from '../../model/edge.ts';
import type { RenderedFile } from '../file.ts';
import { textFile } from '../file.ts';
import { blank, block, comment, d } from './ast.ts';
import { printNginx } from './print.ts';
import type { NginxInput } from './types.ts';

const GZIP_TYPES = [
  'application/atom+xml',
  'application/javascript',
  'application/json',
  'application/ld+json',
  'application/manifest+json',
  'application/rss+xml',
  'application/vnd.geo+json',
  'application/vnd.ms-fontobject',
  'application/x-font-ttf',
  'application/x-web-app-manifest+json',
  'application/xhtml+xml',
  'application/xml',
  'font/opentype',
  'image/bmp',
  'image/svg+xml',
  'image/x-icon',
  'text/cache-manifest',
  'text/css',
  'text/plain',
  'text/vcard',
  'text/vnd.rim.location.xloc',
  'text/vtt',
  'text/x-component',
  'text/x-cross-domain-policy',
  'text/xml',
];

/** The access log format: one JSON object per request, with the real client address. */
export function jsonLogFormat(colorHeader: string): string {
  const colorVariable = `$upstream_http_${colorHeader.toLowerCase().replace(/-/g, '_')}`;
  const fields: [string, string, 'number' | 'string'][] = [
    ['time', '$time_iso8601', 'string'],
    ['client_ip', '$remote_addr', 'string'],
    ['peer_ip', '$realip_remote_addr', 'string'],
    ['request_id', '$request_id', 'string'],
    ['host', '$host', 'string'],
    ['server', '$server_name', 'string'],
    ['method', '$request_method', 'string'],
    ['uri', '$request_uri', 'string'],
    ['protocol', '$server_protocol', 'string'],
    ['status', '$status', 'number'],
    ['body_bytes', '$body_bytes_sent', 'number'],
    ['request_length', '$request_length', 'number'],
    ['request_time', '$request_time', 'number'],
    ['upstream_addr', '$upstream_addr', 'string'],
    ['upstream_status', '$upstream_status', 'string'],
    ['upstream_connect_time', '$upstream_connect_time', 'string'],
    ['upstream_response_time', '$upstream_response_time', 'string'],
    ['upstream_cache_status', '$upstream_cache_status', 'string'],
    ['color', colorVariable, 'string'],
    ['limit_req', '$limit_req_status', 'string'],
    ['user_agent', '$http_user_agent', 'string'],
    ['referer', '$http_referer', 'string'],
    ['cf_ray', '$http_cf_ray', 'string'],
    ['country', '$http_cf_ipcountry', 'string'],
  ];
  const body = fields
    .map(([key, variable, type]) => `"${key}":${type === 'number' ? variable : `"${variable}"`}`)
    .join(',');
  return `{${body}}`;
}

export function renderNginxConf({ edge }: NginxInput): RenderedFile[] {
  const { paths, logs } = edge;
  const http = block(
    'http',
    [],
    [
      d('sendfile', 'on'),
      d('tcp_nopush', 'on'),
      d('tcp_nodelay', 'on'),
      d('keepalive_timeout', 65),
      d('types_hash_max_size', 2048),
      comment('The only server_tokens of the configuration.'),
      d('server_tokens', 'off'),
      d('server_names_hash_bucket_size', edge.hashBucketSize),
      d('map_hash_bucket_size', edge.hashBucketSize),
      blank(),
      d('client_body_buffer_size', '16k'),
      d('client_header_buffer_size', '1k'),
      d('client_max_body_size', `${edge.clientMaxBodyMiB}m`),
      d('large_client_header_buffers', 4, '8k'),
      d('client_body_timeout', '60s'),
      d('client_header_timeout', '60s'),
      d('send_timeout', '60s'),
      d('client_body_temp_path', paths.clientBodyTemp),
      d('proxy_temp_path', paths.proxyTemp),
      blank(),
      d('include', paths.system.mimeTypes),
      d('default_type', 'application/octet-stream'),
      blank(),
      comment(`$remote_addr is the client (real-ip); peer_ip is the Cloudflare edge. "color" is the`),
      comment(`${edge.colorHeader} response header of the applications.`),
      d('log_format', logs.format, 'escape=json', jsonLogFormat(edge.colorHeader)),
      d('access_log', `${logs.dir}/access.log`, logs.format, `buffer=${logs.buffer}`, `flush=${logs.flush}`),
      blank(),
      d('gzip', 'on'),
      d('gzip_vary', 'on'),
      d('gzip_proxied', 'any'),
      d('gzip_comp_level', 6),
      d('gzip_buffers', 16, '8k'),
      d('gzip_http_version', '1.1'),
      d('gzip_min_length', 256),
      d('gzip_types', ...GZIP_TYPES),
      blank(),
      d('include', `${installedPath(edge, `${edge.treeDir}/conf.d`)}/*.conf`),
      d('include', `${paths.sitesEnabled}/*.conf`),
    ],
  );
  const nodes = [
    edge.user !== null && d('user', edge.user),
    d('worker_processes', 'auto'),
    d('worker_rlimit_nofile', edge.workerRlimitNofile),
    d('pid', paths.pid),
    d('error_log', `${logs.dir}/error.log`, 'warn'),
    d('include', paths.system.modules),
    blank(),
    block(
      'events',
      [],
      [d('worker_connections', edge.workerConnections), d('multi_accept', 'on'), d('use', 'epoll')],
    ),
    blank(),
    http,
  ].filter((n) => n !== false);
  return [textFile(edge.files.nginxConf, printNginx(nodes))];
}
