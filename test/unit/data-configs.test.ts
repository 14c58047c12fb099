import { describe, expect, it } from 'vitest';
import type { SiteConfigInput } from '../../src/config/schema.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { buildCore } from '../../src/model/core.ts';
import { buildDataModel } from '../../src/model/data.ts';
import { pgSize, postgresTuning, redisMaxMemoryMiB } from '../../src/model/sizing.ts';
import { renderMysql } from '../../src/render/database/mysql.ts';
import { renderPostgres } from '../../src/render/database/postgres.ts';
import type { RenderedFile } from '../../src/render/file.ts';
import { type KvDialect, kvMap, parseKv } from '../../src/render/kv.ts';
import { renderRedis } from '../../src/render/redis.ts';

function build(input: SiteConfigInput = {}) {
  const core = buildCore(validateConfig(input));
  const model = { ...core, data: buildDataModel(core) };
  const files = [...renderPostgres(model), ...renderMysql(model), ...renderRedis(model)];
  const file = (path: string): RenderedFile => {
    const f = files.find((x) => x.path === path);
    if (!f) throw new Error(`not rendered: ${path} (have ${files.map((x) => x.path).join(', ')})`);
    return f;
  };
  const d = model.data;
  return {
    model,
    files,
    file,
    pgConf: kvMap(parseKv('postgresql', file(d.postgres.files.conf).content)),
    hba: file(d.postgres.files.hba).content,
    init: file(d.postgres.files.initScript),
    myLines: parseKv('mysql', file(d.mysql.files.conf).content),
    mysqld: kvMap(parseKv('mysql', file(d.mysql.files.conf).content), 'mysqld'),
    redisLines: parseKv('redis', file(d.redis.files.conf).content),
    redis: kvMap(parseKv('redis', file(d.redis.files.conf).content)),
  };
}

/** Non-comment rows of pg_hba.conf as columns. */
const hbaRows = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .map((l) => l.trim().split(/\s+/));

const MIB = 1024 * 1024;

describe('file layout', () => {
  it('renders every file at the path the sub-model names, the init script executable', () => {
    const { files, model } = build();
    const d = model.data;
    expect(files.map((f) => f.path).sort()).toEqual(
      [
        d.postgres.files.conf,
        d.postgres.files.hba,
        d.postgres.files.initScript,
        d.mysql.files.conf,
        d.redis.files.conf,
      ].sort(),
    );
    expect(d.postgres.files.initScript.startsWith(`${d.postgres.files.initDir}/`)).toBe(true);
    for (const f of files) expect(f.mode).toBe(f.path === d.postgres.files.initScript ? 0o755 : 0o644);
    // Every config file is mounted from the tree, and nothing else is.
    const mounted = [d.postgres, d.mysql, d.redis].flatMap((s) => s.configMounts.map((m) => m.source));
    expect(mounted.sort()).toEqual(
      [
        d.postgres.files.conf,
        d.postgres.files.hba,
        d.postgres.files.initDir,
        d.mysql.files.conf,
        d.redis.files.conf,
      ].sort(),
    );
  });

  it('is deterministic', () => {
    expect(build().files).toEqual(build().files);
  });
});

