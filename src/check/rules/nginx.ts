import type { NginxBlock, NginxDirective, NginxNode } from '../../render/nginx/ast.ts';
import { blocksOf, directivesOf, parseNginx } from '../../render/nginx/parse.ts';

// The nginx configuration as nginx assembles it: nginx.conf with every `include` of a tree file replaced
// by that file's contents, each node remembering the tree file it came from; plus the pieces of nginx's
// request processing the policy rules need (listen addresses, location selection, access rules,
// add_header inheritance).

export interface NginxConfig {
  /** nginx.conf with includes expanded (or, without nginx.conf, every file's nodes one after another). */
  nodes: NginxNode[];
  /** Tree file of each node. */
  fileOf: WeakMap<object, string>;
  /** Files that did not parse, with nginx's reason. */
  errors: { file: string; message: string }[];
  /** Includes that name no tree file (the package's own files: mime.types, modules). */
  external: string[];
}

export interface NginxLayout {
  /** Tree folder of the nginx files (`nginx`). */
  treeDir: string;
  /** Where that folder is installed (`/etc/nginx`). */
  confDir: string;
  /** The sites-enabled folder: provisioning links every file of sites-available there. */
  sitesEnabled: string;
}

const globRegex = (glob: string) =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );

/** The tree files an include path names (installed path or glob), sorted as nginx's glob sorts them. */
export function includeTargets(path: string, layout: NginxLayout, files: Iterable<string>): string[] {
  let installed = path.startsWith('/') ? path : `${layout.confDir}/${path}`;
  if (installed.startsWith(`${layout.sitesEnabled}/`)) {
    installed = `${layout.confDir}/sites-available/${installed.slice(layout.sitesEnabled.length + 1)}`;
  }
  if (!installed.startsWith(`${layout.confDir}/`)) return [];
  const treePath = `${layout.treeDir}/${installed.slice(layout.confDir.length + 1)}`;
  const re = globRegex(treePath);
  return [...files].filter((f) => re.test(f)).sort();
}

/** Reads the tree's nginx configuration the way nginx does, from nginx.conf through its includes. */
export function loadNginx(files: Map<string, { content: string }>, layout: NginxLayout): NginxConfig {
  const fileOf = new WeakMap<object, string>();
  const errors: NginxConfig['errors'] = [];
  const external: string[] = [];
  const parsed = new Map<string, NginxNode[] | null>();
  const nginxFiles = [...files.keys()].filter((f) => f.startsWith(`${layout.treeDir}/`));

  const parse = (file: string): NginxNode[] => {
    const known = parsed.get(file);
    if (known !== undefined) return known ?? [];
    try {
      const nodes = parseNginx(files.get(file)?.content ?? '', { file, comments: false, blanks: false });
      parsed.set(file, nodes);
      return nodes;
    } catch (error) {
      parsed.set(file, null);
      errors.push({ file, message: (error as Error).message });
      return [];
    }
  };

  // Each expansion copies the nodes, so a file included twice yields distinct nodes with their own parents.
  const expand = (nodes: readonly NginxNode[], file: string, depth: number): NginxNode[] => {
    const out: NginxNode[] = [];
    for (const node of nodes) {
      if (node.kind === 'directive' && node.name === 'include' && node.args[0] !== undefined) {
        const targets = includeTargets(node.args[0], layout, nginxFiles);
        if (targets.length === 0 || depth > 16) {
          if (!node.args[0].includes('*')) external.push(node.args[0]);
          const copy = { ...node };
          fileOf.set(copy, file);
          out.push(copy);
          continue;
        }
        // Kept as a marker so rules can see that the include was there.
        const marker = { ...node };
        fileOf.set(marker, file);
        out.push(marker);
        for (const target of targets) out.push(...expand(parse(target), target, depth + 1));
      } else if (node.kind === 'block') {
        const copy: NginxBlock = { ...node, children: expand(node.children, file, depth) };
        fileOf.set(copy, file);
        out.push(copy);
      } else {
        const copy = { ...node };
        fileOf.set(copy, file);
        out.push(copy);
      }
    }
    return out;
  };

  const main = `${layout.treeDir}/nginx.conf`;
  const nodes = files.has(main)
    ? expand(parse(main), main, 0)
    : nginxFiles.filter((f) => f.endsWith('.conf')).flatMap((f) => expand(parse(f), f, 0));
  return { nodes, fileOf, errors, external };
}

