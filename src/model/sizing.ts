// Memory and I/O sizing for the stateful containers: PostgreSQL 17, MySQL 8.4 and Redis 7.
//
// Every function here is pure and takes the memory LIMIT OF THE CONTAINER (what compose sets as
// `mem_limit` / `deploy.resources.limits.memory`), never the host's RAM: on our shared host each database
// only owns its slice, and sizing from the host's RAM is how a container gets OOM-killed.

export type DiskKind = 'ssd' | 'hdd';

const KB_PER_MB = 1024;
const KB_PER_GB = 1024 * 1024;

// --------------------------------------------------------------------------------------------------------
// Input checks
// --------------------------------------------------------------------------------------------------------

function requirePositiveInteger(fn: string, name: string, value: number, what: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${fn}: ${name} must be a positive whole number (${what}); got ${String(value)}`);
  }
}

function requireDisk(fn: string, disk: string): void {
  if (disk !== 'ssd' && disk !== 'hdd') {
    throw new RangeError(`${fn}: disk must be 'ssd' or 'hdd'; got ${JSON.stringify(disk)}`);
  }
}

// --------------------------------------------------------------------------------------------------------
// PostgreSQL 17: PGTune, profile "web application", OS Linux, DB version 17
// --------------------------------------------------------------------------------------------------------
//
// Source read: le0pard/pgtune, src/features/configuration/configurationSlice.js at commit
// 7d204bdb87a83b9bbbafb354df1838b2be7870d9 (selectors selectSharedBuffers, selectEffectiveCacheSize,
// selectMaintenanceWorkMem, selectCheckpointSegments, selectCheckpointCompletionTarget, selectWalBuffers,
// selectDefaultStatisticsTarget, selectRandomPageCost, selectEffectiveIoConcurrency, selectParallelSettings,
// selectWorkMem, selectHugePages), src/features/configuration/constants.js at 53b104617a85 (DB version 17 is
// the default) and src/common/components/configurationView/index.jsx at 51a17a8844f2 (formatValue, which
// pgSize below reproduces). PGTune works in kB, from the total memory in kB, and floors every division.
//
// Where that file differs from a quick summary of PGTune, we follow the file:
// - work_mem = (RAM - shared_buffers) / ((max_connections + max_worker_processes) * 3); older PGTune
//   versions divided by max_parallel_workers_per_gather instead. max_worker_processes is the CPU count
//   when PGTune emits parallel settings (cpus >= 4), otherwise PostgreSQL's default of 8. Floor 64kB.
// - wal_buffers has a floor of 32kB besides the 16MB cap and the "round 14MB..16MB up to 16MB" rule.
// - huge_pages compares the memory in kB with 33554432 (32GB), inclusive.
// Later PGTune revisions change some of these (maintenance_work_mem cap, work_mem floor, huge_pages by
// shared_buffers); we pin to the revision cited above so that the figures are reproducible.

/** PostgreSQL's own defaults (v17), which PGTune leaves in place when it emits no parallel settings. */
const PG_DEFAULT_MAX_WORKER_PROCESSES = 8;
const PG_DEFAULT_MAX_PARALLEL_WORKERS = 8;
/** PostgreSQL 15+ default of hash_mem_multiplier: hash tables may use work_mem x 2. */
const PG_HASH_MEM_MULTIPLIER = 2;
/** Smallest /dev/shm we give the container (Docker's default is 64MB, too small for parallel hash joins). */
const PG_MIN_SHM_MIB = 256;

export interface PostgresTuningInput {
  /** Memory limit of the PostgreSQL container, in MiB. */
  memoryMiB: number;
  /** CPUs available to the container. */
  cpus: number;
  disk: DiskKind;
  maxConnections: number;
}

export interface PostgresParallelSettings {
  maxWorkerProcesses: number;
  maxParallelWorkersPerGather: number;
  maxParallelWorkers: number;
  maxParallelMaintenanceWorkers: number;
}

export interface PostgresTuning {
  maxConnections: number;
  sharedBuffersKb: number;
  effectiveCacheSizeKb: number;
  maintenanceWorkMemKb: number;
  checkpointCompletionTarget: number;
  walBuffersKb: number;
  defaultStatisticsTarget: number;
  randomPageCost: number;
  effectiveIoConcurrency: number;
  workMemKb: number;
  minWalSizeKb: number;
  maxWalSizeKb: number;
  hugePages: 'try' | 'off';
  /** null when cpus < 4: PGTune then emits no parallel settings and PostgreSQL's defaults apply. */
  parallel: PostgresParallelSettings | null;
  /** Size of the container's /dev/shm (compose `shm_size`), in MiB. */
  shmSizeMiB: number;
}

/**
 * Renders a size in kB the way PGTune does (and PostgreSQL accepts): the largest unit of GB, MB, kB that
 * loses no resolution. 4194304 -> '4GB', 20480 -> '20MB', 655 -> '655kB'.
 */
export function pgSize(kb: number): string {
  if (!Number.isInteger(kb) || kb < 0) {
    throw new RangeError(`pgSize: expected a whole, non-negative number of kB; got ${String(kb)}`);
  }
  if (kb % KB_PER_GB === 0) return `${kb / KB_PER_GB}GB`;
  if (kb % KB_PER_MB === 0) return `${kb / KB_PER_MB}MB`;
  return `${kb}kB`;
}

export function postgresTuning(input: PostgresTuningInput): PostgresTuning {
  const fn = 'postgresTuning';
  requirePositiveInteger(fn, 'memoryMiB', input.memoryMiB, 'the PostgreSQL container memory limit in MiB');
  requirePositiveInteger(fn, 'cpus', input.cpus, 'CPUs available to the PostgreSQL container');
  requirePositiveInteger(fn, 'maxConnections', input.maxConnections, 'PostgreSQL max_connections');
  requireDisk(fn, input.disk);

  const totalKb = input.memoryMiB * KB_PER_MB;

  const sharedBuffersKb = Math.floor(totalKb / 4);
  const effectiveCacheSizeKb = Math.floor((totalKb * 3) / 4);
  // Cap at 2GB "on servers with lots of memory" (Linux keeps exactly 2GB; Windows would take 1MB off).
  const maintenanceWorkMemKb = Math.min(Math.floor(totalKb / 16), 2 * KB_PER_GB);

  // wal_buffers: 3% of shared_buffers, capped at 16MB; 14MB < x < 16MB rounds up to 16MB; floor 32kB.
  const walMaxKb = 16 * KB_PER_MB;
  let walBuffersKb = Math.min(Math.floor((3 * sharedBuffersKb) / 100), walMaxKb);
  if (walBuffersKb > 14 * KB_PER_MB && walBuffersKb < walMaxKb) walBuffersKb = walMaxKb;
  if (walBuffersKb < 32) walBuffersKb = 32;

  // Parallel settings only from 4 CPUs; per-gather and maintenance workers ceil(cpus/2) capped at 4 for
  // every profile except data warehouse.
  const parallel: PostgresParallelSettings | null =
    input.cpus >= 4
      ? {
          maxWorkerProcesses: input.cpus,
          maxParallelWorkersPerGather: Math.min(Math.ceil(input.cpus / 2), 4),
          maxParallelWorkers: input.cpus,
          maxParallelMaintenanceWorkers: Math.min(Math.ceil(input.cpus / 2), 4),
        }
      : null;

  const workerProcesses = parallel?.maxWorkerProcesses ?? PG_DEFAULT_MAX_WORKER_PROCESSES;
  const workMemKb = Math.max(
    64,
    Math.floor((totalKb - sharedBuffersKb) / ((input.maxConnections + workerProcesses) * 3)),
  );

  // /dev/shm. shared_buffers does NOT live there: PostgreSQL allocates its main shared memory with an
  // anonymous mmap (shared_memory_type = mmap). What does live there is dynamic shared memory
  // (dynamic_shared_memory_type = posix, the Linux default): parallel query state and, above all, the
  // shared hash tables of parallel hash joins, each sized up to work_mem x hash_mem_multiplier (2) per
  // participating process. Docker's default 64MB /dev/shm makes such queries fail with "could not resize
  // shared memory segment ... No space left on device". We size for every parallel worker running one
  // such hash at once: work_mem x 2 x max_parallel_workers, at least 256MiB. A tmpfs only takes memory
  // when written, but what is written is charged to the container's memory cgroup, so we cap it at a
  // quarter of the container limit: a runaway query then gets a clean error from PostgreSQL instead of
  // the whole container being OOM-killed.
  const parallelWorkers = parallel?.maxParallelWorkers ?? PG_DEFAULT_MAX_PARALLEL_WORKERS;
  const shmWantedMiB = Math.ceil((workMemKb * PG_HASH_MEM_MULTIPLIER * parallelWorkers) / KB_PER_MB);
  const shmSizeMiB = Math.min(Math.max(PG_MIN_SHM_MIB, shmWantedMiB), Math.floor(input.memoryMiB / 4));

  return {
    maxConnections: input.maxConnections,
    sharedBuffersKb,
    effectiveCacheSizeKb,
    maintenanceWorkMemKb,
    checkpointCompletionTarget: 0.9,
    walBuffersKb,
    defaultStatisticsTarget: 100,
    randomPageCost: input.disk === 'ssd' ? 1.1 : 4,
    effectiveIoConcurrency: input.disk === 'ssd' ? 200 : 2,
    workMemKb,
    minWalSizeKb: 1 * KB_PER_GB,
    maxWalSizeKb: 4 * KB_PER_GB,
    hugePages: totalKb >= 32 * KB_PER_GB ? 'try' : 'off',
    parallel,
    shmSizeMiB,
  };
}

// --------------------------------------------------------------------------------------------------------
// Redis 7
// --------------------------------------------------------------------------------------------------------

/**
 * maxmemory for Redis: 75% of the container limit, rounded down to a whole MiB (2048 -> 1536).
 * The other 25% is headroom that maxmemory does not count: the copy-on-write pages of the child forked for
 * BGSAVE and AOF rewrite (every key written during the fork duplicates its page), client output and
 * replication buffers, and allocator fragmentation.
 */
export function redisMaxMemoryMiB(containerLimitMiB: number): number {
  requirePositiveInteger(
    'redisMaxMemoryMiB',
    'containerLimitMiB',
    containerLimitMiB,
    'the Redis container memory limit in MiB',
  );
  return Math.floor((containerLimitMiB * 3) / 4);
}

/**
 * Eviction policy: only keys that carry a TTL may be evicted, least recently used first. Cache entries are
 * written with a TTL, so they make room under pressure; sessions stored without a TTL are never evicted
 * (logging users out at random would be worse than a write error that alerts us the budget is too small).
 */
export const redisMaxMemoryPolicy = 'volatile-lru';

// --------------------------------------------------------------------------------------------------------
// MySQL 8.4 (LTS)
// --------------------------------------------------------------------------------------------------------

const MYSQL_CHUNK_MIB = 128; // innodb_buffer_pool_chunk_size default
const MIB_PER_GIB = 1024;

export interface MysqlTuningInput {
  /** Memory limit of the MySQL container, in MiB. */
  memoryMiB: number;
  /** CPUs available to the container. */
  cpus: number;
  disk: DiskKind;
  /** Passed through to max_connections when given. */
  maxConnections?: number;
}

export interface MysqlTuning {
  innodbBufferPoolSizeMiB: number;
  innodbBufferPoolInstances: number;
  innodbBufferPoolChunkSizeMiB: number;
  /** MySQL 8.0.30+ (and so 8.4): replaces innodb_log_file_size / innodb_log_files_in_group. */
  innodbRedoLogCapacityMiB: number;
  innodbIoCapacity: number;
  innodbIoCapacityMax: number;
  innodbReadIoThreads: number;
  innodbWriteIoThreads: number;
  maxConnections?: number;
}

/**
 * InnoDB sizing for MySQL 8.4 in a container (innodb_dedicated_server is not used: it would size from the
 * host's RAM).
 * - innodb_buffer_pool_size: 50% of the limit, a multiple of chunk (128MiB) x instances, because MySQL
 *   rounds any other value UP to such a multiple. From 1GiB on, instances = min(8, floor(pool / 1GiB)).
 * - innodb_redo_log_capacity: 25% of the pool, clamped to [100MiB (the 8.4 default), 8GiB].
 * - innodb_io_capacity / _max: 2000 / 4000 on SSD, 200 / 400 on HDD (explicit: 8.4 raised the defaults
 *   to 10000 / 2 x innodb_io_capacity, which suits fast NVMe, not every disk).
 * - innodb_read_io_threads / innodb_write_io_threads: cpus clamped to [4, 16].
 */
export function mysqlTuning(input: MysqlTuningInput): MysqlTuning {
  const fn = 'mysqlTuning';
  requirePositiveInteger(fn, 'memoryMiB', input.memoryMiB, 'the MySQL container memory limit in MiB');
  requirePositiveInteger(fn, 'cpus', input.cpus, 'CPUs available to the MySQL container');
  requireDisk(fn, input.disk);
  if (input.maxConnections !== undefined) {
    requirePositiveInteger(fn, 'maxConnections', input.maxConnections, 'MySQL max_connections');
  }

  const half = Math.floor(input.memoryMiB / 2);
  let pool = Math.floor(half / MYSQL_CHUNK_MIB) * MYSQL_CHUNK_MIB;
  if (pool < MYSQL_CHUNK_MIB) {
    throw new RangeError(
      `${fn}: memoryMiB ${input.memoryMiB} is too small: half of it must hold one 128MiB buffer pool chunk; ` +
        `give the MySQL container at least ${2 * MYSQL_CHUNK_MIB} MiB`,
    );
  }
  let instances = 1;
  if (pool >= MIB_PER_GIB) {
    instances = Math.min(8, Math.floor(pool / MIB_PER_GIB));
    const unit = MYSQL_CHUNK_MIB * instances;
    // Rounding down keeps pool >= instances GiB: 128 x instances divides instances x 1024.
    pool = Math.floor(pool / unit) * unit;
  }

  const redo = Math.min(8 * MIB_PER_GIB, Math.max(100, Math.floor(pool / 4)));
  const ioThreads = Math.min(16, Math.max(4, input.cpus));
  const ssd = input.disk === 'ssd';

  return {
    innodbBufferPoolSizeMiB: pool,
    innodbBufferPoolInstances: instances,
    innodbBufferPoolChunkSizeMiB: MYSQL_CHUNK_MIB,
    innodbRedoLogCapacityMiB: redo,
    innodbIoCapacity: ssd ? 2000 : 200,
    innodbIoCapacityMax: ssd ? 4000 : 400,
    innodbReadIoThreads: ioThreads,
    innodbWriteIoThreads: ioThreads,
    ...(input.maxConnections !== undefined ? { maxConnections: input.maxConnections } : {}),
  };
}
