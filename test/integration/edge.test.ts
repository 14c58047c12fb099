import { readdirSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EdgeHarness,
  type EdgeResponse,
  readWebsocketFrame,
  responseOf,
  type Stub,
  startEdge,
  websocketAccept,
  websocketFrame,
} from '../support/edge-harness.ts';

// The rendered nginx edge, run by the real nginx on loopback with stub applications: every behaviour the
// edge promises is proven with real requests. 127.0.0.1 plays Cloudflare (the only range of
// edge.cloudflare.ipRanges); 127.0.0.2 plays a client that reaches the origin directly.

const DOMAIN = 'school.example.org';
const CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'self'";
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
const HSTS = 'max-age=63072000; includeSubDomains; preload';
const CLOUDFLARE = '127.0.0.1';
const DIRECT = '127.0.0.2';

let edge: EdgeHarness;
/** uploadLimitMiB 1, HSTS off, authenticated origin pulls off. */
let variant: EdgeHarness;

beforeAll(async () => {
  // One after the other: when the second fails to start, afterAll still stops the first.
  edge = await startEdge({
    config: {
      domain: DOMAIN,
      edge: {
        cloudflare: { ipRanges: [`${CLOUDFLARE}/32`] },
        // Requests without CF-Connecting-IP keep 127.0.0.1 as client and are not rate-limited; requests
        // carrying a client address (and every request from 127.0.0.2) are.
        rateLimits: { exempt: [`${CLOUDFLARE}/32`] },
        contentSecurityPolicy: CSP,
        hsts: { maxAgeSeconds: 63_072_000, preload: true },
      },
    },
  });
  variant = await startEdge({
    config: {
      domain: DOMAIN,
      edge: {
        cloudflare: { ipRanges: [`${CLOUDFLARE}/32`], authenticatedOriginPulls: false },
        rateLimits: { exempt: [`${CLOUDFLARE}/32`] },
        hsts: { enabled: false },
        uploadLimitMiB: 1,
      },
    },
  });
}, 30_000);

afterAll(async () => {
  await Promise.all([edge?.stop(), variant?.stop()]);
});

const names = () => edge.core.domains;
const requestCount = (stub: Stub) => stub.requests.length;
const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => 'no error',
    (error: NodeJS.ErrnoException) => error.code,
  );

/** A TLS handshake with only `version` offered (SECLEVEL=0 so the client itself would allow TLS 1.0/1.1). */
function handshake(version: tls.SecureVersion, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: edge.ports.https,
      servername,
      minVersion: version,
      maxVersion: version,
      ciphers: 'DEFAULT@SECLEVEL=0',
      rejectUnauthorized: false,
    });
    socket.once('secureConnect', () => {
      resolve(socket.getProtocol() ?? '');
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

const SECURITY_HEADERS = {
  'x-frame-options': 'SAMEORIGIN',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'strict-transport-security': HSTS,
};

function expectSecurityHeaders(res: EdgeResponse, csp: string | null, what: string) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(res.headers[name], `${name} on ${what}`).toBe(value);
  }
  expect(res.headers['content-security-policy'], `CSP on ${what}`).toBe(csp ?? undefined);
}

