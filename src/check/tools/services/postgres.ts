import { chmod, chown, readdir, readFile, rm, stat } from 'node:fs/promises';
import { freemem } from 'node:os';
import { dirname, join } from 'node:path';
import { type KvLine, parseKv } from '../../../render/kv.ts';
import { childEnv, type Row, run } from '../../exec.ts';
import type { Check, CheckContext } from '../../types.ts';
import { freePort, isRoot, relabel, tail, throwawayPassword, writeCopy } from './common.ts';

// `postgres`: a throwaway cluster started with copies of the rendered postgresql.conf and pg_hba.conf. Proves
// that PostgreSQL accepts every setting, that the mounted pg_hba.conf is the one in force, that a SCRAM
// password login works and that a login without one is refused, over TCP and over the Unix socket.
// The test machine has PostgreSQL 15 (Debian 12); production runs 17.

// --------------------------------------------------------------------------------------------------------
// Settings that PostgreSQL 15 cannot read
// --------------------------------------------------------------------------------------------------------
// From the release notes: https://www.postgresql.org/docs/16/release-16.html and
// https://www.postgresql.org/docs/17/release-17.html (section "Server Configuration"). Valid in production (17)
// but unknown to 15: the copy comments them out and the row notes them.

/** GUCs added in PostgreSQL 16 or 17, with the version that added them. */
export const PG_NEWER_GUCS: Readonly<Record<string, 16 | 17>> = {
  createrole_self_grant: 16,
  debug_io_direct: 16,
  debug_logical_replication_streaming: 16,
  debug_parallel_query: 16,
  enable_presorted_aggregate: 16,
  gss_accept_delegation: 16,
  icu_validation_level: 16,
  max_parallel_apply_workers_per_subscription: 16,
  reserved_connections: 16,
  scram_iterations: 16,
  send_abort_for_crash: 16,
  send_abort_for_kill: 16,
  vacuum_buffer_usage_limit: 16,
  allow_alter_system: 17,
  commit_timestamp_buffers: 17,
  enable_group_by_reordering: 17,
  event_triggers: 17,
  io_combine_limit: 17,
  max_notify_queue_pages: 17,
  multixact_member_buffers: 17,
  multixact_offset_buffers: 17,
  notify_buffers: 17,
  serializable_buffers: 17,
  subtransaction_buffers: 17,
  summarize_wal: 17,
  sync_replication_slots: 17,
  synchronized_standby_slots: 17,
  trace_connection_negotiation: 17,
  transaction_buffers: 17,
  transaction_timeout: 17,
  wal_summary_keep_time: 17,
};

/** GUCs that 15 still reads but 16/17 removed: production (17) would refuse to start with them. */
export const PG_REMOVED_GUCS: Readonly<Record<string, { removedIn: 16 | 17; use?: string }>> = {
  force_parallel_mode: { removedIn: 16, use: 'debug_parallel_query' },
  promote_trigger_file: { removedIn: 16, use: 'pg_ctl promote or pg_promote()' },
  vacuum_defer_cleanup_age: { removedIn: 16, use: 'hot_standby_feedback or a replication slot' },
  lc_collate: { removedIn: 16 },
  lc_ctype: { removedIn: 16 },
  old_snapshot_threshold: { removedIn: 17 },
  db_user_namespace: { removedIn: 17 },
  trace_recovery_messages: { removedIn: 17 },
};

// --------------------------------------------------------------------------------------------------------
// Pure parts
// --------------------------------------------------------------------------------------------------------

/** A postgresql.conf string literal. */
export const pgQuote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

const SETTING_LINE = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=|\s)/;

/**
 * The copy of postgresql.conf the check starts the server with: each key in `set` (values are literals, see
 * pgQuote) replaces every line that sets it, or is appended when the file does not set it; keys in
 * `commentOut` are commented out. Other lines stay byte for byte, so the server's line numbers still match.
 */
