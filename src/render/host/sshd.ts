import { type RenderedFile, textFile } from '../file.ts';
import type { HostInput } from './input.ts';

/** /etc/ssh/sshd_config.d/10-<name>.conf: sshd takes the first value it reads, so this file sorts early. */
export function renderSshd(model: HostInput): RenderedFile {
  const body = [
    '# The firewall opens server.sshPort only; sshd must listen there.',
    ...model.host.sshd.map(([key, value]) => `${key} ${value}`),
  ].join('\n');
  return textFile(model.host.files.sshd, body);
}
