import { posix } from 'node:path';
import type { ComposeProject } from '../../../model/compose.ts';
import type { Check } from '../../types.ts';
import { cleanEnv, missingRow, type Row, runTool, trimOutput, under, writeFiles } from './exec.ts';
import { describePaths } from './relocate.ts';

const TOOL = 'docker compose';
/** Written by src/render/env-example.ts beside the compose files. */
export const ENV_EXAMPLE = 'docker/.env.example';
export const DUMMY_VALUE = 'academy-check-dummy';

export interface ComposeFileSet {
  /** Row target: the files joined with `+`. */
  name: string;
  files: string[];
}

/**
 * The file sets Compose reads together. Each project is its own file with its own `name:` and is brought up
 * alone (data owns the shared networks, blue/green/monitoring join them as external), so each set is one
 * file: merging data+blue with two `-f` would validate one project "smart-academy-blue" that never runs.
 */
export function composeFileSets(projects: readonly ComposeProject[]): ComposeFileSet[] {
  return projects.map((p) => ({ name: p.file, files: [p.file] }));
}

/**
 * An env file defining every variable of the env example with a harmless value: the example's own value when
 * it has one (APP_VERSION=1.0.0), else a dummy. Comments and blank lines are dropped.
 */
export function dummyEnv(example: string): string {
  const lines: string[] = [];
  for (const line of example.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const value = (m[2] ?? '').trim();
    lines.push(`${m[1]}=${value === '' ? DUMMY_VALUE : value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `docker compose ... config -q` over a file set (absolute paths of the copy). */
export function composeConfigArgs(envFile: string, files: readonly string[]): string[] {
  return ['compose', '--env-file', envFile, ...files.flatMap((f) => ['-f', f]), 'config', '--quiet'];
}

/** `Docker Compose version v2.26.1` / `Docker Compose version 2.26.1-4` -> `2.26.1`. */
export function parseComposeVersion(output: string): string | null {
  return /version v?(\d+\.\d+\.\d+)/.exec(output)?.[1] ?? null;
}

export const composeCheck: Check = {
  name: 'compose',
  tool: TOOL,
  requires: ['docker'],
  install: 'apt-get install -y docker.io, then scripts/install-compose-plugin.sh (Compose v2)',
  run: async (ctx) => {
    const { tree, model } = ctx;
    const sets = composeFileSets(model.compose);
    const env = cleanEnv({ DOCKER_CONFIG: process.env.DOCKER_CONFIG });
    const version = await runTool('docker', ['compose', 'version'], { env, timeoutMs: 20_000 });
    if (version.exitCode !== 0 || !parseComposeVersion(version.output))
      return sets.map((s) => ({
        target: s.name,
        tool: TOOL,
        status: 'skip',
        message: `Compose v2 (\`docker compose\`) is not installed: run scripts/install-compose-plugin.sh as root`,
      }));

    const root = await ctx.tempDir('compose');
    // A copy of the tree: the real docker/.env is not in it (readTree leaves local state out) and is never read.
    await writeFiles([...tree.files].map(([path, file]) => [under(root, path), file.content]));
    const example = tree.files.get(ENV_EXAMPLE)?.content;
    if (example === undefined) return [missingRow(ENV_EXAMPLE, TOOL, 'the variables the compose files read')];
    const envFile = under(root, `${posix.dirname(ENV_EXAMPLE)}/.env`);
    await writeFiles([[envFile, dummyEnv(example)]], 0o600);
    const names = new Map<string, string>([
      [envFile, `${posix.dirname(ENV_EXAMPLE)}/.env (dummy values)`],
      ...[...tree.files.keys()].map((p): [string, string] => [under(root, p), p]),
      [root, '.'],
    ]);

    return Promise.all(
      sets.map(async (set): Promise<Row> => {
        const absent = set.files.filter((f) => !tree.files.has(f));
        if (absent.length > 0) return missingRow(set.name, TOOL, `missing ${absent.join(', ')}`);
        const files = set.files.map((f) => under(root, f));
        const run = await runTool('docker', composeConfigArgs(envFile, files), {
          cwd: posix.dirname(files[0] ?? root),
          env,
          timeoutMs: 60_000,
        });
        const output = describePaths(trimOutput(run.output), names);
        if (run.exitCode !== 0) return { target: set.name, tool: TOOL, status: 'fail', message: output };
        // Warnings (an obsolete key, an unset variable) do not fail Compose; they are worth reading.
        return {
          target: set.name,
          tool: TOOL,
          status: 'pass',
          ...(output ? { notes: output.split('\n') } : {}),
        };
      }),
    );
  },
};
