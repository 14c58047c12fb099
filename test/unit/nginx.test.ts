import { describe, expect, it } from 'vitest';
import type { SiteConfigInput } from '../../src/config/schema.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { buildCore } from '../../src/model/core.ts';
import {
  buildEdgeModel,
  type EdgeModel,
  type EdgeOptions,
  installedPath,
  withActiveColor,
} from '../../src/model/edge.ts';
import type { NginxBlock, NginxDirective, NginxNode } from '../../src/render/nginx/ast.ts';
import { renderNginx, renderUpstreams } from '../../src/render/nginx/index.ts';
import {
  blocksOf,
  directivesOf,
  findBlocks,
  findDirectives,
  parseNginx,
} from '../../src/render/nginx/parse.ts';

// The nginx edge: render from the config, parse every file back, resolve includes the way nginx does and
// assert the structure and the fixes of the specification's defects.

function render(input: SiteConfigInput = {}, options: EdgeOptions = {}) {
  const core = buildCore(validateConfig(input));
  const edge = buildEdgeModel(core, options);
  const model = { ...core, edge };
  const files = renderNginx(model);
  const text = new Map(files.map((f) => [f.path, f.content]));
  const ast = new Map(
    files
      .filter((f) => f.path.endsWith('.conf'))
      .map((f) => [f.path, parseNginx(f.content, { file: f.path })]),
  );
  const file = (path: string): NginxNode[] => {
    const nodes = ast.get(path);
    if (nodes === undefined) throw new Error(`${path} was not rendered`);
    return nodes;
  };
  return { core, edge, model, files, text, ast, file, tree: expand(edge, ast) };
}

/** Installed path -> tree path of every rendered file, with sites-enabled links pointing at sites-available. */
function installedFiles(edge: EdgeModel, treePaths: Iterable<string>): Map<string, string> {
  const map = new Map<string, string>();
  for (const path of treePaths) map.set(installedPath(edge, path), path);
  for (const site of edge.sites) map.set(`${edge.paths.sitesEnabled}/${site.enabledName}`, site.file);
  return map;
}

/**
 * nginx.conf with every include replaced by the parsed files it names (a glob matches rendered files, in
 * nginx's sorted order). Throws on an include that is neither a rendered file nor a system path.
 */
function expand(edge: EdgeModel, ast: Map<string, NginxNode[]>): NginxNode[] {
  const installed = installedFiles(edge, ast.keys());
  const system = Object.values(edge.paths.system);
  const resolve = (pattern: string): string[] => {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    return [...installed.keys()].filter((p) => re.test(p)).sort();
  };
  const visit = (nodes: NginxNode[], depth: number): NginxNode[] =>
    nodes.flatMap((node): NginxNode[] => {
      if (node.kind === 'block') return [{ ...node, children: visit(node.children, depth) }];
      if (node.kind !== 'directive' || node.name !== 'include') return [node];
      const [target = ''] = node.args;
      if (system.includes(target)) return [];
      const matches = resolve(target);
      if (matches.length === 0)
        throw new Error(`include ${target}: neither a rendered file nor a system path`);
      if (depth > 5) throw new Error('include loop');
      return matches.flatMap((m) => visit(ast.get(installed.get(m) as string) ?? [], depth + 1));
    });
  return visit(ast.get(edge.files.nginxConf) ?? [], 0);
}

const args = (node: NginxDirective | NginxBlock) => node.args.join(' ');
const SECURITY_HEADERS = [
  'X-Frame-Options',
  'X-Content-Type-Options',
  'Referrer-Policy',
  'Permissions-Policy',
  'Strict-Transport-Security',
  'Content-Security-Policy',
];
const http = (tree: NginxNode[]) => {
  const [block] = blocksOf(tree, 'http');
  if (block === undefined) throw new Error('no http block');
  return block;
};
const servers = (tree: NginxNode[]) => blocksOf(http(tree), 'server');
const ports = (server: NginxBlock) =>
  directivesOf(server, 'listen').map((l) => (l.args[0] ?? '').replace(/^.*:/, ''));

/** The server nginx picks for a Host on a port: a server_name match, else that port's default_server. */
function serverFor(tree: NginxNode[], host: string, port: number): NginxBlock {
  const onPort = servers(tree).filter((s) => ports(s).includes(String(port)));
  const named = onPort.find((s) => directivesOf(s, 'server_name').some((d) => d.args.includes(host)));
  const fallback = onPort.find((s) =>
    directivesOf(s, 'listen').some((l) => l.args.includes('default_server')),
  );
  const found = named ?? fallback;
  if (found === undefined) throw new Error(`no server for ${host}:${port}`);
  return found;
}

