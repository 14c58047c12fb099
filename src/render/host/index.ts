import type { RenderedFile } from '../file.ts';
import { renderDockerDaemon } from './docker-daemon.ts';
import { renderFail2ban } from './fail2ban.ts';
import type { HostInput } from './input.ts';
import { renderLimits } from './limits.ts';
import { renderLogrotate } from './logrotate.ts';
import { renderProvisionScripts } from './scripts.ts';
import { renderSshd } from './sshd.ts';
import { renderSudoers } from './sudoers.ts';
import { renderSysctl } from './sysctl.ts';

export type { HostInput } from './input.ts';

/** Every host file: the provisioning scripts and what they install under /etc. */
export function renderHost(model: HostInput): RenderedFile[] {
  return [
    ...renderProvisionScripts(model),
    renderDockerDaemon(model),
    renderSysctl(model),
    renderLimits(model),
    ...renderLogrotate(model),
    renderFail2ban(model),
    renderSudoers(model),
    renderSshd(model),
  ];
}
