import { describe, expect, it } from 'vitest';
import {
  mysqlTuning,
  pgSize,
  postgresTuning,
  redisMaxMemoryMiB,
  redisMaxMemoryPolicy,
} from '../../src/model/sizing.ts';

// Budgets on one server: PostgreSQL 50% of RAM, MySQL 25%, Redis 12.5%.
const GiB = 1024; // in MiB
const budget = (serverGiB: number) => ({
  postgres: (serverGiB * GiB) / 2,
  mysql: (serverGiB * GiB) / 4,
  redis: (serverGiB * GiB) / 8,
});

describe('pgSize (PGTune formatValue)', () => {
  it('uses the largest unit that loses no resolution', () => {
    expect(pgSize(4194304)).toBe('4GB');
    expect(pgSize(20480)).toBe('20MB');
    expect(pgSize(655)).toBe('655kB');
    expect(pgSize(1572864)).toBe('1536MB'); // 1.5GB is not a whole number of GB
    expect(pgSize(1025)).toBe('1025kB');
  });

  it('rejects fractional and negative sizes', () => {
    expect(() => pgSize(1.5)).toThrow(RangeError);
    expect(() => pgSize(-1)).toThrow(/non-negative number of kB/);
  });
});

describe('postgresTuning: servers of 4, 8, 16 and 64 GiB (container = 50% of RAM)', () => {
  // Expected figures worked by hand from PGTune's formulas, memory in kB = MiB x 1024.
  it('4 GiB server: 2048 MiB container, 2 cpus, ssd, 200 connections', () => {
    expect(budget(4).postgres).toBe(2048);
    const t = postgresTuning({ memoryMiB: 2048, cpus: 2, disk: 'ssd', maxConnections: 200 });
    // RAM = 2097152 kB
    expect(t.sharedBuffersKb).toBe(524288); // /4
    expect(pgSize(t.sharedBuffersKb)).toBe('512MB');
    expect(t.effectiveCacheSizeKb).toBe(1572864); // *3/4
    expect(pgSize(t.effectiveCacheSizeKb)).toBe('1536MB');
    expect(pgSize(t.maintenanceWorkMemKb)).toBe('128MB'); // /16 = 131072
    // 3% of 524288 = 15728 kB: between 14MB and 16MB, so rounded up to 16MB
    expect(t.walBuffersKb).toBe(16384);
    expect(pgSize(t.walBuffersKb)).toBe('16MB');
    // no parallel settings under 4 cpus: PostgreSQL's default max_worker_processes 8 is used
    // (2097152 - 524288) / ((200 + 8) * 3) = 1572864 / 624 = 2520.6
    expect(t.parallel).toBeNull();
    expect(t.workMemKb).toBe(2520);
    expect(pgSize(t.workMemKb)).toBe('2520kB');
    expect(t.hugePages).toBe('off');
    // 2520 kB x 2 x 8 workers = 39.4 MiB -> floor 256 MiB (cap 512)
    expect(t.shmSizeMiB).toBe(256);
  });

  it('8 GiB server: 4096 MiB container, 4 cpus, ssd, 200 connections', () => {
    expect(budget(8).postgres).toBe(4096);
    const t = postgresTuning({ memoryMiB: 4096, cpus: 4, disk: 'ssd', maxConnections: 200 });
    expect(pgSize(t.sharedBuffersKb)).toBe('1GB');
    expect(pgSize(t.effectiveCacheSizeKb)).toBe('3GB');
    expect(pgSize(t.maintenanceWorkMemKb)).toBe('256MB');
    expect(pgSize(t.walBuffersKb)).toBe('16MB'); // 3% of 1GB = 31457 kB, capped
    expect(t.parallel).toEqual({
      maxWorkerProcesses: 4,
      maxParallelWorkersPerGather: 2,
      maxParallelWorkers: 4,
      maxParallelMaintenanceWorkers: 2,
    });
    // 3145728 / ((200 + 4) * 3) = 3145728 / 612 = 5140.08
    expect(pgSize(t.workMemKb)).toBe('5140kB');
    expect(t.hugePages).toBe('off');
    expect(t.shmSizeMiB).toBe(256); // 5140 x 2 x 4 = 40.2 MiB -> 256
  });

  it('16 GiB server: 8192 MiB container, 8 cpus, ssd, 200 connections', () => {
    expect(budget(16).postgres).toBe(8192);
    const t = postgresTuning({ memoryMiB: 8192, cpus: 8, disk: 'ssd', maxConnections: 200 });
    expect(pgSize(t.sharedBuffersKb)).toBe('2GB');
    expect(pgSize(t.effectiveCacheSizeKb)).toBe('6GB');
    expect(pgSize(t.maintenanceWorkMemKb)).toBe('512MB');
    expect(pgSize(t.walBuffersKb)).toBe('16MB');
    expect(t.parallel).toEqual({
      maxWorkerProcesses: 8,
      maxParallelWorkersPerGather: 4,
      maxParallelWorkers: 8,
      maxParallelMaintenanceWorkers: 4,
    });
    // 6291456 / ((200 + 8) * 3) = 6291456 / 624 = 10082.5
    expect(pgSize(t.workMemKb)).toBe('10082kB');
    expect(t.hugePages).toBe('off');
    expect(t.shmSizeMiB).toBe(256); // 10082 x 2 x 8 = 157.5 MiB -> 256
  });

  it('64 GiB server: 32768 MiB container, 16 cpus, ssd, 200 connections', () => {
    expect(budget(64).postgres).toBe(32768);
    const t = postgresTuning({ memoryMiB: 32768, cpus: 16, disk: 'ssd', maxConnections: 200 });
    expect(pgSize(t.sharedBuffersKb)).toBe('8GB');
    expect(pgSize(t.effectiveCacheSizeKb)).toBe('24GB');
    expect(pgSize(t.maintenanceWorkMemKb)).toBe('2GB'); // 32GB / 16 = 2GB, at the cap
    expect(pgSize(t.walBuffersKb)).toBe('16MB');
    expect(t.parallel).toEqual({
      maxWorkerProcesses: 16,
      maxParallelWorkersPerGather: 4, // ceil(16/2) = 8, capped at 4
      maxParallelWorkers: 16,
      maxParallelMaintenanceWorkers: 4,
    });
    // 25165824 / ((200 + 16) * 3) = 25165824 / 648 = 38836.1
    expect(pgSize(t.workMemKb)).toBe('38836kB');
    expect(t.hugePages).toBe('try'); // 33554432 kB >= 32GB
    // 38836 kB x 2 x 16 = 1242752 kB = 1213.6 MiB -> 1214 (cap 8192)
    expect(t.shmSizeMiB).toBe(1214);
  });

  it('8 GiB container, 4 cpus, ssd, 200 connections (the example of the brief)', () => {
    const t = postgresTuning({ memoryMiB: 8192, cpus: 4, disk: 'ssd', maxConnections: 200 });
    expect(t.maxConnections).toBe(200);
    expect(pgSize(t.sharedBuffersKb)).toBe('2GB');
    expect(pgSize(t.effectiveCacheSizeKb)).toBe('6GB');
    expect(pgSize(t.maintenanceWorkMemKb)).toBe('512MB');
    expect(t.checkpointCompletionTarget).toBe(0.9);
    expect(pgSize(t.walBuffersKb)).toBe('16MB');
    expect(t.defaultStatisticsTarget).toBe(100);
    expect(t.randomPageCost).toBe(1.1);
    expect(t.effectiveIoConcurrency).toBe(200);
    // 6291456 / 612 = 10280.2
    expect(pgSize(t.workMemKb)).toBe('10280kB');
    expect(pgSize(t.minWalSizeKb)).toBe('1GB');
    expect(pgSize(t.maxWalSizeKb)).toBe('4GB');
    expect(t.parallel?.maxParallelWorkersPerGather).toBe(2);
  });
});

