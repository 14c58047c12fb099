import type { CheckResult } from './types.ts';

const mark = { pass: 'ok', fail: 'FAIL', skip: 'skip' } as const;

/** The report as a table (target, tool, result, time) with messages and notes under failing rows. */
export function formatTable(results: CheckResult[]): string {
  const widths = {
    target: Math.max(6, ...results.map((r) => r.target.length)),
    tool: Math.max(4, ...results.map((r) => r.tool.length)),
  };
  const line = (target: string, tool: string, result: string, time: string) =>
    `${target.padEnd(widths.target)}  ${tool.padEnd(widths.tool)}  ${result.padEnd(6)}  ${time.padStart(7)}`;
  const out = [
    line('target', 'tool', 'result', 'time'),
    line('-'.repeat(widths.target), '-'.repeat(widths.tool), '------', '-------'),
  ];
  for (const r of results) {
    out.push(line(r.target, r.tool, mark[r.status], `${r.durationMs} ms`));
    const indent = '    ';
    if (r.status !== 'pass' && r.message)
      out.push(
        ...r.message
          .trimEnd()
          .split('\n')
          .map((l) => `${indent}${l}`),
      );
    for (const note of r.notes ?? []) out.push(`${indent}note: ${note}`);
  }
  return out.join('\n');
}

export function summarize(results: CheckResult[], elapsedMs: number): string {
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  const failed = count('fail');
  return `${failed === 0 ? 'Check passed' : 'Check FAILED'}: ${count('pass')} passed, ${failed} failed, ${count('skip')} skipped in ${(elapsedMs / 1000).toFixed(1)} s.`;
}