export function rewritePostgresConf(
  text: string,
  set: Readonly<Record<string, string>>,
  commentOut: Iterable<string> = [],
): string {
  const drop = new Set([...commentOut].map((k) => k.toLowerCase()));
  const wanted = new Map(Object.entries(set).map(([k, v]) => [k.toLowerCase(), [k, v] as const]));
  const written = new Set<string>();
  const lines = text.split('\n').map((line) => {
    const key = SETTING_LINE.exec(line)?.[1]?.toLowerCase();
    if (key === undefined) return line;
    const replacement = wanted.get(key);
    if (replacement) {
      written.add(key);
      return `${replacement[0]} = ${replacement[1]}`;
    }
    return drop.has(key) ? `#${line}` : line;
  });
  const body = lines.join('\n');
  const extra = [...wanted.entries()].filter(([k]) => !written.has(k)).map(([, [k, v]]) => `${k} = ${v}`);
  if (extra.length === 0) return body;
  return `${body.endsWith('\n') ? body : `${body}\n`}${extra.join('\n')}\n`;
}

const MEMORY_UNITS: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME_UNITS: Record<string, number> = { us: 1, ms: 1000, s: 1e6, min: 6e7, h: 3.6e9, d: 8.64e10 };

/** A quantity with a unit in its base (bytes or microseconds); null when `text` has no unit PostgreSQL knows. */
export function pgQuantity(text: string): { kind: 'memory' | 'time'; base: number } | null {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(B|kB|MB|GB|TB|us|ms|s|min|h|d)\s*$/.exec(text);
  if (!m) return null;
  const value = Number(m[1]);
  const unit = m[2] as string;
  if (unit in MEMORY_UNITS) return { kind: 'memory', base: value * (MEMORY_UNITS[unit] as number) };
  return { kind: 'time', base: value * (TIME_UNITS[unit] as number) };
}

/** The base size of pg_settings' `unit` column ('8kB', 'kB', 'ms', 'min'...), or null. */
function unitBase(unit: string): { kind: 'memory' | 'time'; base: number } | null {
  const m = /^(\d*)\s*(B|kB|MB|GB|TB|us|ms|s|min|h|d)$/.exec(unit.trim());
  if (!m) return null;
  const q = pgQuantity(`${m[1] === '' ? '1' : m[1]}${m[2]}`);
  return q;
}

function pgInteger(text: string): number | null {
  const t = text.trim();
  if (/^-?0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t, 16);
  if (/^-?0[0-7]+$/.test(t)) return Number.parseInt(t, 8);
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return null;
}

const BOOL_ON = /^(on|true|yes|1|t|y)$/i;
const BOOL_OFF = /^(off|false|no|0|f|n)$/i;

/** One row of pg_settings. */
export interface PgSetting {
  name: string;
  setting: string;
  /** '' when the setting has no unit. */
  unit: string;
  vartype: 'bool' | 'integer' | 'real' | 'string' | 'enum' | string;
}

/** Whether the running server's value (a pg_settings row) is what the file says, the way PostgreSQL reads it. */
export function settingMatches(rendered: string, actual: PgSetting): boolean {
  const value = rendered.trim();
  switch (actual.vartype) {
    case 'bool': {
      const want = BOOL_ON.test(value) ? 'on' : BOOL_OFF.test(value) ? 'off' : value.toLowerCase();
      return want === actual.setting;
    }
    case 'integer':
    case 'real': {
      const current = Number(actual.setting);
      const quantity = pgQuantity(value);
      if (quantity && actual.unit !== '') {
        const unit = unitBase(actual.unit);
        if (!unit || unit.kind !== quantity.kind) return false;
        const inUnits = quantity.base / unit.base;
        return actual.vartype === 'integer'
          ? Math.round(inUnits) === current
          : Math.abs(inUnits - current) < 1e-9 * Math.max(1, Math.abs(current));
      }
      const plain = pgInteger(value);
      if (plain === null) return false;
      return actual.vartype === 'integer'
        ? Math.round(plain) === current
        : Math.abs(plain - current) < 1e-9 * Math.max(1, Math.abs(current));
    }
    case 'enum':
      return value.toLowerCase() === actual.setting.toLowerCase();
    default:
      // PostgreSQL canonicalizes time zone names ('asia/dhaka' -> 'Asia/Dhaka'); other strings stay as written.
      if (/^(log_)?timezone$/i.test(actual.name)) return value.toLowerCase() === actual.setting.toLowerCase();
      return rendered === actual.setting;
  }
}