/** nginx's location choice: exact, then longest prefix (and its nested locations), then regexes in order. */
function locationFor(parent: NginxBlock, uri: string): NginxBlock | undefined {
  const locations = blocksOf(parent, 'location');
  const modifier = (l: NginxBlock) => (l.args.length === 1 ? '' : (l.args[0] as string));
  const path = (l: NginxBlock) => l.args.at(-1) as string;
  const exact = locations.find((l) => modifier(l) === '=' && path(l) === uri);
  if (exact) return exact;
  let prefix: NginxBlock | undefined;
  for (const l of locations) {
    if ((modifier(l) === '' || modifier(l) === '^~') && uri.startsWith(path(l))) {
      if (prefix === undefined || path(l).length > path(prefix).length) prefix = l;
    }
  }
  if (prefix !== undefined) {
    const nested = locationFor(prefix, uri);
    if (nested !== undefined && nested !== prefix) return nested;
    if (modifier(prefix) === '^~') return prefix;
  }
  const regex = locations.find(
    (l) =>
      (modifier(l) === '~' || modifier(l) === '~*') &&
      new RegExp(path(l), modifier(l) === '~*' ? 'i' : '').test(uri),
  );
  return regex ?? (prefix && prefix !== parent ? prefix : undefined);
}

function route(tree: NginxNode[], host: string, uri: string): NginxBlock {
  const location = locationFor(serverFor(tree, host, 443), uri);
  if (location === undefined) throw new Error(`no location for ${host}${uri}`);
  return location;
}
const proxyTarget = (location: NginxBlock) => directivesOf(location, 'proxy_pass')[0]?.args[0];
const denies = (location: NginxBlock) => directivesOf(location, 'deny').some((d) => d.args[0] === 'all');

describe('real client address', () => {
  it('trusts CF-Connecting-IP from every configured Cloudflare range, at http level', () => {
    const { core, tree } = render();
    const ranges = directivesOf(http(tree), 'set_real_ip_from').map((d) => d.args[0]);
    expect(ranges).toEqual(core.config.edge.cloudflare.ipRanges);
    expect(ranges).toContain('2400:cb00::/32');
    expect(directivesOf(http(tree), 'real_ip_header').map(args)).toEqual(['CF-Connecting-IP']);
    expect(findDirectives(servers(tree), 'set_real_ip_from')).toEqual([]);
  });

  it('follows a custom range list', () => {
    const { tree } = render({ edge: { cloudflare: { ipRanges: ['198.51.100.0/24', '2001:db8::/32'] } } });
    expect(directivesOf(http(tree), 'set_real_ip_from').map(args)).toEqual([
      '198.51.100.0/24',
      '2001:db8::/32',
    ]);
  });
});

describe('TLS', () => {
  it('requires Cloudflare client certificates when authenticated origin pulls are on', () => {
    const { tree, edge } = render();
    expect(directivesOf(http(tree), 'ssl_verify_client').map(args)).toEqual(['on']);
    expect(directivesOf(http(tree), 'ssl_client_certificate').map(args)).toEqual([edge.paths.originPullCa]);
  });

  it('has no client verification when origin pulls are off', () => {
    const { tree } = render({ edge: { cloudflare: { authenticatedOriginPulls: false } } });
    expect(findDirectives(tree, 'ssl_verify_client')).toEqual([]);
    expect(findDirectives(tree, 'ssl_client_certificate')).toEqual([]);
  });

  it('is Mozilla intermediate, set once at http level, without OCSP stapling', () => {
    const { tree, core } = render();
    const h = http(tree);
    expect(directivesOf(h, 'ssl_protocols').map(args)).toEqual(['TLSv1.2 TLSv1.3']);
    expect(directivesOf(h, 'ssl_ciphers')[0]?.args[0]?.split(':')).toHaveLength(9);
    expect(directivesOf(h, 'ssl_prefer_server_ciphers').map(args)).toEqual(['off']);
    expect(directivesOf(h, 'ssl_session_tickets').map(args)).toEqual(['off']);
    expect(directivesOf(h, 'ssl_certificate').map(args)).toEqual([core.config.edge.tls.certificate]);
    expect(directivesOf(h, 'ssl_certificate_key').map(args)).toEqual([core.config.edge.tls.key]);
    expect(findDirectives(tree, 'ssl_stapling')).toEqual([]);
    for (const s of servers(tree)) expect(findDirectives([s], 'ssl_certificate')).toEqual([]);
  });

  it('switches the HTTP/2 form at nginx 1.25.1', () => {
    const tlsServers = (tree: NginxNode[]) => servers(tree).filter((s) => ports(s).includes('443'));
    for (const version of ['1.22.1', '1.24.0', '1.25.0']) {
      const { tree } = render({ edge: { nginxVersion: version } });
      expect(tlsServers(tree).length).toBeGreaterThan(5);
      for (const s of tlsServers(tree)) {
        for (const l of directivesOf(s, 'listen')) expect(l.args.slice(1, 3)).toEqual(['ssl', 'http2']);
      }
      expect(findDirectives(tree, 'http2')).toEqual([]);
    }
    for (const version of ['1.25.1', '1.26.0', '1.27.4']) {
      const { tree } = render({ edge: { nginxVersion: version } });
      for (const s of tlsServers(tree)) {
        expect(directivesOf(s, 'http2').map(args)).toEqual(['on']);
        for (const l of directivesOf(s, 'listen')) expect(l.args).not.toContain('http2');
      }
    }
    // Plain-HTTP servers never get HTTP/2.
    const { tree } = render({ edge: { nginxVersion: '1.26.0' } });
    for (const s of servers(tree).filter((x) => !ports(x).includes('443'))) {
      expect(findDirectives([s], 'http2')).toEqual([]);
    }
  });
});

