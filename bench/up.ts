// npm run bench:up: time from a clean engine (no container, no data) with cached images to every service
// healthy behind nginx, median of 3; then, with --no-cache, once from no image at all (base image and
// stand-ins rebuilt). Baseline in the same run: the no-op second `up` on a running stack (the fixed cost of
// rendering, compose's own checks and the health probe).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BASE_IMAGE, ensureLocalImages, LOCAL_IMAGES } from '../src/ops/local-images.ts';

const run = promisify(execFile);
const academy = join(import.meta.dirname, '../bin/academy');
const ROUNDS = 3;
const noCache = process.argv.includes('--no-cache');

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const state = await mkdtemp(join(tmpdir(), 'academy-bench-up-'));
const local = ['--state', state, '--http-port', '38080', '--https-port', '38443', '--status-port', '38088'];
const timed = async (args: string[]) => {
  const start = performance.now();
  await run(academy, args, { maxBuffer: 1 << 26 });
  return performance.now() - start;
};

try {
  await ensureLocalImages({ onProgress: () => undefined });
  const cold: number[] = [];
  const noop: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await run(academy, ['down', '--volumes', ...local]).catch(() => undefined);
    cold.push(await timed(['up', '--images', 'local', ...local]));
    noop.push(await timed(['up', '--images', 'local', ...local]));
    console.log(
      `round ${round}/${ROUNDS}: clean engine -> healthy ${s(cold.at(-1) ?? 0)}, no-op up ${s(noop.at(-1) ?? 0)}`,
    );
  }
  console.log(`\nclean engine, cached images -> all healthy: median ${s(median(cold))} over ${ROUNDS} runs`);
  console.log(`baseline no-op up on a running stack: median ${s(median(noop))}`);
  console.log(`ratio clean/no-op: ${(median(cold) / median(noop)).toFixed(1)}`);

  if (noCache) {
    await run(academy, ['down', '--volumes', ...local]).catch(() => undefined);
    for (const ref of [...LOCAL_IMAGES.map((i) => i.ref), BASE_IMAGE.ref]) {
      await run('docker', ['image', 'rm', '-f', ref]).catch(() => undefined);
    }
    const start = performance.now();
    await ensureLocalImages();
    const build = performance.now() - start;
    const up = await timed(['up', '--images', 'local', ...local]);
    console.log(
      `\nno image cache (once): images built in ${s(build)}, then up in ${s(up)}: ${s(build + up)} in all`,
    );
  }
} finally {
  await run(academy, ['down', '--volumes', ...local]).catch(() => undefined);
  await rm(state, { recursive: true, force: true });
}