/** Server log lines without their timestamp and pid (`2024-01-01 10:00:00.123 GMT [42] LOG:  x` -> `LOG:  x`). */
export const stripPgLogPrefix = (log: string) =>
  log.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] /gm, '');

/**
 * Parses psql -A -t output with \x1f between fields and \x1e between records. Each record ends with a fifth
 * field, a sentinel, so that trimming the output never eats a setting's trailing blank (log_line_prefix).
 */
export function parsePgSettings(output: string): Map<string, PgSetting> {
  const map = new Map<string, PgSetting>();
  for (const record of output.split('\x1e')) {
    const fields = record.replace(/^\n/, '').split('\x1f');
    if (fields.length < 5) continue;
    const [name, setting, unit, vartype] = fields as [string, string, string, string];
    map.set(name.toLowerCase(), { name, setting, unit, vartype: vartype.trim() });
  }
  return map;
}

export interface MemoryPlan {
  /** Settings to override in the copy (literals). */
  set: Record<string, string>;
  notes: string[];
}

/**
 * Scales shared_buffers down only when this machine cannot hold what the server allocates at start
 * (shared_buffers + wal_buffers + a margin) within `budgetBytes`. Other memory settings are per operation and
 * allocate nothing at start, so they stay as rendered.
 */
export function planPostgresMemory(conf: ReadonlyMap<string, string>, budgetBytes: number): MemoryPlan {
  const shared = pgQuantity(conf.get('shared_buffers') ?? '');
  if (shared?.kind !== 'memory') return { set: {}, notes: [] };
  const walText = conf.get('wal_buffers') ?? '-1';
  const wal = pgQuantity(walText)?.base ?? Math.min(16 * 1024 ** 2, shared.base / 32);
  const margin = 64 * 1024 ** 2;
  const need = shared.base + wal + margin;
  if (need <= budgetBytes) return { set: {}, notes: [] };
  const mib = Math.max(128, Math.floor((budgetBytes - wal - margin) / 1024 ** 2));
  const renderedMib = Math.round(shared.base / 1024 ** 2);
  return {
    set: { shared_buffers: `${mib}MB` },
    notes: [
      `shared_buffers scaled from ${conf.get('shared_buffers')} to ${mib}MB for this check: this machine has ` +
        `${Math.floor(budgetBytes / 1024 ** 2)} MiB to spare (the server needs about ${Math.ceil(
          need / 1024 ** 2,
        )} MiB with ${renderedMib} MiB of shared buffers); production sizes from the container limit`,
    ],
  };
}

/** Which rendered settings PostgreSQL 15 cannot read (commented out, noted) or production 17 no longer reads. */
export function versionFindings(
  keys: Iterable<string>,
  serverMajor: number,
): { commentOut: string[]; notes: string[]; problems: string[] } {
  const commentOut: string[] = [];
  const notes: string[] = [];
  const problems: string[] = [];
  for (const raw of keys) {
    const key = raw.toLowerCase();
    const added = PG_NEWER_GUCS[key];
    if (added !== undefined && added > serverMajor) {
      commentOut.push(key);
      notes.push(
        `${key} exists only in PostgreSQL ${added}+ (production: 17); commented out in the copy for ${serverMajor}`,
      );
    }
    const removed = PG_REMOVED_GUCS[key];
    if (removed) {
      problems.push(
        `${key} was removed in PostgreSQL ${removed.removedIn}: production (17) would refuse to start` +
          (removed.use ? `; use ${removed.use}` : ''),
      );
    }
  }
  return { commentOut, notes, problems };
}

