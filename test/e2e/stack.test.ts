// The real topology on a real Docker engine: `academy up --images local` from a clean state, then what the
// platform promises about it. Needs root (it starts dockerd and builds the local images when missing).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.ts';
import { localSite } from '../../src/ops/local/site.ts';
import { edgeGet } from '../../src/ops/local/up.ts';

const run = promisify(execFile);
const academy = join(import.meta.dirname, '../../bin/academy');
const isRoot = process.getuid?.() === 0;
const ports = { http: 28080, https: 28443, status: 28088 };

const sh = async (file: string, args: string[]) => {
  const { stdout } = await run(file, args, { maxBuffer: 1 << 24 });
  return stdout.trim();
};

describe.skipIf(!isRoot)('the stack on a real Docker engine (academy up --images local)', () => {
  let state: string;
  let site: ReturnType<typeof localSite>;
  const localArgs = () => [
    '--state',
    state,
    '--http-port',
    String(ports.http),
    '--https-port',
    String(ports.https),
    '--status-port',
    String(ports.status),
  ];
  const up = () => run(academy, ['up', '--images', 'local', ...localArgs()], { maxBuffer: 1 << 24 });
  const down = (...extra: string[]) =>
    run(academy, ['down', ...localArgs(), ...extra], { maxBuffer: 1 << 24 });
  const health = () => edgeGet(site, site.model.domains.api, '/health');
  const psql = (sql: string) =>
    sh('docker', [
      'exec',
      'smart-academy-postgres',
      'sh',
      '-c',
      `PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "${sql}"`,
    ]);
  const waitFor = async (what: string, check: () => Promise<boolean>, seconds = 60) => {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`timed out after ${seconds} s waiting for ${what}`);
  };

  beforeAll(async () => {
    state = await mkdtemp(join(tmpdir(), 'academy-e2e-'));
    site = localSite(validateConfig({}), {
      stateDir: state,
      httpPort: ports.http,
      httpsPort: ports.https,
      statusPort: ports.status,
    });
    // A clean engine for this project: nothing left from an earlier run.
    await down('--volumes').catch(() => undefined);
    const { stdout } = await up();
    expect(stdout).toMatch(/8 steps done/);
  }, 900_000);

  afterAll(async () => {
    await down('--volumes').catch(() => undefined);
    await rm(state, { recursive: true, force: true });
  }, 120_000);

  it('answers 200 through the real host nginx from the blue colour, with both dependencies reached', async () => {
    const res = await health();
    expect(res.status).toBe(200);
    expect(res.headers['x-app-color']).toBe('blue');
    const body = JSON.parse(res.body);
    expect(body.checks.postgres.ok).toBe(true);
    expect(body.checks.redis.ok).toBe(true);
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
  });

  it('publishes only on 127.0.0.1: no Docker listener on another address', async () => {
    const published = site.model.compose.flatMap((p) =>
      p.services.flatMap((s) => s.ports ?? []).map((x) => x.host),
    );
    const listeners = (await sh('ss', ['-ltnH']))
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[3] ?? '');
    for (const port of published) {
      const on = listeners.filter((l) => l.endsWith(`:${port}`));
      for (const address of on) expect(address, `port ${port}`).toBe(`127.0.0.1:${port}`);
    }
    // The applications of the active colour are among them.
    expect(listeners).toContain(`127.0.0.1:${site.model.apps.api.hostPort.blue}`);
  });

  it('keeps PostgreSQL and Redis unreachable from the host and from a container outside the data network', async () => {
    const connects = (port: number) =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect({ host: '127.0.0.1', port }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
    expect(await connects(5432)).toBe(false);
    expect(await connects(6379)).toBe(false);

    const ipOf = (container: string, network: string) =>
      sh('docker', [
        'inspect',
        '-f',
        `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`,
        container,
      ]);
    const pg = await ipOf('smart-academy-postgres', site.model.networks.database.name);
    const redis = await ipOf('smart-academy-redis', site.model.networks.database.name);
    expect(pg).toMatch(/^172\.21\./);
    // From the internal network (applications, no data network), by address and by name.
    const probe = (target: string) =>
      run('docker', [
        'run',
        '--rm',
        '--network',
        site.model.networks.internal.name,
        'academy-local/debian-base:bookworm',
        'timeout',
        '3',
        'bash',
        '-c',
        `</dev/tcp/${target}`,
      ]).then(
        () => true,
        () => false,
      );
    expect(await probe(`${pg}/5432`)).toBe(false);
    expect(await probe(`${redis}/6379`)).toBe(false);
    expect(await probe('postgres/5432')).toBe(false);
    // The same probe from the data network does connect: the test can tell the difference.
    const fromData = await run('docker', [
      'run',
      '--rm',
      '--network',
      site.model.networks.database.name,
      'academy-local/debian-base:bookworm',
      'timeout',
      '3',
      'bash',
      '-c',
      `</dev/tcp/${pg}/5432`,
    ]).then(
      () => true,
      () => false,
    );
    expect(fromData).toBe(true);
  });

  it('turns health to 503 through nginx when PostgreSQL stops, and back to 200 when it returns', async () => {
    await sh('docker', ['stop', 'smart-academy-postgres']);
    try {
      await waitFor('health 503', async () => (await health()).status === 503, 30);
      const res = await health();
      expect(JSON.parse(res.body).checks.postgres.ok).toBe(false);
    } finally {
      await sh('docker', ['start', 'smart-academy-postgres']);
    }
    await waitFor('health 200 again', async () => (await health()).status === 200, 90);
  });

  it('is a no-op when nothing changed: a second up recreates no container', async () => {
    const ids = async () => sh('docker', ['ps', '-q', '--no-trunc', '--filter', 'name=smart-academy-']);
    const before = (await ids()).split('\n').sort();
    const { stdout } = await up();
    expect(stdout).toContain('running, configuration unchanged');
    expect((await ids()).split('\n').sort()).toEqual(before);
  }, 300_000);

  it('keeps the data across down and up; down --volumes removes it', async () => {
    await psql("CREATE TABLE IF NOT EXISTS kept (note text); INSERT INTO kept VALUES ('survives');");
    await down();
    expect(await sh('docker', ['ps', '-aq', '--filter', 'name=smart-academy-'])).toBe('');
    await up();
    expect(await psql('SELECT note FROM kept')).toBe('survives');

    await down('--volumes');
    expect(existsSync(site.model.paths.data)).toBe(false);
    expect(await sh('docker', ['ps', '-aq', '--filter', 'name=smart-academy-'])).toBe('');
  }, 600_000);
});
