// Finds secret-looking values in text without ever returning the value itself: a finding names the file,
// the line, what kind of secret it looks like and the value's length.

export interface SecretHit {
  line: number;
  kind: string;
  /** The key the value is assigned to, when there is one. */
  key?: string;
  length: number;
}

/** Names that hold secrets: `POSTGRES_PASSWORD`, `jwt_secret`, `api_key`, `rpc_secret`, `webhook_url`... */
const SECRET_NAME =
  /(^|[_.-])(password|passwd|pwd|pass|secret|token|api[_-]?key|apikey|app[_-]?key|access[_-]?key|secret[_-]?key|private[_-]?key|client[_-]?secret|credentials?|webhook[_-]?url|auth[_-]?key)$/i;

/**
 * Assignments: `NAME=value`, `name = value`, `--name=value` anywhere on a line; `name: value` only as a
 * mapping key (at the start of a line, after `- `, or quoted / in a flow mapping), so prose such as
 * "a password: it..." is not read as one.
 */
const ASSIGNMENTS = [
  /(?:^|[\s,{;(-])["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*=(?!=)/g,
  /^\s*(?:-\s+)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*:(?!\/\/)/g,
  /[{,]\s*["']([A-Za-z_][A-Za-z0-9_.-]*)["']\s*:/g,
];

/** The line with every `${...}` interpolation (nested ones too) replaced by `$V`: a reference, not a literal. */
function withoutInterpolations(text: string): string {
  let out = text;
  for (let before = ''; before !== out; ) {
    before = out;
    out = out.replace(/\$\{[^{}]*\}/g, '$$V');
  }
  return out;
}

/** Space-separated settings that carry a password (redis.conf). */
const SPACED = /^\s*(requirepass|masterauth)\s+(.*)$/i;

/** SQL password literals: `PASSWORD 'x'`, `IDENTIFIED BY 'x'`. */
const SQL = /\b(PASSWORD|IDENTIFIED\s+BY)\s+'([^']*)'/i;

/** Credentials in a URL: `scheme://user:secret@host`. */
const URL_CREDENTIALS = /[a-z][a-z0-9+.-]*:\/\/[^\s:/@"']*:([^\s@/"']+)@/i;

const PRIVATE_KEY = /-----BEGIN ((RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----/;

/** Well-known token formats. */
const KNOWN_TOKENS: [string, RegExp][] = [
  ['AWS access key id', /\bAKIA[0-9A-Z]{16}\b/],
  ['GitHub token', /\bgh[pousr]_[A-Za-z0-9]{36,}\b/],
  ['Slack token', /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
  ['Slack webhook', /hooks\.slack\.com\/services\/T[A-Za-z0-9]+\/B[A-Za-z0-9]+\/[A-Za-z0-9]+/],
  ['SendGrid key', /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/],
  ['Stripe key', /\b[sr]k_live_[0-9a-zA-Z]{16,}/],
];

/** A value that is not a literal secret: empty, a reference, a path, a boolean or number. */
export function isPlaceholder(raw: string): boolean {
  const v = raw.trim();
  if (v === '' || v === '""' || v === "''") return true;
  const unquoted = v.replace(/^["']|["'],?;?$/g, '').trim();
  if (unquoted === '') return true;
  if (/^\$/.test(unquoted)) return true; // ${VAR}, $VAR, $$VAR (compose escape), $(command)
  if (/^(env|sys\.env)\(/.test(unquoted) || unquoted.startsWith('{{') || unquoted.startsWith('%('))
    return true;
  if (/^\/[^\s]*$/.test(unquoted)) return true; // a file path (`*_file`, `__FILE`, ssl keys)
  if (/^(true|false|yes|no|on|off|none|null|~|required|optional)$/i.test(unquoted)) return true;
  if (/^-?\d+(\.\d+)?$/.test(unquoted)) return true;
  return false;
}

/** First token of a value: a quoted string, or up to whitespace, `,`, `;`, `}`. */
function firstValue(rest: string): string {
  const v = rest.trim();
  const quote = v.charAt(0);
  if (quote === '"' || quote === "'") {
    const end = v.indexOf(quote, 1);
    return end < 0 ? v : v.slice(0, end + 1);
  }
  return /^[^\s,;}]*/.exec(v)?.[0] ?? '';
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** A long random-looking token: base64/hex-like, several character classes, high entropy. */
export function looksRandom(token: string): boolean {
  if (token.length < 32) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(token)).length;
  if (!/[0-9]/.test(token) || classes < 2) return false;
  if (/^[0-9a-f]+$/i.test(token)) return entropy(token) >= 3.5;
  return entropy(token) >= 4.2;
}

/** Every secret-looking value of a text file. */
export function findSecrets(content: string): SecretHit[] {
  const hits: SecretHit[] = [];
  const lines = content.split('\n');
  lines.forEach((text, i) => {
    const line = i + 1;
    if (PRIVATE_KEY.test(text)) hits.push({ line, kind: 'private key block', length: text.trim().length });
    for (const [kind, re] of KNOWN_TOKENS) {
      const m = re.exec(text);
      if (m) hits.push({ line, kind, length: m[0].length });
    }
    const spaced = SPACED.exec(text);
    if (spaced && !text.trim().startsWith('#')) {
      const value = firstValue(spaced[2] as string);
      if (!isPlaceholder(value))
        hits.push({ line, kind: 'password setting', key: spaced[1], length: value.length });
    }
    const plain = withoutInterpolations(text);
    const seen = new Set<number>();
    for (const re of ASSIGNMENTS) {
      for (const assignment of plain.matchAll(re)) {
        const key = assignment[1] as string;
        const end = (assignment.index ?? 0) + assignment[0].length;
        if (!SECRET_NAME.test(key) || seen.has(end)) continue;
        seen.add(end);
        const value = firstValue(plain.slice(end));
        if (!isPlaceholder(value))
          hits.push({ line, kind: 'secret assigned a literal', key, length: value.length });
      }
    }
    const sql = SQL.exec(text);
    if (sql && sql[2] !== '')
      hits.push({ line, kind: 'SQL password literal', length: (sql[2] as string).length });
    const url = URL_CREDENTIALS.exec(text);
    if (url && !isPlaceholder(url[1] as string)) {
      hits.push({ line, kind: 'password in a URL', length: (url[1] as string).length });
    }
    for (const m of text.matchAll(/[A-Za-z0-9+/=_-]{32,}/g)) {
      const before = text.slice(Math.max(0, (m.index ?? 0) - 7), m.index);
      if (/sha256:$|sha512:$/.test(before)) continue; // image digests
      const token = m[0].replace(/^\/+|\/+$/g, '');
      if (token.includes('/') && token.split('/').every((part) => part.length < 32)) continue; // a path
      if (looksRandom(token)) hits.push({ line, kind: 'high-entropy string', length: token.length });
    }
  });
  return hits;
}