describe('security headers', () => {
  it('are included in every server with TLS and in every context that has its own add_header', () => {
    const { tree, edge, file } = render();
    const snippet = installedPath(edge, edge.files.securityHeaders);
    const includesSnippet = (b: NginxBlock) => directivesOf(b, 'include').some((d) => d.args[0] === snippet);
    let checked = 0;
    for (const site of edge.sites) {
      const visit = (b: NginxBlock) => {
        if (directivesOf(b, 'add_header').length > 0) {
          checked++;
          expect(includesSnippet(b), `${site.file}: ${b.name} ${args(b)}`).toBe(true);
        }
        for (const child of b.children) if (child.kind === 'block') visit(child);
      };
      for (const s of blocksOf(file(site.file), 'server')) visit(s);
    }
    expect(checked).toBeGreaterThan(5);
    // With includes resolved, every HTTPS server that answers sends the headers from server level.
    for (const s of servers(tree).filter(
      (x) => ports(x).includes('443') && directivesOf(x, 'return').length === 0,
    )) {
      expect(directivesOf(s, 'add_header').map((h) => h.args[0])).toContain('X-Content-Type-Options');
    }
    expect(findDirectives(tree, 'add_header').some((d) => d.args[0] === 'X-XSS-Protection')).toBe(false);
  });

  it('send the configured headers, all with always', () => {
    const { file, edge } = render({ edge: { hsts: { preload: true, maxAgeSeconds: 600 } } });
    const headers = directivesOf(file(edge.files.securityHeaders), 'add_header');
    for (const h of headers) expect(h.args.at(-1)).toBe('always');
    expect(Object.fromEntries(headers.map((h) => [h.args[0], h.args[1]]))).toEqual({
      'X-Frame-Options': 'SAMEORIGIN',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'strict-origin-when-cross-origin',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
      'Strict-Transport-Security': 'max-age=600; includeSubDomains; preload',
      'Content-Security-Policy': '$content_security_policy',
    });
    const off = render({ edge: { hsts: { enabled: false } } });
    const names = directivesOf(off.file(off.edge.files.securityHeaders), 'add_header').map((h) => h.args[0]);
    expect(names).not.toContain('Strict-Transport-Security');
  });

  it('take the CSP of the config on the main and admin sites, a strict one on the API, none elsewhere', () => {
    const csp = "default-src 'self'; img-src 'self' data:";
    const { tree, core } = render({ edge: { contentSecurityPolicy: csp } });
    const [map] = blocksOf(http(tree), 'map', (b) => b.args[1] === '$content_security_policy');
    if (map === undefined) throw new Error('no CSP map');
    expect(map.args[0]).toBe('$server_name');
    const byName = Object.fromEntries(
      map.children.flatMap((c) => (c.kind === 'directive' ? [[c.name, c.args[0]]] : [])),
    );
    expect(byName).toEqual({
      default: '',
      [core.domains.root]: csp,
      [core.domains.admin]: csp,
      [core.domains.api]: "default-src 'none'; frame-ancestors 'none'",
    });
    // $server_name is the first name of a server block: the map keys must be first names.
    const firstNames = servers(tree).map((s) => directivesOf(s, 'server_name')[0]?.args[0]);
    for (const key of Object.keys(byName).filter((k) => k !== 'default')) expect(firstNames).toContain(key);
  });

  it('refuse a CSP that nginx would read as a variable', () => {
    expect(() => render({ edge: { contentSecurityPolicy: "script-src 'self' $x" } })).toThrow(
      /edge.contentSecurityPolicy/,
    );
  });
});

