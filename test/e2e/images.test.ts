import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.ts';
import { writeTree } from '../../src/lib/tree.ts';
import { buildModel } from '../../src/model/index.ts';
import {
  ensureLocalImages,
  LOCAL_IMAGES,
  type LocalImagesResult,
  printProgress,
} from '../../src/ops/local-images.ts';
import { renderTree } from '../../src/render/index.ts';

// Contract tests of the stand-in images (images/*) on a real Docker engine: each one must behave like the
// official image the compose files name, as far as the platform relies on it. Needs root: the images are
// built with debootstrap and dockerd may have to be installed and started (scripts/ensure-docker.sh).

const isRoot = process.getuid?.() === 0;
const SKIP_REASON = 'needs root (debootstrap, dockerd): run `sudo npx vitest run test/e2e/images.test.ts`';
if (!isRoot) console.warn(`test/e2e/images.test.ts skipped: ${SKIP_REASON}`);

const model = buildModel(validateConfig({}));
const prefix = `academy-e2e-images-${process.pid}`;
const containers: string[] = [];
const volumes: string[] = [];
const ref = (name: string) => {
  const image = LOCAL_IMAGES.find((s) => s.name === name);
  if (!image) throw new Error(`no local image ${name}`);
  return image.ref;
};
/** Compose writes `$$` for a `$` the container's shell expands; `docker run` takes the command as compose would pass it. */
const composeUnescape = (s: string) => s.replaceAll('$$', '$');
const secret = () => randomBytes(12).toString('hex');

const docker = (args: string[], env?: Record<string, string>) =>
  execa('docker', args, { reject: false, stdin: 'ignore', all: true, ...(env ? { env } : {}) });

async function run(name: string, args: string[]): Promise<string> {
  const container = `${prefix}-${name}`;
  containers.push(container);
  const result = await docker(['run', '-d', '--name', container, ...args]);
  expect(result.exitCode, result.all).toBe(0);
  return container;
}

const volume = (name: string) => {
  const v = `${prefix}-${name}`;
  volumes.push(v);
  return v;
};

/** Polls `check` until it returns true; on timeout fails with the container's log tail. */
async function waitFor(container: string, what: string, check: () => Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    const state = await docker(['inspect', '--format', '{{.State.Status}}', container]);
    if (state.stdout.trim() === 'exited') break;
    await sleep(1000);
  }
  const logs = await docker(['logs', '--tail', '60', container]);
  throw new Error(`${container}: ${what} not reached\n${logs.all}`);
}

const healthcheck = (test: readonly string[]) => {
  expect(test[0]).toBe('CMD-SHELL');
  return composeUnescape(test[1] as string);
};

