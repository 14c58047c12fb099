import type { NginxBlock, NginxDirective, NginxNode } from './ast.ts';

/**
 * Reads nginx configuration text into the AST of ast.ts, following nginx's own tokenizer
 * (ngx_conf_read_token) so that tests and checks see the values nginx will see:
 *
 * - tokens are separated by space, tab, CR and LF; `;` ends a directive, `{` opens a block, `}` closes one;
 * - `"..."` and `'...'` are quoted strings; after the closing quote comes a space, `;`, `{` or `)`;
 * - a backslash escapes the next character everywhere; in the value `\"`, `\'`, `\\` become the character,
 *   `\t`, `\r`, `\n` become tab, CR, LF, and any other backslash is kept (`\.` stays `\.`);
 * - `#` at the start of a token starts a comment to the end of the line (`a#b` is one token);
 * - in a bare token `{` right after `$` does not open a block (`${var}`), and `}` inside it is literal.
 *
 * Comments and blank lines are KEPT by default, so `parseNginx(printNginx(ast))` gives back `ast` for any
 * tree the printer lays out as is (no leading, trailing or repeated blanks in a block; single-line
 * comments without trailing spaces). Placement:
 * - a comment on the line where a directive ends (`listen 80; # x`) becomes that directive's `comment`;
 * - a comment on the line of a block's `{` becomes the block's `comment`;
 * - a comment between the tokens of a directive is appended to that directive's `comment`;
 * - any other comment is a standalone `comment` node (also one right after a `}`);
 * - one or more empty lines between two nodes of the same block become one `blank` node; empty lines at the
 *   start or end of a block are dropped.
 * Pass `{ comments: false, blanks: false }` for just the configuration (or use `stripTrivia`).
 *
 * Throws `NginxParseError` (with `line`) on unbalanced braces, a missing `;`, an unclosed string, or a
 * character nginx does not accept after a quoted string.
 */
export function parseNginx(text: string, options: ParseOptions = {}): NginxNode[] {
  return new Parser(text, options).parse();
}

export interface ParseOptions {
  /** Named in error messages: `nginx/site.conf:12: ...`. */
  file?: string;
  /** Keep comments (default true). */
  comments?: boolean;
  /** Keep blank lines as `blank` nodes (default true). */
  blanks?: boolean;
}

/** A syntax error in nginx configuration text, with the 1-based line where it is. */
export class NginxParseError extends Error {
  override name = 'NginxParseError';
  constructor(
    readonly line: number,
    readonly reason: string,
    readonly file?: string,
  ) {
    super(`${file === undefined ? 'line ' : `${file}:`}${line}: ${reason}`);
  }
}

/** All blocks called `name` at any depth, in document order; `pred` narrows them (e.g. by args). */
export function findBlocks(
  nodes: readonly NginxNode[],
  name: string,
  pred?: (block: NginxBlock) => boolean,
): NginxBlock[] {
  const found: NginxBlock[] = [];
  const visit = (list: readonly NginxNode[]): void => {
    for (const node of list) {
      if (node.kind !== 'block') continue;
      if (node.name === name && (pred === undefined || pred(node))) found.push(node);
      visit(node.children);
    }
  };
  visit(nodes);
  return found;
}

/** All directives called `name` at any depth (inside any block), in document order. */
export function findDirectives(nodes: readonly NginxNode[], name: string): NginxDirective[] {
  const found: NginxDirective[] = [];
  const visit = (list: readonly NginxNode[]): void => {
    for (const node of list) {
      if (node.kind === 'directive' && node.name === name) found.push(node);
      else if (node.kind === 'block') visit(node.children);
    }
  };
  visit(nodes);
  return found;
}

/** Directives called `name` directly inside `parent` (a block, or a list of top-level nodes). */
export function directivesOf(parent: NginxBlock | readonly NginxNode[], name: string): NginxDirective[] {
  return childrenOf(parent).filter((n): n is NginxDirective => n.kind === 'directive' && n.name === name);
}

