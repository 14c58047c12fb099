import { type RenderedFile, textFile } from '../file.ts';
import type { HostInput } from './input.ts';

/** /etc/sudoers.d/<deploy user>: the deploy user may test and reload nginx as root, nothing else. */
export function renderSudoers(model: HostInput): RenderedFile {
  const { deployUser, sudoCommands } = model.host;
  const body = [
    `# ${deployUser} is in the docker group and runs deployments and backups; as root it may only test and`,
    '# reload nginx. provision-server.sh checks this file with visudo and installs it with mode 0440.',
    `Cmnd_Alias NGINX_CONTROL = ${sudoCommands.join(', ')}`,
    `${deployUser} ALL=(root) NOPASSWD: NGINX_CONTROL`,
  ].join('\n');
  return textFile(model.host.files.sudoers, body);
}
