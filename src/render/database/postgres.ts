import type { CoreModel } from '../../model/core.ts';
import type { DataModel, HbaRule, PostgresDataModel } from '../../model/data.ts';
import { pgSize } from '../../model/sizing.ts';
import { type RenderedFile, scriptFile, textFile } from '../file.ts';
import { type KvSection, kv, serializeKv } from '../kv.ts';

type Input = CoreModel & { data: DataModel };

function postgresqlConf(pg: PostgresDataModel): string {
  const t = pg.tuning;
  const sections: KvSection[] = [
    {
      comment: 'Connections',
      entries: [
        kv(
          'listen_addresses',
          '*',
          'Reachable only on the internal database network; pg_hba.conf decides who may log in.',
        ),
        kv('port', pg.port),
        kv('max_connections', t.maxConnections),
        kv('superuser_reserved_connections', 3),
        kv(
          'hba_file',
          pg.container.hbaFile,
          'The mounted pg_hba.conf, not the one initdb wrote into PGDATA.',
        ),
      ],
    },
    {
      comment: 'Memory (PGTune, web application, from the container memory limit, not the host RAM)',
      entries: [
        kv('shared_buffers', pgSize(t.sharedBuffersKb)),
        kv('effective_cache_size', pgSize(t.effectiveCacheSizeKb)),
        kv('maintenance_work_mem', pgSize(t.maintenanceWorkMemKb)),
        kv('work_mem', pgSize(t.workMemKb)),
        kv('wal_buffers', pgSize(t.walBuffersKb)),
        kv('huge_pages', t.hugePages),
        kv('temp_buffers', '32MB'),
        kv('max_prepared_transactions', 0),
      ],
    },
    {
      comment: 'Query planner',
      entries: [
        kv('random_page_cost', t.randomPageCost),
        kv('effective_io_concurrency', t.effectiveIoConcurrency),
        kv('default_statistics_target', t.defaultStatisticsTarget),
      ],
    },
    ...(t.parallel
      ? [
          {
            comment: 'Parallel query',
            entries: [
              kv('max_worker_processes', t.parallel.maxWorkerProcesses),
              kv('max_parallel_workers_per_gather', t.parallel.maxParallelWorkersPerGather),
              kv('max_parallel_workers', t.parallel.maxParallelWorkers),
              kv('max_parallel_maintenance_workers', t.parallel.maxParallelMaintenanceWorkers),
            ],
          },
        ]
      : []),
    {
      comment: 'Write-ahead log',
      entries: [
        kv('wal_level', 'replica'),
        kv('min_wal_size', pgSize(t.minWalSizeKb)),
        kv('max_wal_size', pgSize(t.maxWalSizeKb)),
        kv('checkpoint_completion_target', t.checkpointCompletionTarget),
        kv('checkpoint_timeout', '15min'),
        ...(pg.walArchiving
          ? [
              kv('archive_mode', true),
              kv(
                'archive_command',
                `test ! -f ${pg.container.walArchiveDir}/%f && cp %p ${pg.container.walArchiveDir}/%f`,
                'Never overwrite an archived segment; a failure makes PostgreSQL retry and keep the segment.',
              ),
            ]
          : [
              kv(
                'archive_mode',
                false,
                'Off until config.postgres.walArchiving brings a mounted archive target (\n' +
                  'an archive_command without one fails forever and pg_wal grows until the disk is full).',
              ),
            ]),
        kv('max_wal_senders', 3),
        kv('wal_keep_size', '1GB'),
      ],
    },
    {
      comment:
        'Logging: to stderr only, so `docker logs` and the log shipper see it (the collector\n' +
        'hid the logs in PGDATA).',
      entries: [
        kv('log_destination', 'stderr'),
        kv('logging_collector', false),
        kv('log_line_prefix', '%m [%p] %q%u@%d '),
        kv('log_timezone', pg.timezone),
        kv('log_min_duration_statement', '500ms'),
        kv('log_checkpoints', true),
        kv('log_connections', true),
        kv('log_disconnections', true),
        kv('log_lock_waits', true),
        kv('log_temp_files', 0),
      ],
    },
    {
      comment: 'Autovacuum',
      entries: [
        kv('autovacuum', true),
        kv('autovacuum_max_workers', 4),
        kv('autovacuum_naptime', '1min'),
        kv('autovacuum_vacuum_threshold', 50),
        kv('autovacuum_analyze_threshold', 50),
        kv('autovacuum_vacuum_scale_factor', 0.05),
        kv('autovacuum_analyze_scale_factor', 0.02),
        kv('autovacuum_vacuum_cost_delay', '2ms'),
        kv('autovacuum_vacuum_cost_limit', 1000),
      ],
    },
    {
      comment: 'Security',
      entries: [
        kv('ssl', false, 'Traffic stays on the internal database network; TLS ends at nginx.'),
        kv('password_encryption', 'scram-sha-256'),
      ],
    },
    {
      comment:
        'Locale and time. No lc_* settings: initdb fixes them from the image locale when the cluster is created,\n' +
        'and a locale the host lacks would stop the server.',
      entries: [kv('default_text_search_config', 'pg_catalog.english'), kv('timezone', pg.timezone)],
    },
    {
      comment: 'Statistics',
      entries: [kv('shared_preload_libraries', pg.sharedPreloadLibraries.join(','))],
    },
  ];
  return serializeKv('postgresql', sections);
}

