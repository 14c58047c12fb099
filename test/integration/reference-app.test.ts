/**
 * The reference application against real PostgreSQL and Redis: throwaway instances on loopback ports in a
 * temporary directory, started here and stopped in afterAll. The drain test runs the real entry point
 * (src/main.ts through tsx) as a child process and sends it SIGTERM.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { WebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../apps/reference/src/config.ts';
import { probeHealth } from '../../apps/reference/src/probe.ts';
import { createApp, type ReferenceApp } from '../../apps/reference/src/server.ts';

const ROOT = join(import.meta.dirname, '../..');
const PG_PASSWORD = 'pg-Secret-7f3a';
const REDIS_PASSWORD = 'rd-Secret-91bc';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** The newest PostgreSQL of the Debian packages (postgresql-15 on this machine). */
function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin/initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error('PostgreSQL not found: run scripts/install-test-tools.sh');
  return join(base, versions[0] as string, 'bin');
}

interface Postgres {
  url: string;
  stop(): Promise<void>;
}

async function startPostgres(dir: string): Promise<Postgres> {
  const bin = postgresBin();
  // initdb refuses to run as root: the cluster belongs to the postgres user then.
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
        gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
      }
    : {};
  if (asRoot) chownSync(dir, ids.uid as number, ids.gid as number);
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${PG_PASSWORD}\n`, { mode: 0o600 });
  if (asRoot) chownSync(pwfile, ids.uid as number, ids.gid as number);
  const data = join(dir, 'data');
  execFileSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'app', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync'],
    { cwd: dir, stdio: 'ignore', ...ids },
  );
  const port = await freePort();
  const server = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    { cwd: dir, stdio: 'ignore', ...ids },
  );
  const url = `postgresql://app:${PG_PASSWORD}@127.0.0.1:${port}/postgres`;
  await waitFor('postgres accepts connections', 10_000, async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.end();
    return true;
  });
  return {
    url,
    async stop() {
      server.kill('SIGINT'); // fast shutdown
      await exited(server);
    },
  };
}

