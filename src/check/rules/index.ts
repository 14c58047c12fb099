import type { Check } from '../types.ts';

export const rulesChecks: Check[] = [];
