import type { Model } from '../../model/index.ts';
import type { Check, CheckResult, TreeFiles } from '../types.ts';
import { type TreeView, viewOf } from './view.ts';

/** One thing a rule found wrong: where (tree file[:line] or model path), what the rule expects, what is there. */
export interface Finding {
  where: string;
  expected: string;
  found: string;
}

/** What a rule returns: its findings (none: pass) and facts worth reading on success. */
export interface RuleOutcome {
  findings: Finding[];
  notes?: string[];
}

export interface RuleInput {
  tree: TreeFiles;
  model: Model;
  view: TreeView;
}

export interface Rule {
  name: string;
  tool: 'xref' | 'policy';
  /** Why the rule exists; the first line of the message when it fails. */
  reason: string;
  evaluate: (input: RuleInput) => RuleOutcome;
}

/** `- where: expected X; found Y` lines under the rule's reason. */
export function formatFindings(reason: string, findings: readonly Finding[]): string {
  const lines = findings.map((f) => `- ${f.where}: expected ${f.expected}; found ${f.found}`);
  return [reason, ...lines].join('\n');
}

/** Runs a rule over a tree and a model: one report row. */
export function runRule(rule: Rule, tree: TreeFiles, model: Model): Omit<CheckResult, 'durationMs'> {
  const { findings, notes } = rule.evaluate({ tree, model, view: viewOf(tree, model) });
  const unique = dedupe(findings);
  const row: Omit<CheckResult, 'durationMs'> = {
    target: rule.name,
    tool: rule.tool,
    status: unique.length === 0 ? 'pass' : 'fail',
  };
  if (unique.length > 0) row.message = formatFindings(rule.reason, unique);
  if (notes && notes.length > 0) row.notes = notes;
  return row;
}

/** A rule as a `Check` of the runner: no external program, one row. */
export function ruleCheck(rule: Rule): Check {
  return {
    name: rule.name,
    tool: rule.tool,
    requires: [],
    install: '',
    run: async (ctx) => [runRule(rule, ctx.tree, ctx.model)],
  };
}

function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.where}\u0000${f.expected}\u0000${f.found}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
