import type { Check } from '../types.ts';
import { policyRules } from './policy.ts';
import { type Rule, ruleCheck } from './rule.ts';
import { xrefRules } from './xref.ts';

/** Cross-references then security policy, each rule one check with one row. */
export const rules: Rule[] = [...xrefRules, ...policyRules];

export const rulesChecks: Check[] = rules.map(ruleCheck);
