import { type RenderedFile, textFile } from '../file.ts';
import type { HostInput } from './input.ts';

/** /etc/security/limits.d/<name>.conf: open files and processes of the deploy user and root (PAM sessions). */
export function renderLimits(model: HostInput): RenderedFile {
  const rules = model.host.limits;
  const width = Math.max(...rules.map((r) => r.domain.length));
  const lines = rules.map(
    (r) => `${r.domain.padEnd(width)}  ${r.type.padEnd(4)}  ${r.item.padEnd(6)}  ${r.value}`,
  );
  return textFile(model.host.files.limits, ['# <domain> <type> <item> <value>', ...lines].join('\n'));
}
