/** Runtime configuration of the reference application, read once from the environment. */

export const ROLES = ['api', 'web', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Port and health path of each role: the platform contract (src/model/core.ts decides the same values). */
export const ROLE_DEFAULTS: Record<Role, { port: number; healthPath: string }> = {
  api: { port: 4000, healthPath: '/health' },
  web: { port: 3000, healthPath: '/api/health' },
  admin: { port: 3001, healthPath: '/api/health' },
};

export const COLORS = ['blue', 'green'] as const;

export interface AppConfig {
  role: Role;
  port: number;
  host: string;
  /** STACK_COLOR; 'none' when unset (a bare run outside the platform). */
  color: string;
  version: string;
  nodeEnv: string;
  drainSeconds: number;
  /** Per-dependency timeout of the health check. */
  healthTimeoutMs: number;
  logLevel: string;
  /** api only. */
  databaseUrl?: string;
  /** api only. */
  redisUrl?: string;
  /** web/admin: the api of the same colour whose health this role depends on. */
  apiInternalUrl?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
// Values that end up in response headers: printable ASCII without spaces.
const HEADER_SAFE = /^[\x21-\x7e]{1,128}$/;

const value = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

/** Role and port only: what the container health probe needs, without the full validation. */
export function roleAndPort(env: Env = process.env): { role: Role; port: number; healthPath: string } {
  const raw = value(env, 'APP_ROLE') ?? 'api';
  const role = (ROLES as readonly string[]).includes(raw) ? (raw as Role) : 'api';
  const port = Number(value(env, 'PORT') ?? ROLE_DEFAULTS[role].port);
  return { role, port, healthPath: ROLE_DEFAULTS[role].healthPath };
}

/**
 * Reads and validates the environment. Every problem is collected and reported at once; messages name the
 * variable and what was expected, and never repeat a value that may hold a secret (URLs with passwords).
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];

  const rawRole = value(env, 'APP_ROLE') ?? 'api';
  let role: Role = 'api';
  if ((ROLES as readonly string[]).includes(rawRole)) role = rawRole as Role;
  else problems.push(`APP_ROLE must be one of ${ROLES.join(', ')}; found "${rawRole}"`);

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(env, name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}; found "${raw}"`);
      return fallback;
    }
    return n;
  };

  // PORT=0 lets the system choose (tests); the listening log line reports the port taken.
  const port = integer('PORT', ROLE_DEFAULTS[role].port, 0, 65535);
  const drainSeconds = integer('DRAIN_SECONDS', 20, 0, 3600);
  const healthTimeoutMs = integer('HEALTH_TIMEOUT_MS', 1000, 50, 30_000);

  const color = value(env, 'STACK_COLOR') ?? 'none';
  if (value(env, 'STACK_COLOR') !== undefined && !(COLORS as readonly string[]).includes(color)) {
    problems.push(`STACK_COLOR must be one of ${COLORS.join(', ')}; found "${color}"`);
  }

  const version = value(env, 'APP_VERSION') ?? '0.0.0-dev';
  if (!HEADER_SAFE.test(version)) {
    problems.push(
      'APP_VERSION must be 1 to 128 printable ASCII characters without spaces (e.g. 1.4.2 or a git sha)',
    );
  }

  const logLevel = value(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; found "${logLevel}"`);
  }

  const url = (name: string, protocols: string[], required: boolean): string | undefined => {
    const raw = value(env, name);
    if (raw === undefined) {
      if (required) problems.push(`${name} is required for APP_ROLE=${role} (${protocols[0]}//...)`);
      return undefined;
    }
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      problems.push(`${name} is not a valid URL (value not shown: it may hold a password)`);
      return undefined;
    }
    if (!protocols.includes(parsed.protocol)) {
      problems.push(`${name} must use ${protocols.join(' or ')}; found ${parsed.protocol}`);
      return undefined;
    }
    if (parsed.hostname === '') problems.push(`${name} has no host`);
    return raw;
  };

  const config: AppConfig = {
    role,
    port,
    host: value(env, 'HOST') ?? '0.0.0.0',
    color,
    version,
    nodeEnv: value(env, 'NODE_ENV') ?? 'development',
    drainSeconds,
    healthTimeoutMs,
    logLevel,
  };
  if (role === 'api') {
    const databaseUrl = url('DATABASE_URL', ['postgresql:', 'postgres:'], true);
    const redisUrl = url('REDIS_URL', ['redis:', 'rediss:'], true);
    if (databaseUrl !== undefined) config.databaseUrl = databaseUrl;
    if (redisUrl !== undefined) config.redisUrl = redisUrl;
  } else {
    const apiInternalUrl = url('API_INTERNAL_URL', ['http:', 'https:'], false);
    if (apiInternalUrl !== undefined) config.apiInternalUrl = apiInternalUrl.replace(/\/+$/, '');
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Passwords and full URLs of the configuration: never to appear in a response or a log line. */
export function secretsOf(config: AppConfig): string[] {
  const secrets: string[] = [];
  for (const raw of [config.databaseUrl, config.redisUrl, config.apiInternalUrl]) {
    if (raw === undefined) continue;
    try {
      const u = new URL(raw);
      if (u.password !== '') {
        secrets.push(raw, u.password, decodeURIComponent(u.password));
      }
    } catch {
      secrets.push(raw);
    }
  }
  return secrets.filter((s) => s.length > 0);
}

/** Replaces every known secret in a message; used for health output and logged errors. */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  // Longest first, so a URL is replaced whole before its password.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  // Any credentials in a URL we did not configure ourselves.
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]*:[^/\s@]*@/gi, '$1***@');
}
