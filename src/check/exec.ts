import { execa } from 'execa';
import type { CheckResult } from './types.ts';

// Running the real tools: never throwing (a missing program or a timeout is a result too), with an
// environment that cannot log in for the check.

export type Row = Omit<CheckResult, 'durationMs'>;

export interface RunResult {
  exitCode: number | undefined;
  /** stdout and stderr interleaved, trimmed; the spawn error when the program could not start. */
  output: string;
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  /** The child's whole environment (nothing inherited): see childEnv. */
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

/** Runs a program to completion; never throws (a missing program or a timeout is a result too). */
export async function run(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await execa(file, args, {
    reject: false,
    all: true,
    cwd: options.cwd,
    env: options.env ?? childEnv(),
    extendEnv: false,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
    timeout: options.timeoutMs ?? 60_000,
  });
  const all = typeof result.all === 'string' ? result.all.trim() : '';
  return {
    exitCode: result.exitCode,
    output: all === '' && result.failed ? (result.shortMessage ?? '') : all,
    timedOut: Boolean(result.timedOut),
  };
}

/**
 * The environment for a child: this process's, without anything that could log in for it (PG*, REDISCLI_AUTH,
 * MYSQL_PWD) and with C messages, plus `extra`. Secrets go only into the child that needs them.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^PG/.test(key) || key === 'REDISCLI_AUTH' || key === 'MYSQL_PWD' || /^LC_|^LANG/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, LC_ALL: 'C', ...extra };
}