/** Blocks called `name` directly inside `parent` (a block, or a list of top-level nodes). */
export function blocksOf(
  parent: NginxBlock | readonly NginxNode[],
  name: string,
  pred?: (block: NginxBlock) => boolean,
): NginxBlock[] {
  return childrenOf(parent).filter(
    (n): n is NginxBlock => n.kind === 'block' && n.name === name && (pred === undefined || pred(n)),
  );
}

function childrenOf(parent: NginxBlock | readonly NginxNode[]): readonly NginxNode[] {
  return 'kind' in parent ? parent.children : parent;
}

interface Word {
  value: string;
  line: number;
  endLine: number;
}

interface Frame {
  children: NginxNode[];
  block?: NginxBlock;
  line: number;
}

/** What ended last and on which line: decides where a following comment or blank line goes. */
interface LastEnd {
  line: number;
  node?: NginxDirective | NginxBlock;
}

const SPACE = new Set([' ', '\t', '\r', '\n']);
const AFTER_QUOTE = new Set([' ', '\t', '\r', '\n', ';', '{', ')']);

class Parser {
  private pos = 0;
  private line = 1;
  private readonly root: Frame = { children: [], line: 1 };
  private readonly stack: Frame[] = [this.root];
  private words: Word[] = [];
  private pendingComment: string | undefined;
  private last: LastEnd = { line: 0 };
  private readonly keepComments: boolean;
  private readonly keepBlanks: boolean;

  constructor(
    private readonly text: string,
    private readonly options: ParseOptions,
  ) {
    this.keepComments = options.comments ?? true;
    this.keepBlanks = options.blanks ?? true;
  }

  parse(): NginxNode[] {
    const { text } = this;
    while (this.pos < text.length) {
      const ch = text.charAt(this.pos);
      if (SPACE.has(ch)) {
        if (ch === '\n') this.line++;
        this.pos++;
      } else if (ch === ';') {
        this.endDirective();
        this.pos++;
      } else if (ch === '{') {
        this.openBlock();
        this.pos++;
      } else if (ch === '}') {
        this.closeBlock();
        this.pos++;
      } else if (ch === '#') {
        this.readComment();
      } else if (ch === '"' || ch === "'") {
        this.readQuoted(ch);
      } else {
        this.readBare();
      }
    }
    const lastWord = this.words.at(-1);
    if (lastWord !== undefined) {
      throw this.error(lastWord.endLine, `${this.describePending()} is missing ";" at the end of the file`);
    }
    const open = this.stack.at(-1);
    if (open?.block !== undefined) {
      throw this.error(
        open.line,
        `block "${open.block.name}" opened on this line is missing its closing "}" at the end of the file`,
      );
    }
    return this.root.children;
  }

  private get frame(): Frame {
    const top = this.stack.at(-1);
    if (top === undefined) throw new Error('nginx parser: empty block stack');
    return top;
  }

  private error(line: number, reason: string): NginxParseError {
    return new NginxParseError(line, reason, this.options.file);
  }

  private describePending(): string {
    const [name] = this.words;
    return `directive "${name?.value ?? ''}" started on line ${name?.line ?? this.line}`;
  }

  /** Before a new node starts on `line`: an empty line since the previous node becomes a blank. */
  private startNode(line: number): void {
    const { children } = this.frame;
    if (!this.keepBlanks || children.length === 0 || line - this.last.line < 2) return;
    if (children.at(-1)?.kind !== 'blank') children.push({ kind: 'blank' });
  }

  private pushWord(value: string, line: number): void {
    if (this.words.length === 0) this.startNode(line);
    this.words.push({ value, line, endLine: this.line });
  }

  private takeStatement(what: string): { name: string; args: string[]; comment?: string } {
    const [first, ...rest] = this.words;
    if (first === undefined) {
      throw this.error(this.line, `unexpected "${what}": there is no directive name before it`);
    }
    const statement: { name: string; args: string[]; comment?: string } = {
      name: first.value,
      args: rest.map((w) => w.value),
    };
    if (this.pendingComment !== undefined) statement.comment = this.pendingComment;
    this.words = [];
    this.pendingComment = undefined;
    return statement;
  }

