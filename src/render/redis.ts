import type { CoreModel } from '../model/core.ts';
import type { DataModel, RedisDataModel } from '../model/data.ts';
import { type RenderedFile, textFile } from './file.ts';
import { type KvSection, kv, serializeKv } from './kv.ts';

type Input = CoreModel & { data: DataModel };

function redisConf(r: RedisDataModel): string {
  const sections: KvSection[] = [
    {
      comment:
        'Network. protected-mode stays on: it lets non-loopback clients in only because a password is set\n' +
        '. requirepass is not in this file: the container command feeds it to redis-server on\n' +
        'stdin from REDIS_PASSWORD, so it is in no file and no argv.',
      entries: [
        kv('bind', '0.0.0.0'),
        kv('port', r.port),
        kv('protected-mode', true),
        kv('tcp-backlog', 511),
        kv('timeout', 0),
        kv('tcp-keepalive', 300),
      ],
    },
    {
      comment: 'General: in the foreground, logging to stdout (`docker logs`).',
      entries: [
        kv('daemonize', false),
        kv('loglevel', 'notice'),
        kv('logfile', ''),
        kv('databases', 16),
        kv('always-show-logo', false),
      ],
    },
    {
      comment: 'Persistence: RDB snapshots',
      entries: [
        kv('save', [900, 1]),
        kv('save', [300, 10]),
        kv('save', [60, 10000]),
        kv('stop-writes-on-bgsave-error', true),
        kv('rdbcompression', true),
        kv('rdbchecksum', true),
        kv('dbfilename', 'dump.rdb'),
        kv('dir', r.container.dataDir),
      ],
    },
    {
      comment: 'Persistence: append-only file',
      entries: [
        kv('appendonly', true),
        kv('appendfilename', 'appendonly.aof'),
        kv('appendfsync', 'everysec'),
        kv('no-appendfsync-on-rewrite', false),
        kv('auto-aof-rewrite-percentage', 100),
        kv('auto-aof-rewrite-min-size', '64mb'),
        kv('aof-load-truncated', true),
        kv('aof-use-rdb-preamble', true),
      ],
    },
    {
      comment:
        `Memory: ${r.maxMemoryMiB} MiB of the container's ${r.containerLimitMiB} MiB. The rest is for the\n` +
        'fork of BGSAVE / AOF rewrite, client buffers and fragmentation. Only keys with a TTL are evicted, so\n' +
        'sessions stored without one are never dropped.',
      entries: [
        kv('maxmemory', `${r.maxMemoryMiB}mb`),
        kv('maxmemory-policy', r.maxMemoryPolicy),
        kv('maxmemory-samples', 5),
      ],
    },
    {
      comment: 'Lazy freeing',
      entries: [
        kv('lazyfree-lazy-eviction', true),
        kv('lazyfree-lazy-expire', true),
        kv('lazyfree-lazy-server-del', true),
        kv('replica-lazy-flush', true),
      ],
    },
    {
      comment: 'Clients, slow log, latency',
      entries: [
        kv('maxclients', 10000),
        kv('slowlog-log-slower-than', 10000),
        kv('slowlog-max-len', 128),
        kv('latency-monitor-threshold', 100),
        kv('notify-keyspace-events', ''),
      ],
    },
    {
      comment: 'Encodings (Redis 7 names: listpack replaced ziplist)',
      entries: [
        kv('hash-max-listpack-entries', 512),
        kv('hash-max-listpack-value', 64),
        kv('list-max-listpack-size', -2),
        kv('list-compress-depth', 0),
        kv('set-max-intset-entries', 512),
        kv('zset-max-listpack-entries', 128),
        kv('zset-max-listpack-value', 64),
        kv('hll-sparse-max-bytes', 3000),
        kv('stream-node-max-bytes', 4096),
        kv('stream-node-max-entries', 100),
        kv('activerehashing', true),
      ],
    },
    {
      comment: 'Advanced',
      entries: [
        kv('client-output-buffer-limit', ['normal', 0, 0, 0]),
        kv('client-output-buffer-limit', ['replica', '256mb', '64mb', 60]),
        kv('client-output-buffer-limit', ['pubsub', '32mb', '8mb', 60]),
        kv('hz', 10),
        kv('dynamic-hz', true),
        kv('aof-rewrite-incremental-fsync', true),
        kv('rdb-save-incremental-fsync', true),
      ],
    },
  ];
  return serializeKv('redis', sections);
}

export function renderRedis(model: Input): RenderedFile[] {
  const r = model.data.redis;
  return [textFile(r.files.conf, redisConf(r))];
}
