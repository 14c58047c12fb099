import { execa } from 'execa';
import { childEnv, type Row, run } from '../../exec.ts';
import type { Check, CheckContext } from '../../types.ts';
import { freePort, relabel, splitLines, tail, throwawayPassword, writeCopy } from './common.ts';

// `redis`: redis-server started the way compose starts it in production (the rendered redis.conf, then extra
// lines on stdin after `-`, where production feeds requirepass), on a private port and folder. Proves Redis
// reads every directive, that a client without the password gets NOAUTH and one with it gets PONG, and that
// the memory and persistence settings are in force. The test machine has Redis 7.0 (Debian 12); production 7.4.

/**
 * Directives added after Redis 7.0, valid in production (7.4): the copy comments them out and the row notes
 * them. From the release notes: https://raw.githubusercontent.com/redis/redis/7.2/00-RELEASENOTES and
 * https://raw.githubusercontent.com/redis/redis/7.4/00-RELEASENOTES ("New configuration options").
 */
export const REDIS_NEWER_DIRECTIVES: Readonly<Record<string, string>> = {
  'locale-collate': '7.2',
  'cluster-announce-human-nodename': '7.2',
  'max-new-connections-per-cycle': '7.4',
  'max-new-tls-connections-per-cycle': '7.4',
};

/** Directives whose argument is a path on the server: the copy points them into the check's folder. */
const PATH_DIRECTIVES: Readonly<Record<string, string>> = {
  dir: '',
  pidfile: 'redis.pid',
  unixsocket: 'redis.sock',
  logfile: 'redis.log',
};

// --------------------------------------------------------------------------------------------------------
// Pure parts
// --------------------------------------------------------------------------------------------------------

export interface RedisLaunch {
  /** Arguments of redis-server, as in the compose command. */
  args: string[];
  /** Lines fed on stdin (the heredoc's body, expanded). */
  stdin: string[];
}

/**
 * Reads the compose command of the Redis service (`sh -c 'exec ... redis-server <conf> - <<EOF ... EOF'`) and
 * returns redis-server's arguments and the lines it gets on stdin, with `$$VAR` (compose's escape) expanded from
 * `values` the way the container's shell would. Throws when the command is not of that shape.
 */
export function redisLaunchFromCompose(
  command: readonly string[] | null,
  values: Readonly<Record<string, string>>,
): RedisLaunch {
  if (command === null) return { args: [], stdin: [] };
  if (command[0] === 'redis-server') return { args: command.slice(1).map(String), stdin: [] };
  if (command.length !== 3 || command[0] !== 'sh' || command[1] !== '-c') {
    throw new Error(
      `the compose command is not \`sh -c <script>\` nor \`redis-server ...\`: ${JSON.stringify(command)}`,
    );
  }
  const script = (command[2] as string).replace(/\$\$/g, '$');
  const [first = '', ...rest] = script.split('\n');
  const words = first.trim().split(/\s+/);
  const at = words.indexOf('redis-server');
  if (at < 0) throw new Error(`the compose command does not run redis-server: ${first}`);
  const args: string[] = [];
  let heredoc: { delimiter: string; expand: boolean } | null = null;
  for (const word of words.slice(at + 1)) {
    const here = /^<<-?(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1$/.exec(word);
    if (here) {
      heredoc = { delimiter: here[2] as string, expand: here[1] === '' };
      break;
    }
    if (/^[<>|;&]/.test(word)) break;
    args.push(word);
  }
  const stdin: string[] = [];
  if (heredoc) {
    const end = rest.findIndex((l) => l.trim() === heredoc.delimiter);
    if (end < 0) throw new Error(`the heredoc <<${heredoc.delimiter} in the compose command is not closed`);
    for (const line of rest.slice(0, end)) {
      stdin.push(
        heredoc.expand
          ? line.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, b) => {
              const name = (a ?? b) as string;
              const value = values[name];
              if (value === undefined)
                throw new Error(`the compose command reads $${name}, which the check does not know`);
              return value;
            })
          : line,
      );
    }
  }
  return { args, stdin };
}

