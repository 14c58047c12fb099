import { execa } from 'execa';
import { OperationFailed } from '../lib/errors.ts';
import type { Plan, Step } from './plan.ts';

export interface StepReport {
  title: string;
  ok: boolean;
  ms: number;
  output?: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Runs a plan's steps in order, printing each with its elapsed time; stops at the first failure with the
 * command's own output. Output of successful commands is kept quiet unless `verbose`.
 */
export async function runPlan(
  plan: Plan,
  options: { log?: (line: string) => void; verbose?: boolean } = {},
): Promise<StepReport[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const reports: StepReport[] = [];
  const started = performance.now();
  log(`${plan.title}`);
  for (const [index, step] of plan.steps.entries()) {
    const prefix = `[${index + 1}/${plan.steps.length}]`;
    const start = performance.now();
    log(`${prefix} ${step.title} ...`);
    const report = await runStep(step);
    const ms = performance.now() - start;
    reports.push({ ...report, ms });
    if (report.ok || (step.kind === 'command' && step.mayFail)) {
      // A task's one-line answer ("started", "unchanged") is part of the progress line.
      const said =
        step.kind === 'task' && report.output && !report.output.includes('\n') ? ` (${report.output})` : '';
      log(
        `${prefix} ${step.title}: ${report.ok ? `done${said}` : 'skipped (failed, not needed)'} in ${seconds(ms)}`,
      );
      if (options.verbose && report.output) log(report.output);
      continue;
    }
    log(`${prefix} ${step.title}: FAILED after ${seconds(ms)}`);
    if (step.kind === 'command' && step.diagnose) {
      const diagnosis = await step.diagnose().catch((error: Error) => `(no diagnosis: ${error.message})`);
      report.output = `${report.output ?? ''}\n${diagnosis}`;
    }
    throw new OperationFailed(
      `${plan.title}: step ${index + 1} "${step.title}" failed:\n${report.output ?? ''}`.trimEnd(),
    );
  }
  log(`${plan.title}: ${plan.steps.length} steps done in ${seconds(performance.now() - started)}.`);
  return reports;
}

async function runStep(step: Step): Promise<Omit<StepReport, 'ms'>> {
  if (step.kind === 'task') {
    try {
      return { title: step.title, ok: true, output: await step.run() };
    } catch (error) {
      return { title: step.title, ok: false, output: (error as Error).message };
    }
  }
  const [file, ...args] = step.argv as [string, ...string[]];
  const result = await execa(file, args, {
    env: step.env,
    cwd: step.cwd,
    timeout: step.timeoutMs,
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  const output = result.all?.trim();
  if (result.exitCode === 0) return { title: step.title, ok: true, output };
  const why = result.timedOut
    ? `timed out after ${seconds(step.timeoutMs ?? 0)}`
    : `exit code ${result.exitCode}`;
  return { title: step.title, ok: false, output: `${output ? `${output}\n` : ''}(${file}: ${why})` };
}