// --------------------------------------------------------------------------------------------------------
// The check
// --------------------------------------------------------------------------------------------------------

const PG_ROOT = '/usr/lib/postgresql';

/** The newest /usr/lib/postgresql/<major>/bin that has a server. */
export async function findPostgresBin(root = PG_ROOT): Promise<{ major: number; bin: string } | null> {
  const majors = (await readdir(root).catch(() => [] as string[]))
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .sort((a, b) => b - a);
  for (const major of majors) {
    const bin = join(root, String(major), 'bin');
    if (await stat(join(bin, 'postgres')).catch(() => null)) return { major, bin };
  }
  return null;
}

/** Memory this check may use: what the machine (and its cgroup) has free, halved for the other checks. */
async function memoryBudget(): Promise<number> {
  let free = freemem();
  const max = await readFile('/sys/fs/cgroup/memory.max', 'utf8').catch(() => 'max');
  const current = await readFile('/sys/fs/cgroup/memory.current', 'utf8').catch(() => '');
  if (/^\d+/.test(max.trim()) && /^\d+/.test(current.trim())) {
    free = Math.min(free, Number(max.trim()) - Number(current.trim()));
  }
  return Math.max(0, Math.floor(free / 2));
}

async function userIds(name: string): Promise<{ uid: number; gid: number } | null> {
  const uid = await run('id', ['-u', name], { timeoutMs: 5000 });
  const gid = await run('id', ['-g', name], { timeoutMs: 5000 });
  if (uid.exitCode !== 0 || gid.exitCode !== 0) return null;
  return { uid: Number(uid.output), gid: Number(gid.output) };
}

const FIELD_SEP = String.fromCharCode(0x1f);
const RECORD_END = String.fromCharCode(0x1e);

const PSQL_SETTINGS_QUERY =
  "SELECT name, setting, coalesce(unit, ''), vartype, 'end' FROM pg_settings ORDER BY name";

