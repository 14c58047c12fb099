import { createHash } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { type DestinationStream, type Logger, pino } from 'pino';
import { type AppConfig, ROLE_DEFAULTS, redact, secretsOf } from './config.js';
import { createHealth, type Dependency, dependenciesFor, errorMessage, type Health } from './health.js';
import { createMetrics, type Metrics } from './metrics.js';
import { CLOSE, createWebSocketHub, refuseUpgrade, type WebSocketHub } from './websocket.js';

export interface AppOptions {
  /** Log destination; stdout (synchronous, so nothing is lost at exit) by default. */
  logDestination?: DestinationStream;
  /** Dependencies to check instead of the ones derived from the configuration. */
  dependencies?: Dependency[];
}

export interface ReferenceApp {
  config: AppConfig;
  fastify: FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>;
  log: Logger;
  health: Health;
  metrics: Metrics;
  websockets: WebSocketHub;
  /** Starts listening on config.host:config.port; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number; url: string }>;
  isDraining(): boolean;
  /**
   * Graceful shutdown: health answers 503 at once, the listener closes, in-flight requests and open
   * WebSockets get up to config.drainSeconds, then remaining WebSockets are closed with 1001 and remaining
   * connections dropped. Resolves when everything is closed. Idempotent.
   */
  drain(reason: string): Promise<void>;
}

