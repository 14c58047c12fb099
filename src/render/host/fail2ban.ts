import { type RenderedFile, textFile } from '../file.ts';
import { renderIni } from './ini.ts';
import type { HostInput } from './input.ts';

/** /etc/fail2ban/jail.local: the stock filters, bans through UFW. */
export function renderFail2ban(model: HostInput): RenderedFile {
  const { fail2ban } = model.host;
  const body = renderIni([
    { name: 'DEFAULT', entries: fail2ban.defaults },
    ...fail2ban.jails.map((jail) => ({ name: jail.name, comment: jail.why, entries: jail.settings })),
  ]);
  return textFile(model.host.files.fail2banJail, body);
}
