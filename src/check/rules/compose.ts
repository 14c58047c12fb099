// Readers for the parts of a Compose file the rules look at: variable interpolation, published ports,
// bind mounts and image references. They follow the Compose specification, not the renderer's output,
// so a hand-edited or differently rendered file is read the way `docker compose` reads it.

/** One `${VAR...}` or `$VAR` a string interpolates. */
export interface VariableUse {
  name: string;
  /** `''` (plain), `:-`/`-` (default), `:?`/`?` (required), `:+`/`+` (alternative). */
  op: '' | ':-' | '-' | ':?' | '?' | ':+' | '+';
  /** The default, message or alternative after the operator. */
  arg?: string;
}

/** Index of the `}` that closes the `{` at `open`, or -1. */
function closingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s.charAt(i);
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?|:\+|-|\?|\+)([\s\S]*))?$/;

/** Every variable `value` interpolates, nested defaults included (`${A:-x${B}}` uses A and B); `$$` escapes. */
export function variablesOf(value: string): VariableUse[] {
  const out: VariableUse[] = [];
  let i = 0;
  while (i < value.length) {
    if (value.charAt(i) !== '$') {
      i++;
      continue;
    }
    const next = value.charAt(i + 1);
    if (next === '$') {
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(value, i + 1);
      if (end < 0) break;
      const m = BRACED.exec(value.slice(i + 2, end));
      if (m) {
        const use: VariableUse = { name: m[1] as string, op: (m[2] ?? '') as VariableUse['op'] };
        if (m[3] !== undefined) use.arg = m[3];
        out.push(use);
        if (m[3]) out.push(...variablesOf(m[3]));
      }
      i = end + 1;
      continue;
    }
    const m = NAME.exec(value.slice(i + 1));
    if (m) out.push({ name: m[0], op: '' });
    i += 1 + (m?.[0].length ?? 0);
  }
  return out;
}

/**
 * `value` with every variable replaced: by `lookup(name)` when it knows it, else by the default of
 * `${VAR:-default}`; variables with neither are listed in `unresolved` (and left as `${VAR}`).
 */
export function interpolate(
  value: string,
  lookup: (name: string) => string | undefined = () => undefined,
): { value: string; unresolved: string[] } {
  const unresolved: string[] = [];
  let out = '';
  let i = 0;
  while (i < value.length) {
    const c = value.charAt(i);
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = value.charAt(i + 1);
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(value, i + 1);
      const m = end < 0 ? null : BRACED.exec(value.slice(i + 2, end));
      if (!m) {
        out += c;
        i++;
        continue;
      }
      const name = m[1] as string;
      const op = m[2] ?? '';
      const known = lookup(name);
      if (op === ':-' || op === '-') {
        if (known !== undefined && (op === '-' || known !== '')) out += known;
        else {
          const inner = interpolate(m[3] ?? '', lookup);
          out += inner.value;
          unresolved.push(...inner.unresolved);
        }
      } else if (op === ':+' || op === '+') {
        if (known) {
          const inner = interpolate(m[3] ?? '', lookup);
          out += inner.value;
          unresolved.push(...inner.unresolved);
        }
      } else if (known !== undefined) out += known;
      else {
        out += `\${${name}}`;
        unresolved.push(name);
      }
      i = end + 1;
      continue;
    }
    const m = NAME.exec(value.slice(i + 1));
    if (!m) {
      out += c;
      i++;
      continue;
    }
    const known = lookup(m[0]);
    if (known !== undefined) out += known;
    else {
      out += `\${${m[0]}}`;
      unresolved.push(m[0]);
    }
    i += 1 + m[0].length;
  }
  return { value: out, unresolved };
}

/** A `ports:` entry of a service. `hostIp` undefined means every address (Docker's default). */
export interface PortBinding {
  hostIp: string | undefined;
  /** Host ports; empty when Docker picks one (only the container port given). */
  hostPorts: number[];
  containerPort: string;
  protocol: string;
  raw: string;
}

/** `3000-3002` -> [3000, 3001, 3002]; NaN-free. */
function portRange(text: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!m) return [];
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  const out: number[] = [];
  for (let p = first; p <= last && out.length < 1000; p++) out.push(p);
  return out;
}

/** Reads one `ports:` entry, short (`[ip:]host:container[/proto]`) or long syntax. */
export function parsePort(entry: unknown): PortBinding | undefined {
  if (typeof entry === 'number') {
    return {
      hostIp: undefined,
      hostPorts: [],
      containerPort: String(entry),
      protocol: 'tcp',
      raw: String(entry),
    };
  }
  if (typeof entry === 'string') {
    let rest = entry.trim();
    let protocol = 'tcp';
    const slash = rest.lastIndexOf('/');
    if (slash >= 0) {
      protocol = rest.slice(slash + 1);
      rest = rest.slice(0, slash);
    }
    let hostIp: string | undefined;
    const v6 = /^\[([^\]]*)\]:(.*)$/.exec(rest);
    if (v6) {
      hostIp = v6[1];
      rest = v6[2] as string;
    }
    const parts = rest.split(':');
    if (!v6 && parts.length === 3) hostIp = parts.shift();
    if (parts.length === 1) {
      return { hostIp, hostPorts: [], containerPort: parts[0] as string, protocol, raw: entry };
    }
    if (parts.length !== 2) return undefined;
    return {
      hostIp: hostIp === '' ? undefined : hostIp,
      hostPorts: portRange(parts[0] as string),
      containerPort: parts[1] as string,
      protocol,
      raw: entry,
    };
  }
  if (entry && typeof entry === 'object') {
    const e = entry as Record<string, unknown>;
    const published = e.published === undefined ? '' : String(e.published);
    return {
      hostIp: typeof e.host_ip === 'string' && e.host_ip !== '' ? e.host_ip : undefined,
      hostPorts: portRange(published),
      containerPort: String(e.target ?? ''),
      protocol: typeof e.protocol === 'string' ? e.protocol : 'tcp',
      raw: JSON.stringify(entry),
    };
  }
  return undefined;
}

/** A `volumes:` entry that is a bind mount (the source is a path, not a named volume). */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
  raw: string;
}

const isPathSource = (source: string) => /^(\/|\.|~|\$)/.test(source);

/** The bind mount of a `volumes:` entry, or undefined for a named or anonymous volume. */
export function parseBindMount(entry: unknown): BindMount | undefined {
  if (typeof entry === 'string') {
    const parts = entry.split(':');
    if (parts.length < 2) return undefined;
    const [source, target, mode = ''] = parts as [string, string, string?];
    if (!isPathSource(source)) return undefined;
    return { source, target, readOnly: mode.split(',').includes('ro'), raw: entry };
  }
  if (entry && typeof entry === 'object') {
    const e = entry as Record<string, unknown>;
    if (e.type !== 'bind' || typeof e.source !== 'string') return undefined;
    return {
      source: e.source,
      target: String(e.target ?? ''),
      readOnly: e.read_only === true,
      raw: JSON.stringify(entry),
    };
  }
  return undefined;
}

/** `registry/name:tag@digest` split; `tag` undefined when the reference has none. */
export function parseImage(ref: string): {
  name: string;
  tag: string | undefined;
  digest: string | undefined;
} {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/'))
    return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { name: rest, tag: undefined, digest };
}

/** Every string scalar of a parsed YAML value, with its dotted path. */
export function stringsOf(value: unknown, path = ''): { path: string; value: string }[] {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsOf(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => stringsOf(v, path ? `${path}.${k}` : k));
  }
  return [];
}
