import { describe, expect, it } from 'vitest';
import { kv, kvMap, parseKv, serializeKv, splitRedisArgs } from '../../src/render/kv.ts';

describe('serializeKv: postgresql.conf', () => {
  it('quotes strings the PostgreSQL way and leaves numbers, units and booleans bare', () => {
    const text = serializeKv('postgresql', [
      {
        entries: [
          kv('listen_addresses', '*'),
          kv('shared_buffers', '2GB'),
          kv('checkpoint_timeout', '15min'),
          kv('random_page_cost', 1.1),
          kv('logging_collector', false),
          kv('log_checkpoints', true),
          kv('archive_command', "cp %p '/a b/%f' \\x"),
        ],
      },
    ]);
    expect(text).toContain("listen_addresses = '*'\n");
    expect(text).toContain('shared_buffers = 2GB\n');
    expect(text).toContain('checkpoint_timeout = 15min\n');
    expect(text).toContain('random_page_cost = 1.1\n');
    expect(text).toContain('logging_collector = off\n');
    expect(text).toContain('log_checkpoints = on\n');
    expect(text).toContain("archive_command = 'cp %p ''/a b/%f'' \\\\x'\n");
  });

  it('round-trips values through its parser', () => {
    const value = "it's a \\ test # not a comment";
    const lines = parseKv(
      'postgresql',
      serializeKv('postgresql', [{ entries: [kv('application_name', value)] }]),
    );
    expect(kvMap(lines).get('application_name')).toBe(value);
  });

  it('prints comments as whole lines above sections and entries, separated by blank lines', () => {
    const text = serializeKv('postgresql', [
      { comment: 'Memory\nsecond line', entries: [kv('work_mem', '4MB', 'why')] },
      { entries: [kv('port', 5432)] },
    ]);
    expect(text).toBe('# Memory\n# second line\n# why\nwork_mem = 4MB\n\nport = 5432\n');
    expect(parseKv('postgresql', text).map((l) => l.key)).toEqual(['work_mem', 'port']);
  });

  it('rejects what postgresql.conf cannot hold', () => {
    expect(() => serializeKv('postgresql', [{ entries: [kv('Bad Key', 1)] }])).toThrow(/not a valid key/);
    expect(() => serializeKv('postgresql', [{ entries: [kv('save', [1, 2])] }])).toThrow(/exactly one value/);
    expect(() => serializeKv('postgresql', [{ entries: [kv('x', 'a\nb')] }])).toThrow(/span lines/);
    expect(() => serializeKv('postgresql', [{ entries: [kv('x', 1e21)] }])).toThrow(/exponent/);
    expect(() => serializeKv('postgresql', [{ header: 'mysqld', entries: [] }])).toThrow(/only in my.cnf/);
  });
});

describe('serializeKv: my.cnf', () => {
  it('writes [section] headers and ON/OFF booleans; the parser keeps entries per section', () => {
    const text = serializeKv('mysql', [
      {
        header: 'mysqld',
        entries: [kv('skip_name_resolve', true), kv('local_infile', false), kv('port', 3306)],
      },
      { comment: 'more', entries: [kv('init_connect', 'SET NAMES utf8mb4')] },
      { header: 'client', entries: [kv('socket', '/var/run/mysqld/mysqld.sock')] },
    ]);
    expect(text).toContain('[mysqld]\nskip_name_resolve = ON\nlocal_infile = OFF\nport = 3306\n');
    expect(text).toContain('init_connect = "SET NAMES utf8mb4"');
    const lines = parseKv('mysql', text);
    expect(kvMap(lines, 'mysqld').get('init_connect')).toBe('SET NAMES utf8mb4');
    expect(kvMap(lines, 'mysqld').has('socket')).toBe(false);
    expect(kvMap(lines, 'client').get('socket')).toBe('/var/run/mysqld/mysqld.sock');
  });

  it('refuses values it cannot quote safely', () => {
    expect(() => serializeKv('mysql', [{ entries: [kv('x', 'a"b')] }])).toThrow(/not supported/);
  });
});

describe('serializeKv: redis.conf', () => {
  it('writes `key arg...`, repeats keys, quotes empty and spaced arguments, yes/no booleans', () => {
    const text = serializeKv('redis', [
      {
        entries: [
          kv('save', [900, 1]),
          kv('save', [60, 10000]),
          kv('logfile', ''),
          kv('appendonly', true),
          kv('protected-mode', true),
          kv('daemonize', false),
          kv('masteruser', 'a "b" c'),
        ],
      },
    ]);
    expect(text).toContain(
      'save 900 1\nsave 60 10000\nlogfile ""\nappendonly yes\nprotected-mode yes\ndaemonize no\n',
    );
    const lines = parseKv('redis', text);
    expect(lines.filter((l) => l.key === 'save').map((l) => l.args)).toEqual([
      ['900', '1'],
      ['60', '10000'],
    ]);
    expect(kvMap(lines).get('logfile')).toBe('');
    expect(kvMap(lines).get('masteruser')).toBe('a "b" c');
  });

  it('splits arguments like sdssplitargs', () => {
    expect(splitRedisArgs('client-output-buffer-limit pubsub 32mb 8mb 60')).toEqual([
      'client-output-buffer-limit',
      'pubsub',
      '32mb',
      '8mb',
      '60',
    ]);
    expect(splitRedisArgs("k \"a\\x41\\n\" 'it\\'s'")).toEqual(['k', 'aA\n', "it's"]);
    expect(() => splitRedisArgs('k "open')).toThrow(/unterminated/);
    expect(() => splitRedisArgs('k "a"b')).toThrow(/followed by a space/);
  });

  it('needs at least one argument', () => {
    expect(() => serializeKv('redis', [{ entries: [kv('save', [])] }])).toThrow(/at least one value/);
  });
});
