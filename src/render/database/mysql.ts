import type { CoreModel } from '../../model/core.ts';
import type { DataModel, MysqlDataModel } from '../../model/data.ts';
import { type RenderedFile, textFile } from '../file.ts';
import { type KvSection, kv, serializeKv } from '../kv.ts';

type Input = CoreModel & { data: DataModel };

const mib = (n: number) => `${n}M`;

function myCnf(my: MysqlDataModel): string {
  const t = my.tuning;
  const sections: KvSection[] = [
    {
      comment:
        'MySQL 8.4 LTS. Options removed or deprecated since 8.0 are not used: binlog_expire_logs_seconds\n' +
        'replaces expire_logs_days, innodb_redo_log_capacity replaces innodb_log_file_size, binlog_format (ROW) and\n' +
        'symbolic-links are gone. No log_error: the error log goes to stderr, i.e. `docker logs`.',
      header: 'mysqld',
      entries: [
        kv('datadir', my.container.dataDir),
        kv('socket', my.container.socket),
        kv('port', my.port),
        kv('bind_address', '0.0.0.0'),
      ],
    },
    {
      comment: 'Character set',
      entries: [kv('character_set_server', 'utf8mb4'), kv('collation_server', 'utf8mb4_unicode_ci')],
    },
    {
      comment: 'Connections',
      entries: [
        kv('max_connections', my.maxConnections),
        kv('max_allowed_packet', '256M'),
        kv('wait_timeout', 600),
        kv('interactive_timeout', 600),
        kv('connect_timeout', 10),
      ],
    },
    {
      comment: 'InnoDB (sized from the container memory limit, not the host RAM)',
      entries: [
        kv('innodb_buffer_pool_size', mib(t.innodbBufferPoolSizeMiB)),
        kv('innodb_buffer_pool_instances', t.innodbBufferPoolInstances),
        kv('innodb_buffer_pool_chunk_size', mib(t.innodbBufferPoolChunkSizeMiB)),
        kv('innodb_redo_log_capacity', mib(t.innodbRedoLogCapacityMiB)),
        kv('innodb_log_buffer_size', '64M'),
        kv('innodb_flush_log_at_trx_commit', 1),
        kv('innodb_flush_method', 'O_DIRECT'),
        kv('innodb_file_per_table', true),
        kv('innodb_io_capacity', t.innodbIoCapacity),
        kv('innodb_io_capacity_max', t.innodbIoCapacityMax),
        kv('innodb_read_io_threads', t.innodbReadIoThreads),
        kv('innodb_write_io_threads', t.innodbWriteIoThreads),
      ],
    },
    {
      comment: 'Temporary tables',
      entries: [kv('tmp_table_size', '256M'), kv('max_heap_table_size', '256M')],
    },
    {
      comment: 'Binary log (point-in-time recovery); ROW format is the only one left in 8.4.',
      entries: [
        kv('server_id', 1),
        kv('log_bin', 'mysql-bin'),
        kv('binlog_expire_logs_seconds', my.binlogExpireSeconds),
        kv('max_binlog_size', '500M'),
        kv('sync_binlog', 1),
      ],
    },
    {
      comment:
        'Slow query log. The file lives in the datadir: the image has no /var/log/mysql, the datadir is always\n' +
        'writable and persistent, and an explicit name does not change with the container hostname. Queries\n' +
        'without indexes are not logged on their own: that floods the log with harmless small scans.',
      entries: [
        kv('slow_query_log', true),
        kv('slow_query_log_file', my.container.slowLog),
        kv('long_query_time', 2),
      ],
    },
    {
      comment: 'Monitoring and security',
      entries: [kv('performance_schema', true), kv('local_infile', false), kv('skip_name_resolve', true)],
    },
    {
      comment:
        'Clients inside the container (mysqladmin, mysqldump). No password here: it comes from the environment.',
      header: 'client',
      entries: [kv('socket', my.container.socket), kv('default-character-set', 'utf8mb4')],
    },
  ];
  return serializeKv('mysql', sections);
}

export function renderMysql(model: Input): RenderedFile[] {
  const my = model.data.mysql;
  return [textFile(my.files.conf, myCnf(my))];
}
