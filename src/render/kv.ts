// One serializer (and its parser, for tests and checks) for the key/value configuration formats of the data
// services:
// - 'postgresql': postgresql.conf, `key = value`, strings in single quotes ('' and \\ escaped).
// - 'mysql':      my.cnf, `[section]` headers and `key = value`.
// - 'redis':      redis.conf, `key arg arg ...`, a key may repeat (`save`, `client-output-buffer-limit`).
// All three take `#` comment lines. Comments are always whole lines: redis.conf has no trailing comments.

export type KvDialect = 'postgresql' | 'mysql' | 'redis';
export type KvScalar = string | number | boolean;

export interface KvEntry {
  key: string;
  /** Several values only in redis.conf (`save 900 1`). */
  value: KvScalar | readonly KvScalar[];
  /** Comment line(s) printed above the entry. */
  comment?: string;
}

export interface KvSection {
  /** `[name]` header line (my.cnf only). */
  header?: string;
  /** Comment line(s) printed above the section: a title, or why its values are what they are. */
  comment?: string;
  entries: readonly KvEntry[];
}

/** Shorthand for an entry. */
export const kv = (key: string, value: KvEntry['value'], comment?: string): KvEntry =>
  comment === undefined ? { key, value } : { key, value, comment };

const KEY = {
  postgresql: /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/,
  mysql: /^[a-z_][a-z0-9_-]*$/,
  redis: /^[a-z][a-z0-9-]*$/,
} as const;

function formatNumber(n: number, where: string): string {
  if (!Number.isFinite(n)) throw new RangeError(`${where}: expected a finite number, got ${String(n)}`);
  const text = String(n);
  if (/e/i.test(text)) throw new RangeError(`${where}: ${text} would be written in exponent notation`);
  return text;
}

/** PostgreSQL numbers with an optional unit may stay unquoted (shared_buffers = 2GB); other strings are quoted. */
const PG_NUMBER_WITH_UNIT = /^-?\d+(\.\d+)?(B|kB|MB|GB|TB|us|ms|s|min|h|d)?$/;

function formatPostgres(value: KvScalar, where: string): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return formatNumber(value, where);
  if (PG_NUMBER_WITH_UNIT.test(value)) return value;
  if (/[\n\r]/.test(value)) throw new RangeError(`${where}: a postgresql.conf value cannot span lines`);
  // The configuration lexer reads backslash escapes inside quoted strings, and '' as one quote.
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

const MYSQL_BARE = /^[A-Za-z0-9_.,:/*+-]+$/;

function formatMysql(value: KvScalar, where: string): string {
  if (typeof value === 'boolean') return value ? 'ON' : 'OFF';
  if (typeof value === 'number') return formatNumber(value, where);
  if (MYSQL_BARE.test(value)) return value;
  if (/["\\\n\r]/.test(value)) {
    throw new RangeError(`${where}: my.cnf values with quotes, backslashes or line breaks are not supported`);
  }
  return `"${value}"`;
}

const REDIS_BARE = /^[^\s"'\\]+$/;

function formatRedis(value: KvScalar, where: string): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return formatNumber(value, where);
  if (REDIS_BARE.test(value)) return value;
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `"${escaped}"`;
}

function commentLines(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text.split('\n').map((line) => (line === '' ? '#' : `# ${line}`));
}

function entryLine(dialect: KvDialect, entry: KvEntry): string {
  const where = `${dialect} key ${JSON.stringify(entry.key)}`;
  if (!KEY[dialect].test(entry.key)) throw new RangeError(`${where}: not a valid key`);
  const values = Array.isArray(entry.value) ? entry.value : [entry.value as KvScalar];
  if (dialect === 'redis') {
    if (values.length === 0) throw new RangeError(`${where}: needs at least one value`);
    return `${entry.key} ${values.map((v) => formatRedis(v, where)).join(' ')}`;
  }
  if (values.length !== 1) throw new RangeError(`${where}: takes exactly one value`);
  const [value] = values as [KvScalar];
  return `${entry.key} = ${dialect === 'postgresql' ? formatPostgres(value, where) : formatMysql(value, where)}`;
}

/** Serializes sections to the file's text: sections separated by one blank line, ending with a newline. */
export function serializeKv(dialect: KvDialect, sections: readonly KvSection[]): string {
  const blocks = sections.map((section) => {
    const lines = commentLines(section.comment);
    if (section.header !== undefined) {
      if (dialect !== 'mysql') throw new RangeError(`${dialect}: section headers exist only in my.cnf`);
      if (!/^[a-z][a-z0-9_-]*$/.test(section.header)) {
        throw new RangeError(`mysql: invalid section name ${JSON.stringify(section.header)}`);
      }
      lines.push(`[${section.header}]`);
    }
    for (const entry of section.entries) {
      lines.push(...commentLines(entry.comment), entryLine(dialect, entry));
    }
    return lines.join('\n');
  });
  return `${blocks.filter((b) => b !== '').join('\n\n')}\n`;
}

// ------------------------------------------------------------------------------------------------------------
// Parser: reads what the programs read, so tests and checks assert on values, not on text.
// ------------------------------------------------------------------------------------------------------------

export interface KvLine {
  /** The `[section]` the line is in (my.cnf), otherwise null. */
  section: string | null;
  key: string;
  /** The decoded value; for redis.conf the arguments joined by one space. */
  value: string;
  /** redis.conf: each decoded argument. Other dialects: [value]. */
  args: string[];
  /** 1-based line number. */
  line: number;
}

/** Splits a redis.conf line the way Redis does (sdssplitargs): "..." with escapes, '...' literal. */
export function splitRedisArgs(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  const fail = (why: string) => {
    throw new SyntaxError(`redis.conf: ${why} in ${JSON.stringify(line)}`);
  };
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i] as string)) i++;
    if (i >= line.length) break;
    let arg = '';
    const quote = line[i];
    if (quote === '"' || quote === "'") {
      i++;
      for (;;) {
        if (i >= line.length) fail('unterminated quote');
        const c = line[i] as string;
        if (quote === '"' && c === '\\' && i + 1 < line.length) {
          const n = line[i + 1] as string;
          if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
            arg += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          arg += ({ n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' } as Record<string, string>)[n] ?? n;
          i += 2;
          continue;
        }
        if (quote === "'" && c === '\\' && line[i + 1] === "'") {
          arg += "'";
          i += 2;
          continue;
        }
        if (c === quote) {
          i++;
          if (i < line.length && !/\s/.test(line[i] as string))
            fail('closing quote must be followed by a space');
          break;
        }
        arg += c;
        i++;
      }
    } else {
      while (i < line.length && !/\s/.test(line[i] as string)) arg += line[i++];
    }
    args.push(arg);
  }
  return args;
}