describe('postgresTuning: rules at the edges', () => {
  it('hdd: random_page_cost 4, effective_io_concurrency 2', () => {
    const t = postgresTuning({ memoryMiB: 8192, cpus: 8, disk: 'hdd', maxConnections: 200 });
    expect(t.randomPageCost).toBe(4);
    expect(t.effectiveIoConcurrency).toBe(2);
  });

  it('wal_buffers below 14MB stays at 3% of shared_buffers', () => {
    // 1024 MiB: shared_buffers 262144 kB, 3% = 7864.32 -> 7864 kB
    const t = postgresTuning({ memoryMiB: 1024, cpus: 2, disk: 'ssd', maxConnections: 100 });
    expect(pgSize(t.walBuffersKb)).toBe('7864kB');
  });

  it('tiny budgets hit the floors: wal_buffers 32kB, work_mem 64kB, shm capped at a quarter', () => {
    // 4 MiB: shared_buffers 1024 kB, wal 3% = 30 kB -> 32 kB; work_mem 3072 / 624 = 4 -> 64 kB
    const t = postgresTuning({ memoryMiB: 4, cpus: 1, disk: 'ssd', maxConnections: 200 });
    expect(t.walBuffersKb).toBe(32);
    expect(t.workMemKb).toBe(64);
    expect(t.shmSizeMiB).toBe(1);
  });

  it('maintenance_work_mem is capped at 2GB', () => {
    // 65536 MiB / 16 = 4GB -> 2GB
    const t = postgresTuning({ memoryMiB: 65536, cpus: 16, disk: 'ssd', maxConnections: 200 });
    expect(pgSize(t.maintenanceWorkMemKb)).toBe('2GB');
  });

  it('huge_pages switches to try at exactly 32GB', () => {
    const base = { cpus: 4, disk: 'ssd', maxConnections: 100 } as const;
    expect(postgresTuning({ ...base, memoryMiB: 32767 }).hugePages).toBe('off');
    expect(postgresTuning({ ...base, memoryMiB: 32768 }).hugePages).toBe('try');
  });

  it('parallel settings start at 4 cpus; ceil(cpus/2) for odd counts', () => {
    const base = { memoryMiB: 4096, disk: 'ssd', maxConnections: 100 } as const;
    expect(postgresTuning({ ...base, cpus: 3 }).parallel).toBeNull();
    expect(postgresTuning({ ...base, cpus: 5 }).parallel).toEqual({
      maxWorkerProcesses: 5,
      maxParallelWorkersPerGather: 3,
      maxParallelWorkers: 5,
      maxParallelMaintenanceWorkers: 3,
    });
  });
});

