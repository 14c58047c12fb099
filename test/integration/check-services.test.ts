import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../src/check/runner.ts';
import { dockerDaemonCheck } from '../../src/check/tools/services/docker-daemon.ts';
import { fail2banCheck } from '../../src/check/tools/services/fail2ban.ts';
import { servicesChecks } from '../../src/check/tools/services/index.ts';
import { logrotateCheck } from '../../src/check/tools/services/logrotate.ts';
import { mysqlOptionsCheck } from '../../src/check/tools/services/mysql.ts';
import { postgresCheck } from '../../src/check/tools/services/postgres.ts';
import { redisCheck } from '../../src/check/tools/services/redis.ts';
import { sshdCheck } from '../../src/check/tools/services/sshd.ts';
import { sudoersCheck } from '../../src/check/tools/services/sudoers.ts';
import { sysctlCheck } from '../../src/check/tools/services/sysctl.ts';
import { readTree } from '../../src/check/tree.ts';
import type { Check, CheckContext, CheckResult, TreeFiles } from '../../src/check/types.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { writeTree } from '../../src/lib/tree.ts';
import { buildModel } from '../../src/model/index.ts';
import { renderTree } from '../../src/render/index.ts';

// Real PostgreSQL 15, Redis 7.0, logrotate, fail2ban, visudo and sshd (scripts/install-test-tools.sh installs
// them) over the default tree as `academy check` reads it, and over copies with one broken file.

type Row = Omit<CheckResult, 'durationMs'>;

const model = buildModel(validateConfig({}));
let base: string;
let tree: TreeFiles;
let serial = 0;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'check-services-'));
  const root = join(base, 'infrastructure');
  await writeTree(root, renderTree(model), model.localState);
  tree = await readTree(root, model.localState);
});
afterAll(async () => rm(base, { recursive: true, force: true }));

/** A copy of the tree with one file changed. */
function withFile(path: string, change: (content: string) => string): TreeFiles {
  const files = new Map(tree.files);
  const file = files.get(path);
  if (!file) throw new Error(`${path} is not in the tree`);
  const content = change(file.content);
  if (content === file.content) throw new Error(`the change left ${path} as it was`);
  files.set(path, { ...file, content });
  return { root: tree.root, files };
}

function run(check: Check, changed: TreeFiles): Promise<Row[]> {
  const ctx: CheckContext = {
    tree: changed,
    model,
    tempDir: (label) => mkdtemp(join(base, `${label}-${serial++}-`)),
  };
  return check.run(ctx);
}

const failure = (rows: Row[], target: string) => {
  const row = rows.find((r) => r.target === target && r.status === 'fail');
  if (!row) throw new Error(`no failing row for ${target}: ${JSON.stringify(rows, null, 2)}`);
  return row.message ?? '';
};

describe('services checks on the default tree', () => {
  it('pass every check with the real tools (strict: a missing tool fails)', async () => {
    const results = await runChecks(servicesChecks, tree, model, { strict: true, concurrency: 2 });
    const bad = results.filter((r) => r.status !== 'pass');
    expect(bad, JSON.stringify(bad, null, 2)).toEqual([]);
    const targets = results.map((r) => r.target);
    expect(targets).toEqual(
      expect.arrayContaining([
        model.data.postgres.files.conf,
        model.data.postgres.files.hba,
        model.data.redis.files.conf,
        model.data.mysql.files.conf,
        model.host.files.logrotate,
        model.host.files.nginxLogrotate,
        model.host.files.fail2banJail,
        model.host.files.sudoers,
        model.host.files.sshd,
        model.host.files.sysctl,
        model.host.files.dockerDaemon,
        'cron files',
      ]),
    );
    const mysql = results.find((r) => r.target === model.data.mysql.files.conf);
    expect(mysql?.notes).toContain('MariaDB is not MySQL: the option list, not a server, checks my.cnf');
    expect(results.find((r) => r.target === 'cron files')?.notes).toEqual(['no cron files rendered']);
  }, 180_000);
});