async function runPostgres(ctx: CheckContext): Promise<Row[]> {
  const { postgres } = ctx.model.data;
  const confPath = postgres.files.conf;
  const hbaPath = postgres.files.hba;
  const tool = 'postgres';
  const confText = ctx.tree.files.get(confPath)?.content;
  const hbaText = ctx.tree.files.get(hbaPath)?.content;
  if (confText === undefined || hbaText === undefined) {
    return [
      {
        target: confText === undefined ? confPath : hbaPath,
        tool,
        status: 'fail',
        message: `missing from the tree (the model renders it: run \`npx academy synth\`)`,
      },
    ];
  }
  const server = await findPostgresBin();
  if (!server) {
    return [
      {
        target: confPath,
        tool,
        status: 'skip',
        message: `no PostgreSQL server under ${PG_ROOT}/<major>/bin: apt-get install postgresql-15`,
      },
    ];
  }
  const toolName = `postgres ${server.major}`;
  const root = isRoot();
  const owner = root ? await userIds('postgres') : null;
  if (root && !owner) {
    return [
      {
        target: confPath,
        tool: toolName,
        status: 'skip',
        message: 'running as root and there is no `postgres` user to run the server as',
      },
    ];
  }

  const dir = await ctx.tempDir('postgres');
  const dataDir = join(dir, 'data');
  const confCopy = join(dir, 'postgresql.conf');
  const hbaCopy = join(dir, 'pg_hba.conf');
  const logFile = join(dir, 'server.log');
  const pwFile = join(dir, 'pwfile');
  const labels: [string, string][] = [
    [confCopy, confPath],
    [hbaCopy, hbaPath],
    [dataDir, '(throwaway data directory)'],
    [dir, '(check folder)'],
  ];
  const asServer = (program: string, args: string[]) =>
    root
      ? (['runuser', ['-u', 'postgres', '--', join(server.bin, program), ...args]] as const)
      : ([join(server.bin, program), args] as const);
  const serverEnv = childEnv();

  if (root && owner) {
    // The server user must reach its own folder inside the caller's temp folder (often 0700).
    await chmod(dirname(dir), 0o711);
    await chown(dir, owner.uid, owner.gid);
  }

  let lines: KvLine[];
  try {
    lines = parseKv('postgresql', confText);
  } catch (error) {
    return [{ target: confPath, tool: toolName, status: 'fail', message: (error as Error).message }];
  }
  // The last occurrence of a key wins, as in PostgreSQL.
  const effective = new Map(lines.map((l) => [l.key.toLowerCase(), l]));
  const rendered = new Map([...effective].map(([k, l]) => [k, l.value]));
  const port = await freePort();
  const memory = planPostgresMemory(rendered, await memoryBudget());
  const versions = versionFindings(rendered.keys(), server.major);
  const overrides: Record<string, string> = {
    listen_addresses: pgQuote('127.0.0.1'),
    port: String(port),
    unix_socket_directories: pgQuote(dir),
    hba_file: pgQuote(hbaCopy),
    ...memory.set,
  };
  const notes = [
    `PostgreSQL ${server.major} here, 17 in production; the copy listens on 127.0.0.1 (a free port) with its socket in a temp folder`,
    ...memory.notes,
    ...versions.notes,
  ];
  if (versions.problems.length > 0) {
    return [
      { target: confPath, tool: toolName, status: 'fail', message: versions.problems.join('\n'), notes },
    ];
  }

  const password = throwawayPassword();
  const writeOwned = async (path: string, content: string, mode: number) => {
    await writeCopy(dirname(path), path.slice(dirname(path).length + 1), content, mode);
    if (root && owner) await chown(path, owner.uid, owner.gid);
  };
  await writeOwned(confCopy, rewritePostgresConf(confText, overrides, versions.commentOut), 0o600);
  await writeOwned(hbaCopy, hbaText, 0o600);
  await writeOwned(pwFile, `${password}\n`, 0o600);

  let started = false;
  try {
    const [initProgram, initArgs] = asServer('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${pwFile}`,
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    const init = await run(initProgram, initArgs, { env: serverEnv, timeoutMs: 120_000 });
    await rm(pwFile, { force: true });
    if (init.exitCode !== 0) {
      return [
        {
          target: confPath,
          tool: toolName,
          status: 'fail',
          message: `initdb failed:\n${tail(relabel(init.output, labels), 15)}`,
          notes,
        },
      ];
    }

    const [ctlProgram, ctlArgs] = asServer('pg_ctl', [
      'start',
      '-D',
      dataDir,
      '-w',
      '-t',
      '60',
      '-l',
      logFile,
      '-o',
      // pg_ctl hands -o to a shell.
      `-c "config_file=${confCopy}"`,
    ]);
    const start = await run(ctlProgram, ctlArgs, { env: serverEnv, timeoutMs: 90_000 });
    started = true;
    if (start.exitCode !== 0) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      return [
        {
          target: confPath,
          tool: toolName,
          status: 'fail',
          message: `the server did not start:\n${tail(stripPgLogPrefix(relabel(log || start.output, labels)), 12)}`,
          notes,
        },
      ];
    }

    const psql = join(server.bin, 'psql');
    const noPassFile = join(dir, 'no-pgpass');
    const base = ['-X', '-w', '-p', String(port), '-U', 'postgres', '-d', 'postgres'];
    const query = (sql: string) =>
      run(psql, [...base, '-h', '127.0.0.1', '-A', '-t', '-F', '\x1f', '-R', '\x1e', '-c', sql], {
        env: childEnv({ PGPASSWORD: password, PGPASSFILE: noPassFile, PGCONNECT_TIMEOUT: '10' }),
        timeoutMs: 30_000,
      });
    const withoutPassword = (host: string) =>
      run(psql, [...base, '-h', host, '-c', 'SELECT 1'], {
        env: childEnv({ PGPASSFILE: noPassFile, PGCONNECT_TIMEOUT: '10' }),
        timeoutMs: 30_000,
      });

    const confProblems: string[] = [];
    const hbaProblems: string[] = [];

    const [login, overTcp, overSocket] = await Promise.all([
      query(
        "SELECT current_setting('hba_file') || chr(31) || (SELECT (rolpassword LIKE 'SCRAM-SHA-256$%')::text FROM pg_authid WHERE rolname = current_user)",
      ),
      withoutPassword('127.0.0.1'),
      withoutPassword(dir),
    ]);
    if (login.exitCode !== 0) {
      hbaProblems.push(`a SCRAM password login over TCP failed:\n${tail(relabel(login.output, labels), 5)}`);
    } else {
      const [hbaFile, scram] = login.output.split(RECORD_END)[0]?.split(FIELD_SEP) ?? [];
      if (hbaFile !== hbaCopy) {
        hbaProblems.push(
          `SHOW hba_file is ${relabel(hbaFile ?? '(nothing)', labels)}, not the rendered pg_hba.conf: the file is not in force`,
        );
      }
      if (scram !== 'true') hbaProblems.push('the password is not stored as a SCRAM-SHA-256 verifier');
    }
    for (const [how, attempt] of [
      ['TCP (127.0.0.1)', overTcp],
      ['the Unix socket', overSocket],
    ] as const) {
      if (attempt.exitCode === 0) {
        hbaProblems.push(`a login without a password over ${how} succeeded: pg_hba.conf lets it in`);
      } else if (!attempt.output.includes('fe_sendauth: no password supplied')) {
        hbaProblems.push(
          `a login without a password over ${how} failed, but not by asking for a password:\n${tail(
            relabel(attempt.output, labels),
            3,
          )}`,
        );
      }
    }

    if (login.exitCode === 0) {
      const settings = await query(PSQL_SETTINGS_QUERY);
      if (settings.exitCode !== 0) {
        confProblems.push(`reading pg_settings failed:\n${tail(settings.output, 5)}`);
      } else {
        const actual = parsePgSettings(settings.output);
        const relocated = new Set(['listen_addresses', 'port', 'unix_socket_directories', 'hba_file']);
        const skip = new Set([...relocated, ...versions.commentOut]);
        for (const [key, line] of effective) {
          if (skip.has(key)) continue;
          const expected = memory.set[key] ?? line.value;
          const row = actual.get(key);
          if (!row) {
            notes.push(`${key}: not listed in pg_settings (a setting of an extension that is not loaded?)`);
            continue;
          }
          if (!settingMatches(expected, row)) {
            confProblems.push(
              `${confPath} line ${line.line}: ${key} = ${expected}, but the server runs with ${row.setting}${
                row.unit ? ` (unit ${row.unit})` : ''
              }`,
            );
          }
        }
      }
    }

    return [
      confProblems.length === 0
        ? { target: confPath, tool: toolName, status: 'pass', notes }
        : { target: confPath, tool: toolName, status: 'fail', message: confProblems.join('\n'), notes },
      hbaProblems.length === 0
        ? { target: hbaPath, tool: 'psql (SCRAM login)', status: 'pass' }
        : { target: hbaPath, tool: 'psql (SCRAM login)', status: 'fail', message: hbaProblems.join('\n') },
    ];
  } finally {
    await rm(pwFile, { force: true });
    if (started) {
      const [stopProgram, stopArgs] = asServer('pg_ctl', [
        'stop',
        '-D',
        dataDir,
        '-m',
        'fast',
        '-w',
        '-t',
        '30',
      ]);
      const stop = await run(stopProgram, stopArgs, { env: serverEnv, timeoutMs: 45_000 });
      if (stop.exitCode !== 0 && !/Is server running\?/.test(stop.output)) {
        const [killProgram, killArgs] = asServer('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w']);
        await run(killProgram, killArgs, { env: serverEnv, timeoutMs: 30_000 });
      }
    }
  }
}

export const postgresCheck: Check = {
  name: 'postgres',
  tool: 'postgres',
  requires: ['psql'],
  install: 'apt-get install postgresql-15 (server binaries in /usr/lib/postgresql/15/bin)',
  run: runPostgres,
};