  private endDirective(): void {
    const node: NginxDirective = { kind: 'directive', ...this.takeStatement(';') };
    this.frame.children.push(node);
    this.last = { line: this.line, node };
  }

  private openBlock(): void {
    const { name, args, comment } = this.takeStatement('{');
    const node: NginxBlock = { kind: 'block', name, args, children: [] };
    if (comment !== undefined) node.comment = comment;
    this.frame.children.push(node);
    this.stack.push({ children: node.children, block: node, line: this.line });
    this.last = { line: this.line, node };
  }

  private closeBlock(): void {
    const lastWord = this.words.at(-1);
    if (lastWord !== undefined) {
      throw this.error(
        lastWord.endLine,
        `${this.describePending()} is missing ";" after "${lastWord.value}" (found "}" on line ${this.line})`,
      );
    }
    if (this.stack.length === 1) {
      throw this.error(this.line, 'unexpected "}": no block is open here');
    }
    this.stack.pop();
    this.last = { line: this.line };
  }

  private readComment(): void {
    const { text } = this;
    let end = text.indexOf('\n', this.pos);
    if (end === -1) end = text.length;
    const body = text
      .slice(this.pos + 1, end)
      .replace(/^ /, '')
      .trimEnd();
    this.pos = end;
    if (this.words.length > 0) {
      if (this.keepComments) {
        this.pendingComment = this.pendingComment === undefined ? body : `${this.pendingComment} ${body}`;
      }
      return;
    }
    const owner = this.last.node;
    if (owner !== undefined && this.last.line === this.line && owner.comment === undefined) {
      if (this.keepComments) owner.comment = body;
      return;
    }
    this.startNode(this.line);
    if (this.keepComments) this.frame.children.push({ kind: 'comment', text: body });
    this.last = { line: this.line };
  }

  private readQuoted(quote: string): void {
    const { text } = this;
    const startLine = this.line;
    let i = this.pos + 1;
    for (;;) {
      if (i >= text.length) {
        throw this.error(startLine, `the string starting on this line is never closed (missing ${quote})`);
      }
      const ch = text.charAt(i);
      if (ch === '\\') i += 2;
      else if (ch === quote) break;
      else i++;
    }
    const raw = text.slice(this.pos + 1, i);
    this.advanceTo(i + 1, raw);
    this.pushWord(unescapeToken(raw), startLine);
    const next = text.charAt(this.pos);
    if (next !== '' && !AFTER_QUOTE.has(next)) {
      throw this.error(this.line, `unexpected "${next}" after a quoted string: expected a space, ";" or "{"`);
    }
  }

  private readBare(): void {
    const { text } = this;
    const startLine = this.line;
    let i = this.pos;
    let variable = false;
    while (i < text.length) {
      const ch = text.charAt(i);
      if (ch === '{' && variable) {
        i++;
        continue;
      }
      variable = false;
      if (ch === '\\') {
        i += 2;
        continue;
      }
      if (ch === '$') {
        variable = true;
        i++;
        continue;
      }
      if (SPACE.has(ch) || ch === ';' || ch === '{') break;
      i++;
    }
    i = Math.min(i, text.length);
    const raw = text.slice(this.pos, i);
    this.advanceTo(i, raw);
    this.pushWord(unescapeToken(raw), startLine);
  }

  /** Moves past `consumed`, counting the line breaks inside it (escaped or quoted ones too). */
  private advanceTo(pos: number, consumed: string): void {
    for (const ch of consumed) if (ch === '\n') this.line++;
    this.pos = pos;
  }
}

const UNESCAPES: Record<string, string> = { '"': '"', "'": "'", '\\': '\\', t: '\t', r: '\r', n: '\n' };

/** nginx's unescaping of a token: `\"`, `\'`, `\\`, `\t`, `\r`, `\n`; any other backslash stays. */
function unescapeToken(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charAt(i);
    const replacement = ch === '\\' ? UNESCAPES[raw.charAt(i + 1)] : undefined;
    if (replacement !== undefined) {
      out += replacement;
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}
