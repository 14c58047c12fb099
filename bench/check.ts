// npm run bench:check: the full `academy check --strict` on the default site, 5 runs; median wall time and
// the median time of each check. Baseline in the same run: `academy synth --check` (loading the config,
// rendering and comparing the tree), the floor every check run pays before any tool starts.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const academy = join(import.meta.dirname, '../bin/academy');
const ROUNDS = 5;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

interface Row {
  target: string;
  tool: string;
  status: string;
  durationMs: number;
}

const wall: number[] = [];
const baseline: number[] = [];
const perCheck = new Map<string, number[]>();
for (let round = 1; round <= ROUNDS; round++) {
  let start = performance.now();
  await run(academy, ['synth', '--check'], { maxBuffer: 1 << 26 });
  const synthMs = performance.now() - start;
  baseline.push(synthMs);

  start = performance.now();
  const { stdout } = await run(academy, ['check', '--strict', '--json'], { maxBuffer: 1 << 26 }).catch(
    (e) => e,
  );
  const checkMs = performance.now() - start;
  wall.push(checkMs);
  const report = JSON.parse(stdout) as { ok: boolean; results: Row[] };
  if (!report.ok) throw new Error(`round ${round}: academy check --strict failed; run it to see why`);
  // Rows of one check share its duration: keep one per tool.
  const byTool = new Map<string, number>();
  for (const row of report.results) byTool.set(row.tool, Math.max(byTool.get(row.tool) ?? 0, row.durationMs));
  for (const [tool, ms] of byTool) perCheck.set(tool, [...(perCheck.get(tool) ?? []), ms]);
  console.log(
    `round ${round}/${ROUNDS}: check ${(checkMs / 1000).toFixed(2)} s, synth --check ${(synthMs / 1000).toFixed(2)} s`,
  );
}

console.log('\nper check (median of its own time; checks run in parallel):');
for (const [tool, times] of [...perCheck].sort((a, b) => median(b[1]) - median(a[1]))) {
  console.log(`  ${tool.padEnd(28)} ${(median(times) / 1000).toFixed(2)} s`);
}
const checkMedian = median(wall);
console.log(
  `\nacademy check --strict: median ${(checkMedian / 1000).toFixed(2)} s over ${ROUNDS} runs (goal: under 15 s)`,
);
console.log(`baseline academy synth --check: median ${(median(baseline) / 1000).toFixed(2)} s`);
console.log(`ratio check/baseline: ${(checkMedian / median(baseline)).toFixed(1)}`);
