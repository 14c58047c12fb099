import { describe, expect, it } from 'vitest';
import { OperationFailed } from '../../src/lib/errors.ts';
import { describePlan, type Plan, shellQuote } from '../../src/ops/plan.ts';
import { runPlan } from '../../src/ops/run-plan.ts';

describe('plans', () => {
  it('describe every step with its argv quoted as a shell would read it back', () => {
    const plan: Plan = {
      title: 'Demo',
      steps: [
        { kind: 'command', title: 'say', argv: ['echo', "it's", 'a b'], env: { X: '1' }, cwd: '/tmp' },
        { kind: 'task', title: 'think', run: async () => undefined },
      ],
    };
    expect(describePlan(plan)).toBe("Demo:\n 1. say\n      X=1 echo 'it'\\''s' 'a b'   (in /tmp)\n 2. think");
    expect(shellQuote('plain/path-1.0')).toBe('plain/path-1.0');
  });

  it('run in order, report elapsed time, and stop at the first failure with the command output', async () => {
    const lines: string[] = [];
    const plan: Plan = {
      title: 'Run',
      steps: [
        { kind: 'command', title: 'ok', argv: ['sh', '-c', 'echo fine'] },
        { kind: 'command', title: 'optional', argv: ['false'], mayFail: true },
        { kind: 'command', title: 'broken', argv: ['sh', '-c', 'echo boom >&2; exit 3'] },
        { kind: 'command', title: 'never', argv: ['touch', '/tmp/should-not-run'] },
      ],
    };
    const failure = await runPlan(plan, { log: (l) => lines.push(l) }).catch((e) => e);
    expect(failure).toBeInstanceOf(OperationFailed);
    expect(failure.message).toContain('step 3 "broken" failed');
    expect(failure.message).toContain('boom');
    expect(failure.message).toContain('exit code 3');
    expect(lines.some((l) => /\[1\/4\] ok: done in \d+\.\d s/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('[2/4] optional: skipped'))).toBe(true);
    expect(lines.some((l) => l.includes('never'))).toBe(false);
  });
});