describe('postgresTuning: monotonicity', () => {
  const sizes = [512, 1024, 2048, 3000, 4096, 8192, 12288, 16384, 32768, 65536, 131072];

  it('every memory figure grows (or stays) with the container limit', () => {
    for (const cpus of [2, 4, 16]) {
      const all = sizes.map((memoryMiB) =>
        postgresTuning({ memoryMiB, cpus, disk: 'ssd', maxConnections: 200 }),
      );
      for (let i = 1; i < all.length; i++) {
        const [a, b] = [all[i - 1], all[i]];
        if (!a || !b) throw new Error('unreachable');
        expect(b.sharedBuffersKb).toBeGreaterThan(a.sharedBuffersKb);
        expect(b.effectiveCacheSizeKb).toBeGreaterThan(a.effectiveCacheSizeKb);
        expect(b.maintenanceWorkMemKb).toBeGreaterThanOrEqual(a.maintenanceWorkMemKb);
        expect(b.walBuffersKb).toBeGreaterThanOrEqual(a.walBuffersKb);
        expect(b.workMemKb).toBeGreaterThanOrEqual(a.workMemKb);
        expect(b.shmSizeMiB).toBeGreaterThanOrEqual(a.shmSizeMiB);
      }
    }
  });

  it('work_mem shrinks as connections grow', () => {
    const wm = [50, 100, 200, 400, 800].map(
      (maxConnections) => postgresTuning({ memoryMiB: 8192, cpus: 4, disk: 'ssd', maxConnections }).workMemKb,
    );
    expect([...wm].sort((x, y) => y - x)).toEqual(wm);
    expect(new Set(wm).size).toBe(wm.length);
  });

  it('the budget holds: shared_buffers + work_mem x 3 per connection stays within the container', () => {
    for (const memoryMiB of sizes) {
      const t = postgresTuning({ memoryMiB, cpus: 8, disk: 'ssd', maxConnections: 200 });
      expect(t.sharedBuffersKb + t.workMemKb * 3 * (200 + 8)).toBeLessThanOrEqual(memoryMiB * 1024);
      expect(t.shmSizeMiB).toBeLessThanOrEqual(memoryMiB / 4);
    }
  });
});

describe('postgresTuning: invalid input', () => {
  const ok = { memoryMiB: 4096, cpus: 4, disk: 'ssd', maxConnections: 200 } as const;

  it('rejects non-positive memory with a RangeError that names the field', () => {
    expect(() => postgresTuning({ ...ok, memoryMiB: 0 })).toThrow(RangeError);
    expect(() => postgresTuning({ ...ok, memoryMiB: -1024 })).toThrow(
      /postgresTuning: memoryMiB must be a positive whole number \(the PostgreSQL container memory limit in MiB\); got -1024/,
    );
    expect(() => postgresTuning({ ...ok, memoryMiB: Number.NaN })).toThrow(/memoryMiB .* got NaN/);
  });

  it('rejects bad cpus, connections and disk kinds', () => {
    expect(() => postgresTuning({ ...ok, cpus: 0 })).toThrow(/cpus must be a positive whole number/);
    expect(() => postgresTuning({ ...ok, maxConnections: 2.5 })).toThrow(/maxConnections/);
    // @ts-expect-error: testing a value the type forbids, as it may come from untyped config
    expect(() => postgresTuning({ ...ok, disk: 'nvme' })).toThrow(/disk must be 'ssd' or 'hdd'; got "nvme"/);
  });
});

