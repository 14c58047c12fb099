import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';
import { type AppConfig, redact, secretsOf } from './config.js';

export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'error' | 'draining';
  color: string;
  version: string;
  role: string;
  checks: Record<string, CheckResult>;
  /** The failing dependencies with their messages, or why the instance is not ready. */
  error?: string;
}

/** One thing this role needs to serve: checked on every health request, closed on shutdown. */
export interface Dependency {
  name: string;
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface Health {
  report(draining: boolean): Promise<{ statusCode: 200 | 503; body: HealthReport }>;
  close(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A readable message for any error, including Node's AggregateError (several addresses tried) with none. */
export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') {
    return err.errors.map(errorMessage).join('; ') || 'connection failed';
  }
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    // fetch() says only "fetch failed"; the cause says what (ECONNREFUSED, ENOTFOUND...).
    if (err.message === 'fetch failed' && cause !== undefined) return `fetch failed: ${errorMessage(cause)}`;
    return err.message || (err as Error & { code?: string }).code || err.name;
  }
  return String(err);
}

export function postgresDependency(url: string, timeoutMs: number, appName: string, log: Logger): Dependency {
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: appName,
  });
  // An idle client whose server went away emits here; without a listener the process would crash.
  pool.on('error', (err) =>
    log.warn({ dependency: 'postgres', err: errorMessage(err) }, 'idle connection lost'),
  );
  return {
    name: 'postgres',
    async check() {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
  };
}

export function redisDependency(
  url: string,
  timeoutMs: number,
  connectionName: string,
  log: Logger,
): Dependency {
  let lastError: string | undefined;
  const redis = new Redis(url, {
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    // Fail fast while disconnected instead of queueing: health must answer now.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    connectionName,
  });
  redis.on('error', (err) => {
    const message = errorMessage(err);
    // Reconnects repeat the same error every second: log when it changes only.
    if (message !== lastError) log.warn({ dependency: 'redis', err: message }, 'connection error');
    lastError = message;
  });
  redis.on('ready', () => {
    if (lastError !== undefined) log.info({ dependency: 'redis' }, 'connection restored');
    lastError = undefined;
  });
  return {
    name: 'redis',
    async check() {
      // A first connection still being made gets the check's time to finish; a lost one fails at once.
      if (redis.status === 'wait' || redis.status === 'connecting' || redis.status === 'connect') {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, timeoutMs);
          function done() {
            clearTimeout(timer);
            redis.off('ready', done);
            redis.off('error', done);
            resolve();
          }
          redis.once('ready', done);
          redis.once('error', done);
        });
      }
      if (redis.status !== 'ready') {
        throw new Error(`not connected (${redis.status}${lastError ? `: ${lastError}` : ''})`);
      }
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING answer ${JSON.stringify(pong)}`);
    },
    async close() {
      redis.disconnect(false);
    },
  };
}

/** web/admin depend on the api of their colour: its health, not just its port. */
export function apiDependency(baseUrl: string, timeoutMs: number): Dependency {
  return {
    name: 'api',
    async check() {
      const res = await fetch(`${baseUrl}/health`, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json' },
      });
      const text = await res.text();
      if (res.status === 200) return;
      let detail = '';
      try {
        const body = JSON.parse(text) as { error?: unknown };
        if (typeof body.error === 'string') detail = `: ${body.error}`;
      } catch {
        // not JSON: the status says enough
      }
      throw new Error(`api health answered ${res.status}${detail}`);
    },
    close: async () => {},
  };
}

export function dependenciesFor(config: AppConfig, log: Logger): Dependency[] {
  const name = `reference-${config.role}-${config.color}`;
  const deps: Dependency[] = [];
  if (config.databaseUrl !== undefined) {
    deps.push(postgresDependency(config.databaseUrl, config.healthTimeoutMs, name, log));
  }
  if (config.redisUrl !== undefined) {
    deps.push(redisDependency(config.redisUrl, config.healthTimeoutMs, name, log));
  }
  if (config.apiInternalUrl !== undefined)
    deps.push(apiDependency(config.apiInternalUrl, config.healthTimeoutMs));
  return deps;
}

export function createHealth(config: AppConfig, deps: Dependency[]): Health {
  const secrets = secretsOf(config);
  const identity = { color: config.color, version: config.version, role: config.role };

  const run = async (dep: Dependency): Promise<CheckResult> => {
    const started = performance.now();
    try {
      // A little over the clients' own timeouts, so their messages win when they fire.
      await withTimeout(dep.check(), config.healthTimeoutMs + 250, dep.name);
      return { ok: true, latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      return {
        ok: false,
        latencyMs: Math.round(performance.now() - started),
        error: redact(errorMessage(err), secrets),
      };
    }
  };

  return {
    async report(draining) {
      if (draining) {
        return {
          statusCode: 503,
          body: { status: 'draining', ...identity, checks: {}, error: 'shutting down (SIGTERM received)' },
        };
      }
      const results = await Promise.all(deps.map(async (d) => [d.name, await run(d)] as const));
      const checks = Object.fromEntries(results);
      const failed = results.filter(([, r]) => !r.ok);
      if (failed.length === 0) return { statusCode: 200, body: { status: 'ok', ...identity, checks } };
      return {
        statusCode: 503,
        body: {
          status: 'error',
          ...identity,
          checks,
          error: failed.map(([name, r]) => `${name}: ${r.error}`).join('; '),
        },
      };
    },
    async close() {
      await Promise.allSettled(deps.map((d) => d.close()));
    },
  };
}