describe('routing', () => {
  it('serves Next.js build files with ^~ and proxies static files to the web app', () => {
    const { tree, core, edge } = render();
    const root = core.domains.root;
    const chunk = route(tree, root, '/_next/static/chunks/main-abc123.js');
    expect(chunk.args).toEqual(['^~', '/_next/static/']);
    expect(proxyTarget(chunk)).toBe('http://web_backend');
    expect(directivesOf(chunk, 'proxy_cache').map(args)).toEqual(['static_cache']);
    expect(proxyTarget(route(tree, root, '/logo.png'))).toBe('http://web_backend');
    expect(proxyTarget(route(tree, core.domains.www, '/fonts/a.woff2'))).toBe('http://web_backend');
    expect(proxyTarget(route(tree, root, '/api/avatars/1.png'))).toBe('http://api_backend/');
    expect(proxyTarget(route(tree, root, '/courses/42'))).toBe('http://web_backend');
    expect(proxyTarget(route(tree, root, '/ws'))).toBe('http://api_backend');
    expect(findDirectives(tree, 'root').map(args)).toEqual([edge.paths.html]);
  });

  it('uses the proxy cache it declares (a proxy_cache_valid alone is a no-op)', () => {
    const { tree } = render();
    const zones = directivesOf(http(tree), 'proxy_cache_path').map((d) =>
      d.args.find((a) => a.startsWith('keys_zone='))?.replace(/^keys_zone=([^:]+):.*$/, '$1'),
    );
    const locations = findBlocks(tree, 'location');
    const caching = locations.filter((l) => directivesOf(l, 'proxy_cache').length > 0);
    expect(caching.length).toBeGreaterThan(0);
    for (const l of caching) expect(zones).toContain(directivesOf(l, 'proxy_cache')[0]?.args[0]);
    for (const l of locations.filter((x) => directivesOf(x, 'proxy_cache_valid').length > 0)) {
      expect(directivesOf(l, 'proxy_cache')).toHaveLength(1);
    }
  });

  it('keeps /metrics and /internal private on every site, whatever the case', () => {
    const { tree, core } = render();
    const api = core.domains.api;
    for (const uri of ['/metrics', '/METRICS', '/metrics/', '/internal/jobs', '/Internal']) {
      expect(denies(route(tree, api, uri)), uri).toBe(true);
    }
    expect(denies(route(tree, api, '/metricsdashboard'))).toBe(false);
    for (const host of [core.domains.root, core.domains.admin, core.domains.gibbon, core.domains.grafana]) {
      expect(denies(route(tree, host, '/metrics')), host).toBe(true);
    }
    expect(denies(route(tree, core.domains.root, '/api/metrics'))).toBe(true);
    expect(denies(route(tree, core.domains.root, '/api/internal/x'))).toBe(true);
  });

  it('limits login attempts on both ways to the login route', () => {
    const { tree, core } = render();
    const zone = (l: NginxBlock) => directivesOf(l, 'limit_req')[0]?.args[0];
    for (const uri of ['/api/auth/login', '/api/Auth/Login/']) {
      const l = route(tree, core.domains.root, uri);
      expect(zone(l), uri).toBe('zone=login');
      expect(directivesOf(l, 'rewrite').map(args)).toEqual(['^/api(/.*)$ $1 break']);
      expect(proxyTarget(l)).toBe('http://api_backend');
    }
    expect(zone(route(tree, core.domains.api, '/auth/login'))).toBe('zone=login');
    expect(zone(route(tree, core.domains.root, '/api/courses'))).toBe('zone=api');
  });

  it('gives payment webhooks and uploads their limits', () => {
    const { tree, core } = render({ edge: { uploadLimitMiB: 250 } });
    const api = core.domains.api;
    const hook = route(tree, api, '/bkash/webhook');
    expect(directivesOf(hook, 'client_max_body_size').map(args)).toEqual(['10m']);
    expect(directivesOf(hook, 'proxy_read_timeout').map(args)).toEqual(['120s']);
    const upload = route(tree, api, '/upload/photo');
    expect(directivesOf(upload, 'client_max_body_size').map(args)).toEqual(['250m']);
    expect(directivesOf(upload, 'proxy_request_buffering').map(args)).toEqual(['off']);
    expect(directivesOf(upload, 'proxy_read_timeout').map(args)).toEqual(['300s']);
    expect(proxyTarget(route(tree, api, '/health'))).toBe('http://api_backend');
  });

  it('answers CORS preflights from the allowed origins only', () => {
    const { tree, core } = render({
      edge: { corsOrigins: ['https://portal.example.org/', 'https://app.example.org'] },
    });
    const [map] = blocksOf(http(tree), 'map', (b) => b.args[1] === '$cors_origin');
    if (map === undefined) throw new Error('no CORS map');
    expect(map.args[0]).toBe('$http_origin');
    expect(map.children.flatMap((c) => (c.kind === 'directive' ? [`${c.name} ${args(c)}`] : []))).toEqual([
      'default ',
      'https://portal.example.org $http_origin',
      'https://app.example.org $http_origin',
    ]);
    const api = serverFor(tree, core.domains.api, 443);
    expect(directivesOf(api, 'add_header').map(args)).toContain(
      'Access-Control-Allow-Origin $cors_origin always',
    );
    for (const uri of ['/courses', '/upload', '/auth/login']) {
      const [preflight] = blocksOf(route(tree, core.domains.api, uri), 'if');
      expect(preflight?.args.join(' '), uri).toBe('($request_method = OPTIONS)');
      expect(preflight && directivesOf(preflight, 'return').map(args)).toEqual(['204']);
      expect(preflight && directivesOf(preflight, 'add_header').map((h) => h.args[0])).toEqual([
        ...SECURITY_HEADERS,
        'Access-Control-Allow-Origin',
        'Vary',
        'Access-Control-Allow-Methods',
        'Access-Control-Allow-Headers',
        'Access-Control-Max-Age',
      ]);
    }
    const defaults = render();
    const [defaultMap] = blocksOf(http(defaults.tree), 'map', (b) => b.args[1] === '$cors_origin');
    expect(defaultMap && directivesOf(defaultMap, 'https://www.smartacademy.edu.bd')).toHaveLength(1);
  });

  it('sends every proxied request through the proxy snippet, with keepalive-friendly Connection', () => {
    const { tree, file, edge } = render();
    const snippet = installedPath(edge, edge.files.proxyHeaders);
    const siteNodes = edge.sites.flatMap((s) => file(s.file));
    for (const l of findBlocks(siteNodes, 'location').filter(
      (x) => directivesOf(x, 'proxy_pass').length > 0,
    )) {
      expect(directivesOf(l, 'include').map(args), args(l)).toContain(snippet);
    }
    const proxy = file(edge.files.proxyHeaders);
    expect(directivesOf(proxy, 'proxy_set_header').map(args)).toEqual([
      'Host $host',
      'X-Real-IP $remote_addr',
      'X-Forwarded-For $proxy_add_x_forwarded_for',
      'X-Forwarded-Proto $scheme',
      'Connection $connection_upgrade',
      'Upgrade $http_upgrade',
    ]);
    expect(directivesOf(proxy, 'proxy_http_version').map(args)).toEqual(['1.1']);
    for (const s of edge.sites) expect(findDirectives(file(s.file), 'proxy_set_header')).toEqual([]);
    const [upgrade] = blocksOf(
      http(tree),
      'map',
      (b) => b.args.join(' ') === '$http_upgrade $connection_upgrade',
    );
    expect(upgrade?.children.flatMap((c) => (c.kind === 'directive' ? [[c.name, ...c.args]] : []))).toEqual([
      ['default', 'upgrade'],
      ['', ''],
    ]);
  });
});

