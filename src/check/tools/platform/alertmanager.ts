import { posix } from 'node:path';
import type { Check } from '../../types.ts';
import { containerCopy, DUMMY_SECRET, serviceReading } from './container.ts';
import { missingRow, type Row, runTool, trimOutput, writeFiles } from './exec.ts';
import { ALERTMANAGER_FILE_FIELDS, ALERTMANAGER_NEWER_FIELDS, runAllowingNewer } from './newer-syntax.ts';
import { describePaths } from './relocate.ts';

const TOOL = 'amtool';

/** `amtool, version 0.25.0 (...)` -> `0.25.0`. */
export function parseAmtoolVersion(output: string): string | null {
  return /version (\S+)/.exec(output)?.[1] ?? null;
}

export const alertmanagerCheck: Check = {
  name: 'alertmanager',
  tool: TOOL,
  requires: ['amtool'],
  install: 'apt-get install -y prometheus-alertmanager',
  run: async (ctx) => {
    const { tree, model } = ctx;
    const target = model.monitoring.files.alertmanager;
    const containerPath = model.monitoring.containerPaths.alertmanagerConfig;
    if (!tree.files.has(target)) return [missingRow(target, TOOL, 'Alertmanager reads it')];
    const service = serviceReading(model.monitoring.services, containerPath);
    if (!service)
      return [{ target, tool: TOOL, status: 'fail', message: `no service mounts ${containerPath}` }];

    const root = await ctx.tempDir('alertmanager');
    // Secret `*_file` paths point into the container: the copy has dummy files there.
    const copy = containerCopy(tree, service, root);
    await writeFiles(copy.files);
    await writeFiles(
      copy.secrets.map((s) => [s, DUMMY_SECRET]),
      0o600,
    );
    const path = copy.copies.get(target) ?? '';
    const version = parseAmtoolVersion((await runTool('amtool', ['--version'])).output) ?? '(unknown)';
    const result = await runAllowingNewer(
      path,
      () => runTool('amtool', ['check-config', path], { cwd: posix.dirname(path) }),
      {
        tool: `amtool ${version}`,
        newerFields: ALERTMANAGER_NEWER_FIELDS,
        replacements: ALERTMANAGER_FILE_FIELDS,
        display: target,
      },
    );
    const row: Row = { target, tool: TOOL, status: result.run.exitCode === 0 ? 'pass' : 'fail' };
    if (result.run.exitCode !== 0) row.message = describePaths(trimOutput(result.run.output), copy.names);
    if (result.notes.length > 0) row.notes = result.notes;
    return [row];
  },
};