/**
 * The copy of redis.conf: path directives (dir, pidfile, unixsocket, a logfile other than "") point into
 * `dir`, directives newer than the server here are commented out. Line numbers stay those of the tree's file.
 */
export function rewriteRedisConf(
  text: string,
  dir: string,
  newer: Readonly<Record<string, string>> = REDIS_NEWER_DIRECTIVES,
): { text: string; relocated: string[]; commentedOut: string[] } {
  const relocated: string[] = [];
  const commentedOut: string[] = [];
  const lines = splitLines(text).map((line) => {
    const m = /^\s*([A-Za-z][A-Za-z0-9-]*)\s+(.*)$/.exec(line);
    if (!m) return line;
    const key = (m[1] as string).toLowerCase();
    const arg = (m[2] as string).trim();
    if (key in newer) {
      commentedOut.push(key);
      return `# ${line}`;
    }
    const file = PATH_DIRECTIVES[key];
    if (file === undefined) return line;
    if (key === 'logfile' && (arg === '""' || arg === "''")) return line;
    relocated.push(`${key} ${arg}`);
    return `${key} ${file === '' ? dir : `${dir}/${file}`}`;
  });
  return { text: lines.join('\n'), relocated, commentedOut };
}

/** Log lines without pid, role and timestamp (`1302:C 25 Nov 2026 19:14:00.785 # x` -> `# x`). */
export const stripRedisLogPrefix = (log: string) =>
  log.replace(/^\d+:[CMSX] \d{1,2} \w{3} \d{4} [\d:.]+ /gm, '');

/** A redis.conf memory amount in bytes (1k = 1000, 1kb = 1024, as Redis reads it); null if not one. */
export function redisBytes(text: string): number | null {
  const m = /^(\d+)(k|kb|m|mb|g|gb)?$/i.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase();
  const factor: Record<string, number> = {
    '': 1,
    k: 1e3,
    kb: 1024,
    m: 1e6,
    mb: 1024 ** 2,
    g: 1e9,
    gb: 1024 ** 3,
  };
  return Number(m[1]) * (factor[unit] as number);
}

/** The last value of each directive of a redis.conf text (arguments joined by a space, lowercased key). */
export function redisDirectives(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of splitLines(text)) {
    const m = /^\s*([A-Za-z][A-Za-z0-9-]*)\s+(.*?)\s*$/.exec(line);
    if (m) map.set((m[1] as string).toLowerCase(), (m[2] as string).replace(/^"(.*)"$/, '$1'));
  }
  return map;
}

// --------------------------------------------------------------------------------------------------------
// The check
// --------------------------------------------------------------------------------------------------------

const CHECKED = ['maxmemory', 'maxmemory-policy', 'appendonly'] as const;

