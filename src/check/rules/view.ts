import { parse } from 'yaml';
import type { Model } from '../../model/index.ts';
import type { TreeFiles } from '../types.ts';
import { loadNginx, type NginxConfig, type NginxLayout } from './nginx.ts';
import type { Finding } from './rule.ts';

// What the rules read from the tree, parsed once per (tree, model): the compose files and their services,
// the nginx configuration with its includes, YAML documents by path, the variables of the env example.

export interface ComposeService {
  /** Tree path of the compose file. */
  file: string;
  /** Compose project (`name:` of the file). */
  project: string;
  name: string;
  spec: Record<string, unknown>;
}

export interface ComposeFile {
  path: string;
  project: string;
  doc: Record<string, unknown>;
}

export interface TreeView {
  compose: ComposeFile[];
  services: ComposeService[];
  /** Compose files that do not parse. */
  composeErrors: Finding[];
  nginx: NginxConfig;
  nginxLayout: NginxLayout;
  /** Parsed YAML of a tree file; undefined when absent; `error` when it does not parse. */
  yaml: (path: string) => { doc: unknown; error?: string } | undefined;
  /** The env example beside the env file Compose reads, and the variables it declares. */
  envExample: { path: string; names: Map<string, string> } | undefined;
  /** The tree file behind an absolute path on the server (the tree is installed at paths.app). */
  treePathOf: (installed: string) => string | undefined;
}

const COMPOSE_FILE = /(^|\/)(docker-)?compose(\.[^/]*)?\.ya?ml$/;

const cache = new WeakMap<TreeFiles, WeakMap<Model, TreeView>>();

/**
 * Parsed YAML by file content, shared between trees (a test builds many trees that differ in one file).
 * Rules only read the documents. Bounded: a long session does not keep every version.
 */
const yamlByContent = new Map<string, { doc: unknown; error?: string }>();
const YAML_CACHE_SIZE = 64;

function parseYaml(content: string): { doc: unknown; error?: string } {
  const known = yamlByContent.get(content);
  if (known) return known;
  let entry: { doc: unknown; error?: string };
  try {
    entry = { doc: parse(content) };
  } catch (error) {
    entry = { doc: undefined, error: (error as Error).message.split('\n')[0] ?? 'unreadable' };
  }
  if (yamlByContent.size >= YAML_CACHE_SIZE)
    yamlByContent.delete(yamlByContent.keys().next().value as string);
  yamlByContent.set(content, entry);
  return entry;
}

export function viewOf(tree: TreeFiles, model: Model): TreeView {
  let byModel = cache.get(tree);
  if (!byModel) {
    byModel = new WeakMap();
    cache.set(tree, byModel);
  }
  let view = byModel.get(model);
  if (!view) {
    view = buildView(tree, model);
    byModel.set(model, view);
  }
  return view;
}

/** Compose and env file paths: the env file Compose reads lives beside the compose files. */
export function envFileOf(model: Model): string {
  const app = `${model.paths.app}/`;
  return model.paths.envFile.startsWith(app) ? model.paths.envFile.slice(app.length) : 'docker/.env';
}

function buildView(tree: TreeFiles, model: Model): TreeView {
  const yaml = (path: string) => {
    const file = tree.files.get(path);
    return file ? parseYaml(file.content) : undefined;
  };

  const composePaths = [
    ...new Set([
      ...model.compose.map((p) => p.file).filter((f) => tree.files.has(f)),
      ...[...tree.files.keys()].filter((f) => COMPOSE_FILE.test(f)),
    ]),
  ].sort();
  const compose: ComposeFile[] = [];
  const composeErrors: Finding[] = [];
  for (const path of composePaths) {
    const parsed = yaml(path);
    const doc = parsed?.doc;
    if (parsed?.error || !doc || typeof doc !== 'object') {
      composeErrors.push({
        where: path,
        expected: 'a Compose file (YAML mapping)',
        found: parsed?.error ?? 'no mapping',
      });
      continue;
    }
    const record = doc as Record<string, unknown>;
    const project =
      typeof record.name === 'string'
        ? record.name
        : (model.compose.find((p) => p.file === path)?.name ?? path);
    compose.push({ path, project, doc: record });
  }
  const services: ComposeService[] = compose.flatMap((file) =>
    Object.entries((file.doc.services ?? {}) as Record<string, unknown>).map(([name, spec]) => ({
      file: file.path,
      project: file.project,
      name,
      spec: (spec && typeof spec === 'object' ? spec : {}) as Record<string, unknown>,
    })),
  );

  const nginxLayout: NginxLayout = {
    treeDir: model.edge.treeDir,
    confDir: model.edge.paths.conf,
    sitesEnabled: model.edge.paths.sitesEnabled,
  };
  const nginx = loadNginx(tree.files, nginxLayout);

  const envFile = envFileOf(model);
  const examplePath = `${envFile}.example`;
  const example = tree.files.get(examplePath);
  const envExample = example
    ? {
        path: examplePath,
        names: new Map(
          example.content
            .split('\n')
            .map((line) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line))
            .filter((m): m is RegExpExecArray => m !== null)
            .map((m) => [m[1] as string, (m[2] as string).trim()]),
        ),
      }
    : undefined;

  const app = `${model.paths.app}/`;
  const treePathOf = (installed: string) => {
    if (installed.startsWith(app)) return installed.slice(app.length);
    const install = Object.values(model.host.installs).find((i) => i.target === installed);
    if (install) return install.source;
    const conf = `${nginxLayout.confDir}/`;
    if (installed.startsWith(conf)) return `${nginxLayout.treeDir}/${installed.slice(conf.length)}`;
    return undefined;
  };

  return {
    compose,
    services,
    composeErrors,
    nginx,
    nginxLayout,
    yaml,
    envExample,
    treePathOf,
  };
}

/** A tree path names a file, or a folder holding files. */
export function treeHas(tree: TreeFiles, path: string): 'file' | 'dir' | undefined {
  if (tree.files.has(path)) return 'file';
  const prefix = path.endsWith('/') ? path : `${path}/`;
  for (const f of tree.files.keys()) if (f.startsWith(prefix)) return 'dir';
  return undefined;
}

/** `a/b/../c` -> `a/c`; undefined when it climbs above the root. */
export function normalizeRelative(path: string): string | undefined {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

export const asRecord = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