export function createLogger(config: AppConfig, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { pid: process.pid, role: config.role, color: config.color, version: config.version },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** Path without the query string: query strings may carry tokens, so they are never logged. */
const pathOf = (url: string | undefined): string => (url ?? '/').split('?')[0] ?? '/';

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const DEMO_USER = { username: 'demo', password: 'demo' };

function parseLoginBody(raw: string | undefined, contentType: string | undefined): Record<string, unknown> {
  if (raw === undefined || raw === '') return {};
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function createApp(config: AppConfig, options: AppOptions = {}): ReferenceApp {
  const log = createLogger(config, options.logDestination);
  const secrets = secretsOf(config);
  const metrics = createMetrics(config);
  const health = createHealth(config, options.dependencies ?? dependenciesFor(config, log));
  const websockets = createWebSocketHub(log, {
    opened: metrics.websocketOpened,
    closed: metrics.websocketClosed,
  });
  const identityHeaders = { 'X-App-Color': config.color, 'X-App-Version': config.version };
  let draining = false;
  let drainPromise: Promise<void> | undefined;

  const app = Fastify({
    loggerInstance: log,
    // One line per request is written by the onResponse hook below, with no headers in it.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    // Requests arriving on an already open connection during a drain are still served (nginx committed
    // them to this instance); fastify adds `Connection: close` so the connection ends after them.
    return503OnClosing: false,
    // Longer than nginx's upstream keepalive_timeout (60 s), so nginx closes idle connections first.
    keepAliveTimeout: 65_000,
    bodyLimit: 1024 * 1024,
  });

  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(identityHeaders);
  });

  // Responses to requests that began before the drain end their connection too (fastify marks only those
  // that arrive during it), so keep-alive clients reconnect elsewhere and the server can close.
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    request.log.info(
      {
        method: request.method,
        url: pathOf(request.url),
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  app.addHook('onRequestAbort', async (request) => {
    request.log.info({ method: request.method, url: pathOf(request.url), status: 499 }, 'request aborted');
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err: redact(errorMessage(err), secrets) }, 'request failed');
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message });
  });

  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ error: 'not found' }));

  app.addHook('onClose', async () => {
    await health.close();
  });

  // Routes common to every role.
  app.get(ROLE_DEFAULTS[config.role].healthPath, async (_request, reply) => {
    const { statusCode, body } = await health.report(draining);
    return reply.code(statusCode).header('cache-control', 'no-store').send(body);
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });

  app.get('/version', async () => ({ version: config.version, color: config.color, role: config.role }));

  // A request that takes a while: drain tests and nginx timeout tests.
  app.get<{ Querystring: { ms?: string } }>('/slow', async (request) => {
    const ms = Math.min(Math.max(Number(request.query.ms ?? 1000) || 0, 0), 60_000);
    await sleep(ms);
    return { slept: ms };
  });

  if (config.role === 'api') {
    app.get('/', async () => ({
      service: 'smart-academy reference api',
      message: 'hello',
      version: config.version,
      color: config.color,
    }));

    app.get('/ws', async (_request, reply) =>
      reply.code(426).header('upgrade', 'websocket').send({ error: 'WebSocket upgrade required' }),
    );

    app.register(async (login) => {
      // Any body is accepted and read as text (JSON or a form): rate-limit tests post whatever they like.
      login.removeAllContentTypeParsers();
      login.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) =>
        done(null, body),
      );
      login.post('/auth/login', async (request, reply) => {
        const body = parseLoginBody(request.body as string | undefined, request.headers['content-type']);
        if (body.username === DEMO_USER.username && body.password === DEMO_USER.password) {
          return { token: 'demo-token', user: DEMO_USER.username };
        }
        return reply.code(401).send({ error: 'invalid credentials' });
      });
    });

    app.register(async (upload) => {
      // No parser reads the body: the handler consumes the raw stream and only counts it.
      upload.removeAllContentTypeParsers();
      upload.addContentTypeParser('*', (_req, _payload, done) => done(null));
      upload.post('/upload', async (request) => {
        const hash = createHash('sha256');
        let bytes = 0;
        for await (const chunk of request.raw as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          hash.update(chunk);
        }
        return { bytes, sha256: hash.digest('hex') };
      });
    });
  } else {
    const asset = `/_next/static/chunks/main-${config.version}.js`;
    const html = [
      '<!doctype html>',
      '<html lang="en">',
      '<head><meta charset="utf-8"><title>Smart Academy reference</title>',
      `<script src="${escapeHtml(asset)}" defer></script></head>`,
      `<body><h1>Smart Academy reference ${escapeHtml(config.role)}</h1>`,
      `<p>colour ${escapeHtml(config.color)}, version ${escapeHtml(config.version)}</p></body>`,
      '</html>',
      '',
    ].join('\n');
    const js = `console.log(${JSON.stringify(`smart-academy reference ${config.role} ${config.color} ${config.version}`)});\n`;

    app.get('/', async (_request, reply) =>
      reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(html),
    );

    app.get<{ Params: { '*': string } }>('/_next/static/*', async (request, reply) => {
      if (!/^[\w.-]+(\/[\w.-]+)*\.js$/.test(request.params['*'])) {
        return reply.code(404).send({ error: 'not found' });
      }
      return reply
        .header('content-type', 'application/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(js);
    });
  }

  // WebSocket upgrades never reach fastify's router: Node hands them to this event.
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const started = performance.now();
    socket.on('error', () => socket.destroy());
    let status: number;
    if (config.role !== 'api' || pathOf(req.url) !== '/ws') {
      status = 404;
      refuseUpgrade(socket, status, 'Not Found', identityHeaders);
    } else if (draining) {
      status = 503;
      refuseUpgrade(socket, status, 'Service Unavailable', identityHeaders);
    } else {
      status = websockets.accept(req, socket, head, identityHeaders);
    }
    const route = status === 404 ? 'unmatched' : '/ws';
    metrics.observeRequest(req.method ?? 'GET', route, status, (performance.now() - started) / 1000);
    log.info(
      {
        method: req.method,
        url: pathOf(req.url),
        route,
        status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });

  const drain = (reason: string): Promise<void> => {
    drainPromise ??= (async () => {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      draining = true;
      metrics.setDraining(true);
      log.info(
        { phase: 'drain', reason, drainSeconds: config.drainSeconds, websockets: websockets.count() },
        'draining: health answers 503, listener closed, waiting for in-flight requests and WebSockets',
      );
      // Stops the listener, closes idle keep-alive connections, waits for the others, then runs onClose hooks
      // (dependency clients close last: in-flight requests may still use them).
      const closed = app.close().then(() => 'closed' as const);
      // Node closes idle keep-alive connections once, at close(); catch those that turn idle later.
      const reaper = setInterval(() => app.server.closeIdleConnections(), 250);
      reaper.unref();
      const deadline = sleep(config.drainSeconds * 1000, 'deadline' as const, { ref: false });
      const outcome = await Promise.race([closed, deadline]);
      clearInterval(reaper);
      if (outcome === 'deadline') {
        log.info(
          { phase: 'deadline', ms: elapsed(), websockets: websockets.count() },
          'drain deadline reached: closing WebSockets with 1001 and dropping remaining connections',
        );
        await websockets.closeAll(CLOSE.goingAway, 'server shutting down', 1000);
        app.server.closeAllConnections();
        await closed;
      }
      log.info({ phase: 'drained', ms: elapsed() }, 'drained: all connections closed');
    })();
    return drainPromise;
  };

  return {
    config,
    fastify: app,
    log,
    health,
    metrics,
    websockets,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      log.info({ phase: 'listening', host: address.address, port: address.port }, 'listening');
      return { host: address.address, port: address.port, url: `http://${host}:${address.port}` };
    },
    isDraining: () => draining,
    drain,
  };
}

/** Creates the app and listens: what main.ts runs. */
export async function start(
  config: AppConfig,
  options: AppOptions = {},
): Promise<ReferenceApp & { url: string; port: number }> {
  const app = createApp(config, options);
  const { url, port } = await app.listen();
  return Object.assign(app, { url, port });
}
