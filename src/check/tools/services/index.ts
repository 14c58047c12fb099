import type { Check } from '../../types.ts';
import { cronCheck } from './cron.ts';
import { dockerDaemonCheck } from './docker-daemon.ts';
import { fail2banCheck } from './fail2ban.ts';
import { logrotateCheck } from './logrotate.ts';
import { mysqlOptionsCheck } from './mysql.ts';
import { postgresCheck } from './postgres.ts';
import { redisCheck } from './redis.ts';
import { sshdCheck } from './sshd.ts';
import { sudoersCheck } from './sudoers.ts';
import { sysctlCheck } from './sysctl.ts';

/** Real-tool checks of the data services and the host files, one module per tool. */
export const servicesChecks: Check[] = [
  postgresCheck,
  redisCheck,
  mysqlOptionsCheck,
  logrotateCheck,
  fail2banCheck,
  sudoersCheck,
  sshdCheck,
  sysctlCheck,
  dockerDaemonCheck,
  cronCheck,
];
