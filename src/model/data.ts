import type { CoreModel } from './core.ts';
import {
  type MysqlTuning,
  mysqlTuning,
  type PostgresTuning,
  postgresTuning,
  redisMaxMemoryMiB,
  redisMaxMemoryPolicy,
} from './sizing.ts';

// The data services' own decisions: which files configure them, where those files and the data live in the
// container and on the host, which secrets each needs at run time, how compose starts and health-checks them,
// and their sizing (from the container's memory limit, never the host's RAM).

/** A rendered file or directory bind-mounted read-only into a container. */
export interface ConfigMount {
  /** Path in the rendered tree (relative to infrastructure/). */
  source: string;
  target: string;
}

/** Data bind-mounted read-write from the host. */
export interface DataMount {
  host: string;
  container: string;
  /** Numeric owner the directory must have on the host (the image's service user). */
  uid: number;
}

export interface HbaRule {
  type: 'local' | 'host';
  database: string;
  user: string;
  /** CIDR, host rules only. */
  address?: string;
  method: 'scram-sha-256';
  comment: string;
}

/**
 * What compose needs to run one data service. Strings in `command` and `healthcheck` are ready for a
 * compose file: `$$` stops compose from interpolating, so the container's shell expands the variable from
 * its own environment and the secret never lands in the rendered file or in `docker inspect`'s command.
 */
export interface ServiceRuntime {
  image: string;
  /** Compose `command`, or null for the image's default. */
  command: readonly string[] | null;
  /** Plain environment values (no secrets). */
  environment: Readonly<Record<string, string>>;
  /** Variables the env file (model.paths.envFile) must define; compose passes them through as `${NAME}`. */
  secretEnv: readonly string[];
  healthcheck: readonly string[];
  configMounts: readonly ConfigMount[];
  dataMounts: readonly DataMount[];
}

export interface PostgresDataModel extends ServiceRuntime {
  files: { conf: string; hba: string; initDir: string; initScript: string };
  container: {
    configFile: string;
    hbaFile: string;
    /** Mount point of the host data directory. */
    dataMount: string;
    /** PGDATA: a sub-directory, so initdb never sees the mount point's lost+found. */
    dataDir: string;
    initDir: string;
    /** Target of archive_command when WAL archiving is on. */
    walArchiveDir: string;
  };
  port: number;
  database: string;
  user: string;
  analyticsUser: string;
  extensions: readonly string[];
  sharedPreloadLibraries: readonly string[];
  walArchiving: boolean;
  hba: readonly HbaRule[];
  tuning: PostgresTuning;
  /** Compose `shm_size` in MiB (parallel query shared memory lives in /dev/shm). */
  shmSizeMiB: number;
  timezone: string;
}

export interface MysqlDataModel extends ServiceRuntime {
  files: { conf: string };
  container: { configFile: string; dataDir: string; socket: string; slowLog: string };
  port: number;
  database: string;
  user: string;
  maxConnections: number;
  binlogExpireSeconds: number;
  tuning: MysqlTuning;
  /** No init script: the image itself creates MYSQL_DATABASE and MYSQL_USER, which is all Gibbon needs. */
  initScripts: null;
}

export interface RedisDataModel extends ServiceRuntime {
  files: { conf: string };
  container: { configFile: string; dataDir: string };
  port: number;
  containerLimitMiB: number;
  maxMemoryMiB: number;
  maxMemoryPolicy: string;
}

export interface DataModel {
  postgres: PostgresDataModel;
  mysql: MysqlDataModel;
  redis: RedisDataModel;
}

/** Uid of the service user in the official images (alpine postgres uses 70, Debian-based ones 999). */
const postgresUid = (image: string) => (/-alpine/.test(image) ? 70 : 999);
const MYSQL_UID = 999;
const REDIS_UID = 999;

/** Binary logs are kept for a week , long enough to replay past a daily dump. */
const BINLOG_EXPIRE_DAYS = 7;