function parsePostgresValue(raw: string, lineNo: number): string {
  const text = raw.trim();
  if (text.startsWith("'")) {
    let out = '';
    let i = 1;
    for (;;) {
      if (i >= text.length) throw new SyntaxError(`postgresql.conf line ${lineNo}: unterminated string`);
      const c = text[i] as string;
      if (c === "'" && text[i + 1] === "'") {
        out += "'";
        i += 2;
      } else if (c === "'") {
        const rest = text.slice(i + 1).trim();
        if (rest !== '' && !rest.startsWith('#')) {
          throw new SyntaxError(`postgresql.conf line ${lineNo}: unexpected ${JSON.stringify(rest)}`);
        }
        return out;
      } else if (c === '\\') {
        const n = text[i + 1] ?? '';
        out += ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[n] ?? n;
        i += 2;
      } else {
        out += c;
        i++;
      }
    }
  }
  const token = /^([^\s#]*)\s*(#.*)?$/.exec(text);
  if (!token) throw new SyntaxError(`postgresql.conf line ${lineNo}: cannot read ${JSON.stringify(text)}`);
  return token[1] as string;
}

function parseMysqlValue(raw: string): string {
  const text = raw.trim();
  const quoted = /^(["'])(.*)\1\s*(#.*)?$/.exec(text);
  if (quoted) return quoted[2] as string;
  return text.replace(/\s+#.*$/, '').trim();
}

/** Reads a file of the given dialect into its entries, in order. Throws SyntaxError on lines it cannot read. */
export function parseKv(dialect: KvDialect, text: string): KvLine[] {
  const out: KvLine[] = [];
  let section: string | null = null;
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    const lineNo = index + 1;
    if (line === '' || line.startsWith('#') || (dialect === 'mysql' && line.startsWith(';'))) return;
    if (dialect === 'mysql') {
      const header = /^\[([^\]]+)\]$/.exec(line);
      if (header) {
        section = (header[1] as string).trim();
        return;
      }
      if (line.startsWith('!')) return; // !include / !includedir
      const m = /^([A-Za-z0-9_-]+)\s*(?:=(.*))?$/.exec(line);
      if (!m) throw new SyntaxError(`my.cnf line ${lineNo}: cannot read ${JSON.stringify(line)}`);
      const value = m[2] === undefined ? '' : parseMysqlValue(m[2]);
      out.push({ section, key: m[1] as string, value, args: [value], line: lineNo });
      return;
    }
    if (dialect === 'postgresql') {
      const m = /^([A-Za-z_][A-Za-z0-9_.]*)\s*=?\s*(.*)$/.exec(line);
      if (!m) throw new SyntaxError(`postgresql.conf line ${lineNo}: cannot read ${JSON.stringify(line)}`);
      const value = parsePostgresValue(m[2] as string, lineNo);
      out.push({ section: null, key: m[1] as string, value, args: [value], line: lineNo });
      return;
    }
    const [key, ...args] = splitRedisArgs(line);
    if (key === undefined) return;
    out.push({ section: null, key: key.toLowerCase(), value: args.join(' '), args, line: lineNo });
  });
  return out;
}

/**
 * The effective value of each key (the last occurrence wins, as in all three programs), optionally only
 * for one my.cnf section. Repeated redis keys such as `save` need parseKv itself.
 */
export function kvMap(lines: readonly KvLine[], section?: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const l of lines) {
    if (section === undefined || l.section === section) map.set(l.key, l.value);
  }
  return map;
}
