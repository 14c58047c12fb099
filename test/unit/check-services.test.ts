import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { relabel, tail } from '../../src/check/tools/services/common.ts';
import { checkCronField, checkCronFile, isCronFile } from '../../src/check/tools/services/cron.ts';
import { checkDaemonJson } from '../../src/check/tools/services/docker-daemon.ts';
import {
  fail2banErrors,
  fail2banLogpaths,
  globExists,
  replaceLogpaths,
} from '../../src/check/tools/services/fail2ban.ts';
import { logrotateErrors } from '../../src/check/tools/services/logrotate.ts';
import { checkMysqlOptions, classifyMysqlOption } from '../../src/check/tools/services/mysql.ts';
import { mysql84Options, mysqlRetired } from '../../src/check/tools/services/mysql-options.ts';
import {
  PG_NEWER_GUCS,
  parsePgSettings,
  pgQuantity,
  planPostgresMemory,
  rewritePostgresConf,
  settingMatches,
  versionFindings,
} from '../../src/check/tools/services/postgres.ts';
import {
  REDIS_NEWER_DIRECTIVES,
  redisBytes,
  redisDirectives,
  redisLaunchFromCompose,
  rewriteRedisConf,
} from '../../src/check/tools/services/redis.ts';
import { mainSshdConfig, sshdMismatches, sshdSettings } from '../../src/check/tools/services/sshd.ts';
import { parseSysctl, sysctlAllowance, sysctlPath } from '../../src/check/tools/services/sysctl.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { buildModel } from '../../src/model/index.ts';
import { renderTree } from '../../src/render/index.ts';
import { parseKv } from '../../src/render/kv.ts';

const model = buildModel(validateConfig({}));
const tree = new Map(renderTree(model).map((f) => [f.path, f.content]));
const rendered = (path: string) => {
  const text = tree.get(path);
  if (text === undefined) throw new Error(`${path} not rendered`);
  return text;
};

describe('postgres: the copy of postgresql.conf', () => {
  const conf = [
    '# head',
    "listen_addresses = '*'",
    'port = 5432',
    "hba_file = '/etc/x'",
    'shared_buffers = 2GB',
    '',
  ].join('\n');

  it('rewrites only the given keys, in place, and appends the ones the file lacks', () => {
    const out = rewritePostgresConf(conf, {
      listen_addresses: "'127.0.0.1'",
      port: '5999',
      unix_socket_directories: "'/tmp/d'",
    });
    const lines = out.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      '# head',
      "listen_addresses = '127.0.0.1'",
      'port = 5999',
      "hba_file = '/etc/x'",
      'shared_buffers = 2GB',
    ]);
    const parsed = new Map(parseKv('postgresql', out).map((l) => [l.key, l]));
    expect(parsed.get('unix_socket_directories')?.value).toBe('/tmp/d');
    expect(parsed.get('shared_buffers')?.line).toBe(5);
  });

  it('replaces every occurrence of a repeated key and comments out unknown-to-this-version keys', () => {
    const out = rewritePostgresConf('port = 1\nio_combine_limit = 128kB\nport = 2\n', { port: '3' }, [
      'io_combine_limit',
    ]);
    expect(out).toBe('port = 3\n#io_combine_limit = 128kB\nport = 3\n');
  });

  it('leaves the file untouched when nothing is asked', () => {
    expect(rewritePostgresConf(conf, {})).toBe(conf);
  });
});

