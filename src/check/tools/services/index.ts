import type { Check } from '../../types.ts';

export const servicesChecks: Check[] = [];
