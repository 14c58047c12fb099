import { rulesChecks } from './rules/index.ts';
import { platformChecks } from './tools/platform/index.ts';
import { servicesChecks } from './tools/services/index.ts';
import type { Check } from './types.ts';

/** Every check `academy check` runs: real tools over the tree, then cross-references and security policy. */
export const allChecks: Check[] = [...platformChecks, ...servicesChecks, ...rulesChecks];