describe('redis', () => {
  it('maxmemory is 75% of the container limit (container = 12.5% of RAM)', () => {
    expect(budget(4).redis).toBe(512);
    expect(redisMaxMemoryMiB(512)).toBe(384);
    expect(redisMaxMemoryMiB(budget(8).redis)).toBe(768);
    expect(redisMaxMemoryMiB(budget(16).redis)).toBe(1536);
    expect(redisMaxMemoryMiB(budget(64).redis)).toBe(6144);
    expect(redisMaxMemoryMiB(2048)).toBe(1536);
  });

  it('rounds down to a whole MiB', () => {
    expect(redisMaxMemoryMiB(1001)).toBe(750); // 750.75
    expect(redisMaxMemoryMiB(1)).toBe(0);
  });

  it('is monotonic', () => {
    let previous = 0;
    for (let limit = 1; limit <= 20000; limit += 7) {
      const m = redisMaxMemoryMiB(limit);
      expect(m).toBeGreaterThanOrEqual(previous);
      expect(m).toBeLessThan(limit);
      previous = m;
    }
  });

  it('rejects non-positive limits', () => {
    expect(() => redisMaxMemoryMiB(0)).toThrow(RangeError);
    expect(() => redisMaxMemoryMiB(-5)).toThrow(/redisMaxMemoryMiB: containerLimitMiB must be a positive/);
  });

  it('evicts only keys with a TTL', () => {
    expect(redisMaxMemoryPolicy).toBe('volatile-lru');
  });
});

describe('mysqlTuning: servers of 4, 8, 16 and 64 GiB (container = 25% of RAM)', () => {
  it('4 GiB server: 1024 MiB container, 2 cpus', () => {
    expect(budget(4).mysql).toBe(1024);
    expect(mysqlTuning({ memoryMiB: 1024, cpus: 2, disk: 'ssd' })).toEqual({
      innodbBufferPoolSizeMiB: 512, // 50% = 512, a multiple of 128, under 1GiB: one instance
      innodbBufferPoolInstances: 1,
      innodbBufferPoolChunkSizeMiB: 128,
      innodbRedoLogCapacityMiB: 128, // 512 / 4
      innodbIoCapacity: 2000,
      innodbIoCapacityMax: 4000,
      innodbReadIoThreads: 4, // clamp(2, 4, 16)
      innodbWriteIoThreads: 4,
    });
  });

  it('8 GiB server: 2048 MiB container, 4 cpus', () => {
    expect(budget(8).mysql).toBe(2048);
    const t = mysqlTuning({ memoryMiB: 2048, cpus: 4, disk: 'ssd' });
    expect(t.innodbBufferPoolSizeMiB).toBe(1024);
    expect(t.innodbBufferPoolInstances).toBe(1); // floor(1024 / 1024)
    expect(t.innodbRedoLogCapacityMiB).toBe(256);
    expect(t.innodbReadIoThreads).toBe(4);
  });

  it('16 GiB server: 4096 MiB container, 8 cpus', () => {
    expect(budget(16).mysql).toBe(4096);
    const t = mysqlTuning({ memoryMiB: 4096, cpus: 8, disk: 'ssd' });
    expect(t.innodbBufferPoolSizeMiB).toBe(2048);
    expect(t.innodbBufferPoolInstances).toBe(2);
    expect(t.innodbRedoLogCapacityMiB).toBe(512);
    expect(t.innodbReadIoThreads).toBe(8);
    expect(t.innodbWriteIoThreads).toBe(8);
  });

  it('64 GiB server: 16384 MiB container, 16 cpus', () => {
    expect(budget(64).mysql).toBe(16384);
    const t = mysqlTuning({ memoryMiB: 16384, cpus: 16, disk: 'ssd' });
    expect(t.innodbBufferPoolSizeMiB).toBe(8192);
    expect(t.innodbBufferPoolInstances).toBe(8);
    expect(t.innodbRedoLogCapacityMiB).toBe(2048);
    expect(t.innodbReadIoThreads).toBe(16);
  });
});