describe('postgresql.conf', () => {
  it('uses the mounted pg_hba.conf, listens for the database network and logs to stderr only', () => {
    const { pgConf, model } = build();
    expect(pgConf.get('hba_file')).toBe(model.data.postgres.container.hbaFile);
    expect(model.data.postgres.configMounts).toContainEqual({
      source: model.data.postgres.files.hba,
      target: pgConf.get('hba_file'),
    });
    expect(model.data.postgres.command).toEqual([
      'postgres',
      '-c',
      `config_file=${model.data.postgres.container.configFile}`,
    ]);
    expect(pgConf.get('listen_addresses')).toBe('*');
    expect(pgConf.get('port')).toBe(String(model.endpoints.postgres.port));
    expect(pgConf.get('log_destination')).toBe('stderr');
    expect(pgConf.get('logging_collector')).toBe('off');
    for (const key of ['log_directory', 'log_filename', 'log_rotation_age', 'log_rotation_size']) {
      expect(pgConf.has(key), key).toBe(false);
    }
    expect(pgConf.get('password_encryption')).toBe('scram-sha-256');
    expect(pgConf.get('wal_level')).toBe('replica');
    expect(pgConf.get('shared_preload_libraries')).toBe('pg_stat_statements');
  });

  it('sets no lc_* locale and takes both time zones from the config', () => {
    const { pgConf } = build({ timezone: 'Europe/Berlin' });
    expect([...pgConf.keys()].filter((k) => k.startsWith('lc_'))).toEqual([]);
    expect(pgConf.get('timezone')).toBe('Europe/Berlin');
    expect(pgConf.get('log_timezone')).toBe('Europe/Berlin');
  });

  it('keeps WAL archiving off by default', () => {
    const { pgConf, model } = build();
    expect(pgConf.get('archive_mode')).toBe('off');
    expect(pgConf.has('archive_command')).toBe(false);
    expect(model.data.postgres.dataMounts.map((m) => m.container)).not.toContain(
      model.data.postgres.container.walArchiveDir,
    );
  });

  it('archives into a mounted directory, never overwriting, when walArchiving is on', () => {
    const { pgConf, model } = build({ postgres: { walArchiving: true } });
    const dir = model.data.postgres.container.walArchiveDir;
    expect(pgConf.get('archive_mode')).toBe('on');
    expect(pgConf.get('archive_command')).toBe(`test ! -f ${dir}/%f && cp %p ${dir}/%f`);
    const mount = model.data.postgres.dataMounts.find((m) => m.container === dir);
    expect(mount?.host).toBe(`${model.paths.backups}/postgres/wal-archive`);
    expect(mount?.uid).toBe(70); // postgres:*-alpine
  });

  it('sizes memory from the container limit with PGTune and takes max_connections from the config', () => {
    const { pgConf, model } = build({ postgres: { maxConnections: 300 } });
    // Default server 16 GiB, PostgreSQL 50% = 8192 MiB, 4 cpus, ssd.
    expect(model.resources.postgres.memoryMiB).toBe(8192);
    const t = postgresTuning({ memoryMiB: 8192, cpus: 4, disk: 'ssd', maxConnections: 300 });
    expect(pgConf.get('max_connections')).toBe('300');
    expect(pgConf.get('shared_buffers')).toBe('2GB');
    expect(pgConf.get('effective_cache_size')).toBe('6GB');
    expect(pgConf.get('work_mem')).toBe(pgSize(t.workMemKb));
    expect(pgConf.get('huge_pages')).toBe('off');
    expect(pgConf.get('max_parallel_workers')).toBe('4');
    expect(model.data.postgres.shmSizeMiB).toBe(t.shmSizeMiB);
  });

  it('uses PostgreSQL defaults for parallel query below 4 cpus, and HDD planner costs', () => {
    const { pgConf } = build({ resources: { postgres: { cpus: 2 } }, server: { disk: 'hdd' } });
    expect(pgConf.has('max_worker_processes')).toBe(false);
    expect(pgConf.get('random_page_cost')).toBe('4');
    expect(pgConf.get('effective_io_concurrency')).toBe('2');
  });
});

describe('pg_hba.conf', () => {
  it('has no trust line: every rule asks for a SCRAM password', () => {
    const { hba } = build();
    const rows = hbaRows(hba);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.at(-1)).toBe('scram-sha-256');
      expect(row.join(' ')).not.toMatch(/\btrust\b/);
    }
  });

  it('admits the socket, loopback and the database network, and replication from that network', () => {
    const { hba, model } = build();
    const rows = hbaRows(hba).map((r) => r.join(' '));
    const subnet = model.networks.database.subnet;
    expect(rows).toEqual([
      'local all all scram-sha-256',
      'local replication all scram-sha-256',
      'host all all 127.0.0.1/32 scram-sha-256',
      'host all all ::1/128 scram-sha-256',
      `host all all ${subnet} scram-sha-256`,
      `host replication all ${subnet} scram-sha-256`,
    ]);
    // The specification's dead 172.20 line (the internal network, where PostgreSQL is not) is gone.
    expect(hba).not.toContain(model.networks.internal.subnet);
  });
});

describe('init script', () => {
  it('is a strict bash script that takes the database, users and password from the environment', () => {
    const { init, model } = build({
      postgres: { database: 'school_db', user: 'school_owner', analyticsUser: 'reporting' },
    });
    const text = init.content;
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
    expect(text).not.toContain('school_db');
    expect(text).not.toContain('school_owner');
    expect(text).toContain('--username "$POSTGRES_USER" --dbname "$POSTGRES_DB"');
    expect(text).toContain('\\getenv analytics_password ANALYTICS_PASSWORD');
    expect(text).toContain("\\set analytics_user 'reporting'");
    expect(text).toMatch(/WHERE NOT EXISTS \(SELECT FROM pg_roles WHERE rolname = :'analytics_user'\)/);
    for (const ext of ['uuid-ossp', 'pgcrypto', 'pg_trgm'])
      expect(text).toContain(`CREATE EXTENSION IF NOT EXISTS "${ext}";`);
    // The heredoc is quoted: bash expands nothing inside the SQL.
    expect(text).toContain("<<'EOSQL'");
    expect(model.data.postgres.secretEnv).toContain('ANALYTICS_PASSWORD');
  });

  it('holds no password literal', () => {
    const { init } = build();
    expect(init.content).not.toMatch(/PASSWORD\s+'[^']*'/i);
    expect(init.content).not.toMatch(/-v\s+\S*password/i);
  });
});

