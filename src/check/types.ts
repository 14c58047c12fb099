import type { Model } from '../model/index.ts';

export type CheckStatus = 'pass' | 'fail' | 'skip';

/** One row of the check report: a file or a rule, the tool that judged it, and its verdict. */
export interface CheckResult {
  /** What was checked: a tree path (`nginx/nginx.conf`), a file set, or a rule name (`policy/loopback-ports`). */
  target: string;
  /** The program or rule set that judged it (`nginx -t`, `promtool`, `policy`, `xref`). */
  tool: string;
  status: CheckStatus;
  /** Why it failed or was skipped: the tool's own message, or the rule's reason and finding. */
  message?: string;
  /** Facts worth reading even on success (a scaled-down memory value, a production-only option). */
  notes?: string[];
  durationMs: number;
}

/** The rendered tree as read from disk. */
export interface TreeFiles {
  /** Absolute path of the tree's root. */
  root: string;
  files: Map<string, { content: string; mode: number }>;
}

export interface CheckContext {
  tree: TreeFiles;
  model: Model;
  /** A fresh temporary folder for this check; removed after the run. */
  tempDir: (label: string) => Promise<string>;
}

/**
 * A check: one real tool over some files, or a set of rules. `requires` names the programs it runs; when one is
 * missing the check is skipped with `install` as the hint (and fails under --strict).
 */
export interface Check {
  name: string;
  tool: string;
  requires: string[];
  install: string;
  run: (ctx: CheckContext) => Promise<Omit<CheckResult, 'durationMs'>[]>;
}