describe('servers', () => {
  it('has an HTTPS server and the HTTP redirect for every configured name', () => {
    const { tree, core } = render({ domain: 'school.example.org', subdomains: { grafana: 'metrics' } });
    const names = Object.values(core.domains);
    expect(names).toContain('metrics.school.example.org');
    for (const name of names) {
      const s = serverFor(tree, name, 443);
      expect(directivesOf(s, 'server_name')[0]?.args, name).toContain(name);
      const h = serverFor(tree, name, 80);
      expect(directivesOf(h, 'server_name')[0]?.args).toContain(name);
      const health = locationFor(h, '/health');
      expect(health && directivesOf(health, 'return').map(args)).toEqual(['200 OK\n']);
      const other = locationFor(h, '/courses');
      expect(other && directivesOf(other, 'return').map(args)).toEqual(['301 https://$host$request_uri']);
    }
    expect(proxyTarget(route(tree, core.domains.admin, '/'))).toBe('http://admin_backend');
    expect(proxyTarget(route(tree, core.domains.gibbon, '/'))).toBe('http://gibbon_backend');
    expect(proxyTarget(route(tree, core.domains.grafana, '/'))).toBe('http://grafana_backend');
    expect(
      directivesOf(route(tree, core.domains.grafana, '/api/live/ws'), 'proxy_read_timeout').map(args),
    ).toEqual(['3600s']);
  });

  it('drops unknown Host names on 80 and 443 with one default_server each', () => {
    const { tree } = render();
    for (const port of ['80', '443']) {
      const defaults = servers(tree).flatMap((s) =>
        directivesOf(s, 'listen').filter(
          (l) => l.args.includes('default_server') && l.args[0]?.endsWith(port),
        ),
      );
      expect(defaults.map((l) => l.args[0])).toEqual([port, `[::]:${port}`]);
      const s = serverFor(tree, 'grafana.elsewhere.example', Number(port));
      expect(directivesOf(s, 'return').map(args)).toEqual(['444']);
    }
    const https = serverFor(tree, 'unknown.example', 443);
    expect(directivesOf(https, 'ssl_reject_handshake').map(args)).toEqual(['on']);
  });

  it('restricts admin and Grafana to the allowlist when there is one', () => {
    const allow = ['203.0.113.0/24', '2001:db8::/48'];
    const { tree, core } = render({ edge: { adminAllowlist: allow } });
    for (const host of [core.domains.admin, core.domains.grafana]) {
      const s = serverFor(tree, host, 443);
      expect(directivesOf(s, 'allow').map(args)).toEqual(allow);
      expect(directivesOf(s, 'deny').map(args)).toEqual(['all']);
    }
    for (const host of [core.domains.root, core.domains.api, core.domains.gibbon]) {
      expect(directivesOf(serverFor(tree, host, 443), 'allow')).toEqual([]);
    }
    const open = render();
    expect(directivesOf(serverFor(open.tree, core.domains.admin, 443), 'allow')).toEqual([]);
  });

  it('serves stub_status to loopback and the monitoring network only', () => {
    const { tree, core } = render({ server: { dockerBridgeCidr: '172.18.0.1/16' } });
    const [status] = servers(tree).filter((s) =>
      directivesOf(s, 'listen').some((l) => l.args[0]?.endsWith(':8088')),
    );
    if (status === undefined) throw new Error('no stub_status server');
    expect(directivesOf(status, 'listen').map(args)).toEqual(['127.0.0.1:8088', '172.18.0.1:8088']);
    expect(directivesOf(status, 'access_log').map(args)).toEqual(['off']);
    const l = locationFor(status, '/stub_status');
    if (l === undefined) throw new Error('no /stub_status');
    expect(l.args).toEqual(['=', '/stub_status']);
    expect(directivesOf(l, 'stub_status')).toHaveLength(1);
    expect(directivesOf(l, 'allow').map(args)).toEqual(['127.0.0.1', core.networks.monitoring.subnet]);
    expect(directivesOf(l, 'deny').map(args)).toEqual(['all']);
  });

  it('writes a JSON access log and an error log per server, all listed in the model', () => {
    const { tree, edge, text } = render();
    for (const s of servers(tree)) {
      expect(directivesOf(s, 'error_log')).toHaveLength(1);
      const [access] = directivesOf(s, 'access_log');
      expect(access?.args[0] === 'off' || access?.args[1] === 'json').toBe(true);
    }
    const accessPaths = new Set(
      findDirectives(tree, 'access_log').flatMap((d) => (d.args[0] === 'off' ? [] : [d.args[0]])),
    );
    const errorPaths = new Set([...findDirectives(tree, 'error_log').map((d) => d.args[0])]);
    expect(new Set(edge.logs.access)).toEqual(accessPaths);
    expect(new Set(edge.logs.error)).toEqual(errorPaths);
    expect(edge.logs.error).toContain('/var/log/nginx/main.error.log');
    // The format is valid JSON once nginx fills the variables in.
    const [format] = directivesOf(http(tree), 'log_format');
    expect(format?.args.slice(0, 2)).toEqual(['json', 'escape=json']);
    const sample = (format?.args[2] ?? '').replace(/\$[a-z_]+/g, (v) =>
      ['$status', '$body_bytes_sent', '$request_length', '$request_time'].includes(v) ? '1' : 'x',
    );
    expect(Object.keys(JSON.parse(sample))).toEqual(
      expect.arrayContaining([
        'client_ip',
        'request_time',
        'upstream_response_time',
        'status',
        'host',
        'color',
      ]),
    );
    expect(text.get(edge.files.nginxConf)).toContain('$upstream_http_x_app_color');
  });
});