describe('my.cnf (MySQL 8.4)', () => {
  const REMOVED = [
    'expire_logs_days',
    'symbolic-links',
    'symbolic_links',
    'skip-symbolic-links',
    'innodb_log_file_size',
    'innodb_log_files_in_group',
    'binlog_format',
    'log_queries_not_using_indexes',
    'default_authentication_plugin',
    'query_cache_type',
    'query_cache_size',
    'log_error',
    'log-error',
    'skip-host-cache',
  ];

  it('uses none of the options 8.4 removed or deprecated and logs errors to stderr (5)', () => {
    const { myLines } = build();
    const keys = myLines.map((l) => l.key);
    for (const key of REMOVED) expect(keys, key).not.toContain(key);
    for (const l of myLines) expect(l.value, l.key).not.toMatch(/^\/var\/log\//);
  });

  it('keeps the slow log in the datadir, binary logs for a week, utf8mb4 and the hardening options', () => {
    const { mysqld, model } = build({ mysql: { maxConnections: 321 } });
    const my = model.data.mysql;
    expect(mysqld.get('slow_query_log')).toBe('ON');
    expect(mysqld.get('slow_query_log_file')).toBe(my.container.slowLog);
    expect(my.container.slowLog.startsWith(`${my.container.dataDir}/`)).toBe(true);
    expect(mysqld.get('binlog_expire_logs_seconds')).toBe(String(7 * 24 * 3600));
    expect(mysqld.get('character_set_server')).toBe('utf8mb4');
    expect(mysqld.get('collation_server')).toBe('utf8mb4_unicode_ci');
    expect(mysqld.get('max_connections')).toBe('321');
    expect(mysqld.get('skip_name_resolve')).toBe('ON');
    expect(mysqld.get('local_infile')).toBe('OFF');
    expect(mysqld.get('datadir')).toBe(my.container.dataDir);
    expect(model.data.mysql.dataMounts[0]?.container).toBe(my.container.dataDir);
  });

  it('sizes InnoDB from the MySQL container limit', () => {
    const { mysqld, model } = build();
    // 25% of 16 GiB = 4096 MiB; pool = half, rounded to chunk x instances.
    expect(model.resources.mysql.memoryMiB).toBe(4096);
    expect(mysqld.get('innodb_buffer_pool_size')).toBe('2048M');
    expect(mysqld.get('innodb_buffer_pool_instances')).toBe('2');
    expect(mysqld.get('innodb_redo_log_capacity')).toBe('512M');
  });

  it('has a [client] section without a password', () => {
    const { myLines, model } = build();
    const client = kvMap(myLines, 'client');
    expect(client.get('socket')).toBe(model.data.mysql.container.socket);
    expect([...client.keys()].filter((k) => /pass/i.test(k))).toEqual([]);
  });
});

describe('redis.conf', () => {
  it('keeps maxmemory well below the container limit with a TTL-only eviction policy', () => {
    const { redis, model } = build();
    const limitMiB = model.resources.redis.memoryMiB;
    expect(redis.get('maxmemory')).toBe(`${redisMaxMemoryMiB(limitMiB)}mb`);
    const bytes = Number(/^(\d+)mb$/.exec(redis.get('maxmemory') ?? '')?.[1]) * MIB;
    expect(bytes).toBeLessThan(limitMiB * MIB);
    expect(bytes).toBeLessThanOrEqual(0.8 * limitMiB * MIB);
    expect(redis.get('maxmemory-policy')).toBe('volatile-lru');
  });

  it('stays in protected mode with a password supplied at run time, not in the file', () => {
    const { redis, redisLines, model } = build();
    expect(redis.get('bind')).toBe('0.0.0.0');
    expect(redis.get('protected-mode')).toBe('yes');
    expect(redisLines.map((l) => l.key)).not.toContain('requirepass');
    const r = model.data.redis;
    expect(r.secretEnv).toEqual(['REDIS_PASSWORD']);
    const [shell, flag, script] = r.command ?? [];
    expect([shell, flag]).toEqual(['sh', '-c']);
    // redis-server reads the password from stdin ("-"), started through the image entrypoint (user step-down).
    expect(script).toContain(`exec docker-entrypoint.sh redis-server ${r.container.configFile} - <<EOF`);
    expect(script).toContain('requirepass "$$REDIS_PASSWORD"');
    expect(r.configMounts).toEqual([{ source: r.files.conf, target: r.container.configFile }]);
  });

  it('uses the Redis 7 listpack names and keeps the specified persistence', () => {
    const { redis, redisLines } = build();
    expect([...redis.keys()].filter((k) => k.includes('ziplist'))).toEqual([]);
    expect(redis.get('hash-max-listpack-entries')).toBe('512');
    expect(redis.get('zset-max-listpack-value')).toBe('64');
    expect(redis.get('list-max-listpack-size')).toBe('-2');
    expect(redis.get('dir')).toBe('/data');
    expect(redis.has('pidfile')).toBe(false);
    expect(redis.get('appendonly')).toBe('yes');
    expect(redisLines.filter((l) => l.key === 'save').map((l) => l.value)).toEqual([
      '900 1',
      '300 10',
      '60 10000',
    ]);
    expect(redisLines.filter((l) => l.key === 'client-output-buffer-limit')).toHaveLength(3);
  });
});

describe('secrets', () => {
  it('puts no password-looking value in any rendered file', () => {
    const { files } = build();
    for (const f of files) {
      const dialect: KvDialect | null = f.path.endsWith('postgresql.conf')
        ? 'postgresql'
        : f.path.endsWith('my.cnf')
          ? 'mysql'
          : f.path.endsWith('redis.conf')
            ? 'redis'
            : null;
      if (dialect) {
        for (const l of parseKv(dialect, f.content)) {
          const secretish = /pass(word)?$|secret|token|auth$|requirepass|masterauth/i.test(l.key);
          expect(secretish && l.key !== 'password_encryption', `${f.path}: ${l.key}`).toBe(false);
        }
      }
      // A literal assignment (`X_PASSWORD=...`, not `${X_PASSWORD...}`), an SQL password literal, the specification's example value.
      expect(f.content, f.path).not.toMatch(/PASSWORD\s*=\s*(?!\$)\S|PASSWORD\s+'[^']*'|secure_\w*password/i);
    }
  });

  it('leaves every variable in compose strings escaped ($$) so the container shell expands it', () => {
    const { model } = build();
    for (const s of [model.data.postgres, model.data.mysql, model.data.redis]) {
      for (const text of [...s.healthcheck, ...(s.command ?? [])]) {
        expect(text.replace(/\$\$/g, ''), text).not.toContain('$');
      }
      for (const v of Object.values(s.environment)) expect(v).not.toMatch(/\$|pass/i);
    }
    expect(model.data.postgres.healthcheck).toEqual([
      'CMD-SHELL',
      'pg_isready -h 127.0.0.1 -U "$$POSTGRES_USER" -d "$$POSTGRES_DB"',
    ]);
    expect(model.data.mysql.healthcheck[1]).toContain(
      'MYSQL_PWD="$$MYSQL_ROOT_PASSWORD" mysqladmin ping -h 127.0.0.1',
    );
    expect(model.data.mysql.secretEnv).toEqual(['MYSQL_ROOT_PASSWORD', 'MYSQL_PASSWORD']);
    expect(model.data.postgres.secretEnv).toEqual(['POSTGRES_PASSWORD', 'ANALYTICS_PASSWORD']);
  });
});

describe('server memory 8 GiB vs 64 GiB: only the sizing keys change', () => {
  const SIZING: Record<string, string[]> = {
    postgresql: [
      'shared_buffers',
      'effective_cache_size',
      'maintenance_work_mem',
      'work_mem',
      'wal_buffers',
      'huge_pages',
    ],
    mysql: ['innodb_buffer_pool_size', 'innodb_buffer_pool_instances', 'innodb_redo_log_capacity'],
    redis: ['maxmemory'],
  };
  const small = build({ server: { memoryGiB: 8 } });
  const large = build({ server: { memoryGiB: 64 } });
  const cases: [KvDialect, (b: ReturnType<typeof build>) => string][] = [
    ['postgresql', (b) => b.file(b.model.data.postgres.files.conf).content],
    ['mysql', (b) => b.file(b.model.data.mysql.files.conf).content],
    ['redis', (b) => b.file(b.model.data.redis.files.conf).content],
  ];

  for (const [dialect, text] of cases) {
    it(`${dialect}: same keys in the same order; values differ only for sizing keys, and some do`, () => {
      const a = parseKv(dialect, text(small));
      const b = parseKv(dialect, text(large));
      expect(b.map((l) => `${l.section}/${l.key}`)).toEqual(a.map((l) => `${l.section}/${l.key}`));
      const changed = a.filter((l, i) => l.value !== b[i]?.value).map((l) => l.key);
      expect(changed.length).toBeGreaterThan(0);
      for (const key of changed) expect(SIZING[dialect], key).toContain(key);
    });
  }

  it('turns huge pages on for the 32 GiB PostgreSQL container only', () => {
    expect(small.pgConf.get('huge_pages')).toBe('off');
    expect(large.pgConf.get('huge_pages')).toBe('try');
    expect(small.pgConf.get('shared_buffers')).toBe('1GB');
    expect(large.pgConf.get('shared_buffers')).toBe('8GB');
  });
});