describe.skipIf(!isRoot)(`stand-in images (${isRoot ? 'root' : SKIP_REASON})`, () => {
  let first: LocalImagesResult;
  let tree: string;

  beforeAll(async () => {
    first = await ensureLocalImages({ onProgress: printProgress() });
    tree = await mkdtemp(join(tmpdir(), 'academy-e2e-tree-'));
    await writeTree(tree, renderTree(model));
  }, 20 * 60_000);

  afterAll(async () => {
    if (containers.length) await docker(['rm', '-f', '-v', ...containers]);
    if (volumes.length) await docker(['volume', 'rm', '-f', ...volumes]);
    if (tree) await rm(tree, { recursive: true, force: true });
  }, 120_000);

  it('returns the compose image variables and a second run builds nothing', async () => {
    expect(first.env.POSTGRES_IMAGE).toBe(ref('postgres'));
    expect(first.env.API_IMAGE).toBe(ref('reference'));
    const again = await ensureLocalImages({ onProgress: printProgress() });
    const built = again.steps.filter((s) => s.outcome === 'built').map((s) => s.step);
    expect(built).toEqual([]);
    const report = (r: LocalImagesResult) =>
      r.steps.map((s) => `${s.step} ${s.outcome} ${(s.ms / 1000).toFixed(1)} s`).join(', ');
    console.log(`first run ${(first.ms / 1000).toFixed(1)} s: ${report(first)}`);
    console.log(`second run ${(again.ms / 1000).toFixed(1)} s: ${report(again)}`);
    expect(again.ms).toBeLessThan(30_000);
  }, 120_000);

  describe.concurrent('contracts', () => {
    it('postgres: initialises from POSTGRES_*, runs the init script, SCRAM logins, pg_isready, PG 17 options dropped', async () => {
      const pg = model.data.postgres;
      const conf = join(tree, pg.files.conf);
      // A PostgreSQL 17 setting PostgreSQL 15 does not know: the entrypoint must drop it and say so.
      await appendFile(conf, 'transaction_timeout = 0\n');
      const env = { POSTGRES_PASSWORD: secret(), ANALYTICS_PASSWORD: secret() };
      const container = await run('postgres', [
        ...Object.entries({ TZ: model.config.timezone, ...pg.environment }).flatMap(([k, v]) => [
          '-e',
          `${k}=${v}`,
        ]),
        ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
        '--shm-size',
        `${pg.shmSizeMiB}m`,
        '-v',
        `${conf}:${pg.container.configFile}:ro`,
        '-v',
        `${join(tree, pg.files.hba)}:${pg.container.hbaFile}:ro`,
        '-v',
        `${join(tree, pg.files.initDir)}:${pg.container.initDir}:ro`,
        '-v',
        `${volume('pgdata')}:${pg.container.dataMount}`,
        ref('postgres'),
        ...(pg.command ?? []),
      ]);
      const ready = healthcheck(pg.healthcheck);
      await waitFor(
        container,
        'pg_isready',
        async () => (await docker(['exec', container, 'sh', '-c', ready])).exitCode === 0,
      );

      const logs = (await docker(['logs', container])).all ?? '';
      expect(logs).toMatch(/dropped 'transaction_timeout = 0'/);
      expect(logs).toMatch(/running \/docker-entrypoint-initdb.d\/01-init.sh/);

      const psql = (user: string, password: string, sql: string) =>
        docker(
          [
            'exec',
            '-e',
            'PGPASSWORD',
            container,
            'psql',
            '-h',
            '127.0.0.1',
            '-U',
            user,
            '-d',
            pg.database,
            '-Atc',
            sql,
          ],
          { PGPASSWORD: password },
        );
      const owner = await psql(
        pg.user,
        env.POSTGRES_PASSWORD,
        "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = current_user",
      );
      expect(owner.all).toBe('t');
      // Created by the init script, with the password from ANALYTICS_PASSWORD.
      const analytics = await psql(
        pg.analyticsUser,
        env.ANALYTICS_PASSWORD,
        "SELECT current_user || ' ' || current_setting('default_transaction_read_only')",
      );
      expect(analytics.all).toBe(`${pg.analyticsUser} on`);
      const extensions = await psql(
        pg.user,
        env.POSTGRES_PASSWORD,
        'SELECT extname FROM pg_extension ORDER BY 1',
      );
      for (const ext of pg.extensions) expect(extensions.all).toContain(ext);
      const wrong = await psql(pg.user, 'not-the-password', 'SELECT 1');
      expect(wrong.exitCode).not.toBe(0);
      expect(wrong.all).toMatch(/password authentication failed/);
      // The data directory belongs to the image's postgres user (uid as in the model's data mount).
      const dataOwner = await docker(['exec', container, 'stat', '-c', '%u', pg.container.dataDir]);
      expect(dataOwner.stdout.trim()).toBe(String(pg.dataMounts[0]?.uid));
    }, 180_000);

    it('mysql: MariaDB creates MYSQL_DATABASE and MYSQL_USER, mysqladmin ping passes, MySQL 8.4 options dropped', async () => {
      const my = model.data.mysql;
      const env = { MYSQL_ROOT_PASSWORD: secret(), MYSQL_PASSWORD: secret() };
      const container = await run('mysql', [
        ...Object.entries({ TZ: model.config.timezone, ...my.environment }).flatMap(([k, v]) => [
          '-e',
          `${k}=${v}`,
        ]),
        ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
        '-v',
        `${join(tree, my.files.conf)}:${my.container.configFile}:ro`,
        '-v',
        `${volume('mysql')}:${my.container.dataDir}`,
        ref('mysql'),
        ...(my.command ?? []),
      ]);
      const ping = healthcheck(my.healthcheck);
      await waitFor(
        container,
        'mysqladmin ping',
        async () => (await docker(['exec', container, 'sh', '-c', ping])).exitCode === 0,
      );

      const logs = (await docker(['logs', container])).all ?? '';
      expect(logs).toContain('MariaDB stands in for MySQL 8.4');
      expect(logs).toMatch(/dropped 'innodb_redo_log_capacity/);

      const sql = (user: string, password: string, query: string) =>
        docker(
          [
            'exec',
            '-e',
            'MYSQL_PWD',
            container,
            'mysql',
            '-h',
            '127.0.0.1',
            `-u${user}`,
            '-N',
            '-B',
            '-e',
            query,
          ],
          {
            MYSQL_PWD: password,
          },
        );
      const app = await sql(
        my.user,
        env.MYSQL_PASSWORD,
        `USE ${my.database}; CREATE TABLE t (i INT); SELECT DATABASE(), @@character_set_server`,
      );
      expect(app.exitCode, app.all).toBe(0);
      expect(app.stdout.trim()).toBe(`${my.database}\tutf8mb4`);
      const root = await sql('root', env.MYSQL_ROOT_PASSWORD, 'SELECT 1');
      expect(root.stdout.trim()).toBe('1');
      const wrong = await sql(my.user, 'not-the-password', 'SELECT 1');
      expect(wrong.exitCode).not.toBe(0);
      expect(wrong.all).toMatch(/Access denied/);
    }, 180_000);

    it('redis: the password comes on stdin, unauthenticated clients are refused, runs as the redis user', async () => {
      const redis = model.data.redis;
      const password = secret();
      const container = await run('redis', [
        '-e',
        `REDIS_PASSWORD=${password}`,
        '-v',
        `${join(tree, redis.files.conf)}:${redis.container.configFile}:ro`,
        '-v',
        `${volume('redis')}:${redis.container.dataDir}`,
        ref('redis'),
        ...(redis.command ?? []).map(composeUnescape),
      ]);
      const ping = healthcheck(redis.healthcheck);
      await waitFor(
        container,
        'redis-cli ping',
        async () => (await docker(['exec', container, 'sh', '-c', ping])).exitCode === 0,
      );

      const cli = (auth: string | null, ...args: string[]) =>
        docker(
          ['exec', ...(auth === null ? [] : ['-e', 'REDISCLI_AUTH']), container, 'redis-cli', ...args],
          auth === null ? undefined : { REDISCLI_AUTH: auth },
        );
      expect((await cli(null, 'ping')).stdout).toMatch(/NOAUTH/);
      expect((await cli('wrong', 'ping')).all).toMatch(/WRONGPASS|invalid/);
      expect((await cli(password, 'ping')).stdout.trim()).toBe('PONG');
      // The mounted redis.conf was read: maxmemory from the model.
      const maxmemory = await cli(password, 'config', 'get', 'maxmemory');
      expect(maxmemory.stdout.trim().split('\n')[1]).toBe(String(redis.maxMemoryMiB * 1024 * 1024));
      // In no argv: neither the server's nor the container's configured command.
      const cmdline = await docker(['exec', container, 'cat', '/proc/1/cmdline']);
      expect(cmdline.stdout).not.toContain(password);
      const status = await docker(['exec', container, 'grep', '^Uid:', '/proc/1/status']);
      expect(status.stdout.split(/\s+/)[1]).toBe(String(redis.dataMounts[0]?.uid));
    }, 180_000);

    it('reference app: answers /version with its colour, read-only root, healthcheck script passes', async () => {
      const web = model.apps.web;
      const container = await run('reference', [
        '-e',
        'APP_ROLE=web',
        '-e',
        `PORT=${web.containerPort}`,
        '-e',
        'STACK_COLOR=green',
        '-e',
        'APP_VERSION=9.9.9-e2e',
        '--read-only',
        '--tmpfs',
        '/tmp',
        '-p',
        `127.0.0.1::${web.containerPort}`,
        ref('reference'),
      ]);
      const port = await docker(['port', container, `${web.containerPort}/tcp`]);
      const address = port.stdout.trim().split('\n')[0] as string;
      expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
      let body: unknown;
      await waitFor(container, '/version', async () => {
        // docker-proxy accepts before the container listens and may hold the connection: never wait long.
        const response = await fetch(`http://${address}/version`, {
          signal: AbortSignal.timeout(2000),
        }).catch(() => null);
        if (!response?.ok) return false;
        body = await response.json();
        return true;
      });
      expect(body).toMatchObject({ color: 'green', version: '9.9.9-e2e', role: 'web' });
      const probe = await docker(['exec', container, 'node', 'dist/healthcheck.js']);
      expect(probe.exitCode, probe.all).toBe(0);
      const user = await docker(['exec', container, 'id', '-un']);
      expect(user.stdout.trim()).toBe('node');
    }, 180_000);
  });
});
