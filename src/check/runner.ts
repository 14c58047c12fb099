import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Model } from '../model/index.ts';
import type { Check, CheckResult, TreeFiles } from './types.ts';

const found = new Map<string, Promise<boolean>>();

/** Whether a program is on PATH (cached per run). */
export function hasProgram(name: string): Promise<boolean> {
  let known = found.get(name);
  if (!known) {
    known = execa('sh', ['-c', `command -v "$1"`, 'sh', name]).then(
      () => true,
      () => false,
    );
    found.set(name, known);
  }
  return known;
}

export interface RunOptions {
  strict: boolean;
  /** How many checks run at once. */
  concurrency: number;
  onResult?: (result: CheckResult) => void;
}

/** Runs every check, in parallel up to `concurrency`; a missing tool is a skip, or a failure under strict. */
export async function runChecks(
  checks: Check[],
  tree: TreeFiles,
  model: Model,
  options: RunOptions,
): Promise<CheckResult[]> {
  const base = await mkdtemp(join(tmpdir(), 'academy-check-'));
  // Traversable (not listable) by the service users some checks run as (postgres); each check's own
  // folder stays 0700.
  await chmod(base, 0o711);
  let serial = 0;
  const tempDir = (label: string) =>
    mkdtemp(join(base, `${label.replace(/[^a-z0-9-]/gi, '-')}-${serial++}-`));
  const results: CheckResult[][] = [];
  const queue = checks.map((check, index) => ({ check, index }));
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { check, index } = next;
      const start = performance.now();
      const missing = [];
      for (const program of check.requires) if (!(await hasProgram(program))) missing.push(program);
      let rows: Omit<CheckResult, 'durationMs'>[];
      if (missing.length > 0) {
        rows = [
          {
            target: check.name,
            tool: check.tool,
            status: options.strict ? 'fail' : 'skip',
            message: `${missing.join(', ')} not installed: ${check.install}`,
          },
        ];
      } else {
        try {
          rows = await check.run({ tree, model, tempDir });
        } catch (error) {
          rows = [
            {
              target: check.name,
              tool: check.tool,
              status: 'fail',
              message: `check crashed: ${(error as Error).message}`,
            },
          ];
        }
      }
      const durationMs = Math.round(performance.now() - start);
      // Under --strict nothing may go unchecked: a check that could not run fails.
      results[index] = rows.map((row) => ({
        ...row,
        ...(options.strict && row.status === 'skip' ? { status: 'fail' as const } : {}),
        durationMs,
      }));
      for (const row of results[index]) options.onResult?.(row);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  return results.flat();
}
