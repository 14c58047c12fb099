import { ConfigError } from '../lib/errors.ts';
import type { Color, CoreModel } from './core.ts';

// The host nginx in front of everything: which sites answer which names, how each path is routed, the
// upstreams of the blue/green stacks, rate limits, TLS, the stub_status listener and every file and log path.
// Renderers in src/render/nginx only turn this into text.

/** Directory of the rendered tree that holds the nginx files (installed as `paths.conf` on the server). */
export const NGINX_TREE_DIR = 'nginx';

/** Paths nginx reads or writes on the server. All are relocated by `EdgeOptions.prefix` except `system`. */
export interface EdgePaths {
  /** Where the tree's nginx/ directory is installed: nginx.conf, conf.d, snippets, sites-available, html. */
  conf: string;
  /** Symlinks to the enabled files of sites-available (provisioning creates them). */
  sitesEnabled: string;
  logs: string;
  pid: string;
  /** Static pages (the 50x page): `html/` of the tree. */
  html: string;
  /** nginx's state directory: request body and proxy temp files, the proxy cache. */
  state: string;
  clientBodyTemp: string;
  proxyTemp: string;
  proxyCache: string;
  certificate: string;
  certificateKey: string;
  /** Cloudflare's authenticated-origin-pull CA (checked only when origin pulls are on). */
  originPullCa: string;
  /** Files of the nginx package itself: never relocated. */
  system: { mimeTypes: string; modules: string };
}

/** Tree-relative paths of the files rendered besides the sites. */
export interface EdgeFiles {
  nginxConf: string;
  realIp: string;
  rateLimits: string;
  maps: string;
  tls: string;
  upstreams: string;
  proxyCache: string;
  securityHeaders: string;
  proxyHeaders: string;
  errorPage: string;
}

export type RateZoneName = 'general' | 'api' | 'login';

export interface RateLimitZone {
  name: RateZoneName;
  /** nginx rate: `10r/s`, `5r/m`. */
  rate: string;
  size: string;
}

export interface LimitReq {
  zone: RateZoneName;
  burst: number;
}

export interface ProxyTimeouts {
  connect: number;
  send: number;
  read: number;
}

/** One `location`: what it matches and what it does. Exactly one handler (deny, return, proxy, root, stub). */
export interface EdgeLocation {
  modifier: '' | '=' | '^~' | '~' | '~*';
  path: string;
  comment?: string;
  deny?: true;
  return?: { code: number; text?: string };
  /** `proxy_pass http://<upstream><uri>`; `stripPrefix` removes a leading path with a rewrite first. */
  proxy?: { upstream: string; uri?: string; stripPrefix?: string };
  /** A file under `root`, reachable only through error_page when `internal`. */
  root?: { dir: string; internal: boolean };
  stubStatus?: { allow: string[] };
  limitReq?: LimitReq;
  accessLog?: false;
  timeouts?: ProxyTimeouts;
  maxBodyMiB?: number;
  requestBuffering?: false;
  buffers?: { size: string; count: number };
  cache?: { zone: string; valid: string[] };
  expires?: string;
  /** Answer CORS preflight (OPTIONS) here with 204. */
  corsPreflight?: true;
  locations?: EdgeLocation[];
}

export interface Listen {
  /** `80`, `[::]:443`, `127.0.0.1:8088`. */
  address: string;
  ssl: boolean;
  /** `listen ... http2` (nginx < 1.25.1). */
  http2: boolean;
  defaultServer: boolean;
}

export interface EdgeServer {
  id: string;
  comment: string;
  listen: Listen[];
  /** `http2 on;` (nginx >= 1.25.1). */
  http2Directive: boolean;
  serverNames: string[];
  /** null: `access_log off`. */
  accessLog: string | null;
  errorLog: string;
  securityHeaders: boolean;
  cors: boolean;
  /** Client ranges allowed; empty means no restriction. */
  allow: string[];
  limitReq?: LimitReq;
  limitConn?: number;
  errorPage?: { codes: number[]; uri: string };
  /** `ssl_reject_handshake on` (unknown names on 443 get no certificate). */
  rejectHandshake: boolean;
  /** Server-level `return` (444 closes the connection). */
  return?: number;
  locations: EdgeLocation[];
}