/** postgresTuning counts whole CPUs; a fractional compose limit (0.5) still gives PostgreSQL one. */
const wholeCpus = (cpus: number) => Math.max(1, Math.floor(cpus));

function buildPostgres(core: CoreModel): PostgresDataModel {
  const { config } = core;
  const res = core.resources.postgres;
  const tuning = postgresTuning({
    memoryMiB: res.memoryMiB,
    cpus: wholeCpus(res.cpus),
    disk: config.server.disk,
    maxConnections: config.postgres.maxConnections,
  });
  const uid = postgresUid(config.images.postgres);
  const container = {
    configFile: '/etc/postgresql/postgresql.conf',
    hbaFile: '/etc/postgresql/pg_hba.conf',
    dataMount: '/var/lib/postgresql/data',
    dataDir: '/var/lib/postgresql/data/pgdata',
    initDir: '/docker-entrypoint-initdb.d',
    walArchiveDir: '/var/lib/postgresql/wal-archive',
  };
  const files = {
    conf: 'database/postgresql/postgresql.conf',
    hba: 'database/postgresql/pg_hba.conf',
    initDir: 'database/postgresql/init-scripts',
    initScript: 'database/postgresql/init-scripts/01-init.sh',
  };
  const subnet = core.networks.database.subnet;
  const hba: HbaRule[] = [
    {
      type: 'local',
      database: 'all',
      user: 'all',
      method: 'scram-sha-256',
      comment: 'Unix socket inside the container',
    },
    {
      type: 'local',
      database: 'replication',
      user: 'all',
      method: 'scram-sha-256',
      comment: 'pg_basebackup inside the container ("all" does not match replication)',
    },
    {
      type: 'host',
      database: 'all',
      user: 'all',
      address: '127.0.0.1/32',
      method: 'scram-sha-256',
      comment: 'loopback',
    },
    {
      type: 'host',
      database: 'all',
      user: 'all',
      address: '::1/128',
      method: 'scram-sha-256',
      comment: 'loopback',
    },
    {
      type: 'host',
      database: 'all',
      user: 'all',
      address: subnet,
      method: 'scram-sha-256',
      comment: `the ${core.networks.database.name} network`,
    },
    {
      type: 'host',
      database: 'replication',
      user: 'all',
      address: subnet,
      method: 'scram-sha-256',
      comment: 'streaming replication / base backups from the database network (roles with REPLICATION only)',
    },
  ];
  return {
    image: config.images.postgres,
    command: ['postgres', '-c', `config_file=${container.configFile}`],
    environment: {
      POSTGRES_USER: config.postgres.user,
      POSTGRES_DB: config.postgres.database,
      PGDATA: container.dataDir,
    },
    secretEnv: ['POSTGRES_PASSWORD', 'ANALYTICS_PASSWORD'],
    // -h 127.0.0.1: during first initialisation the entrypoint runs a temporary server on the Unix socket
    // only; checking over TCP keeps the service unhealthy until the real server is up.
    healthcheck: ['CMD-SHELL', 'pg_isready -h 127.0.0.1 -U "$$POSTGRES_USER" -d "$$POSTGRES_DB"'],
    configMounts: [
      { source: files.conf, target: container.configFile },
      { source: files.hba, target: container.hbaFile },
      { source: files.initDir, target: container.initDir },
    ],
    dataMounts: [
      { host: `${core.paths.data}/postgres`, container: container.dataMount, uid },
      ...(config.postgres.walArchiving
        ? [{ host: `${core.paths.backups}/postgres/wal-archive`, container: container.walArchiveDir, uid }]
        : []),
    ],
    files,
    container,
    port: core.endpoints.postgres.port,
    database: config.postgres.database,
    user: config.postgres.user,
    analyticsUser: config.postgres.analyticsUser,
    extensions: ['uuid-ossp', 'pgcrypto', 'pg_trgm', 'pg_stat_statements'],
    sharedPreloadLibraries: ['pg_stat_statements'],
    walArchiving: config.postgres.walArchiving,
    hba,
    tuning,
    shmSizeMiB: tuning.shmSizeMiB,
    timezone: config.timezone,
  };
}