describe('upstreams', () => {
  const upstream = (tree: NginxNode[], name: string) => {
    const [u] = blocksOf(http(tree), 'upstream', (b) => b.args[0] === name);
    if (u === undefined) throw new Error(`no upstream ${name}`);
    return directivesOf(u, 'server').map(args);
  };

  it('send to the active colour and keep the other as backup, without least_conn', () => {
    const { tree, core } = render();
    for (const app of Object.values(core.apps)) {
      expect(upstream(tree, app.upstream)).toEqual([
        `127.0.0.1:${app.hostPort.blue} max_fails=3 fail_timeout=30s`,
        `127.0.0.1:${app.hostPort.green} backup`,
      ]);
    }
    expect(upstream(tree, 'gibbon_backend')).toEqual([`127.0.0.1:${core.hostPorts.gibbon}`]);
    expect(upstream(tree, 'grafana_backend')).toEqual([`127.0.0.1:${core.hostPorts.grafana}`]);
    for (const u of findBlocks(tree, 'upstream')) {
      const backup = directivesOf(u, 'server').some((s) => s.args.includes('backup'));
      expect(backup && directivesOf(u, 'least_conn').length > 0, args(u)).toBe(false);
      expect(directivesOf(u, 'keepalive')).toHaveLength(1);
    }
    expect(findDirectives(tree, 'least_conn')).toEqual([]);
  });

  it('flip with the active colour, and render alone for a deployment', () => {
    const { tree, core, edge } = render({ activeColor: 'green' });
    expect(edge.activeColor).toBe('green');
    expect(upstream(tree, 'api_backend')).toEqual([
      `127.0.0.1:${core.apps.api.hostPort.blue} backup`,
      `127.0.0.1:${core.apps.api.hostPort.green} max_fails=3 fail_timeout=30s`,
    ]);
    // A deployment re-renders only upstreams.conf from the running model.
    const blue = render();
    const switched = withActiveColor(blue.core, blue.edge, 'green');
    const [alone] = renderUpstreams({ ...blue.model, edge: switched });
    expect(alone?.path).toBe(blue.edge.files.upstreams);
    expect(alone?.content).toBe(render({ activeColor: 'green' }).text.get(blue.edge.files.upstreams));
    expect(alone?.content).not.toBe(blue.text.get(blue.edge.files.upstreams));
    expect(alone?.content).toContain('# Active colour: green.');
  });
});