describe('nginx edge on loopback (rendered config, real nginx)', () => {
  it('redirects HTTP to HTTPS except /health', async () => {
    for (const host of [names().root, names().api]) {
      const res = await edge.request({ host, scheme: 'http', path: '/courses?page=2' });
      expect(res.status).toBe(301);
      expect(res.headers.location).toBe(`https://${host}/courses?page=2`);
      const health = await edge.request({ host, scheme: 'http', path: '/health' });
      expect(health.status).toBe(200);
      expect(health.body).toBe('OK\n');
    }
  });

  it('accepts TLS 1.2 and 1.3 and refuses TLS 1.1 and 1.0', async () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const res = await edge.request({ host: names().root, minVersion: version, maxVersion: version });
      expect(res.status).toBe(200);
      expect(res.protocol).toBe(version);
    }
    for (const version of ['TLSv1.1', 'TLSv1'] as const) {
      // The server's "protocol version" alert, not a client-side refusal.
      expect(await errorCode(handshake(version, names().root))).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
    }
    expect(await handshake('TLSv1.3', names().root)).toBe('TLSv1.3');
  });

  it('rate-limits logins per real client address, trusting CF-Connecting-IP only from Cloudflare', async () => {
    const api = edge.stubs['api-blue'];
    const login = (clientIp: string, localAddress?: string) =>
      edge.request({
        host: names().api,
        method: 'POST',
        path: '/auth/login',
        headers: { 'CF-Connecting-IP': clientIp, 'Content-Type': 'application/json' },
        body: '{"user":"a","password":"b"}',
        ...(localAddress ? { localAddress } : {}),
      });
    // limit_req zone=login (5r/m) burst=5 nodelay: the first request and 5 of burst pass at once, the 7th
    // within 12 s (one request per 12 s drains) is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await login('198.51.100.7')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
    expect(api.requests.at(-1)?.headers['x-real-ip']).toBe('198.51.100.7');

    // Another client behind Cloudflare has its own budget (without real_ip both would share 127.0.0.1's).
    const other = await login('198.51.100.8');
    expect(other.status).toBe(200);
    expect(other.json().realIp).toBe('198.51.100.8');

    // A direct client cannot borrow an address: its spoofed header is ignored, it is limited as itself.
    const direct: number[] = [];
    for (let i = 0; i < 7; i++) direct.push((await login(`198.51.100.${20 + i}`, DIRECT)).status);
    expect(direct).toEqual([200, 200, 200, 200, 200, 200, 429]);
    const spoofed = await login('198.51.100.7', DIRECT); // 198.51.100.7 is limited, 127.0.0.2 is too now
    expect(spoofed.status).toBe(429);
    const seen = api.requests.filter((r) => r.remoteAddress === '127.0.0.1' && r.url === '/auth/login');
    expect(seen.at(-1)?.headers['x-real-ip']).toBe(DIRECT);

    const logins = (entries: Record<string, unknown>[]) => entries.filter((e) => e.uri === '/auth/login');
    const log = logins(await edge.accessLogUntil('api', (entries) => logins(entries).length >= 16));
    const fromDirect = log.filter((e) => e.peer_ip === DIRECT);
    expect(fromDirect).toHaveLength(8);
    expect(fromDirect.every((e) => e.client_ip === DIRECT)).toBe(true);
    expect(log.filter((e) => e.client_ip === '198.51.100.7').map((e) => e.status)).toEqual(statuses);
    expect(log.filter((e) => e.client_ip === '198.51.100.7').every((e) => e.peer_ip === CLOUDFLARE)).toBe(
      true,
    );
  });

  it('writes JSON access logs with the real client address', async () => {
    await edge.request({
      host: names().root,
      path: '/log-probe-cf',
      headers: { 'CF-Connecting-IP': '203.0.113.9' },
    });
    await edge.request({
      host: names().root,
      path: '/log-probe-direct',
      headers: { 'CF-Connecting-IP': '203.0.113.10' },
      localAddress: DIRECT,
    });
    const main = await edge.accessLogUntil('main', (entries) =>
      entries.some((e) => e.uri === '/log-probe-direct'),
    );
    const cf = main.find((e) => e.uri === '/log-probe-cf');
    expect(cf).toMatchObject({ client_ip: '203.0.113.9', peer_ip: CLOUDFLARE, status: 200, color: 'blue' });
    expect(cf?.host).toBe(names().root);
    expect(typeof cf?.request_time).toBe('number');
    const direct = main.find((e) => e.uri === '/log-probe-direct');
    expect(direct).toMatchObject({ client_ip: DIRECT, peer_ip: DIRECT, status: 200 });
    // Every line of every access log is one JSON object (accessLog throws on anything else).
    for (const file of readdirSync(edge.edge.paths.logs).filter((f) => f.endsWith('access.log'))) {
      const entries = edge.accessLog(file === 'access.log' ? 'access' : file.replace('.access.log', ''));
      for (const entry of entries) expect(typeof entry.status).toBe('number');
    }
  });

  it('sends every security header on pages, assets, build files and upstream errors', async () => {
    const root = names().root;
    const page = await edge.request({ host: root, path: '/' });
    expect(page.json()).toMatchObject({ service: 'web', colour: 'blue' });
    expectSecurityHeaders(page, CSP, '/');

    const logo = await edge.request({ host: root, path: '/logo.png' });
    expect(logo.status).toBe(200);
    expect(logo.headers['content-type']).toBe('image/png');
    expect(logo.headers['cache-control']).toBe('max-age=2592000');
    expectSecurityHeaders(logo, CSP, '/logo.png');

    const chunk = await edge.request({ host: root, path: '/_next/static/chunks/main.js' });
    expect(chunk.status).toBe(200);
    expect(chunk.headers['x-cache-status']).toMatch(/^(MISS|HIT|EXPIRED|UPDATING|STALE)$/);
    expectSecurityHeaders(chunk, CSP, '/_next/static/chunks/main.js');

    const missing = await edge.request({ host: root, path: '/missing-page' });
    expect(missing.status).toBe(404);
    expect(missing.json()).toMatchObject({ service: 'web' });
    expectSecurityHeaders(missing, CSP, 'a 404 from the upstream');

    const api = await edge.request({ host: names().api, path: '/courses' });
    expect(api.json()).toMatchObject({ service: 'api' });
    expectSecurityHeaders(api, API_CSP, 'the API');

    // Grafana sends its own policy: the edge adds none there.
    const grafana = await edge.request({ host: names().grafana, path: '/' });
    expectSecurityHeaders(grafana, null, 'Grafana');
  });

  it('shows the 50x page with the security headers when both colours are down', async () => {
    const blue = edge.stubs['web-blue'];
    const green = edge.stubs['web-green'];
    await Promise.all([blue.stop(), green.stop()]);
    try {
      const res = await edge.request({ host: names().root, path: '/dashboard' });
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toBe('text/html');
      expect(res.body).toContain('is temporarily unavailable');
      expectSecurityHeaders(res, CSP, 'the 50x page');
    } finally {
      await Promise.all([blue.start(), green.start()]);
    }
  });

  it('sends HSTS only when enabled', async () => {
    const res = await variant.request({ host: names().root, path: '/' });
    expect(res.status).toBe(200);
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('upgrades /ws to a WebSocket on the API', async () => {
    const key = Buffer.from('0123456789abcdef').toString('base64');
    const req = edge.open({
      host: names().root,
      path: '/ws',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': key,
        'Sec-WebSocket-Version': '13',
      },
    });
    const { status, accept, greeting, echo } = await new Promise<{
      status: number;
      accept: unknown;
      greeting: string;
      echo: string;
    }>((resolve, reject) => {
      req.once('error', reject);
      req.once('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.once('upgrade', (res, socket, head) => {
        let data = head;
        let greeting: string | null = null;
        const onData = (chunk: Buffer) => {
          data = Buffer.concat([data, chunk]);
          const text = readWebsocketFrame(data);
          if (text === null) return;
          data = Buffer.alloc(0);
          if (greeting === null) {
            greeting = text;
            socket.write(websocketFrame('hello', true));
          } else {
            socket.destroy();
            resolve({
              status: res.statusCode ?? 0,
              accept: res.headers['sec-websocket-accept'],
              greeting,
              echo: text,
            });
          }
        };
        socket.on('data', onData);
        if (head.length > 0) onData(Buffer.alloc(0));
        socket.once('error', reject);
      });
      req.end();
    });
    expect(status).toBe(101);
    expect(accept).toBe(websocketAccept(key));
    expect(JSON.parse(greeting)).toEqual({ service: 'api', colour: 'blue' });
    expect(echo).toBe('echo:hello');
    const upgrade = edge.stubs['api-blue'].requests.find((r) => r.url === '/ws');
    expect(upgrade?.headers.upgrade).toBe('websocket');
  });

  it('reuses upstream keepalive connections for normal requests', async () => {
    const stub = edge.stubs['web-blue'];
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await edge.request({ host: names().root, path: '/warm-up', agent });
      const [connections, requests] = [stub.connections, requestCount(stub)];
      for (let i = 0; i < 20; i++) {
        const res = await edge.request({ host: names().root, path: `/page/${i}`, agent });
        expect(res.status).toBe(200);
      }
      expect(requestCount(stub) - requests).toBe(20);
      // One client connection is served by one worker, which keeps its upstream connection open.
      expect(stub.connections - connections).toBeLessThanOrEqual(1);
      expect(stub.requests.slice(-20).every((r) => r.headers.connection === undefined)).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('refuses bodies above the upload limit with 413', async () => {
    const stub = variant.stubs['api-blue'];
    const uploads = () => stub.requests.filter((r) => r.url === '/upload').length;
    const upload = (bytes: number) =>
      variant.request({
        host: names().api,
        method: 'POST',
        path: '/upload',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: Buffer.alloc(bytes),
      });
    const big = await upload(2 * 1024 * 1024);
    expect(big.status).toBe(413);
    expect(uploads()).toBe(0);
    const small = await upload(512 * 1024);
    expect(small.status).toBe(200);
    expect(small.json().bytes).toBe(512 * 1024);
  });

  it('streams a 100 MB upload to the API as it arrives (default 100 MiB limit)', async () => {
    const stub = edge.stubs['api-blue'];
    const total = 100_000_000;
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const req = edge.open({
      host: names().api,
      method: 'POST',
      path: '/upload',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(total) },
    });
    const response = responseOf(req);
    response.catch(() => {}); // awaited below; a write error surfaces there too
    const write = (buffer: Buffer) =>
      new Promise<void>((resolve, reject) => {
        if (req.write(buffer)) resolve();
        else req.once('drain', resolve);
        req.once('error', reject);
      });
    const before = stub.bodyBytes;
    let sent = 0;
    while (sent < 8 * chunk.length) {
      await write(chunk);
      sent += chunk.length;
    }
    // Hold the rest back: with request buffering nginx would wait for the whole body before connecting.
    const deadline = Date.now() + 5000;
    while (stub.bodyBytes === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const seenWhileSending = stub.bodyBytes - before;
    expect(seenWhileSending, 'bytes the API saw before the client finished').toBeGreaterThan(0);
    while (sent < total) {
      const piece = Math.min(chunk.length, total - sent);
      await write(piece === chunk.length ? chunk : chunk.subarray(0, piece));
      sent += piece;
    }
    req.end();
    const res = await response;
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ service: 'api', bytes: total });
    // Nothing was spooled to nginx's client body temp directory.
    expect(readdirSync(edge.edge.paths.clientBodyTemp, { recursive: true })).toEqual([]);
  }, 30_000);

  it('answers CORS preflights for the configured origins only', async () => {
    const stub = edge.stubs['api-blue'];
    const preflightsSeen = () => stub.requests.filter((r) => r.method === 'OPTIONS').length;
    const before = preflightsSeen();
    const preflight = (origin: string, path = '/courses') =>
      edge.request({
        host: names().api,
        method: 'OPTIONS',
        path,
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      });
    for (const path of ['/courses', '/auth/login', '/upload']) {
      const res = await preflight(`https://${names().root}`, path);
      expect(res.status, path).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(`https://${names().root}`);
      expect(res.headers['access-control-allow-methods']).toBe('GET, POST, PUT, DELETE, PATCH, OPTIONS');
      expect(res.headers['access-control-allow-headers']).toBe(
        'Authorization, Content-Type, X-Requested-With',
      );
      expect(res.headers['access-control-max-age']).toBe('86400');
      expect(res.headers.vary).toContain('Origin');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    const www = await preflight(`https://${names().www}`);
    expect(www.headers['access-control-allow-origin']).toBe(`https://${names().www}`);
    const unknown = await preflight('https://evil.example.com');
    expect(unknown.status).toBe(204);
    expect(unknown.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflightsSeen(), 'preflights answered by nginx, not the API').toBe(before);

    const actual = await edge.request({
      host: names().api,
      path: '/courses',
      headers: { Origin: `https://${names().root}` },
    });
    expect(actual.headers['access-control-allow-origin']).toBe(`https://${names().root}`);
  });

  it('keeps metrics and internal endpoints off the public sites', async () => {
    const stubs = [edge.stubs['api-blue'], edge.stubs['web-blue']];
    const hidden = (stub: Stub) => stub.requests.filter((r) => /metrics|internal/i.test(r.url)).length;
    const before = stubs.map(hidden);
    const probes: [string, string][] = [
      [names().api, '/metrics'],
      [names().api, '/METRICS/'],
      [names().api, '/internal/jobs'],
      [names().root, '/metrics'],
      [names().root, '/api/metrics'],
    ];
    for (const localAddress of [DIRECT, CLOUDFLARE]) {
      for (const [host, path] of probes) {
        const res = await edge.request({ host, path, localAddress });
        expect(res.status, `${host}${path} from ${localAddress}`).toBe(403);
      }
    }
    expect(stubs.map(hidden)).toEqual(before);
  });

  it('serves stub_status to loopback only', async () => {
    const path = edge.edge.stubStatus.path;
    const from = (localAddress: string, p = path) =>
      edge.request({ host: 'localhost', scheme: 'http', port: edge.ports.status, path: p, localAddress });
    const local = await from(CLOUDFLARE);
    expect(local.status).toBe(200);
    expect(local.body).toMatch(/^Active connections: \d+/);
    expect((await from(DIRECT)).status).toBe(403);
    expect((await from(CLOUDFLARE, '/')).status).toBe(404);
  });

  it('routes by host name: Grafana to Grafana, unknown names get no answer', async () => {
    const apiStubs = [edge.stubs['api-blue'], edge.stubs['api-green']];
    const strangers = (stub: Stub) => stub.requests.filter((r) => r.headers.host !== names().api).length;
    const before = apiStubs.map(strangers);
    const grafana = await edge.request({ host: names().grafana, path: '/api/health' });
    expect(grafana.json()).toMatchObject({ service: 'grafana', path: '/api/health' });
    expect((await edge.request({ host: names().gibbon })).json()).toMatchObject({ service: 'gibbon' });
    expect((await edge.request({ host: names().admin })).json()).toMatchObject({ service: 'admin' });

    // No certificate for a name that is not ours; a Host that names no site over TLS or plain HTTP is dropped.
    const unknownName = await edge.request({ host: 'unknown.example.com' }).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    expect(unknownName).toContain('unrecognized name');
    const mismatch = await edge.request({ host: 'unknown.example.com', servername: names().api });
    expect(mismatch.status).toBe(421);
    expect(await errorCode(edge.request({ host: 'unknown.example.com', scheme: 'http' }))).toBe('ECONNRESET');
    expect(apiStubs.map(strangers)).toEqual(before);
  });

  it('serves from the backup colour when the active one is down', async () => {
    const blue = edge.stubs['api-blue'];
    await blue.stop();
    try {
      for (let i = 0; i < 3; i++) {
        const res = await edge.request({ host: names().api, path: `/backup-probe-${i}` });
        expect(res.status).toBe(200);
        expect(res.json()).toMatchObject({ service: 'api', colour: 'green' });
        expect(res.headers['x-app-color']).toBe('green');
      }
      const probes = (entries: Record<string, unknown>[]) =>
        entries.filter((e) => String(e.uri).startsWith('/backup-probe-'));
      const log = probes(await edge.accessLogUntil('api', (entries) => probes(entries).length >= 3));
      expect(log.map((e) => e.color)).toEqual(['green', 'green', 'green']);
    } finally {
      await blue.start();
    }
  });

  it('requires the origin pull client certificate when authenticated origin pulls are on', async () => {
    // Either colour: the backup test above has just taken blue out for fail_timeout.
    const stubs = [edge.stubs['api-blue'], edge.stubs['api-green']];
    const probes = () => stubs.flatMap((s) => s.requests).filter((r) => r.url === '/origin-pull').length;
    const none = await edge.request({ host: names().api, path: '/origin-pull', clientCert: false });
    expect(none.status).toBe(400);
    expect(none.body).toContain('No required SSL certificate was sent');
    const stranger = await edge.request({ host: names().api, path: '/origin-pull', clientCert: 'stranger' });
    expect(stranger.status).toBe(400);
    expect(probes()).toBe(0);
    expect((await edge.request({ host: names().api, path: '/origin-pull' })).status).toBe(200);
    expect(probes()).toBe(1);
    // Off: any client may connect.
    expect((await variant.request({ host: names().api, path: '/courses', clientCert: false })).status).toBe(
      200,
    );
  });
});
