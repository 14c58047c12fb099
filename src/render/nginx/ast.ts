/**
 * A typed syntax tree for nginx configuration files.
 *
 * Renderers build these nodes and `printNginx` (print.ts) is the only place that turns them into text;
 * `parseNginx` (parse.ts) reads text back into the same nodes so tests and checks can assert structure.
 *
 * Names and args are raw values, exactly as nginx sees them after it has read the file: no quotes, no
 * escapes. The printer adds quoting where a value would otherwise not survive nginx's tokenizer.
 */

/** `name arg1 arg2;` - also the entries of `map`, `types`, `geo` and `upstream` blocks (`default upgrade;`). */
export interface NginxDirective {
  kind: 'directive';
  name: string;
  args: string[];
  /** Printed after the `;` on the same line: `listen 443 ssl; # comment`. */
  comment?: string;
}

/** `name args { children }`. */
export interface NginxBlock {
  kind: 'block';
  name: string;
  args: string[];
  children: NginxNode[];
  /** Printed after the `{` on the same line: `server { # comment`. */
  comment?: string;
}

/** A comment on its own line(s): `# text`. A text with newlines prints as several comment lines. */
export interface NginxComment {
  kind: 'comment';
  text: string;
}

/** An empty line. The printer drops blanks at the start and end of a block and collapses runs of blanks. */
export interface NginxBlank {
  kind: 'blank';
}

export type NginxNode = NginxDirective | NginxBlock | NginxComment | NginxBlank;

/** What builders accept as an argument: numbers are printed in decimal. */
export type NginxArg = string | number;

/** What `block()` accepts as a child: `false`, `null` and `undefined` are skipped (`tls && d(...)`). */
export type NginxChild = NginxNode | false | null | undefined;

function argToString(arg: NginxArg): string {
  if (typeof arg === 'number') {
    if (!Number.isFinite(arg)) {
      throw new TypeError(`nginx argument must be a finite number, got ${arg}`);
    }
    return String(arg);
  }
  return arg;
}

/** A directive: `d('listen', 443, 'ssl')` prints `listen 443 ssl;`. */
export function d(name: string, ...args: NginxArg[]): NginxDirective {
  return { kind: 'directive', name, args: args.map(argToString) };
}

/** A block: `block('location', ['/api/'], [d('proxy_pass', 'http://api')])`. */
export function block(name: string, args: readonly NginxArg[], children: readonly NginxChild[]): NginxBlock {
  return {
    kind: 'block',
    name,
    args: args.map(argToString),
    children: children.filter((c): c is NginxNode => c !== false && c !== null && c !== undefined),
  };
}

/** A standalone comment line: `comment('managed by academy')` prints `# managed by academy`. */
export function comment(text: string): NginxComment {
  return { kind: 'comment', text };
}

/** An empty line between groups of nodes. */
export function blank(): NginxBlank {
  return { kind: 'blank' };
}

/**
 * The same tree without comments (standalone and inline) and blank lines: what nginx itself sees.
 * Use it to compare trees when only the configuration matters.
 */
export function stripTrivia(nodes: readonly NginxNode[]): NginxNode[] {
  const out: NginxNode[] = [];
  for (const node of nodes) {
    if (node.kind === 'directive') {
      out.push({ kind: 'directive', name: node.name, args: [...node.args] });
    } else if (node.kind === 'block') {
      out.push({
        kind: 'block',
        name: node.name,
        args: [...node.args],
        children: stripTrivia(node.children),
      });
    }
  }
  return out;
}