describe('rate limits', () => {
  it('key every zone on the client address except for exempt clients', () => {
    const { tree } = render({
      edge: {
        rateLimits: { generalPerSecond: 7, apiPerSecond: 70, loginPerMinute: 3, exempt: ['192.0.2.0/24'] },
      },
    });
    const h = http(tree);
    expect(directivesOf(h, 'limit_req_zone').map(args)).toEqual([
      '$limit_key zone=general:10m rate=7r/s',
      '$limit_key zone=api:10m rate=70r/s',
      '$limit_key zone=login:10m rate=3r/m',
    ]);
    expect(directivesOf(h, 'limit_conn_zone').map(args)).toEqual(['$limit_key zone=conn_limit:10m']);
    const [geo] = blocksOf(h, 'geo');
    expect(geo?.args).toEqual(['$limit_exempt']);
    expect(geo?.children.flatMap((c) => (c.kind === 'directive' ? [`${c.name} ${args(c)}`] : []))).toEqual([
      'default 0',
      '192.0.2.0/24 1',
    ]);
    const [map] = blocksOf(h, 'map', (b) => b.args.join(' ') === '$limit_exempt $limit_key');
    expect(map?.children.flatMap((c) => (c.kind === 'directive' ? [[c.name, ...c.args]] : []))).toEqual([
      ['default', '$binary_remote_addr'],
      ['1', ''],
    ]);
    expect(directivesOf(h, 'limit_req_status').map(args)).toEqual(['429']);
    expect(directivesOf(h, 'limit_conn_status').map(args)).toEqual(['429']);
  });

  it('applies a zone to every public site and the configured connection limit', () => {
    const { tree, core } = render({ edge: { rateLimits: { connectionsPerClient: 12 } } });
    for (const host of [core.domains.root, core.domains.api, core.domains.admin, core.domains.gibbon]) {
      const s = serverFor(tree, host, 443);
      expect(directivesOf(s, 'limit_req'), host).toHaveLength(1);
      expect(directivesOf(s, 'limit_conn').map(args)).toEqual(['conn_limit 12']);
    }
  });
});

