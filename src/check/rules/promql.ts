// A small PromQL reader: the series selectors of an expression (metric name and label matchers). It
// tokenizes strings, numbers and durations, identifiers and punctuation, and skips what is not a metric:
// function and aggregation names (followed by `(`), label lists of by/without/on/ignoring/group_left/
// group_right, range and subquery brackets, keywords.

export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  /** Undefined for `{__name__=~"..."}` without a literal name. */
  metric: string | undefined;
  matchers: LabelMatcher[];
}

type Token =
  | { kind: 'ident'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'number'; text: string }
  | { kind: 'punct'; text: string };

const KEYWORDS = new Set(['bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'start', 'end', 'atan2']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

function unquote(raw: string): string {
  const body = raw.slice(1, -1);
  if (raw.startsWith('`')) return body;
  return body.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

export function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      const end = expr.indexOf('\n', i);
      i = end < 0 ? expr.length : end;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < expr.length && expr.charAt(j) !== c) j += expr.charAt(j) === '\\' && c !== '`' ? 2 : 1;
      tokens.push({ kind: 'string', text: unquote(expr.slice(i, j + 1)) });
      i = j + 1;
    } else if (/[0-9.]/.test(c)) {
      // Numbers, hex, exponents and durations (5m, 1h30m) in one token.
      const m = /^(?:0x[0-9a-fA-F]+|[0-9.]+(?:[eE][+-]?[0-9]+)?[a-zA-Z0-9]*)/.exec(expr.slice(i));
      const text = m?.[0] || c;
      tokens.push({ kind: 'number', text });
      i += text.length;
    } else if (/[A-Za-z_:]/.test(c)) {
      const m = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    } else {
      const two = expr.slice(i, i + 2);
      const text = ['=~', '!~', '!=', '==', '>=', '<=', '^'].includes(two) ? two : c;
      tokens.push({ kind: 'punct', text });
      i += text.length;
    }
  }
  return tokens;
}

/** Reads `{a="x", b=~"y"}` starting at the `{` at `start`; returns the matchers and the index after `}`. */
function readMatchers(tokens: Token[], start: number): { matchers: LabelMatcher[]; next: number } {
  const matchers: LabelMatcher[] = [];
  let i = start + 1;
  while (i < tokens.length && tokens[i]?.text !== '}') {
    const label = tokens[i];
    const op = tokens[i + 1];
    const value = tokens[i + 2];
    if (label?.kind === 'string' && (op?.text === ',' || op?.text === '}')) {
      // A quoted metric name inside the braces (Prometheus 3 UTF-8 syntax).
      matchers.push({ label: '__name__', op: '=', value: label.text });
      i += 1;
    } else if (
      (label?.kind === 'ident' || label?.kind === 'string') &&
      op &&
      ['=', '!=', '=~', '!~'].includes(op.text) &&
      value?.kind === 'string'
    ) {
      matchers.push({ label: label.text, op: op.text as LabelMatcher['op'], value: value.text });
      i += 3;
    } else {
      i += 1;
      continue;
    }
    if (tokens[i]?.text === ',') i++;
  }
  return { matchers, next: i + 1 };
}

/** Every series selector of a PromQL expression, in order. */
export function selectorsOf(expr: string): Selector[] {
  const tokens = tokenize(expr);
  const out: Selector[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i] as Token;
    if (t.kind === 'punct' && t.text === '[') {
      while (i < tokens.length && tokens[i]?.text !== ']') i++;
      i++;
      continue;
    }
    if (t.kind === 'punct' && t.text === '{') {
      const { matchers, next } = readMatchers(tokens, i);
      const name = matchers.find((m) => m.label === '__name__' && m.op === '=');
      out.push({ metric: name?.value, matchers: matchers.filter((m) => m !== name) });
      i = next;
      continue;
    }
    if (t.kind !== 'ident') {
      i++;
      continue;
    }
    const lower = t.text.toLowerCase();
    const next = tokens[i + 1];
    if (GROUPING.has(lower)) {
      if (next?.text === '(') {
        while (i < tokens.length && tokens[i]?.text !== ')') i++;
      }
      i++;
      continue;
    }
    // `sum by (job) (x)`: an aggregation with its grouping first.
    const grouping = next?.kind === 'ident' && (next.text === 'by' || next.text === 'without');
    if (next?.text === '(' || KEYWORDS.has(lower) || grouping) {
      i++;
      continue;
    }
    if (next?.text === '{') {
      const { matchers, next: after } = readMatchers(tokens, i + 1);
      out.push({ metric: t.text, matchers });
      i = after;
      continue;
    }
    out.push({ metric: t.text, matchers: [] });
    i++;
  }
  return out;
}

/** The metric names an expression reads, sorted and unique. */
export function metricsOf(expr: string): string[] {
  return [...new Set(selectorsOf(expr).flatMap((s) => (s.metric ? [s.metric] : [])))].sort();
}

/**
 * The values a matcher can select when it lists them literally (`job="a"`, `job=~"a|b"`), or undefined
 * when it is negative or a real regular expression.
 */
export function literalValues(m: LabelMatcher): string[] | undefined {
  if (m.op === '=') return [m.value];
  if (m.op === '=~' && /^[A-Za-z0-9_:.-]+(\|[A-Za-z0-9_:.-]+)*$/.test(m.value)) return m.value.split('|');
  return undefined;
}