/** A block with the blocks that enclose it, outermost first (`http`, `server`, `location`...). */
export interface Scoped {
  block: NginxBlock;
  ancestors: NginxBlock[];
}

/** Every block called `name` with its ancestors. */
export function scopedBlocks(nodes: readonly NginxNode[], name: string): Scoped[] {
  const out: Scoped[] = [];
  const visit = (list: readonly NginxNode[], ancestors: NginxBlock[]) => {
    for (const node of list) {
      if (node.kind !== 'block') continue;
      if (node.name === name) out.push({ block: node, ancestors });
      visit(node.children, [...ancestors, node]);
    }
  };
  visit(nodes, []);
  return out;
}

/** Every `location` and `if` block under `block`, with its ancestors starting at `block`'s own chain. */
export function nestedScopes(block: NginxBlock, ancestors: NginxBlock[]): Scoped[] {
  const out: Scoped[] = [];
  const visit = (parent: NginxBlock, chain: NginxBlock[]) => {
    for (const child of parent.children) {
      if (child.kind !== 'block' || (child.name !== 'location' && child.name !== 'if')) continue;
      out.push({ block: child, ancestors: chain });
      visit(child, [...chain, child]);
    }
  };
  visit(block, [...ancestors, block]);
  return out;
}

export interface ListenAddress {
  /** undefined: every address of the family. */
  host: string | undefined;
  port: number;
  family: 4 | 6;
  raw: string;
}

/** Reads the address of a `listen` directive (`443`, `[::]:443`, `127.0.0.1:8088`, `*:80`). */
export function parseListen(arg: string): ListenAddress | undefined {
  if (arg.startsWith('unix:')) return undefined;
  const v6 = /^\[([^\]]*)\](?::(\d+))?$/.exec(arg);
  if (v6) {
    const host = v6[1] === '::' ? undefined : v6[1];
    return { host, port: Number(v6[2] ?? 80), family: 6, raw: arg };
  }
  if (/^\d+$/.test(arg)) return { host: undefined, port: Number(arg), family: 4, raw: arg };
  const m = /^([^:]+)(?::(\d+))?$/.exec(arg);
  if (!m) return undefined;
  const host = m[1] === '*' || m[1] === '0.0.0.0' ? undefined : m[1];
  return { host, port: Number(m[2] ?? 80), family: 4, raw: arg };
}

export function listensOf(server: NginxBlock): ListenAddress[] {
  return directivesOf(server, 'listen')
    .map((d) => parseListen(d.args[0] ?? ''))
    .filter((l): l is ListenAddress => l !== undefined);
}

const PRIVATE_V4 = [/^127\./, /^10\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./, /^localhost$/];

/** An address the internet can reach: every address, or one outside loopback and the private ranges. */
export function isPublicListen(l: ListenAddress): boolean {
  if (l.host === undefined) return true;
  if (l.family === 6) return !(l.host === '::1' || /^f[cd]/i.test(l.host));
  return !PRIVATE_V4.some((re) => re.test(l.host as string));
}

/** `server_name` of a server, for messages. */
export function serverLabel(server: NginxBlock, fileOf: WeakMap<object, string>): string {
  const names = directivesOf(server, 'server_name').flatMap((d) => d.args);
  const listen = directivesOf(server, 'listen')
    .map((d) => d.args[0])
    .join(',');
  return `${fileOf.get(server) ?? '?'} server ${names.join(' ') || '(no server_name)'} [listen ${listen}]`;
}

