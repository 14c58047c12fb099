import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/lib/env-file.ts';

const run = promisify(execFile);
const academy = join(import.meta.dirname, '../../bin/academy');

describe('academy secrets init (CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secrets-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('creates the env file 0600 and the secret files, prints names but never values, and keeps values on a rerun', async () => {
    const envFile = join(dir, 'docker/.env');
    const secretsDir = join(dir, 'secrets');
    const args = ['secrets', 'init', '--env-file', envFile, '--secrets-dir', secretsDir];
    const first = await run(academy, args);
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
    const values = parseEnvFile(await readFile(envFile, 'utf8'));
    const password = values.get('POSTGRES_PASSWORD') as string;
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(first.stdout).toContain('POSTGRES_PASSWORD');
    for (const value of values.values()) if (value) expect(first.stdout).not.toContain(value);

    expect((await stat(secretsDir)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(secretsDir, 'grafana_admin_password'), 'utf8')).toBe(
      values.get('GRAFANA_ADMIN_PASSWORD'),
    );
    expect((await stat(join(secretsDir, 'grafana_admin_password'))).mode & 0o777).toBe(0o400);

    // The operator fills in the empty line secrets init left for a provided secret.
    const filled = (await readFile(envFile, 'utf8')).replace(
      /^SENDGRID_API_KEY=$/m,
      'SENDGRID_API_KEY=SG.operator',
    );
    await writeFile(envFile, filled);
    const second = await run(academy, args);
    expect(second.stdout).toContain('nothing changed');
    const after = parseEnvFile(await readFile(envFile, 'utf8'));
    expect(after.get('POSTGRES_PASSWORD')).toBe(password);
    expect(await readFile(join(secretsDir, 'alertmanager_smtp_password'), 'utf8')).toBe('SG.operator');
  });
});