describe('postgres: comparing pg_settings with the file', () => {
  const row = (name: string, setting: string, unit: string, vartype: string) => ({
    name,
    setting,
    unit,
    vartype,
  });

  it('reads units the way PostgreSQL does', () => {
    expect(pgQuantity('2GB')).toEqual({ kind: 'memory', base: 2 * 1024 ** 3 });
    expect(pgQuantity('15min')).toEqual({ kind: 'time', base: 15 * 60 * 1e6 });
    expect(pgQuantity('lots')).toBeNull();
    expect(pgQuantity('200')).toBeNull();
  });

  it('matches memory and time settings across units', () => {
    expect(settingMatches('2GB', row('shared_buffers', '262144', '8kB', 'integer'))).toBe(true);
    expect(settingMatches('1GB', row('shared_buffers', '262144', '8kB', 'integer'))).toBe(false);
    expect(settingMatches('10280kB', row('work_mem', '10280', 'kB', 'integer'))).toBe(true);
    expect(settingMatches('15min', row('checkpoint_timeout', '900', 's', 'integer'))).toBe(true);
    expect(settingMatches('500ms', row('log_min_duration_statement', '500', 'ms', 'integer'))).toBe(true);
    expect(settingMatches('2ms', row('autovacuum_vacuum_cost_delay', '2', 'ms', 'real'))).toBe(true);
    // A bare number is in the setting's own unit.
    expect(settingMatches('16384', row('shared_buffers', '16384', '8kB', 'integer'))).toBe(true);
    // A memory unit for a time setting is not a match.
    expect(settingMatches('1MB', row('checkpoint_timeout', '900', 's', 'integer'))).toBe(false);
  });

  it('matches booleans, reals, enums, octal integers and strings', () => {
    expect(settingMatches('on', row('autovacuum', 'on', '', 'bool'))).toBe(true);
    expect(settingMatches('true', row('autovacuum', 'on', '', 'bool'))).toBe(true);
    expect(settingMatches('off', row('autovacuum', 'on', '', 'bool'))).toBe(false);
    expect(settingMatches('1.1', row('random_page_cost', '1.1', '', 'real'))).toBe(true);
    expect(settingMatches('Replica', row('wal_level', 'replica', '', 'enum'))).toBe(true);
    expect(settingMatches('0777', row('unix_socket_permissions', '511', '', 'integer'))).toBe(true);
    expect(settingMatches('asia/dhaka', row('TimeZone', 'Asia/Dhaka', '', 'string'))).toBe(true);
    // Trailing blanks of a string matter (log_line_prefix).
    expect(settingMatches('%m ', row('log_line_prefix', '%m ', '', 'string'))).toBe(true);
    expect(settingMatches('%m ', row('log_line_prefix', '%m', '', 'string'))).toBe(false);
  });

  it('parses psql output without losing a trailing blank', () => {
    const out = `log_line_prefix\x1f%m x \x1f\x1fstring\x1fend\x1eport\x1f5432\x1f\x1finteger\x1fend`;
    const map = parsePgSettings(out);
    expect(map.get('log_line_prefix')?.setting).toBe('%m x ');
    expect(map.get('port')).toEqual({ name: 'port', setting: '5432', unit: '', vartype: 'integer' });
  });
});

describe('postgres: memory and versions', () => {
  const conf = new Map([
    ['shared_buffers', '2GB'],
    ['wal_buffers', '16MB'],
  ]);

  it('keeps the rendered memory when the machine can hold it', () => {
    expect(planPostgresMemory(conf, 8 * 1024 ** 3)).toEqual({ set: {}, notes: [] });
  });

  it('scales shared_buffers down, with a note, when it cannot', () => {
    const plan = planPostgresMemory(conf, 1024 ** 3);
    expect(plan.set.shared_buffers).toBe('944MB');
    expect(plan.notes[0]).toMatch(/shared_buffers scaled from 2GB to 944MB/);
    expect(planPostgresMemory(conf, 100 * 1024 ** 2).set.shared_buffers).toBe('128MB');
  });

  it('comments out 16/17-only settings on 15 and fails on settings 17 removed', () => {
    const found = versionFindings(
      ['io_combine_limit', 'scram_iterations', 'force_parallel_mode', 'port'],
      15,
    );
    expect(found.commentOut).toEqual(['io_combine_limit', 'scram_iterations']);
    expect(found.notes).toHaveLength(2);
    expect(found.problems[0]).toMatch(
      /force_parallel_mode was removed in PostgreSQL 16.*debug_parallel_query/,
    );
    expect(versionFindings(['io_combine_limit'], 17).commentOut).toEqual([]);
  });

  it('renders no setting that PostgreSQL 15 cannot read', () => {
    const keys = parseKv('postgresql', rendered(model.data.postgres.files.conf)).map((l) => l.key);
    expect(keys.length).toBeGreaterThan(30);
    expect(keys.filter((k) => k in PG_NEWER_GUCS)).toEqual([]);
    expect(versionFindings(keys, 15)).toEqual({ commentOut: [], notes: [], problems: [] });
  });
});

