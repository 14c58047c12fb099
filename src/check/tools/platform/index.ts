import type { Check } from '../../types.ts';
import { alertmanagerCheck } from './alertmanager.ts';
import { composeCheck } from './compose.ts';
import { composeSchemaCheck } from './compose-schema.ts';
import { nginxCheck } from './nginx.ts';
import { prometheusCheck } from './prometheus.ts';
import { shellcheckCheck } from './shellcheck.ts';

/** Real programs over the platform's files: nginx, Prometheus, Alertmanager, shell scripts, Compose. */
export const platformChecks: Check[] = [
  nginxCheck,
  prometheusCheck,
  alertmanagerCheck,
  shellcheckCheck,
  composeCheck,
  composeSchemaCheck,
];
