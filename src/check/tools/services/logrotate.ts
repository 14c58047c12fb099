import { dirname } from 'node:path';
import { type Row, run } from '../../exec.ts';
import type { Check, CheckContext } from '../../types.ts';
import { filesUnder, relabel, writeCopy } from './common.ts';

// `logrotate`: `logrotate -d` (debug: reads the file, reports what it would do, changes nothing) on each
// rendered logrotate file, with a state file in a temp folder. Paths inside the files stay as they are.

/** The lines of logrotate's output that are errors (`error: ...`). */
export const logrotateErrors = (output: string) =>
  output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^error:/i.test(l));

async function runLogrotate(ctx: CheckContext): Promise<Row[]> {
  const folder = dirname(ctx.model.host.files.logrotate);
  const tool = 'logrotate -d';
  const files = filesUnder(ctx.tree, folder);
  if (files.length === 0)
    return [{ target: `${folder}/`, tool, status: 'pass', notes: ['no logrotate files rendered'] }];
  const dir = await ctx.tempDir('logrotate');
  const rows: Row[] = [];
  for (const target of files) {
    const name = target.slice(folder.length + 1);
    // logrotate ignores a config that group or others may write, and wants it owned by root when run as root.
    const copy = await writeCopy(dir, `conf/${name}`, ctx.tree.files.get(target)?.content ?? '', 0o644);
    const state = `${dir}/state-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const result = await run('logrotate', ['-d', '-s', state, copy], { timeoutMs: 30_000 });
    const output = relabel(result.output, [[copy, target]]);
    const errors = logrotateErrors(output);
    if (errors.length > 0 || result.exitCode !== 0) {
      rows.push({
        target,
        tool,
        status: 'fail',
        message: errors.length > 0 ? errors.join('\n') : output.split('\n').slice(-10).join('\n'),
      });
    } else {
      rows.push({ target, tool, status: 'pass' });
    }
  }
  return rows;
}

export const logrotateCheck: Check = {
  name: 'logrotate',
  tool: 'logrotate -d',
  requires: ['logrotate'],
  install: 'apt-get install logrotate',
  run: runLogrotate,
};
