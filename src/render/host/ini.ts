// The one serializer of the host's key/value files (sysctl.d, fail2ban's jail.local).

/** `# text` lines. */
export const commentLines = (lines: readonly string[] = [], prefix = '#'): string[] =>
  lines.map((line) => (line === '' ? prefix : `${prefix} ${line}`));

/** `key = value` lines; a value may not span lines (no format here supports it). */
export function keyValueLines(entries: readonly (readonly [string, string])[], separator = ' = '): string[] {
  return entries.map(([key, value]) => {
    if (/[\r\n]/.test(key) || /[\r\n]/.test(value) || key.trim() === '') {
      throw new Error(`internal error: key/value entry ${JSON.stringify(key)} cannot be written on one line`);
    }
    return `${key}${separator}${value}`;
  });
}

export interface IniSection {
  name: string;
  /** Comment lines printed above the section header. */
  comment?: readonly string[];
  entries: readonly (readonly [string, string])[];
}

/** INI text: sections in the given order, separated by a blank line. */
export function renderIni(sections: readonly IniSection[]): string {
  return sections
    .map((section) =>
      [...commentLines(section.comment), `[${section.name}]`, ...keyValueLines(section.entries)].join('\n'),
    )
    .join('\n\n');
}
