import type { NginxNode } from './ast.ts';

/**
 * The one place where nginx configuration text is produced.
 *
 * Layout: 4-space indentation, one directive per line, `name args {` ... `}` for blocks (`name args {}` when
 * empty), `# text` for comments. Blank lines come only from `blank` nodes; blanks at the start or end of a
 * block and repeated blanks are dropped, so conditional groups can be joined without care. The output ends
 * with exactly one newline (an empty tree prints as the empty string).
 */
export function printNginx(nodes: readonly NginxNode[]): string {
  const lines: string[] = [];
  printNodes(nodes, 0, lines);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

const INDENT = '    ';

function printNodes(nodes: readonly NginxNode[], depth: number, lines: string[]): void {
  const indent = INDENT.repeat(depth);
  let pendingBlank = false;
  let printedAny = false;
  for (const node of nodes) {
    if (node.kind === 'blank') {
      pendingBlank = printedAny;
      continue;
    }
    if (pendingBlank) {
      lines.push('');
      pendingBlank = false;
    }
    printedAny = true;
    switch (node.kind) {
      case 'comment':
        for (const line of node.text.split(/\r?\n|\r/)) {
          lines.push(indent + commentText(line));
        }
        break;
      case 'directive':
        lines.push(`${indent}${statement(node.name, node.args)};${inlineComment(node.comment)}`);
        break;
      case 'block': {
        const head = `${indent}${statement(node.name, node.args)} {`;
        if (node.children.length === 0 && node.comment === undefined) {
          lines.push(`${head}}`);
          break;
        }
        lines.push(head + inlineComment(node.comment));
        printNodes(node.children, depth + 1, lines);
        lines.push(`${indent}}`);
        break;
      }
      default:
        assertNever(node);
    }
  }
}

function statement(name: string, args: readonly string[]): string {
  return [name, ...args].map(quoteArg).join(' ');
}

function commentText(text: string): string {
  const trimmed = text.trimEnd();
  return trimmed === '' ? '#' : `# ${trimmed}`;
}

function inlineComment(text: string | undefined): string {
  if (text === undefined) return '';
  if (/[\r\n]/.test(text)) {
    throw new Error(`nginx inline comment must be a single line, got ${JSON.stringify(text)}`);
  }
  return ` ${commentText(text)}`;
}

function assertNever(node: never): never {
  throw new Error(`unknown nginx node: ${JSON.stringify(node)}`);
}

/** Characters that end or start something else in nginx's tokenizer, so a bare token must not contain them. */
const NEEDS_QUOTES = /[\s;{}#"']/;

/**
 * A backslash that nginx would read as an escape (`\"`, `\'`, `\\`, `\t`, `\r`, `\n`) or that ends the value.
 * Any other backslash (`\.`, `\d`, `\/`) is kept as is by nginx, so regexes print bare.
 */
const SIGNIFICANT_BACKSLASH = /\\(?=["'\\trn]|$)/;

/** Inside double quotes: what a character is written as when it is not itself. */
const QUOTED_ESCAPES: Record<string, string> = { '"': '\\"', '\t': '\\t', '\r': '\\r', '\n': '\\n' };

/**
 * A name or argument as nginx must read it back: bare when that is safe, otherwise in double quotes.
 *
 * Quoted when empty or when it contains whitespace, `;`, `{`, `}`, `#`, a quote, or a backslash that nginx
 * would interpret. Inside quotes `"` becomes `\"`; tab, CR and LF become `\t`, `\r`, `\n` (nginx turns them
 * back); a backslash is doubled only where nginx would otherwise read an escape, so `\.` stays `\.`.
 */
export function quoteArg(value: string): string {
  if (value !== '' && !NEEDS_QUOTES.test(value) && !SIGNIFICANT_BACKSLASH.test(value)) {
    return value;
  }
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const ch = value.charAt(i);
    if (ch === '\\') {
      const next = value.charAt(i + 1);
      // After this backslash comes an escape character, a character we escape, or the closing quote.
      out += next === '' || '"\'\\trn\t\r\n'.includes(next) ? '\\\\' : '\\';
    } else {
      out += QUOTED_ESCAPES[ch] ?? ch;
    }
  }
  return `${out}"`;
}