describe('services checks on broken copies surface the tool message', () => {
  it('postgres: a bad value stops the server', async () => {
    const rows = await run(
      postgresCheck,
      withFile(model.data.postgres.files.conf, (c) =>
        c.replace(/^shared_buffers = .*$/m, 'shared_buffers = lots'),
      ),
    );
    const message = failure(rows, model.data.postgres.files.conf);
    expect(message).toContain('invalid value for parameter "shared_buffers": "lots"');
    expect(message).toContain(`configuration file "${model.data.postgres.files.conf}" contains errors`);
  }, 120_000);

  it('postgres: a pg_hba.conf that lets a login in without a password fails', async () => {
    const rows = await run(
      postgresCheck,
      withFile(model.data.postgres.files.hba, (c) =>
        c.replace(
          'host    all          all   127.0.0.1/32   scram-sha-256',
          'host all all 127.0.0.1/32 trust',
        ),
      ),
    );
    expect(rows.find((r) => r.target === model.data.postgres.files.conf)?.status).toBe('pass');
    expect(failure(rows, model.data.postgres.files.hba)).toContain(
      'a login without a password over TCP (127.0.0.1) succeeded',
    );
  }, 120_000);

  it('redis: an unknown directive', async () => {
    const rows = await run(
      redisCheck,
      withFile(model.data.redis.files.conf, (c) => `${c}frobnicate yes\n`),
    );
    const message = failure(rows, model.data.redis.files.conf);
    expect(message).toContain("'frobnicate yes'");
    expect(message).toContain('Bad directive or wrong number of arguments');
  }, 60_000);

  it('mysql-options: expire_logs_days is removed in 8.4, with its replacement', async () => {
    const rows = await run(
      mysqlOptionsCheck,
      withFile(model.data.mysql.files.conf, (c) =>
        c.replace('binlog_expire_logs_seconds = 604800', 'expire_logs_days = 7'),
      ),
    );
    expect(failure(rows, model.data.mysql.files.conf)).toMatch(
      /expire_logs_days was removed in MySQL 8\.2\.0.*use binlog_expire_logs_seconds/,
    );
  });

  it('sudoers: a syntax error', async () => {
    const rows = await run(
      sudoersCheck,
      withFile(model.host.files.sudoers, (c) => c.replace('ALL=(root) NOPASSWD', 'ALL=(root NOPASSWD')),
    );
    expect(failure(rows, model.host.files.sudoers)).toMatch(
      new RegExp(`${model.host.files.sudoers}:\\d+:\\d+: syntax error`),
    );
  });

  it('sudoers: an alias that is never defined (strict)', async () => {
    const rows = await run(
      sudoersCheck,
      withFile(model.host.files.sudoers, (c) =>
        c.replace('NOPASSWD: NGINX_CONTROL', 'NOPASSWD: NGINX_CONTRL'),
      ),
    );
    expect(failure(rows, model.host.files.sudoers)).toContain(
      'Cmnd_Alias "NGINX_CONTRL" referenced but not defined',
    );
  });

  it('logrotate: an unknown directive', async () => {
    const rows = await run(
      logrotateCheck,
      withFile(model.host.files.logrotate, (c) =>
        c.replace('    daily\n', '    daily\n    frobnicate yes\n'),
      ),
    );
    expect(failure(rows, model.host.files.logrotate)).toMatch(
      new RegExp(`error: ${model.host.files.logrotate}:\\d+ unknown option 'frobnicate'`),
    );
  });

  it('fail2ban: a jail with a filter that does not exist', async () => {
    const rows = await run(
      fail2banCheck,
      withFile(model.host.files.fail2banJail, (c) =>
        c.replace('filter = nginx-limit-req', 'filter = nginx-no-such-filter'),
      ),
    );
    const message = failure(rows, model.host.files.fail2banJail);
    expect(message).toContain("Unable to read the filter 'nginx-no-such-filter'");
    expect(message).toContain("Errors in jail 'nginx-limit-req'");
  });

  it('sshd: an unknown keyword', async () => {
    const rows = await run(
      sshdCheck,
      withFile(model.host.files.sshd, (c) => `${c}Frobnicate yes\n`),
    );
    expect(failure(rows, model.host.files.sshd)).toContain(
      `${model.host.files.sshd}: line 6: Bad configuration option: Frobnicate`,
    );
  });

  it('sysctl: a key the kernel does not have', async () => {
    const rows = await run(
      sysctlCheck,
      withFile(model.host.files.sysctl, (c) => `${c}net.ipv4.tcp_no_such_key = 1\n`),
    );
    expect(failure(rows, model.host.files.sysctl)).toMatch(
      /net\.ipv4\.tcp_no_such_key is not a kernel parameter/,
    );
  });

  it('docker-daemon: an unknown key', async () => {
    const rows = await run(
      dockerDaemonCheck,
      withFile(model.host.files.dockerDaemon, (c) =>
        c.replace('"icc": false', '"icc": false,\n  "log-driverr": "x"'),
      ),
    );
    expect(failure(rows, model.host.files.dockerDaemon)).toContain('"log-driverr" is not a dockerd option');
  });
});