describe('the whole configuration', () => {
  /** Directives nginx accepts once per context ("is duplicate"). */
  const SINGLE = [
    'server_tokens',
    'ssl_protocols',
    'ssl_ciphers',
    'ssl_prefer_server_ciphers',
    'ssl_session_cache',
    'ssl_session_timeout',
    'ssl_session_tickets',
    'ssl_verify_client',
    'ssl_client_certificate',
    'ssl_reject_handshake',
    'real_ip_header',
    'limit_req_status',
    'limit_conn_status',
    'client_max_body_size',
    'default_type',
    'keepalive_timeout',
    'sendfile',
    'gzip',
    'root',
    'proxy_pass',
    'proxy_http_version',
    'proxy_cache',
    'http2',
    'user',
    'pid',
    'worker_processes',
    'worker_connections',
    'expires',
    'server_names_hash_bucket_size',
    'map_hash_bucket_size',
  ];

  it('has no duplicate directive in one context, once includes are resolved', () => {
    for (const input of [{}, { edge: { nginxVersion: '1.26.0', adminAllowlist: ['10.0.0.0/8'] } }]) {
      const { tree } = render(input as SiteConfigInput);
      const check = (nodes: NginxNode[], where: string) => {
        const seen = new Set<string>();
        for (const n of nodes) {
          if (n.kind === 'directive' && SINGLE.includes(n.name)) {
            expect(seen.has(n.name), `${n.name} twice in ${where}`).toBe(false);
            seen.add(n.name);
          }
          if (n.kind === 'block') check(n.children, `${where} > ${n.name} ${args(n)}`);
        }
      };
      check(tree, 'main');
      expect(findDirectives(tree, 'server_tokens')).toHaveLength(1);
      // Names that must be unique across the configuration.
      const unique = (values: (string | undefined)[]) => expect(new Set(values).size).toBe(values.length);
      unique(findBlocks(tree, 'upstream').map((u) => u.args[0]));
      unique(findBlocks(tree, 'map').map((m) => m.args[1]));
      unique(directivesOf(http(tree), 'limit_req_zone').map((z) => z.args[1]?.split(':')[0]));
      for (const s of servers(tree)) unique(blocksOf(s, 'location').map(args));
    }
  });

  it('keeps map and geo at http level only', () => {
    const { tree, file, edge } = render();
    expect(findBlocks(servers(tree), 'map')).toEqual([]);
    expect(findBlocks(servers(tree), 'geo')).toEqual([]);
    expect(blocksOf(http(tree), 'map').length).toBeGreaterThanOrEqual(4);
    for (const snippet of [edge.files.securityHeaders, edge.files.proxyHeaders]) {
      expect(findBlocks(file(snippet), 'map')).toEqual([]);
      expect(findDirectives(file(snippet), 'server_tokens')).toEqual([]);
    }
  });

  it('includes only rendered files and the nginx package files', () => {
    const { edge, ast } = render();
    const included = [...ast.values()].flatMap((nodes) =>
      findDirectives(nodes, 'include').map((d) => d.args[0]),
    );
    const installed = installedFiles(edge, ast.keys());
    for (const target of included) {
      const ok =
        Object.values(edge.paths.system).includes(target ?? '') ||
        installed.has(target ?? '') ||
        [...installed.keys()].some(
          (p) => target?.includes('*') && p.startsWith(target.slice(0, target.indexOf('*'))),
        );
      expect(ok, target).toBe(true);
    }
    expect(included).toContain('/etc/nginx/modules-enabled/*.conf');
    expect(included).toContain('/etc/nginx/conf.d/*.conf');
    expect(included).toContain('/etc/nginx/sites-enabled/*.conf');
    // expand() resolved every include (it throws otherwise) and pulled every site in.
    expect(servers(render().tree)).toHaveLength(edge.sites.flatMap((s) => s.servers).length);
  });

  it('moves every path under a prefix for a test run, except the nginx package files', () => {
    const prefix = '/tmp/edge-test';
    const { files, edge } = render({}, { prefix, ports: { http: 8080, https: 8443, status: 9088 } });
    const PATH_DIRECTIVES = [
      'include',
      'access_log',
      'error_log',
      'pid',
      'root',
      'ssl_certificate',
      'ssl_certificate_key',
      'ssl_client_certificate',
      'proxy_cache_path',
      'client_body_temp_path',
      'proxy_temp_path',
    ];
    let checked = 0;
    for (const f of files.filter((x) => x.path.endsWith('.conf'))) {
      for (const name of PATH_DIRECTIVES) {
        for (const d of findDirectives(parseNginx(f.content), name)) {
          const path = d.args[0] ?? '';
          if (path === 'off') continue;
          checked++;
          expect(
            path.startsWith(`${prefix}/`) || Object.values(edge.paths.system).includes(path),
            `${f.path}: ${name} ${path}`,
          ).toBe(true);
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
    const all = files.map((f) => f.content).join('\n');
    expect(all).not.toMatch(/listen (\[::\]:)?(80|443)\b/);
    expect(all).toMatch(/listen 127\.0\.0\.1:9088;/);
  });

  it('renders the error page the main site points to', () => {
    const { text, edge, tree, core } = render();
    const page = text.get(edge.files.errorPage);
    expect(page).toContain('<title>Smart Academy');
    const main = serverFor(tree, core.domains.root, 443);
    expect(directivesOf(main, 'error_page').map(args)).toEqual(['500 502 503 504 /50x.html']);
    const l = locationFor(main, '/50x.html');
    expect(l && `${directivesOf(l, 'root')[0]?.args[0]}/50x.html`).toBe(
      installedPath(edge, edge.files.errorPage),
    );
    expect(l && directivesOf(l, 'internal')).toHaveLength(1);
  });

  it('is deterministic and every file carries the generated header', () => {
    const a = render({ domain: 'school.example.org' }).files;
    const b = render({ domain: 'school.example.org' }).files;
    expect(a).toEqual(b);
    for (const f of a) expect(f.content, f.path).toMatch(/Generated by `academy synth`/);
    expect(new Set(a.map((f) => f.path)).size).toBe(a.length);
    expect(a.every((f) => f.path.startsWith('nginx/'))).toBe(true);
  });
});
