/** One step of an operation: a command as an argv array (never a shell string), or a function of ours. */
export type Step =
  | {
      kind: 'command';
      title: string;
      argv: string[];
      /** Extra environment for the command (image overrides, never secrets: those stay in the env file). */
      env?: Record<string, string>;
      cwd?: string;
      timeoutMs?: number;
      /** A failure of this step does not stop the plan (clean-up of something that may not exist). */
      mayFail?: boolean;
      /** Gathers what explains a failure (which service, the tail of its log), appended to the error. */
      diagnose?: () => Promise<string>;
    }
  | { kind: 'task'; title: string; run: () => Promise<string | undefined> };

export interface Plan {
  title: string;
  steps: Step[];
}

/** The plan as text, for --dry-run: what would run, in order. */
export function describePlan(plan: Plan): string {
  const lines = [`${plan.title}:`];
  plan.steps.forEach((step, i) => {
    const head = `${String(i + 1).padStart(2)}. ${step.title}`;
    if (step.kind === 'task') lines.push(head);
    else {
      const env = Object.entries(step.env ?? {})
        .map(([k, v]) => `${k}=${v} `)
        .join('');
      lines.push(
        head,
        `      ${env}${step.argv.map(shellQuote).join(' ')}${step.cwd ? `   (in ${step.cwd})` : ''}`,
      );
    }
  });
  return lines.join('\n');
}

/** Quotes one argument for display the way a POSIX shell would read it back. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