describe('redis: launching like compose', () => {
  it('reads arguments and stdin lines from the compose command, expanding the password', () => {
    const launch = redisLaunchFromCompose(model.data.redis.command, { REDIS_PASSWORD: 'abc123' });
    expect(launch.args).toEqual([model.data.redis.container.configFile, '-']);
    expect(launch.stdin).toEqual(['requirepass "abc123"']);
  });

  it('keeps a quoted heredoc literal and rejects commands it cannot read', () => {
    const quoted = ['sh', '-c', 'exec redis-server /c -  <<\'EOF\'\nrequirepass "$$P"\nEOF'];
    expect(redisLaunchFromCompose(quoted, {}).stdin).toEqual(['requirepass "$P"']);
    expect(() =>
      redisLaunchFromCompose(['sh', '-c', 'exec redis-server /c - <<EOF\nx $$MISSING\nEOF'], {}),
    ).toThrow(/MISSING/);
    expect(() => redisLaunchFromCompose(['bash', 'x'], {})).toThrow(/not `sh -c/);
    expect(redisLaunchFromCompose(['redis-server', '/c'], {})).toEqual({ args: ['/c'], stdin: [] });
  });

  it('relocates path directives and comments out newer ones, keeping line numbers', () => {
    const text = 'port 6379\ndir /data\nlogfile ""\npidfile /run/r.pid\nlocale-collate ""\n';
    const out = rewriteRedisConf(text, '/tmp/t');
    expect(out.text.split('\n')).toEqual([
      'port 6379',
      'dir /tmp/t',
      'logfile ""',
      'pidfile /tmp/t/redis.pid',
      '# locale-collate ""',
      '',
    ]);
    expect(out.relocated).toEqual(['dir /data', 'pidfile /run/r.pid']);
    expect(out.commentedOut).toEqual(['locale-collate']);
  });

  it('renders no directive that Redis 7.0 cannot read and reads memory units as Redis does', () => {
    const directives = redisDirectives(rendered(model.data.redis.files.conf));
    expect([...directives.keys()].filter((k) => k in REDIS_NEWER_DIRECTIVES)).toEqual([]);
    expect(directives.get('maxmemory-policy')).toBe('volatile-lru');
    expect(redisBytes('1536mb')).toBe(1536 * 1024 ** 2);
    expect(redisBytes('1m')).toBe(1_000_000);
    expect(redisBytes('12')).toBe(12);
    expect(redisBytes('lots')).toBeNull();
  });
});

describe('mysql-options: the MySQL 8.4 option list', () => {
  it('passes the rendered my.cnf', () => {
    expect(checkMysqlOptions(rendered(model.data.mysql.files.conf))).toEqual({ problems: [], notes: [] });
  });

  it('fails a removed option with its replacement, and a deprecated one', () => {
    const { problems } = checkMysqlOptions('[mysqld]\nexpire_logs_days = 7\ninnodb-log-file-size = 1G\n');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /line 2 \[mysqld\]: expire_logs_days was removed in MySQL 8\.2\.0.*binlog_expire_logs_seconds/,
    );
    expect(problems[1]).toMatch(
      /line 3 \[mysqld\]: innodb-log-file-size is deprecated.*innodb_redo_log_capacity/,
    );
  });

  it('normalizes dashes and handles skip-/loose-/disable- prefixes', () => {
    expect(classifyMysqlOption('skip-name-resolve').status).toBe('ok');
    expect(classifyMysqlOption('skip-log-bin')).toEqual({ status: 'ok', option: 'log_bin' });
    expect(classifyMysqlOption('disable-log-bin').status).toBe('ok');
    expect(classifyMysqlOption('Innodb-Buffer-Pool-Size').status).toBe('ok');
    expect(classifyMysqlOption('loose-group-replication-foo').status).toBe('loose-unknown');
    expect(classifyMysqlOption('loose_expire_logs_days').status).toBe('removed');
    expect(classifyMysqlOption('query-cache-size').status).toBe('removed');
  });

  it('fails an unknown option with a suggestion, ignores other groups, and notes loose- options', () => {
    const text = '[client]\nfoo = 1\n[mysqld]\ninnodb_bufer_pool_size = 1G\nloose-audit-log-format = JSON\n';
    const { problems, notes } = checkMysqlOptions(text);
    expect(problems).toEqual([
      expect.stringMatching(
        /line 4 \[mysqld\]: innodb_bufer_pool_size is not a MySQL 8\.4 server option.*did you mean innodb_buffer_pool_size/,
      ),
    ]);
    expect(notes).toEqual([expect.stringMatching(/loose-audit-log-format.*only warn/)]);
  });

  it('fails an option outside any group', () => {
    expect(checkMysqlOptions('port = 3306\n').problems[0]).toMatch(/before any \[group\]/);
  });

  it('keeps the valid and retired lists apart', () => {
    expect(Object.keys(mysqlRetired).filter((k) => mysql84Options.has(k))).toEqual([]);
    expect(mysql84Options.has('innodb_redo_log_capacity')).toBe(true);
    expect(mysql84Options.has('binlog_expire_logs_seconds')).toBe(true);
  });
});

describe('logrotate and fail2ban output', () => {
  it('picks logrotate error lines', () => {
    const out =
      "reading config file x\nerror: x:9 unknown option 'frobnicate' -- ignoring line\nHandling 1 logs";
    expect(logrotateErrors(out)).toEqual(["error: x:9 unknown option 'frobnicate' -- ignoring line"]);
    expect(logrotateErrors('reading config file x')).toEqual([]);
  });

  it('finds logpaths with continuation lines and replaces them without moving lines', () => {
    const text =
      '[a]\nlogpath = /var/log/a.log\n[b]\nenabled = true\nlogpath = /x/*.log tail\n    /y.log\nmaxretry = 3\n';
    const uses = fail2banLogpaths(text);
    expect(uses).toEqual([
      { jail: 'a', line: 1, continuation: [], patterns: ['/var/log/a.log'] },
      { jail: 'b', line: 4, continuation: [5], patterns: ['/x/*.log', '/y.log'] },
    ]);
    const out = replaceLogpaths(text, [uses[1] as (typeof uses)[number]], (jail) => `/tmp/${jail}.log`);
    expect(out.split('\n')).toEqual([
      '[a]',
      'logpath = /var/log/a.log',
      '[b]',
      'enabled = true',
      'logpath = /tmp/b.log',
      '#    /y.log',
      'maxretry = 3',
      '',
    ]);
  });

  it('tells whether a logpath glob matches a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'glob-'));
    try {
      await mkdir(join(dir, 'nginx'));
      await writeFile(join(dir, 'nginx', 'api.error.log'), '');
      expect(await globExists(`${dir}/nginx/*error.log`)).toBe(true);
      expect(await globExists(`${dir}/*/api.error.log`)).toBe(true);
      expect(await globExists(`${dir}/nginx/*access.log`)).toBe(false);
      expect(await globExists(`${dir}/none/*.log`)).toBe(false);
      expect(await globExists('relative/*.log')).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps fail2ban ERROR lines and their details, without timestamps', () => {
    const out = [
      "2026-11-25 19:13:20,098 fail2ban.configreader   [777]: WARNING 'allowipv6' not defined",
      '2026-11-25 19:13:20,254 fail2ban                [779]: ERROR   Failed during configuration: File contains no section headers.',
      "file: '/etc/fail2ban/jail.d/zz.conf', line: 1",
      '2026-11-25 19:13:20,254 fail2ban                [779]: ERROR   ERROR: test configuration failed',
    ].join('\n');
    expect(fail2banErrors(out)).toEqual([
      'ERROR Failed during configuration: File contains no section headers.',
      "  file: '/etc/fail2ban/jail.d/zz.conf', line: 1",
    ]);
  });
});

describe('sshd drop-in', () => {
  it('includes the drop-ins first in a main file like Ubuntu 24.04', () => {
    const main = mainSshdConfig('/tmp/d/*.conf');
    expect(main.split('\n')[0]).toBe('Include /tmp/d/*.conf');
    expect(main).toMatch(/^X11Forwarding yes$/m);
  });

  it('reports drop-in settings that are not in force', () => {
    const dropIn = sshdSettings(rendered(model.host.files.sshd));
    expect(dropIn).toEqual([
      ['port', '22'],
      ['permitrootlogin', 'prohibit-password'],
      ['x11forwarding', 'no'],
    ]);
    const effective = 'port 22\npermitrootlogin without-password\nx11forwarding no\n';
    expect(sshdMismatches(dropIn, effective)).toEqual([]);
    expect(sshdMismatches(dropIn, 'port 2222\npermitrootlogin without-password\nx11forwarding yes')).toEqual([
      'port 22 is not in force: sshd -T shows port 2222',
      'x11forwarding no is not in force: sshd -T shows x11forwarding yes',
    ]);
  });

  it('stops reading settings at the first Match block', () => {
    expect(sshdSettings('Port 22\nMatch User x\n  X11Forwarding yes\n')).toEqual([['port', '22']]);
  });
});

describe('sysctl', () => {
  it('parses keys, values, optional keys and bad lines', () => {
    const { entries, errors } = parseSysctl(
      '# c\n; c\nnet.core.somaxconn = 65535\n-net.x.y=1\nkernel/pid_max = 4\nnonsense\n',
    );
    expect(entries).toEqual([
      { key: 'net.core.somaxconn', value: '65535', line: 3, optional: false },
      { key: 'net.x.y', value: '1', line: 4, optional: true },
      { key: 'kernel/pid_max', value: '4', line: 5, optional: false },
    ]);
    expect(errors).toEqual(['line 6: not "key = value": "nonsense"']);
  });

  it('maps keys to /proc/sys and allows only the documented missing keys', () => {
    expect(sysctlPath('net.ipv4.ip_local_port_range')).toBe('/proc/sys/net/ipv4/ip_local_port_range');
    expect(sysctlPath('kernel/pid_max')).toBe('/proc/sys/kernel/pid_max');
    expect(sysctlAllowance('net.netfilter.nf_conntrack_max')).toMatch(/nf_conntrack/);
    expect(sysctlAllowance('net.ipv4.tcp_no_such_thing')).toBeUndefined();
  });
});

describe('docker daemon.json', () => {
  it('passes the rendered file', () => {
    expect(checkDaemonJson(rendered(model.host.files.dockerDaemon)).problems).toEqual([]);
  });

  it('fails bad JSON, unknown keys and removed keys', () => {
    expect(checkDaemonJson('{"a": ').problems[0]).toMatch(/not valid JSON/);
    expect(checkDaemonJson('[]').problems).toEqual(['the top level must be a JSON object']);
    expect(
      checkDaemonJson('{"log-driver": "json-file", "log-driverr": "x", "graph": "/d"}').problems,
    ).toEqual([
      '"log-driverr" is not a dockerd option: dockerd would refuse to start',
      '"graph": removed in Docker 23; use data-root',
    ]);
  });
});

describe('cron.d parser', () => {
  const minute = { name: 'minute', min: 0, max: 59 };

  it('accepts valid lines', () => {
    const text = [
      '# backups',
      'SHELL=/bin/bash',
      'PATH = /usr/bin:/bin',
      '15 3 * * * root /opt/backup.sh',
      '*/5 * * * mon-fri deploy /opt/x.sh --quiet',
      '0 0-23/2 1,15 jan-jun 0,7 root true',
      '@daily root /opt/daily.sh',
      '30 4 * * 7 root date +\\%F >> /var/log/x.log',
      '',
    ].join('\n');
    expect(checkCronFile(text)).toEqual([]);
  });

  it('rejects bad lines with the reason', () => {
    const cases: [string, RegExp][] = [
      ['60 * * * * root x\n', /minute 60 is outside 0-59/],
      ['* 24 * * * root x\n', /hour 24 is outside 0-23/],
      ['* * 0 * * root x\n', /day of month 0 is outside 1-31/],
      ['* * * 13 * root x\n', /month 13 is outside 1-12/],
      ['* * * foo * root x\n', /month: "foo" is not a number or a name/],
      ['* * * * 8 root x\n', /day of week 8 is outside 0-7/],
      ['*/0 * * * * root x\n', /step "0" must be a number from 1 to 59/],
      ['5/10 * * * * root x\n', /a step needs a range or \*/],
      ['10-5 * * * * root x\n', /runs backwards/],
      ['* * * * * /opt/x.sh\n', /expected 5 time fields, a user and a command; found 6 fields/],
      ['@sometimes root x\n', /not a cron schedule/],
      ['@daily\n', /is not a user name/],
      ['0 3 * * * root date +%F\n', /unescaped %/],
      ['0 3 * * * root x', /does not end with a newline/],
    ];
    for (const [line, message] of cases) {
      const problems = checkCronFile(line);
      expect(problems.map((p) => p.message).join('; ')).toMatch(message);
    }
    expect(checkCronFile('ok=1\n0 3 * * * root a\n99 * * * * root b\n')).toEqual([
      { line: 3, message: 'minute 99 is outside 0-59' },
    ]);
  });

  it('checks single fields', () => {
    expect(checkCronField('*', minute)).toBeNull();
    expect(checkCronField('0,15,30,45', minute)).toBeNull();
    expect(checkCronField('1,,2', minute)).toMatch(/empty item/);
  });

  it('finds cron files by folder or extension, and there are none yet', () => {
    expect(isCronFile('host/cron/backups')).toBe(true);
    expect(isCronFile('host/cron.d/backups')).toBe(true);
    expect(isCronFile('scripts/backup.cron')).toBe(true);
    expect(isCronFile('host/crontab.md')).toBe(false);
    expect([...tree.keys()].filter(isCronFile)).toEqual([]);
  });
});

describe('shared helpers', () => {
  it('puts tree paths in place of temp paths, longest first', () => {
    expect(
      relabel('/tmp/a/b.conf and /tmp/a', [
        ['/tmp/a', '<dir>'],
        ['/tmp/a/b.conf', 'x/b.conf'],
      ]),
    ).toBe('x/b.conf and <dir>');
    expect(tail('a\n\nb\nc\n', 2)).toBe('b\nc');
  });
});