/** One file of sites-available with its server blocks. */
export interface EdgeSite {
  id: string;
  /** Tree-relative path. */
  file: string;
  /** Name of its symlink in sites-enabled. */
  enabledName: string;
  servers: EdgeServer[];
}

export interface UpstreamServer {
  address: string;
  backup: boolean;
  maxFails?: number;
  failTimeout?: string;
}

export interface Upstream {
  name: string;
  servers: UpstreamServer[];
  keepalive: number;
}

export interface EdgeModel {
  treeDir: string;
  paths: EdgePaths;
  files: EdgeFiles;
  /** `user` of nginx.conf; null leaves it out (an unprivileged test run). */
  user: string | null;
  workerConnections: number;
  workerRlimitNofile: number;
  /** How HTTP/2 is switched on for the target nginx version. */
  http2: 'directive' | 'listen';
  /** Fits the longest server name and map key (nginx refuses to start when a name does not fit). */
  hashBucketSize: number;
  clientMaxBodyMiB: number;
  activeColor: Color;
  upstreams: Upstream[];
  realIp: { ranges: string[]; header: string };
  rateLimits: {
    /** Variable every zone is keyed on: the client address, empty (not limited) for exempt clients. */
    key: string;
    exemptVariable: string;
    exempt: string[];
    zones: RateLimitZone[];
    conn: { zone: string; size: string; perClient: number };
    status: number;
  };
  cors: { variable: string; origins: string[]; methods: string; headers: string; maxAgeSeconds: number };
  /** Content-Security-Policy by server (first server_name); servers not listed send none. */
  csp: { variable: string; byServerName: { serverName: string; policy: string }[] };
  /** Response header the applications set to their deploy colour; logged when present. */
  colorHeader: string;
  tls: {
    protocols: string[];
    ciphers: string;
    sessionCache: string;
    sessionTimeout: string;
    /** Cloudflare authenticated origin pulls: the client CA nginx requires, or null when off. */
    clientCa: string | null;
  };
  securityHeaders: { name: string; value: string }[];
  proxyCache: { zone: string; size: string; maxSize: string; inactive: string };
  /** Access logs are written in `buffer`-sized batches at most `flush` apart: one write per batch, not per request. */
  logs: { dir: string; format: string; buffer: string; flush: string; access: string[]; error: string[] };
  stubStatus: { listen: string[]; path: string; allow: string[]; urls: string[] };
  ports: { http: number; https: number; status: number };
  sites: EdgeSite[];
}

/** Test hooks: a real nginx run moves every path under a temporary prefix and may use other ports. */
export interface EdgeOptions {
  /** Prepended to every path nginx reads or writes, except the package's own files (mime.types, modules). */
  prefix?: string;
  ports?: Partial<EdgeModel['ports']>;
  /** Listen on [::] too (default true). */
  ipv6?: boolean;
  /** nginx.conf `user` (default www-data; null leaves it out). */
  user?: string | null;
}

export const MOZILLA_INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');

/** `a >= b` for dotted versions such as 1.24.0. */
export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** The application upstreams send to the active colour and keep the other as `backup`. */
export function buildUpstreams(core: CoreModel, active: Color): Upstream[] {
  const apps = Object.values(core.apps).map(
    (app): Upstream => ({
      name: app.upstream,
      servers: core.colors.map((color) =>
        color === active
          ? { address: `127.0.0.1:${app.hostPort[color]}`, backup: false, maxFails: 3, failTimeout: '30s' }
          : { address: `127.0.0.1:${app.hostPort[color]}`, backup: true },
      ),
      keepalive: 32,
    }),
  );
  return [
    ...apps,
    {
      name: 'gibbon_backend',
      servers: [{ address: `127.0.0.1:${core.hostPorts.gibbon}`, backup: false }],
      keepalive: 16,
    },
    {
      name: 'grafana_backend',
      servers: [{ address: `127.0.0.1:${core.hostPorts.grafana}`, backup: false }],
      keepalive: 8,
    },
  ];
}