async function runRedis(ctx: CheckContext): Promise<Row[]> {
  const { redis } = ctx.model.data;
  const target = redis.files.conf;
  const tool = 'redis-server';
  const text = ctx.tree.files.get(target)?.content;
  if (text === undefined) {
    return [{ target, tool, status: 'fail', message: 'missing from the tree (run `npx academy synth`)' }];
  }
  const version = await run('redis-server', ['--version'], { timeoutMs: 5000 });
  const serverVersion = /v=(\d+\.\d+\.\d+)/.exec(version.output)?.[1] ?? 'unknown';
  const toolName = `redis-server ${serverVersion}`;

  const password = throwawayPassword();
  let launch: RedisLaunch;
  try {
    launch = redisLaunchFromCompose(redis.command, { REDIS_PASSWORD: password });
  } catch (error) {
    return [{ target, tool: toolName, status: 'fail', message: (error as Error).message }];
  }

  const dir = await ctx.tempDir('redis');
  const copy = rewriteRedisConf(text, dir);
  const confCopy = await writeCopy(dir, 'redis.conf', copy.text, 0o600);
  const labels: [string, string][] = [[confCopy, target]];
  const notes = [`Redis ${serverVersion} here, 7.4 in production`];
  for (const r of copy.relocated) notes.push(`${r}: moved into the check's temp folder for this run`);
  for (const c of copy.commentedOut) {
    notes.push(
      `${c} exists only in Redis ${REDIS_NEWER_DIRECTIVES[c]}+; commented out in the copy for ${serverVersion}`,
    );
  }

  const args = launch.args.map((a) => (a === redis.container.configFile ? confCopy : a));
  if (!args.includes(confCopy)) {
    return [
      {
        target,
        tool: toolName,
        status: 'fail',
        message: `the compose command does not pass ${redis.container.configFile} (where ${target} is mounted) to redis-server: ${JSON.stringify(launch.args)}`,
      },
    ];
  }
  if (!args.includes('-')) {
    args.push('-');
    notes.push('the compose command reads nothing on stdin; the check adds `-` for its own overrides');
  }
  const port = await freePort();
  // After production's own stdin lines: the same mechanism, for the test-only overrides.
  const stdin = [...launch.stdin, 'bind 127.0.0.1', `port ${port}`, 'daemonize no', ''].join('\n');

  const child = execa('redis-server', args, {
    reject: false,
    all: true,
    cwd: dir,
    env: childEnv(),
    extendEnv: false,
    input: stdin,
    timeout: 60_000,
  });
  let output = '';
  child.all?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const cli = (cliArgs: string[], auth: boolean) =>
    run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...cliArgs], {
      env: childEnv(auth ? { REDISCLI_AUTH: password } : {}),
      timeoutMs: 10_000,
    });
  try {
    let exited = false;
    void child.then(() => {
      exited = true;
    });
    const deadline = Date.now() + 20_000;
    while (!exited && !/Ready to accept connections/.test(output) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (exited || !/Ready to accept connections/.test(output)) {
      await child;
      return [
        {
          target,
          tool: toolName,
          status: 'fail',
          message: `redis-server did not start:\n${tail(stripRedisLogPrefix(relabel(output, labels)), 8)}`,
          notes,
        },
      ];
    }

    const problems: string[] = [];
    const anonymous = await cli(['PING'], false);
    if (!/NOAUTH/.test(anonymous.output)) {
      problems.push(`PING without a password answered ${JSON.stringify(anonymous.output)}, not NOAUTH`);
    }
    const authed = await cli(['PING'], true);
    if (authed.output !== 'PONG') {
      problems.push(`PING with the password answered ${JSON.stringify(authed.output)}, not PONG`);
    }
    const rendered = redisDirectives(text);
    const got = await cli(['CONFIG', 'GET', ...CHECKED], true);
    const live = new Map<string, string>();
    const pairs = got.output.split('\n');
    for (let i = 0; i + 1 < pairs.length; i += 2) live.set(pairs[i] as string, pairs[i + 1] as string);
    for (const key of CHECKED) {
      const want = rendered.get(key);
      const have = live.get(key);
      if (want === undefined) continue;
      const same =
        key === 'maxmemory'
          ? redisBytes(want) === Number(have)
          : want.toLowerCase() === (have ?? '').toLowerCase();
      if (!same) problems.push(`CONFIG GET ${key} is ${have ?? '(nothing)'}, the file says ${want}`);
    }
    return [
      problems.length === 0
        ? { target, tool: toolName, status: 'pass', notes }
        : { target, tool: toolName, status: 'fail', message: problems.join('\n'), notes },
    ];
  } finally {
    if (child.exitCode === null && !child.killed) {
      await cli(['SHUTDOWN', 'NOSAVE'], true);
      const stopped = await Promise.race([
        child.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
      ]);
      if (!stopped) child.kill('SIGKILL');
    }
    await child;
  }
}

export const redisCheck: Check = {
  name: 'redis',
  tool: 'redis-server',
  requires: ['redis-server', 'redis-cli'],
  install: 'apt-get install redis-server (redis-server and redis-cli)',
  run: runRedis,
};