function hbaConf(rules: readonly HbaRule[]): string {
  const rows = rules.map((r) => [r.type, r.database, r.user, r.address ?? '', r.method]);
  const header = ['# TYPE', 'DATABASE', 'USER', 'ADDRESS', 'METHOD'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const body = rules.flatMap((r, i) => [`# ${r.comment}`, line(rows[i] as string[])]);
  return [
    '# First matching line wins. Every login needs a SCRAM password; there is no trust line.',
    '',
    line(header),
    ...body,
  ].join('\n');
}

/** `: "${NAME:?message}"`: the script stops with the message when the variable is unset or empty. */
const requireEnv = (name: string, message: string) => `: "\${${name}:?${message}}"`;

/** SQL identifiers in the script come from the validated config (a PostgreSQL identifier pattern). */
function initScript(pg: PostgresDataModel): string {
  const extensions = pg.extensions.map((e) => `CREATE EXTENSION IF NOT EXISTS "${e}";`);
  return [
    '#!/usr/bin/env bash',
    '# Runs once, when the entrypoint initialises an empty data directory. The database and the superuser come',
    '# from POSTGRES_DB / POSTGRES_USER, the analytics password from ANALYTICS_PASSWORD: psql reads it with',
    '# \\getenv, so it is in no file and in no argv. Safe to run again: every step is idempotent.',
    'set -euo pipefail',
    '',
    requireEnv('POSTGRES_USER', 'POSTGRES_USER must be set'),
    requireEnv('POSTGRES_DB', 'POSTGRES_DB must be set'),
    requireEnv('ANALYTICS_PASSWORD', 'ANALYTICS_PASSWORD must be set in the env file'),
    '',
    'psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<\'EOSQL\'',
    ...extensions,
    '',
    `\\set analytics_user '${pg.analyticsUser}'`,
    '\\getenv analytics_password ANALYTICS_PASSWORD',
    '',
    '-- Read-only role for analytics: created if missing, password (re)set from the environment.',
    "SELECT format('CREATE ROLE %I LOGIN', :'analytics_user')",
    " WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'analytics_user') \\gexec",
    "SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD %L',",
    "              :'analytics_user', :'analytics_password') \\gexec",
    "SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', :'analytics_user') \\gexec",
    "SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'analytics_user') \\gexec",
    "SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'analytics_user') \\gexec",
    "SELECT format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', :'analytics_user') \\gexec",
    '-- Tables the application creates later (as POSTGRES_USER) become readable too.',
    "SELECT format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO %I', :'analytics_user') \\gexec",
    'EOSQL',
  ].join('\n');
}

export function renderPostgres(model: Input): RenderedFile[] {
  const pg = model.data.postgres;
  return [
    textFile(pg.files.conf, postgresqlConf(pg)),
    textFile(pg.files.hba, hbaConf(pg.hba)),
    scriptFile(pg.files.initScript, initScript(pg)),
  ];
}