/** The edge model after a switch to `color`: only the upstreams change (conf.d/upstreams.conf). */
export function withActiveColor(core: CoreModel, edge: EdgeModel, color: Color): EdgeModel {
  return { ...edge, activeColor: color, upstreams: buildUpstreams(core, color) };
}

const nextPowerOfTwo = (n: number) => 2 ** Math.ceil(Math.log2(n));

export function buildEdgeModel(core: CoreModel, options: EdgeOptions = {}): EdgeModel {
  const { config, domains } = core;
  const { edge } = config;
  const at = (path: string) => `${options.prefix ?? ''}${path}`;
  const status = core.hostListeners.nginxStatus;
  const ports = { http: 80, https: 443, status: status.port, ...options.ports };
  const ipv6 = options.ipv6 ?? true;

  const conf = at('/etc/nginx');
  const state = at('/var/lib/nginx');
  const logDir = at('/var/log/nginx');
  const paths: EdgePaths = {
    conf,
    sitesEnabled: `${conf}/sites-enabled`,
    logs: logDir,
    pid: at('/run/nginx.pid'),
    html: `${conf}/html`,
    state,
    clientBodyTemp: `${state}/body`,
    proxyTemp: `${state}/proxy`,
    proxyCache: `${state}/cache`,
    certificate: at(edge.tls.certificate),
    certificateKey: at(edge.tls.key),
    originPullCa: at(edge.cloudflare.originPullCa),
    system: { mimeTypes: '/etc/nginx/mime.types', modules: '/etc/nginx/modules-enabled/*.conf' },
  };
  const tree = (rel: string) => `${NGINX_TREE_DIR}/${rel}`;
  const files: EdgeFiles = {
    nginxConf: tree('nginx.conf'),
    realIp: tree('conf.d/real-ip.conf'),
    rateLimits: tree('conf.d/rate-limits.conf'),
    maps: tree('conf.d/maps.conf'),
    tls: tree('conf.d/tls.conf'),
    upstreams: tree('conf.d/upstreams.conf'),
    proxyCache: tree('conf.d/proxy-cache.conf'),
    securityHeaders: tree('snippets/security-headers.conf'),
    proxyHeaders: tree('snippets/proxy.conf'),
    errorPage: tree('html/50x.html'),
  };

  if (edge.contentSecurityPolicy.includes('$')) {
    throw new ConfigError('academy.config.ts', [
      {
        path: 'edge.contentSecurityPolicy',
        message: 'must not contain "$": nginx would read it as a variable',
      },
    ]);
  }

  const http2 = versionAtLeast(edge.nginxVersion, '1.25.1') ? 'directive' : 'listen';
  const log = (site: string) => ({
    accessLog: `${logDir}/${site}.access.log`,
    errorLog: `${logDir}/${site}.error.log`,
  });
  const listenOn = (port: number, ssl: boolean, defaultServer = false): Listen[] =>
    [String(port), ...(ipv6 ? [`[::]:${port}`] : [])].map((address) => ({
      address,
      ssl,
      http2: ssl && http2 === 'listen',
      defaultServer,
    }));
  const https = (defaultServer = false) => listenOn(ports.https, true, defaultServer);

  const general: LimitReq = { zone: 'general', burst: 20 };
  const apiLimit: LimitReq = { zone: 'api', burst: 50 };
  const loginLimit: LimitReq = { zone: 'login', burst: 5 };
  const perClient = edge.rateLimits.connectionsPerClient;
  const up = (upstream: string) => ({ upstream });
  const seconds = (s: number): ProxyTimeouts => ({ connect: s, send: s, read: s });
  // Long-lived WebSocket connections: connecting stays quick, only idle reads and writes may last an hour.
  const websocket: ProxyTimeouts = { connect: 60, send: 3600, read: 3600 };

  /** metrics and internal endpoints are never public; `~*` because Express routes ignore case. */
  const hidden = (prefix = '/'): EdgeLocation => ({
    modifier: '~*',
    path: `^${prefix}(metrics|internal)(/|$)`,
    comment:
      'Metrics and internal endpoints are scraped or called on the loopback ports, never through here.',
    deny: true,
  });
  const health: EdgeLocation = {
    modifier: '=',
    path: '/health',
    accessLog: false,
    return: { code: 200, text: 'OK\n' },
  };
  const { api, web, admin } = core.apps;
  const mainNames = [domains.root, domains.www];

  const mainServer: EdgeServer = {
    id: 'main',
    comment: `Main website (${web.upstream}), its API under /api/ (${api.upstream})`,
    listen: https(),
    http2Directive: http2 === 'directive',
    serverNames: mainNames,
    ...log('main'),
    securityHeaders: true,
    cors: false,
    allow: [],
    limitReq: general,
    limitConn: perClient,
    errorPage: { codes: [500, 502, 503, 504], uri: '/50x.html' },
    rejectHandshake: false,
    locations: [
      { modifier: '=', path: '/50x.html', root: { dir: paths.html, internal: true } },
      health,
      hidden(),
      {
        modifier: '^~',
        path: '/_next/static/',
        comment:
          '^~ so the static-extension regex below does not take these. Next.js sends\n' +
          'immutable cache headers for hashed build files; the cache keeps the previous release after a switch.',
        proxy: up(web.upstream),
        cache: { zone: 'static_cache', valid: ['200', '1y'] },
      },
      {
        modifier: '',
        path: '/_next/image',
        proxy: up(web.upstream),
        cache: { zone: 'static_cache', valid: ['200', '30d'] },
      },
      {
        modifier: '~*',
        path: '\\.(?:jpg|jpeg|png|gif|ico|css|js|woff|woff2|ttf|svg|eot|webp|avif)$',
        comment: 'files of the web app, proxied (the server has no document root).',
        proxy: up(web.upstream),
        expires: '30d',
        accessLog: false,
      },
      {
        modifier: '^~',
        path: '/api/',
        comment: 'The API with its /api prefix removed; ^~ so an /api/...png is never sent to the web app.',
        proxy: { upstream: api.upstream, uri: '/' },
        limitReq: apiLimit,
        timeouts: seconds(60),
        buffers: { size: '4k', count: 8 },
        locations: [
          hidden('/api/'),
          {
            modifier: '~*',
            path: '^/api/auth/login(/|$)',
            comment: 'Stricter limit; any case and a trailing slash reach the same route in the API.',
            proxy: { upstream: api.upstream, stripPrefix: '/api' },
            limitReq: loginLimit,
          },
        ],
      },
      { modifier: '^~', path: '/ws', proxy: up(api.upstream), timeouts: websocket },
      { modifier: '', path: '/', proxy: up(web.upstream), timeouts: seconds(60) },
    ],
  };

  const apiServer: EdgeServer = {
    id: 'api',
    comment: `API (${api.upstream}) for the web and mobile clients`,
    listen: https(),
    http2Directive: http2 === 'directive',
    serverNames: [domains.api],
    ...log('api'),
    securityHeaders: true,
    cors: true,
    allow: [],
    limitReq: { zone: 'api', burst: 100 },
    limitConn: perClient,
    rejectHandshake: false,
    locations: [
      hidden(),
      { modifier: '=', path: '/health', accessLog: false, proxy: up(api.upstream) },
      {
        modifier: '~*',
        path: '^/auth/login(/|$)',
        proxy: up(api.upstream),
        limitReq: loginLimit,
        corsPreflight: true,
      },
      {
        modifier: '~',
        path: '^/(sslcommerz|bkash|nagad)/webhook',
        comment: 'Payment gateway callbacks: larger bodies, slow gateways.',
        proxy: up(api.upstream),
        maxBodyMiB: 10,
        timeouts: seconds(120),
      },
      {
        modifier: '',
        path: '/upload',
        comment: 'Uploads stream to the API as they arrive.',
        proxy: up(api.upstream),
        maxBodyMiB: edge.uploadLimitMiB,
        requestBuffering: false,
        timeouts: seconds(300),
        corsPreflight: true,
      },
      {
        modifier: '',
        path: '/',
        proxy: up(api.upstream),
        timeouts: seconds(60),
        buffers: { size: '8k', count: 16 },
        corsPreflight: true,
      },
    ],
  };

  const proxiedSite = (
    id: string,
    comment: string,
    serverName: string,
    upstream: string,
    allow: string[],
    extra: EdgeLocation[] = [],
  ): EdgeServer => ({
    id,
    comment,
    listen: https(),
    http2Directive: http2 === 'directive',
    serverNames: [serverName],
    ...log(id),
    securityHeaders: true,
    cors: false,
    allow,
    limitReq: general,
    limitConn: perClient,
    rejectHandshake: false,
    locations: [hidden(), ...extra, { modifier: '', path: '/', proxy: up(upstream), timeouts: seconds(60) }],
  });

  const allowlist = edge.adminAllowlist;
  const adminServer = proxiedSite('admin', 'Admin panel', domains.admin, admin.upstream, allowlist);
  const gibbonServer = proxiedSite(
    'gibbon',
    'Gibbon school management',
    domains.gibbon,
    'gibbon_backend',
    [],
  );
  const grafanaServer = proxiedSite('grafana', 'Grafana', domains.grafana, 'grafana_backend', allowlist, [
    {
      modifier: '^~',
      path: '/api/live/',
      comment: 'Grafana Live (WebSocket).',
      proxy: up('grafana_backend'),
      timeouts: websocket,
    },
  ]);

  const allNames = [domains.root, domains.www, domains.api, domains.admin, domains.gibbon, domains.grafana];
  const httpServer: EdgeServer = {
    id: 'http',
    comment: 'Plain HTTP: health checks answer here, everything else moves to HTTPS.',
    listen: listenOn(ports.http, false),
    http2Directive: false,
    serverNames: allNames,
    ...log('http'),
    securityHeaders: false,
    cors: false,
    allow: [],
    rejectHandshake: false,
    locations: [
      health,
      { modifier: '', path: '/', return: { code: 301, text: 'https://$host$request_uri' } },
    ],
  };

  const catchAll = (id: string, listen: Listen[], rejectHandshake: boolean): EdgeServer => ({
    id,
    comment: 'a Host header that names none of the sites gets no answer.',
    listen,
    http2Directive: false,
    serverNames: ['_'],
    ...log('default'),
    securityHeaders: false,
    cors: false,
    allow: [],
    rejectHandshake,
    return: 444,
    locations: [],
  });

  const stubListen = [...new Set(['127.0.0.1', status.address])].map((ip) => `${ip}:${ports.status}`);
  const stubAllow = ['127.0.0.1', core.networks.monitoring.subnet];
  const statusServer: EdgeServer = {
    id: 'status',
    comment: 'nginx-prometheus-exporter reads stub_status here (loopback and the Docker host address).',
    listen: stubListen.map((address) => ({ address, ssl: false, http2: false, defaultServer: false })),
    http2Directive: false,
    serverNames: ['_'],
    accessLog: null,
    errorLog: log('status').errorLog,
    securityHeaders: false,
    cors: false,
    allow: [],
    rejectHandshake: false,
    locations: [
      { modifier: '=', path: status.path, stubStatus: { allow: stubAllow } },
      { modifier: '', path: '/', return: { code: 404 } },
    ],
  };

  const site = (id: string, servers: EdgeServer[]): EdgeSite => ({
    id,
    file: tree(`sites-available/${id}.conf`),
    enabledName: `${id}.conf`,
    servers,
  });
  const sites: EdgeSite[] = [
    site('default', [
      catchAll('default-http', listenOn(ports.http, false, true), false),
      // http2 on the listen line too: nginx < 1.25.1 merges it per address, so every server on 443 agrees.
      { ...catchAll('default-https', https(true), true), http2Directive: http2 === 'directive' },
    ]),
    site('http', [httpServer]),
    site('main', [mainServer]),
    site('api', [apiServer]),
    site('admin', [adminServer]),
    site('gibbon', [gibbonServer]),
    site('grafana', [grafanaServer]),
    site('status', [statusServer]),
  ];

  const servers = sites.flatMap((s) => s.servers);
  const accessLogs = [`${logDir}/access.log`, ...servers.flatMap((s) => (s.accessLog ? [s.accessLog] : []))];
  // Several servers may share a log (the two catch-all servers).
  const errorLogs = [`${logDir}/error.log`, ...servers.map((s) => s.errorLog)];

  const corsOrigins = (edge.corsOrigins ?? [`https://${domains.root}`, `https://${domains.www}`]).map(
    (url) => new URL(url).origin,
  );
  const apiCsp = "default-src 'none'; frame-ancestors 'none'";
  // Keyed on $server_name, the first name of the server block. Gibbon and Grafana set their own policies.
  const csp = [
    { serverName: domains.root, policy: edge.contentSecurityPolicy },
    { serverName: domains.admin, policy: edge.contentSecurityPolicy },
    { serverName: domains.api, policy: apiCsp },
  ];

  const hsts = edge.hsts;
  const securityHeaders = [
    { name: 'X-Frame-Options', value: 'SAMEORIGIN' },
    { name: 'X-Content-Type-Options', value: 'nosniff' },
    { name: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
    { name: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
    ...(hsts.enabled
      ? [
          {
            name: 'Strict-Transport-Security',
            value: [
              `max-age=${hsts.maxAgeSeconds}`,
              ...(hsts.includeSubDomains ? ['includeSubDomains'] : []),
              ...(hsts.preload ? ['preload'] : []),
            ].join('; '),
          },
        ]
      : []),
  ];

  const longestKey = Math.max(...allNames.map((n) => n.length), ...corsOrigins.map((o) => o.length));

  return {
    treeDir: NGINX_TREE_DIR,
    paths,
    files,
    user: options.user === undefined ? 'www-data' : options.user,
    workerConnections: 4096,
    // A proxied connection holds two descriptors (client and upstream), plus log and cache files.
    workerRlimitNofile: 4096 * 4,
    http2,
    hashBucketSize: Math.max(64, nextPowerOfTwo(longestKey + 32)),
    clientMaxBodyMiB: 50,
    activeColor: core.activeColor,
    upstreams: buildUpstreams(core, core.activeColor),
    realIp: { ranges: [...edge.cloudflare.ipRanges], header: 'CF-Connecting-IP' },
    rateLimits: {
      key: '$limit_key',
      exemptVariable: '$limit_exempt',
      exempt: [...edge.rateLimits.exempt],
      zones: [
        { name: 'general', rate: `${edge.rateLimits.generalPerSecond}r/s`, size: '10m' },
        { name: 'api', rate: `${edge.rateLimits.apiPerSecond}r/s`, size: '10m' },
        { name: 'login', rate: `${edge.rateLimits.loginPerMinute}r/m`, size: '10m' },
      ],
      conn: { zone: 'conn_limit', size: '10m', perClient },
      status: 429,
    },
    cors: {
      variable: '$cors_origin',
      origins: [...new Set(corsOrigins)],
      methods: 'GET, POST, PUT, DELETE, PATCH, OPTIONS',
      headers: 'Authorization, Content-Type, X-Requested-With',
      maxAgeSeconds: 86400,
    },
    csp: { variable: '$content_security_policy', byServerName: csp },
    colorHeader: 'X-App-Color',
    tls: {
      protocols: ['TLSv1.2', 'TLSv1.3'],
      ciphers: MOZILLA_INTERMEDIATE_CIPHERS,
      sessionCache: 'shared:SSL:50m',
      sessionTimeout: '1d',
      clientCa: edge.cloudflare.authenticatedOriginPulls ? paths.originPullCa : null,
    },
    securityHeaders,
    proxyCache: { zone: 'static_cache', size: '10m', maxSize: '1g', inactive: '7d' },
    logs: {
      dir: logDir,
      format: 'json',
      buffer: '64k',
      flush: '1s',
      access: [...new Set(accessLogs)],
      error: [...new Set(errorLogs)],
    },
    stubStatus: {
      listen: stubListen,
      path: status.path,
      allow: stubAllow,
      urls: stubListen.map((l) => `http://${l}${status.path}`),
    },
    ports,
    sites,
  };
}

/** Where a file of the tree's nginx/ directory lives on the server. */
export function installedPath(edge: EdgeModel, treePath: string): string {
  const prefix = `${edge.treeDir}/`;
  if (!treePath.startsWith(prefix)) throw new Error(`internal error: ${treePath} is not under ${prefix}`);
  return `${edge.paths.conf}/${treePath.slice(prefix.length)}`;
}
