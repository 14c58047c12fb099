import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { SiteConfigInput } from '../../src/config/schema.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { APP_ROLES, buildCore, COLORS, type Color, type CoreModel } from '../../src/model/core.ts';
import { buildEdgeModel, type EdgeModel } from '../../src/model/edge.ts';
import { installEdge } from '../../src/ops/local/edge.ts';

// A real nginx on loopback, started from the rendered configuration relocated under a temporary prefix, with
// throwaway certificates and small node:http stubs in place of the applications. Used by
// test/integration/edge.test.ts and bench/edge.ts.

export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

/** Free TCP ports on every address (nginx listens on 0.0.0.0), all distinct. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '0.0.0.0', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

// ---------------------------------------------------------------------------------------------------------
// Certificates

export interface TestCerts {
  dir: string;
  /** CA of the server certificate (clients trust it). */
  serverCa: string;
  serverCert: string;
  serverKey: string;
  /** The "Cloudflare origin pull" CA nginx verifies client certificates against. */
  originPullCa: string;
  /** A client certificate signed by the origin pull CA (what Cloudflare presents). */
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by another CA: must be refused. */
  strangerCert: string;
  strangerKey: string;
}

/** EC P-256 throwaway PKI made with the openssl CLI (a few milliseconds each). */
export function makeCerts(dir: string, domain: string): TestCerts {
  mkdirSync(dir, { recursive: true });
  const p = (name: string) => join(dir, name);
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = (name: string, cn: string) => [
    ...['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`],
    ...['-keyout', p(`${name}.key`)],
  ];
  const ca = (name: string, cn: string) =>
    openssl('req', '-x509', ...newKey(name, cn), '-days', '2', '-out', p(`${name}.pem`));
  const leaf = (name: string, cn: string, caName: string, extensions: string) => {
    writeFileSync(p(`${name}.ext`), extensions);
    openssl('req', ...newKey(name, cn), '-out', p(`${name}.csr`));
    const signer = ['-CA', p(`${caName}.pem`), '-CAkey', p(`${caName}.key`), '-CAcreateserial', '-days', '2'];
    openssl(
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      ...signer,
      '-extfile',
      p(`${name}.ext`),
      '-out',
      p(`${name}.pem`),
    );
  };
  ca('server-ca', 'edge test server CA');
  ca('origin-pull-ca', 'edge test origin pull CA');
  leaf(
    'server',
    domain,
    'server-ca',
    `subjectAltName=DNS:${domain},DNS:*.${domain}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  const client = 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n';
  leaf('client', 'origin pull client', 'origin-pull-ca', client);
  leaf('stranger', 'stranger client', 'server-ca', client);
  return {
    dir,
    serverCa: p('server-ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    originPullCa: p('origin-pull-ca.pem'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    strangerCert: p('stranger.pem'),
    strangerKey: p('stranger.key'),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Stub upstreams

export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string;
  bytes: number;
}

export interface Stub {
  service: string;
  colour: Color | null;
  port: number;
  /** Requests seen (completed or not), in order. */
  requests: StubRequest[];
  /** TCP connections accepted since start: nginx reuses upstream keepalive connections. */
  connections: number;
  /** Request body bytes received so far, counted chunk by chunk as they arrive. */
  bodyBytes: number;
  running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The WebSocket accept value of RFC 6455 for a Sec-WebSocket-Key. */
export const websocketAccept = (key: string) =>
  createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/** One unmasked (server) or masked (client) WebSocket text frame, payload < 126 bytes. */
export function websocketFrame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('websocketFrame: payload too long for this helper');
  if (!mask) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  const key = randomBytes(4);
  const masked = payload.map((b, i) => b ^ (key[i % 4] as number));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, masked]);
}

/** Reads one short text frame (masked or not); null when `data` holds no complete frame yet. */
export function readWebsocketFrame(data: Buffer): string | null {
  if (data.length < 2) return null;
  const masked = ((data[1] as number) & 0x80) !== 0;
  const length = (data[1] as number) & 0x7f;
  const start = 2 + (masked ? 4 : 0);
  if (length > 125 || data.length < start + length) return null;
  const payload = data.subarray(start, start + length);
  if (!masked) return payload.toString();
  const key = data.subarray(2, 6);
  return Buffer.from(payload.map((b, i) => b ^ (key[i % 4] as number))).toString();
}

const STATIC_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.js': 'application/javascript',
  '.css': 'text/css',
};

/**
 * A stand-in for one application container: answers every request with JSON naming its service and colour
 * (and the X-App-Color header the real apps send), `404` for paths containing `/missing`, static-looking
 * bodies for .png/.js/.css, and completes WebSocket upgrades (greets with its colour, echoes one frame).
 */
export function createStub(service: string, colour: Color | null, port: number, record = true): Stub {
  const sockets = new Set<Duplex>();
  const stub: Stub = {
    service,
    colour,
    port,
    requests: [],
    connections: 0,
    bodyBytes: 0,
    running: false,
    start: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          stub.running = true;
          resolve();
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (!stub.running) return resolve();
        stub.running = false;
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      }),
  };
  const identity = { service, colour };
  const server = http.createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
    const entry: StubRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress ?? '',
      bytes: 0,
    };
    if (record) stub.requests.push(entry);
    req.on('data', (chunk: Buffer) => {
      entry.bytes += chunk.length;
      stub.bodyBytes += chunk.length;
    });
    req.on('end', () => {
      const path = entry.url.split('?')[0] ?? '';
      if (colour) res.setHeader('X-App-Color', colour);
      const ext = path.slice(path.lastIndexOf('.'));
      if (STATIC_TYPES[ext] !== undefined && !path.includes('/missing')) {
        res.writeHead(200, { 'Content-Type': STATIC_TYPES[ext] });
        res.end(`${service} ${colour} ${path}\n`);
        return;
      }
      const status = path.includes('/missing') ? 404 : 200;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          ...identity,
          path,
          bytes: entry.bytes,
          realIp: req.headers['x-real-ip'] ?? null,
        }),
      );
    });
  });
  server.on('connection', (socket) => {
    stub.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (record) {
      stub.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        remoteAddress: req.socket.remoteAddress ?? '',
        bytes: 0,
      });
    }
    const key = req.headers['sec-websocket-key'];
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string') {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${websocketAccept(key)}\r\n\r\n`,
    );
    socket.write(websocketFrame(JSON.stringify(identity), false));
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const text = readWebsocketFrame(buffered);
      if (text !== null) {
        buffered = Buffer.alloc(0);
        socket.write(websocketFrame(`echo:${text}`, false));
      }
    });
  });
  return stub;
}

