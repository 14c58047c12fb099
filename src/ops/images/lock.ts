import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Runs `task` while holding a lock directory (atomic mkdir, with the holder's pid inside): concurrent
 * callers (test files in parallel, two terminals) wait instead of building the same image twice. A lock
 * whose holder died is taken over.
 */
export async function withLockDir<T>(
  dir: string,
  task: () => Promise<T>,
  options: { timeoutMs?: number; onWait?: (holder: string) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  const pidFile = join(dir, 'pid');
  let reported = false;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(pidFile, String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && !alive(holder)) {
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`${dir} is still held by pid ${holder || '?'}; remove it if that process is gone`);
    }
    if (!reported) options.onWait?.(Number.isInteger(holder) ? `pid ${holder}` : 'another process');
    reported = true;
    await sleep(500);
  }
  try {
    return await task();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
