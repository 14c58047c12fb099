import type { Check } from '../../types.ts';

export const platformChecks: Check[] = [];