// ---------------------------------------------------------------------------------------------------------
// nginx

export interface NginxProcess {
  child: ChildProcess;
  /** stderr so far (startup errors). */
  stderr(): string;
  stop(): Promise<void>;
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts nginx in the foreground (`daemon off`) from `conf` and waits until `readyPort` accepts connections.
 * `errorLog` replaces the compiled-in error log nginx opens before it reads the configuration.
 */
export async function startNginx(conf: string, errorLog: string, readyPort: number): Promise<NginxProcess> {
  if (!existsSync(NGINX_BIN)) {
    throw new Error(`nginx not found at ${NGINX_BIN}: run scripts/install-test-tools.sh (or set NGINX_BIN)`);
  }
  const child = spawn(NGINX_BIN, ['-e', errorLog, '-c', conf, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited: number | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code ?? -1;
      resolve();
    }),
  );
  const stop = async () => {
    if (exited !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(readyPort))) {
    if (exited !== null) throw new Error(`nginx exited (${exited}) at start:\n${stderr}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not listen on ${readyPort} within 10 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, stderr: () => stderr, stop };
}

// ---------------------------------------------------------------------------------------------------------
// The whole edge

export type StubKey = `${(typeof APP_ROLES)[number]}-${Color}` | 'gibbon' | 'grafana';

export interface EdgeHarnessOptions {
  /** The site config (validated like academy.config.ts). */
  config?: SiteConfigInput;
  /** Start in-process stubs for every upstream (default true); false: the caller serves `upstreamPorts`. */
  stubs?: boolean;
  /** Changes the model before it is rendered (the benchmark adds a plain-HTTP copy of the main server). */
  transform?: (edge: EdgeModel, ctx: { core: CoreModel; extraPorts: number[] }) => EdgeModel;
  /** Free ports handed to `transform`. */
  extraPorts?: number;
}

export interface EdgeHarness {
  core: CoreModel;
  edge: EdgeModel;
  prefix: string;
  certs: TestCerts;
  ports: { http: number; https: number; status: number };
  extraPorts: number[];
  upstreamPorts: Record<StubKey, number>;
  stubs: Record<StubKey, Stub>;
  nginx: NginxProcess;
  /** JSON lines of an access log (`main`, `api`, ... or `access` for the http-level one). */
  accessLog(name: string): Record<string, unknown>[];
  /** The access log once `done` holds for its entries (or after `timeoutMs`, whatever it holds then). */
  accessLogUntil(
    name: string,
    done: (entries: Record<string, unknown>[]) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>[]>;
  errorLog(): string;
  request(options: EdgeRequest): Promise<EdgeResponse>;
  /** The request, not yet ended: `responseOf(req)`, stream a body, `req.end()`. */
  open(options: EdgeRequest): http.ClientRequest;
  stop(): Promise<void>;
}

/**
 * The rendered edge on loopback. Every path nginx writes moves under a temporary prefix, the listen ports
 * and the upstream (application, Gibbon, Grafana) ports are free ports, and the status listener is on
 * 127.0.0.1 only (the Docker bridge address does not exist here).
 */
export async function startEdge(options: EdgeHarnessOptions = {}): Promise<EdgeHarness> {
  const prefix = mkdtempSync(join(tmpdir(), 'academy-edge-'));
  // Workers run as nobody when the master is root (no `user` directive): they need to reach the temp dirs.
  chmodSync(prefix, 0o755);
  const stubKeys: StubKey[] = [
    ...APP_ROLES.flatMap((role) => COLORS.map((colour) => `${role}-${colour}` as StubKey)),
    'gibbon',
    'grafana',
  ];
  const extraCount = options.extraPorts ?? 0;
  const ports = await freePorts(3 + stubKeys.length + extraCount);
  const [httpPort, httpsPort, statusPort] = ports as [number, number, number];
  const upstreamPorts = Object.fromEntries(stubKeys.map((k, i) => [k, ports[3 + i] as number])) as Record<
    StubKey,
    number
  >;
  const extraPorts = ports.slice(3 + stubKeys.length);

  const base = buildCore(validateConfig(options.config ?? {}));
  const core: CoreModel = {
    ...base,
    apps: Object.fromEntries(
      APP_ROLES.map((role) => [
        role,
        {
          ...base.apps[role],
          hostPort: { blue: upstreamPorts[`${role}-blue`], green: upstreamPorts[`${role}-green`] },
        },
      ]),
    ) as CoreModel['apps'],
    hostPorts: { ...base.hostPorts, gibbon: upstreamPorts.gibbon, grafana: upstreamPorts.grafana },
    hostListeners: {
      ...base.hostListeners,
      nginxStatus: { ...base.hostListeners.nginxStatus, address: '127.0.0.1' },
    },
  };
  let edge = buildEdgeModel(core, {
    prefix,
    ports: { http: httpPort, https: httpsPort, status: statusPort },
    ipv6: false,
    user: null,
  });
  if (options.transform) edge = options.transform(edge, { core, extraPorts });

  const stubs = Object.fromEntries(
    stubKeys.map((key) => {
      const [service, colour] = key.split('-') as [string, Color | undefined];
      return [key, createStub(service, colour ?? null, upstreamPorts[key])];
    }),
  ) as Record<StubKey, Stub>;
  const errorLogPath = join(edge.paths.logs, 'error.log');
  let certs: TestCerts;
  let nginx: NginxProcess;
  try {
    const { conf } = await installEdge(core, edge);
    certs = makeCerts(join(prefix, 'test-pki'), core.domains.root);
    mkdirSync(dirname(edge.paths.certificate), { recursive: true });
    writeFileSync(edge.paths.certificate, readFileSync(certs.serverCert));
    writeFileSync(edge.paths.certificateKey, readFileSync(certs.serverKey), { mode: 0o600 });
    mkdirSync(dirname(edge.paths.originPullCa), { recursive: true });
    writeFileSync(edge.paths.originPullCa, readFileSync(certs.originPullCa));
    if (options.stubs ?? true) await Promise.all(Object.values(stubs).map((s) => s.start()));
    nginx = await startNginx(conf, errorLogPath, httpsPort);
  } catch (error) {
    await Promise.all(Object.values(stubs).map((s) => s.stop()));
    rmSync(prefix, { recursive: true, force: true });
    throw error;
  }

  const readAccessLog = (name: string) => {
    const file = join(edge.paths.logs, name === 'access' ? 'access.log' : `${name}.access.log`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  const harnessPorts = { http: httpPort, https: httpsPort, status: statusPort };
  const ca = readFileSync(certs.serverCa);
  const client = { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) };
  const stranger = { cert: readFileSync(certs.strangerCert), key: readFileSync(certs.strangerKey) };
  const open = (o: EdgeRequest) => openRequest(o, { ports: harnessPorts, ca, client, stranger });
  return {
    core,
    edge,
    prefix,
    certs,
    ports: harnessPorts,
    extraPorts,
    upstreamPorts,
    stubs,
    nginx,
    accessLog: readAccessLog,
    errorLog: () => (existsSync(errorLogPath) ? readFileSync(errorLogPath, 'utf8') : ''),
    request: (o) => {
      const req = open(o);
      const response = responseOf(req);
      req.end(o.body);
      return response;
    },
    accessLogUntil: async (name, done, timeoutMs = 2000) => {
      // nginx writes the log line after the response has gone out: the client may be faster.
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const entries = readAccessLog(name);
        if (done(entries) || Date.now() > deadline) return entries;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    open,
    stop: async () => {
      await nginx.stop();
      await Promise.all(Object.values(stubs).map((s) => s.stop()));
      if (process.env.EDGE_KEEP) console.log(`edge harness: kept ${prefix}`);
      else rmSync(prefix, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Requests

export interface EdgeRequest {
  /** Host header, and the TLS server name unless `servername` is given. */
  host: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Default https. */
  scheme?: 'http' | 'https';
  /** Default: the edge's http/https port for the scheme. */
  port?: number;
  /** Source address of the client socket (127.0.0.2 is "not Cloudflare"). */
  localAddress?: string;
  /** Present the origin pull client certificate (default true); 'stranger' presents one of another CA. */
  clientCert?: boolean | 'stranger';
  servername?: string;
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** Default false: a new connection per request. */
  agent?: http.Agent | false;
}

export interface EdgeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The TLS protocol of the connection (https only). */
  protocol: string | null;
  json<T = Record<string, unknown>>(): T;
}

interface OpenContext {
  ports: { http: number; https: number };
  ca: Buffer;
  client: { cert: Buffer; key: Buffer };
  /** A client certificate of another CA. */
  stranger: { cert: Buffer; key: Buffer };
}

function openRequest(o: EdgeRequest, ctx: OpenContext): http.ClientRequest {
  const scheme = o.scheme ?? 'https';
  const common: http.RequestOptions = {
    host: '127.0.0.1',
    port: o.port ?? ctx.ports[scheme],
    path: o.path ?? '/',
    method: o.method ?? 'GET',
    headers: { Host: o.host, ...o.headers },
    agent: o.agent ?? false,
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
  };
  if (scheme === 'http') return http.request(common);
  const certificate = o.clientCert ?? true;
  return https.request({
    ...common,
    servername: o.servername ?? o.host,
    ca: ctx.ca,
    ...(certificate === true ? ctx.client : certificate === 'stranger' ? ctx.stranger : {}),
    ...(o.minVersion ? { minVersion: o.minVersion } : {}),
    ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
  });
}

/** Collects the response of a request the caller ends (after streaming its body). */
export function responseOf(req: http.ClientRequest): Promise<EdgeResponse> {
  return new Promise((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      const socket = res.socket as (net.Socket & { getProtocol?: () => string | null }) | null;
      const protocol = socket?.getProtocol?.() ?? null;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', reject);
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text,
          protocol,
          json: <T>() => JSON.parse(text) as T,
        });
      });
    });
  });
}