function buildMysql(core: CoreModel): MysqlDataModel {
  const { config } = core;
  const res = core.resources.mysql;
  const container = {
    configFile: '/etc/mysql/conf.d/my.cnf',
    dataDir: '/var/lib/mysql',
    socket: '/var/run/mysqld/mysqld.sock',
    // The image creates no /var/log/mysql; the datadir is the one directory mysqld can
    // always write, it persists, and it is MySQL's own default place for this file.
    slowLog: '/var/lib/mysql/slow.log',
  };
  const files = { conf: 'database/mysql/my.cnf' };
  return {
    image: config.images.mysql,
    command: null,
    environment: {
      MYSQL_DATABASE: config.mysql.database,
      MYSQL_USER: config.mysql.user,
      TZ: config.timezone,
    },
    secretEnv: ['MYSQL_ROOT_PASSWORD', 'MYSQL_PASSWORD'],
    // The entrypoint's temporary server runs with --skip-networking, so TCP ping waits for the real one.
    healthcheck: [
      'CMD-SHELL',
      'MYSQL_PWD="$$MYSQL_ROOT_PASSWORD" mysqladmin ping -h 127.0.0.1 -uroot --silent',
    ],
    configMounts: [{ source: files.conf, target: container.configFile }],
    dataMounts: [{ host: `${core.paths.data}/mysql`, container: container.dataDir, uid: MYSQL_UID }],
    files,
    container,
    port: core.endpoints.mysql.port,
    database: config.mysql.database,
    user: config.mysql.user,
    maxConnections: config.mysql.maxConnections,
    binlogExpireSeconds: BINLOG_EXPIRE_DAYS * 24 * 60 * 60,
    tuning: mysqlTuning({ memoryMiB: res.memoryMiB, cpus: wholeCpus(res.cpus), disk: config.server.disk }),
    initScripts: null,
  };
}

function buildRedis(core: CoreModel): RedisDataModel {
  const { config } = core;
  const limit = core.resources.redis.memoryMiB;
  const container = { configFile: '/usr/local/etc/redis/redis.conf', dataDir: '/data' };
  const files = { conf: 'redis/redis.conf' };
  // The password reaches redis-server on stdin (`redis-server <conf> -` reads extra config lines from
  // stdin): never in a file, never in an argv. `exec docker-entrypoint.sh redis-server ...` keeps the
  // image's step-down from root to the redis user. The heredoc wraps the value in double quotes, so it
  // must not contain `"` or `\` (it goes into REDIS_URL too: use letters and digits).
  const startup = [
    `exec docker-entrypoint.sh redis-server ${container.configFile} - <<EOF`,
    'requirepass "$$REDIS_PASSWORD"',
    'EOF',
  ].join('\n');
  return {
    image: config.images.redis,
    command: ['sh', '-c', startup],
    environment: {},
    secretEnv: ['REDIS_PASSWORD'],
    healthcheck: ['CMD-SHELL', 'REDISCLI_AUTH="$$REDIS_PASSWORD" redis-cli ping | grep -q PONG'],
    configMounts: [{ source: files.conf, target: container.configFile }],
    dataMounts: [{ host: `${core.paths.data}/redis`, container: container.dataDir, uid: REDIS_UID }],
    files,
    container,
    port: core.endpoints.redis.port,
    containerLimitMiB: limit,
    maxMemoryMiB: redisMaxMemoryMiB(limit),
    maxMemoryPolicy: redisMaxMemoryPolicy,
  };
}

export function buildDataModel(core: CoreModel): DataModel {
  return { postgres: buildPostgres(core), mysql: buildMysql(core), redis: buildRedis(core) };
}