describe('mysqlTuning: rules at the edges', () => {
  it('rounds the pool down to chunk x instances', () => {
    // 3000 -> 1500 -> 11 chunks = 1408; 1 instance
    expect(mysqlTuning({ memoryMiB: 3000, cpus: 4, disk: 'ssd' })).toMatchObject({
      innodbBufferPoolSizeMiB: 1408,
      innodbBufferPoolInstances: 1,
      innodbRedoLogCapacityMiB: 352,
    });
    // 5000 -> 2500 -> 19 chunks = 2432; 2 instances -> multiple of 256 = 2304
    expect(mysqlTuning({ memoryMiB: 5000, cpus: 4, disk: 'ssd' })).toMatchObject({
      innodbBufferPoolSizeMiB: 2304,
      innodbBufferPoolInstances: 2,
      innodbRedoLogCapacityMiB: 576,
    });
    // 7000 -> 3500 -> 27 chunks = 3456; 3 instances -> multiple of 384 = 3456
    expect(mysqlTuning({ memoryMiB: 7000, cpus: 4, disk: 'ssd' })).toMatchObject({
      innodbBufferPoolSizeMiB: 3456,
      innodbBufferPoolInstances: 3,
    });
  });

  it('clamps the redo log capacity to [100MiB, 8GiB]', () => {
    expect(mysqlTuning({ memoryMiB: 512, cpus: 1, disk: 'ssd' }).innodbRedoLogCapacityMiB).toBe(100); // 256/4=64
    expect(mysqlTuning({ memoryMiB: 256, cpus: 1, disk: 'ssd' }).innodbBufferPoolSizeMiB).toBe(128);
    const big = mysqlTuning({ memoryMiB: 131072, cpus: 64, disk: 'ssd' });
    expect(big.innodbBufferPoolSizeMiB).toBe(65536);
    expect(big.innodbBufferPoolInstances).toBe(8);
    expect(big.innodbRedoLogCapacityMiB).toBe(8192); // 16384 clamped
    expect(big.innodbReadIoThreads).toBe(16); // clamp(64, 4, 16)
  });

  it('hdd io capacity and max_connections pass-through', () => {
    const t = mysqlTuning({ memoryMiB: 4096, cpus: 4, disk: 'hdd', maxConnections: 150 });
    expect(t.innodbIoCapacity).toBe(200);
    expect(t.innodbIoCapacityMax).toBe(400);
    expect(t.maxConnections).toBe(150);
    expect('maxConnections' in mysqlTuning({ memoryMiB: 4096, cpus: 4, disk: 'hdd' })).toBe(false);
  });

  it('the pool is always a multiple of chunk x instances and grows with memory', () => {
    let previous = 0;
    for (let memoryMiB = 256; memoryMiB <= 70000; memoryMiB += 97) {
      const t = mysqlTuning({ memoryMiB, cpus: 4, disk: 'ssd' });
      expect(t.innodbBufferPoolSizeMiB % (128 * t.innodbBufferPoolInstances)).toBe(0);
      expect(t.innodbBufferPoolSizeMiB).toBeLessThanOrEqual(memoryMiB / 2);
      // each instance keeps at least 1GiB once there are several
      const floor = t.innodbBufferPoolInstances === 1 ? 128 : t.innodbBufferPoolInstances * 1024;
      expect(t.innodbBufferPoolSizeMiB).toBeGreaterThanOrEqual(floor);
      expect(t.innodbBufferPoolSizeMiB).toBeGreaterThanOrEqual(previous);
      previous = t.innodbBufferPoolSizeMiB;
    }
  });

  it('rejects non-positive or too small memory', () => {
    expect(() => mysqlTuning({ memoryMiB: 0, cpus: 4, disk: 'ssd' })).toThrow(RangeError);
    expect(() => mysqlTuning({ memoryMiB: -1, cpus: 4, disk: 'ssd' })).toThrow(
      /mysqlTuning: memoryMiB must be a positive whole number/,
    );
    expect(() => mysqlTuning({ memoryMiB: 255, cpus: 4, disk: 'ssd' })).toThrow(
      /give the MySQL container at least 256 MiB/,
    );
    expect(() => mysqlTuning({ memoryMiB: 1024, cpus: 4, disk: 'ssd', maxConnections: 0 })).toThrow(
      /maxConnections/,
    );
  });
});
