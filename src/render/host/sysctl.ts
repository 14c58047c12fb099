import { type RenderedFile, textFile } from '../file.ts';
import { commentLines, keyValueLines } from './ini.ts';
import type { HostInput } from './input.ts';

/** /etc/sysctl.d/99-<name>.conf, written whole; the only place the platform sets kernel parameters. */
export function renderSysctl(model: HostInput): RenderedFile {
  const body = model.host.sysctl
    .map((group) =>
      [
        ...commentLines([group.title, ...(group.why ?? [])]),
        ...keyValueLines(group.settings.map((s) => [s.key, s.value] as const)),
      ].join('\n'),
    )
    .join('\n\n');
  return textFile(model.host.files.sysctl, body);
}
