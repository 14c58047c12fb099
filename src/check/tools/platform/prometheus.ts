import { posix } from 'node:path';
import type { Check } from '../../types.ts';
import { containerCopy, DUMMY_SECRET, serviceReading } from './container.ts';
import { missingRow, type Row, type RunResult, runTool, trimOutput, writeFiles } from './exec.ts';
import { type NewerSyntaxRun, PROMETHEUS_NEWER_FIELDS, runAllowingNewer } from './newer-syntax.ts';
import { describePaths } from './relocate.ts';

const TOOL = 'promtool';

/** `promtool, version 2.42.0+ds (...)` -> `2.42.0+ds`. */
export function parsePromtoolVersion(output: string): string | null {
  return /version (\S+)/.exec(output)?.[1] ?? null;
}

export const prometheusCheck: Check = {
  name: 'prometheus',
  tool: TOOL,
  requires: ['promtool'],
  install: 'apt-get install -y prometheus',
  run: async (ctx) => {
    const { tree, model } = ctx;
    const { files, containerPaths } = model.monitoring;
    const service = serviceReading(model.monitoring.services, containerPaths.prometheusConfig);
    const missing = [files.prometheus, files.alertRules].filter((f) => !tree.files.has(f));
    if (missing.length > 0 || !service)
      return missing.length > 0
        ? missing.map((f) => missingRow(f, TOOL, 'Prometheus reads it'))
        : [
            {
              target: files.prometheus,
              tool: TOOL,
              status: 'fail',
              message: 'no service mounts prometheus.yml',
            },
          ];

    const root = await ctx.tempDir('prometheus');
    const copy = containerCopy(tree, service, root);
    await writeFiles(copy.files);
    await writeFiles(
      copy.secrets.map((s) => [s, DUMMY_SECRET]),
      0o600,
    );
    const version = parsePromtoolVersion((await runTool('promtool', ['--version'])).output) ?? '(unknown)';
    const tool = `promtool ${version}`;
    const configPath = copy.copies.get(files.prometheus) ?? '';
    const rulesPath = copy.copies.get(files.alertRules) ?? '';
    const rulesDir = posix.dirname(rulesPath);
    const show = (run: RunResult) => describePaths(trimOutput(run.output), copy.names);
    const row = (target: string, result: NewerSyntaxRun): Row => ({
      target,
      tool: TOOL,
      status: result.run.exitCode === 0 ? 'pass' : 'fail',
      ...(result.run.exitCode === 0 ? {} : { message: show(result.run) }),
      ...(result.notes.length > 0 ? { notes: result.notes } : {}),
    });

    // Rules first: `check config` reads them too, so it sees the copy without Prometheus 3-only rules.
    const rules = await runAllowingNewer(
      rulesPath,
      () => runTool('promtool', ['check', 'rules', rulesPath], { cwd: rulesDir }),
      { tool, newerFields: PROMETHEUS_NEWER_FIELDS, rules: true, display: files.alertRules },
    );
    const testDir = posix.dirname(files.alertRulesTest);
    const tests = [...copy.copies.keys()].filter(
      (p) => posix.dirname(p) === testDir && /\.ya?ml$/.test(p) && p !== files.alertRules,
    );
    const testRow = async (test: string): Promise<Row> => {
      const path = copy.copies.get(test) ?? '';
      const run = await runTool('promtool', ['test', 'rules', path], { cwd: rulesDir });
      const result = row(test, { run, notes: [] });
      if (run.exitCode !== 0 && rules.notes.length > 0) {
        // Tests of rules taken out of the copy cannot pass with this promtool.
        result.status = 'skip';
        result.notes = [`${tool} read the rules without some Prometheus 3 syntax (see ${files.alertRules})`];
      }
      return result;
    };
    const [config, testRows] = await Promise.all([
      runAllowingNewer(
        configPath,
        () => runTool('promtool', ['check', 'config', configPath], { cwd: posix.dirname(configPath) }),
        { tool, newerFields: PROMETHEUS_NEWER_FIELDS, display: files.prometheus },
      ),
      Promise.all(tests.map(testRow)),
    ]);
    return [row(files.prometheus, config), row(files.alertRules, rules), ...testRows];
  },
};