export const blockLabel = (b: NginxBlock) => `${b.name}${b.args.length ? ` ${b.args.join(' ')}` : ''}`;

/**
 * The location nginx picks for `uri` among the `location` children of `parent`, as
 * ngx_http_core_find_location does: an exact match wins; else the longest prefix is remembered and its
 * nested locations are searched (a nested exact or regex match wins); then, unless that prefix is `^~`, the
 * regular expressions of this level in order; else the longest prefix. Returns the chain, outermost first
 * (empty: no location matches).
 */
export function selectLocation(parent: NginxBlock, uri: string, notes: string[] = []): NginxBlock[] {
  return findLocation(parent, uri, notes).chain;
}

function findLocation(
  parent: NginxBlock,
  uri: string,
  notes: string[],
): { chain: NginxBlock[]; decisive: boolean } {
  const locations = blocksOf(parent, 'location').filter((l) => !(l.args[0] ?? '').startsWith('@'));
  const modifierOf = (l: NginxBlock) => (l.args.length > 1 ? (l.args[0] as string) : '');
  const pathOf = (l: NginxBlock) => (l.args.length > 1 ? l.args[1] : l.args[0]) ?? '';
  const exact = locations.find((l) => modifierOf(l) === '=' && pathOf(l) === uri);
  if (exact) return { chain: [exact], decisive: true };
  let prefix: NginxBlock | undefined;
  for (const l of locations) {
    const modifier = modifierOf(l);
    if (modifier !== '' && modifier !== '^~') continue;
    const path = pathOf(l);
    if (uri.startsWith(path) && (!prefix || path.length > pathOf(prefix).length)) prefix = l;
  }
  let chain: NginxBlock[] = [];
  if (prefix) {
    const inner = findLocation(prefix, uri, notes);
    chain = [prefix, ...inner.chain];
    if (inner.decisive) return { chain, decisive: true };
    if (modifierOf(prefix) === '^~') return { chain, decisive: false };
  }
  for (const l of locations) {
    const modifier = modifierOf(l);
    if (modifier !== '~' && modifier !== '~*') continue;
    let re: RegExp;
    try {
      re = new RegExp(pathOf(l), modifier === '~*' ? 'i' : '');
    } catch {
      notes.push(
        `location ${l.args.join(' ')}: regular expression not readable by JavaScript; assumed no match`,
      );
      continue;
    }
    if (re.test(uri)) return { chain: [l, ...findLocation(l, uri, notes).chain], decisive: true };
  }
  return { chain, decisive: false };
}

const ACCESS = new Set(['allow', 'deny']);
const accessRules = (b: NginxBlock) =>
  b.children.filter((n): n is NginxDirective => n.kind === 'directive' && ACCESS.has(n.name));

/** The allow/deny rules in force in the innermost block of `chain` (nginx inherits them only when a level has none). */
export function effectiveAccess(chain: readonly NginxBlock[]): NginxDirective[] {
  for (let i = chain.length - 1; i >= 0; i--) {
    const rules = accessRules(chain[i] as NginxBlock);
    if (rules.length > 0) return rules;
  }
  return [];
}

/** The add_header directives in force in the innermost block of `chain` (inherited only when a level has none). */
export function effectiveHeaders(chain: readonly NginxBlock[]): NginxDirective[] {
  for (let i = chain.length - 1; i >= 0; i--) {
    const own = directivesOf(chain[i] as NginxBlock, 'add_header');
    if (own.length > 0) return own;
  }
  return [];
}

/** True when every rule ends in `deny all` and the only addresses allowed are `allowed(address)`. */
export function deniesAllBut(
  rules: readonly NginxDirective[],
  allowed: (address: string) => boolean,
): boolean {
  const last = rules.at(-1);
  if (last?.name !== 'deny' || last.args[0] !== 'all') return false;
  return rules.slice(0, -1).every((r) => r.name === 'deny' || allowed(r.args[0] ?? ''));
}
