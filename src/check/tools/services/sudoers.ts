import { dirname } from 'node:path';
import { type Row, run } from '../../exec.ts';
import type { Check, CheckContext } from '../../types.ts';
import { filesUnder, relabel, writeCopy } from './common.ts';

// `sudoers`: `visudo -c -s -f <copy>` on each rendered sudoers drop-in. -s (strict) makes an alias that is used
// but never defined an error, as it is a typo that silently grants nothing. The copy has the installed mode
// (0440), as visudo also checks owner and mode.

async function runSudoers(ctx: CheckContext): Promise<Row[]> {
  const folder = dirname(ctx.model.host.files.sudoers);
  const tool = 'visudo -c';
  const files = filesUnder(ctx.tree, folder);
  if (files.length === 0)
    return [{ target: `${folder}/`, tool, status: 'pass', notes: ['no sudoers files rendered'] }];
  const dir = await ctx.tempDir('sudoers');
  const rows: Row[] = [];
  for (const target of files) {
    const copy = await writeCopy(
      dir,
      target.slice(folder.length + 1),
      ctx.tree.files.get(target)?.content ?? '',
      0o440,
    );
    const result = await run('visudo', ['-c', '-s', '-f', copy], { timeoutMs: 15_000 });
    const output = relabel(result.output, [[copy, target]]);
    rows.push(
      result.exitCode === 0
        ? { target, tool, status: 'pass' }
        : { target, tool, status: 'fail', message: output || `visudo exited with ${result.exitCode}` },
    );
  }
  return rows;
}

export const sudoersCheck: Check = {
  name: 'sudoers',
  tool: 'visudo -c',
  requires: ['visudo'],
  install: 'apt-get install sudo',
  run: runSudoers,
};