interface RedisServer {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function redisServer(port: number): RedisServer {
  let child: ChildProcess | undefined;
  return {
    url: `redis://:${REDIS_PASSWORD}@127.0.0.1:${port}/0`,
    async start() {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', REDIS_PASSWORD];
      child = spawn('redis-server', [...args, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await waitFor('redis accepts connections', 5_000, async () => {
        const socket = net.connect(port, '127.0.0.1');
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', reject);
        });
        socket.destroy();
        return true;
      });
    },
    async stop() {
      if (child === undefined) return;
      child.kill('SIGTERM');
      await exited(child);
      child = undefined;
    },
  };
}

/** Collects the app's log lines (JSON) in memory. */
function logSink() {
  const lines: string[] = [];
  return {
    lines,
    destination: { write: (s: string) => void lines.push(...s.split('\n').filter(Boolean)) },
  };
}

async function getJson(
  url: string,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** Sample value of one series in Prometheus text format, e.g. name{a="1",b="2"}. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const found = Object.fromEntries(
      [...(m[2] as string).matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const baseEnv = (extra: Record<string, string>) => ({
  NODE_ENV: 'production',
  STACK_COLOR: 'blue',
  APP_VERSION: '1.4.2',
  HOST: '127.0.0.1',
  PORT: '0',
  ...extra,
});

describe('reference app (real PostgreSQL and Redis)', () => {
  let dir: string;
  let postgres: Postgres;
  let redis: RedisServer;
  const apps: ReferenceApp[] = [];
  const apiLogs = logSink();
  let api: { app: ReferenceApp; url: string };

  const launch = async (env: Record<string, string>, destination = logSink().destination) => {
    const app = createApp(loadConfig(baseEnv(env)), { logDestination: destination });
    apps.push(app);
    const { url } = await app.listen();
    return { app, url };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reference-app-'));
    redis = redisServer(await freePort());
    [postgres] = await Promise.all([startPostgres(dir), redis.start()]);
    api = await launch({ DATABASE_URL: postgres.url, REDIS_URL: redis.url }, apiLogs.destination);
  }, 30_000);

  afterAll(async () => {
    await Promise.allSettled(apps.map((a) => a.fastify.close()));
    await Promise.allSettled([postgres?.stop(), redis?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('api health is 200 with both checks ok, and every response names its colour and version', async () => {
    const { status, headers, body } = await getJson(`${api.url}/health`);
    expect(status).toBe(200);
    expect(headers.get('x-app-color')).toBe('blue');
    expect(headers.get('x-app-version')).toBe('1.4.2');
    expect(body).toMatchObject({ status: 'ok', color: 'blue', version: '1.4.2', role: 'api' });
    const checks = body.checks as Record<string, { ok: boolean; latencyMs: number }>;
    expect(Object.keys(checks).sort()).toEqual(['postgres', 'redis']);
    for (const check of Object.values(checks)) {
      expect(check.ok).toBe(true);
      expect(check.latencyMs).toBeGreaterThanOrEqual(0);
    }

    const missing = await fetch(`${api.url}/no-such-page`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-app-color')).toBe('blue');
    expect(await getJson(`${api.url}/version`)).toMatchObject({
      status: 200,
      body: { version: '1.4.2', color: 'blue', role: 'api' },
    });
  });

  it('turns 503 naming redis within 2 s when Redis stops, and 200 again once it is back', async () => {
    await redis.stop();
    const stopped = Date.now();
    const down = await waitFor('health 503', 2_000, async () => {
      const r = await getJson(`${api.url}/health`);
      return r.status === 503 ? r : undefined;
    });
    expect(Date.now() - stopped).toBeLessThan(2_000);
    expect(down.body.status).toBe('error');
    expect(down.body.error).toMatch(/^redis: /);
    expect(down.headers.get('x-app-color')).toBe('blue');
    const checks = down.body.checks as Record<string, { ok: boolean; error?: string }>;
    expect(checks.redis?.ok).toBe(false);
    expect(checks.redis?.error).toMatch(/ECONNREFUSED|not connected/);
    expect(checks.postgres?.ok).toBe(true);
    expect(JSON.stringify(down.body)).not.toContain(REDIS_PASSWORD);

    await redis.start();
    await waitFor('health 200 after Redis restart', 3_000, async () =>
      (await fetch(`${api.url}/health`)).status === 200 ? true : undefined,
    );
  });

  it('reports an unreachable PostgreSQL within the timeout, without echoing the URL or its password', async () => {
    const deadUrl = `postgresql://app:${PG_PASSWORD}@127.0.0.1:${await freePort()}/postgres`;
    const logs = logSink();
    const broken = await launch({ DATABASE_URL: deadUrl, REDIS_URL: redis.url }, logs.destination);
    const started = Date.now();
    const { status, body } = await getJson(`${broken.url}/health`);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(status).toBe(503);
    expect(body.error).toMatch(/^postgres: .*ECONNREFUSED/);
    expect((body.checks as Record<string, { ok: boolean }>).redis?.ok).toBe(true);
    const text = JSON.stringify(body) + logs.lines.join('\n');
    expect(text).not.toContain(PG_PASSWORD);
    expect(text).not.toContain(deadUrl);
  });

  it('exposes the request metrics the alert rules use, with a status label, and process metrics', async () => {
    const before = await (await fetch(`${api.url}/metrics`)).text();
    const count = (text: string, labels: Record<string, string>) =>
      sample(text, 'http_requests_total', labels) ?? 0;
    await fetch(`${api.url}/`);
    await fetch(`${api.url}/`);
    await fetch(`${api.url}/auth/login`, { method: 'POST', body: '{"username":"x","password":"y"}' });
    await fetch(`${api.url}/missing/123`);
    const res = await fetch(`${api.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^# TYPE http_request_duration_seconds histogram$/m);
    expect(text).toMatch(/^# TYPE http_requests_total counter$/m);
    const delta = (labels: Record<string, string>) => count(text, labels) - count(before, labels);
    expect(delta({ method: 'GET', route: '/', status: '200' })).toBe(2);
    expect(delta({ method: 'POST', route: '/auth/login', status: '401' })).toBe(1);
    // Unmatched URLs share one series: no label per random path.
    expect(delta({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(text).not.toContain('/missing/123');
    expect(
      sample(text, 'http_request_duration_seconds_bucket', {
        method: 'GET',
        route: '/',
        status: '200',
        le: '+Inf',
      }),
    ).toBe(count(text, { method: 'GET', route: '/', status: '200' }));
    expect(sample(text, 'http_request_duration_seconds_count', { route: '/auth/login', status: '401' })).toBe(
      count(text, { method: 'POST', route: '/auth/login', status: '401' }),
    );
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(sample(text, 'app_info', { version: '1.4.2', color: 'blue', role: 'api' })).toBe(1);
  });

  it('logs one JSON line per request with method, url, status and ms, and no headers or secrets', async () => {
    await fetch(`${api.url}/?token=abc`, { headers: { authorization: 'Bearer very-secret-token' } });
    const entries = apiLogs.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = entries.filter((e) => e.msg === 'request' && e.url === '/');
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.at(-1)).toMatchObject({
      method: 'GET',
      url: '/',
      status: 200,
      color: 'blue',
      level: 'info',
    });
    expect(typeof requests.at(-1)?.ms).toBe('number');
    const all = apiLogs.lines.join('\n');
    for (const secret of ['very-secret-token', 'token=abc', PG_PASSWORD, REDIS_PASSWORD, 'authorization']) {
      expect(all).not.toContain(secret);
    }
  });

  it('serves the api demo routes: hello, login (401 unless demo), streamed upload', async () => {
    expect(await getJson(`${api.url}/`)).toMatchObject({
      status: 200,
      body: { message: 'hello', color: 'blue' },
    });
    const bad = await fetch(`${api.url}/auth/login`, { method: 'POST' });
    expect(bad.status).toBe(401);
    const good = await fetch(`${api.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo', password: 'demo' }),
    });
    expect(good.status).toBe(200);
    const form = await fetch(`${api.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=demo&password=demo',
    });
    expect(form.status).toBe(200);

    // 8 MiB in 64 KiB chunks, far over the JSON body limit: counted while streaming, never buffered whole.
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const hash = createHash('sha256');
    for (let i = 0; i < 128; i++) hash.update(chunk);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 128) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const upload = await fetch(`${api.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(upload.status).toBe(200);
    expect(await upload.json()).toEqual({ bytes: 8 * 1024 * 1024, sha256: hash.digest('hex') });
  });

  it('answers a WebSocket upgrade with 101 and echoes text and binary messages', async () => {
    const port = new URL(api.url).port;
    const headers = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
      const req = http.get({
        host: '127.0.0.1',
        port,
        path: '/ws',
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.headers);
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
    });
    // RFC 6455 section 1.3's example key and accept value.
    expect(headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(headers['x-app-color']).toBe('blue');

    const ws = new WebSocket(`${api.url.replace('http', 'ws')}/ws`);
    ws.binaryType = 'arraybuffer';
    const messages: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.onerror = () => reject(new Error('websocket error'));
      ws.onopen = () => {
        ws.send('hello ✓');
        ws.send(new Uint8Array(70_000).fill(7)); // 64-bit length form
      };
      ws.onmessage = (e) => {
        messages.push(e.data);
        if (messages.length === 2) resolve();
      };
    });
    expect(messages[0]).toBe('hello ✓');
    expect((messages[1] as ArrayBuffer).byteLength).toBe(70_000);
    const closed = new Promise<number>((resolve) => {
      ws.onclose = (e) => resolve(e.code);
    });
    ws.close(1000);
    expect(await closed).toBe(1000);
    const plain = await fetch(`${api.url}/ws`);
    expect(plain.status).toBe(426);
  });

  it('web and admin health depend on the api of their colour; static assets are immutable', async () => {
    const web = await launch({ APP_ROLE: 'web', API_INTERNAL_URL: api.url });
    const ok = await getJson(`${web.url}/api/health`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'ok', role: 'web', checks: { api: { ok: true } } });
    expect((await fetch(`${web.url}/health`)).status).toBe(404);

    const html = await fetch(`${web.url}/`);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    const asset = /src="([^"]+\.js)"/.exec(await html.text())?.[1];
    expect(asset).toMatch(/^\/_next\/static\//);
    const js = await fetch(`${web.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-type')).toMatch(/javascript/);

    // An api whose Redis is gone makes the web role unhealthy too, and says why.
    const sickApi = await launch({
      DATABASE_URL: postgres.url,
      REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${await freePort()}/0`,
    });
    const admin = await launch({ APP_ROLE: 'admin', API_INTERNAL_URL: sickApi.url });
    const sick = await getJson(`${admin.url}/api/health`);
    expect(sick.status).toBe(503);
    expect(sick.body.error).toMatch(/^api: api health answered 503: redis: /);
    expect(JSON.stringify(sick.body)).not.toContain(REDIS_PASSWORD);

    const gone = await launch({
      APP_ROLE: 'admin',
      API_INTERNAL_URL: `http://127.0.0.1:${await freePort()}`,
    });
    expect((await getJson(`${gone.url}/api/health`)).body.error).toMatch(
      /^api: fetch failed: .*ECONNREFUSED/,
    );

    const alone = await launch({ APP_ROLE: 'web' });
    expect(await getJson(`${alone.url}/api/health`)).toMatchObject({ status: 200, body: { checks: {} } });
  });

  it('rejects a bad environment with every problem named and no password shown', () => {
    let error: unknown;
    try {
      loadConfig({
        APP_ROLE: 'worker',
        PORT: '70000',
        STACK_COLOR: 'purple',
        DATABASE_URL: `postgres://app:${PG_PASSWORD}@`,
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.join('\n')).toMatch(/APP_ROLE must be one of api, web, admin; found "worker"/);
    expect(message).toMatch(/PORT must be an integer from 0 to 65535/);
    expect(message).toMatch(/STACK_COLOR must be one of blue, green/);
    expect(message).toMatch(/DATABASE_URL is not a valid URL/);
    expect(message).toMatch(/REDIS_URL is required for APP_ROLE=api/);
    expect(message).not.toContain(PG_PASSWORD);
    expect(loadConfig({ APP_ROLE: 'admin' })).toMatchObject({ role: 'admin', port: 3001, drainSeconds: 20 });
  });

  it('the container health probe (dist/healthcheck.js) passes when healthy and fails when not', async () => {
    const healthy = await probeHealth({ APP_ROLE: 'api', PORT: new URL(api.url).port });
    expect(healthy.ok).toBe(true);
    expect(healthy.output).toMatch(/^200 \{"status":"ok"/);
    const refused = await probeHealth({ APP_ROLE: 'web', PORT: String(await freePort()) });
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/\/api\/health: fetch failed: .*ECONNREFUSED/);
  });

  it('ends a drain as soon as in-flight work is done, long before the deadline', async () => {
    const logs = logSink();
    const app = await launch({ APP_ROLE: 'web', DRAIN_SECONDS: '20' }, logs.destination);
    const slow = fetch(`${app.url}/slow?ms=600`);
    await sleep(100);
    const started = Date.now();
    await app.app.drain('test');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((await slow).status).toBe(200);
    expect(app.app.isDraining()).toBe(true);
    const phases = logs.lines.map((l) => (JSON.parse(l) as { phase?: string }).phase).filter(Boolean);
    expect(phases).toEqual(['listening', 'drain', 'drained']);
  });

  it('drains on SIGTERM: health 503 at once, no new connections, in-flight work finishes, exit 0', async () => {
    const drainSeconds = 3;
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/reference/src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        ...baseEnv({ DATABASE_URL: postgres.url, REDIS_URL: redis.url, DRAIN_SECONDS: String(drainSeconds) }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const lines = () => stdout.split('\n').filter(Boolean);
    const logged = (phase: string) => lines().some((l) => l.includes(`"phase":"${phase}"`));
    try {
      const port = await waitFor('child listening', 10_000, async () => {
        const line = lines().find((l) => l.includes('"phase":"listening"'));
        return line === undefined ? undefined : (JSON.parse(line) as { port: number }).port;
      });
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/health`)).status).toBe(200);

      // Work in progress when the signal arrives: a slow request, a WebSocket, and a health request whose
      // first bytes are already received (a busy connection stays open during the drain; idle ones close).
      const slow = fetch(`${url}/slow?ms=1500`);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      const wsClosed = new Promise<{ code: number; at: number }>((resolve) => {
        ws.onclose = (e) => resolve({ code: e.code, at: Date.now() });
      });
      const busy = net.connect(Number(port), '127.0.0.1');
      await new Promise((resolve) => busy.once('connect', resolve));
      busy.write('GET /health HTTP/1.1\r\n');
      await sleep(200);

      const signalled = Date.now();
      child.kill('SIGTERM');
      await waitFor('drain logged', 2_000, async () => (logged('drain') ? true : undefined));

      const answer = new Promise<string>((resolve) => {
        let text = '';
        busy.on('data', (d: Buffer) => {
          text += d.toString();
        });
        busy.on('close', () => resolve(text));
      });
      busy.write('Host: x\r\n\r\n');
      const response = await answer;
      expect(response).toMatch(/^HTTP\/1\.1 503 /);
      expect(response).toMatch(/^x-app-color: blue$/im);
      expect(response).toMatch(/^connection: close$/im);
      expect(response).toContain('"status":"draining"');

      await expect(fetch(`${url}/health`)).rejects.toThrow(); // the listener is closed: ECONNREFUSED

      const echoed = new Promise((resolve) => {
        ws.onmessage = (e) => resolve(e.data);
      });
      ws.send('still there');
      expect(await echoed).toBe('still there');

      const slowRes = await slow;
      expect(slowRes.status).toBe(200);
      expect(await slowRes.json()).toEqual({ slept: 1500 });

      const closedWs = await wsClosed;
      expect(closedWs.code).toBe(1001);
      expect(closedWs.at - signalled).toBeGreaterThanOrEqual(drainSeconds * 1000 - 100);
      expect(await exited(child)).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(drainSeconds * 1000 + 1_500);

      for (const phase of ['drain', 'deadline', 'drained', 'exit']) expect(logged(phase)).toBe(true);
      for (const line of lines()) expect(() => JSON.parse(line)).not.toThrow();
      const slowLine = lines()
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((e) => e.url === '/slow');
      expect(slowLine).toMatchObject({ method: 'GET', status: 200, msg: 'request' });
      expect(stdout + stderr).not.toContain(PG_PASSWORD);
      expect(stdout + stderr).not.toContain(REDIS_PASSWORD);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
