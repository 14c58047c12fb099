import { mkdir } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { posix } from 'node:path';
import { buildEdgeModel, installedPath, versionAtLeast } from '../../../model/edge.ts';
import type { Model } from '../../../model/index.ts';
import type { Check, TreeFiles } from '../../types.ts';
import { link, type Row, runTool, treePathsUnder, trimOutput, under, writeFiles } from './exec.ts';
import { describePaths, type PathMove, relocatePaths } from './relocate.ts';

const TOOL = 'nginx -t';
/** First nginx that knows `http2 on;`. */
const HTTP2_DIRECTIVE_SINCE = '1.25.1';

/** Every path nginx reads or writes moved under `prefix`, the package's own files kept (mime.types, modules). */
export function nginxPathMoves(model: Model, prefix: string): { moves: PathMove[]; keep: string[] } {
  const moved = buildEdgeModel(model, { prefix }).paths;
  const installed = model.edge.paths;
  const keys = [
    'conf',
    'sitesEnabled',
    'logs',
    'pid',
    'html',
    'state',
    'clientBodyTemp',
    'proxyTemp',
    'proxyCache',
    'certificate',
    'certificateKey',
    'originPullCa',
  ] as const;
  const moves = keys.map((k) => ({ from: installed[k], to: moved[k] }));
  // `include /etc/nginx/modules-enabled/*.conf`: keep the folder, not the glob.
  const keep = Object.values(installed.system).map((p) => (p.includes('*') ? posix.dirname(p) : p));
  return { moves, keep };
}

export interface NginxInstall {
  /** Absolute path in the copy -> content. */
  files: Map<string, string>;
  /** sites-enabled links: [target, link path]. */
  links: [string, string][];
  /** Absolute path in the copy -> the name a reader knows (tree path, or the production path). */
  names: Map<string, string>;
  conf: string;
}

/**
 * The tree's nginx/ folder as provisioning installs it (every file under the conf folder, every site of
 * sites-available enabled under the same name), with every path moved under `prefix`.
 */
export function nginxInstall(tree: TreeFiles, model: Model, prefix: string): NginxInstall {
  const moved = buildEdgeModel(model, { prefix });
  const { moves, keep } = nginxPathMoves(model, prefix);
  const files = new Map<string, string>();
  const names = new Map<string, string>();
  const links: [string, string][] = [];
  const available = `${model.edge.treeDir}/sites-available/`;
  for (const treePath of treePathsUnder(tree, model.edge.treeDir)) {
    const target = installedPath(moved, treePath);
    const content = tree.files.get(treePath)?.content ?? '';
    files.set(target, relocatePaths(content, moves, keep));
    names.set(target, treePath);
    if (treePath.startsWith(available) && !treePath.slice(available.length).includes('/')) {
      const enabled = `${moved.paths.sitesEnabled}/${posix.basename(treePath)}`;
      links.push([target, enabled]);
      names.set(enabled, treePath);
    }
  }
  for (const m of moves) names.set(m.to, m.from);
  return { files, links, names, conf: installedPath(moved, moved.files.nginxConf) };
}

/** `nginx version: nginx/1.22.1` -> `1.22.1`. */
export function parseNginxVersion(output: string): string | null {
  return /nginx\/(\d+(?:\.\d+)+)/.exec(output)?.[1] ?? null;
}

/** `--modules-path=/usr/lib/nginx/modules` of `nginx -V`: where `load_module modules/...` points. */
export function parseModulesPath(output: string): string | null {
  return /--modules-path=(\S+)/.exec(output)?.[1] ?? null;
}

/**
 * For an nginx older than 1.25.1: `http2 on;` becomes the `http2` parameter of every `listen ... ssl`
 * (those versions merge it per address, so every server on that address gets it anyway).
 */
export function http2ListenForm(conf: string): string {
  return conf
    .replace(/^[ \t]*http2[ \t]+on[ \t]*;[ \t]*\n/gm, '')
    .replace(/^([ \t]*listen[ \t]+[^;\n]*\bssl\b)(?![^;\n]*\bhttp2\b)/gm, '$1 http2');
}

/** What a privileged port becomes for a run without root: `listen 443` -> `listen 10443`. */
export const UNPRIVILEGED_PORT_OFFSET = 10_000;

/**
 * `nginx -t` binds every listen address and, without root, may not bind a port below 1024: those listen on
 * the port plus an offset in the copy. (A port already in use is fine: nginx -t tolerates that.)
 */
export function unprivilegedListen(conf: string, offset = UNPRIVILEGED_PORT_OFFSET): string {
  return conf.replace(
    /^([ \t]*listen[ \t]+(?:(?:\[[^\]]*\]|[^\s:;]+):)?)(\d+)\b/gm,
    (line, head: string, port: string) => (Number(port) < 1024 ? `${head}${Number(port) + offset}` : line),
  );
}

/** An address nginx can bind here: loopback, the wildcard, or one of this machine's interfaces. */
export function localAddresses(interfaces = networkInterfaces()): Set<string> {
  const found = new Set(['0.0.0.0', '*']);
  for (const list of Object.values(interfaces)) for (const i of list ?? []) found.add(i.address);
  return found;
}

/**
 * `nginx -t` binds every listen address; one this machine does not have (the Docker host address when there
 * is no docker0 bridge) moves to its own loopback address in the copy, so the rest is still checked.
 */
export function localListen(
  conf: string,
  local: ReadonlySet<string>,
): { conf: string; moved: Map<string, string> } {
  const moved = new Map<string, string>();
  const out = conf.replace(
    /^([ \t]*listen[ \t]+)(\d+\.\d+\.\d+\.\d+)(?=:\d|[\s;])/gm,
    (line, head: string, address: string) => {
      if (local.has(address) || address.startsWith('127.')) return line;
      if (!moved.has(address)) moved.set(address, `127.100.0.${moved.size + 1}`);
      return `${head}${moved.get(address)}`;
    },
  );
  return { conf: out, moved };
}

/**
 * The lines of nginx's output that say what is wrong (the whole output when none is tagged), without the
 * time and process id of the log format, so a report is the same on every run.
 */
export function nginxProblems(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: (\*\d+ )?/, '$1 '));
  const tagged = lines.filter((l) => /\[(emerg|alert|crit|error)\]/.test(l));
  return trimOutput((tagged.length > 0 ? tagged : lines).join('\n'));
}

async function selfSigned(cert: string, key: string, prefix: string): Promise<string | null> {
  await mkdir(posix.dirname(cert), { recursive: true });
  await mkdir(posix.dirname(key), { recursive: true });
  const run = await runTool(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=academy-check',
      '-days',
      '2',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { cwd: prefix, timeoutMs: 20_000 },
  );
  return run.exitCode === 0
    ? null
    : `openssl could not make a throwaway certificate:\n${trimOutput(run.output)}`;
}

export const nginxCheck: Check = {
  name: 'nginx',
  tool: TOOL,
  requires: ['nginx', 'openssl'],
  install: 'apt-get install -y nginx openssl',
  run: async (ctx) => {
    const { tree, model } = ctx;
    const target = model.edge.files.nginxConf;
    if (!tree.files.has(target))
      return [{ target, tool: TOOL, status: 'fail', message: `${target}: missing from the tree` }];
    const prefix = await ctx.tempDir('nginx');
    const install = nginxInstall(tree, model, prefix);
    const notes: string[] = [];

    const [version, build] = await Promise.all([runTool('nginx', ['-v']), runTool('nginx', ['-V'])]);
    const local = parseNginxVersion(version.output);
    const production = model.config.edge.nginxVersion;
    if (local && local !== production)
      notes.push(`checked with nginx ${local}; the configuration is rendered for nginx ${production}`);
    if (model.edge.http2 === 'directive' && local && !versionAtLeast(local, HTTP2_DIRECTIVE_SINCE)) {
      for (const [path, content] of install.files) install.files.set(path, http2ListenForm(content));
      notes.push(
        `\`http2 on;\` is for nginx >= ${HTTP2_DIRECTIVE_SINCE} (production ${production}); nginx ${local} checked a copy with \`listen ... ssl http2\` instead`,
      );
    }

    if (process.getuid?.() !== 0) {
      for (const [path, content] of install.files) install.files.set(path, unprivilegedListen(content));
      notes.push(
        `not run as root: ports below 1024 were checked as port + ${UNPRIVILEGED_PORT_OFFSET} (nginx -t binds every listen address)`,
      );
    }
    const addresses = localAddresses();
    const moved = new Map<string, string>();
    for (const [path, content] of install.files) {
      const result = localListen(content, addresses);
      install.files.set(path, result.conf);
      for (const [from, to] of result.moved) moved.set(from, to);
    }
    for (const [from, to] of moved)
      notes.push(
        `listen address ${from} is not on this machine: checked as ${to} (nginx -t binds every listen address)`,
      );
    await writeFiles(install.files);
    for (const [linkTarget, path] of install.links) await link(linkTarget, path);
    const edge = buildEdgeModel(model, { prefix }).paths;
    for (const dir of [
      edge.logs,
      edge.clientBodyTemp,
      edge.proxyTemp,
      edge.proxyCache,
      posix.dirname(edge.pid),
    ])
      await mkdir(dir, { recursive: true });
    // `load_module modules/x.so` of the package's modules-enabled is relative to the prefix.
    const modules = parseModulesPath(build.output);
    if (modules) await link(modules, under(prefix, 'modules'));
    const certError =
      (await selfSigned(edge.certificate, edge.certificateKey, prefix)) ??
      (await selfSigned(edge.originPullCa, `${prefix}/origin-pull-ca-key.pem`, prefix));
    if (certError) return [{ target, tool: TOOL, status: 'fail', message: certError }];

    const run = await runTool('nginx', ['-t', '-q', '-p', `${prefix}/`, '-c', install.conf], {
      cwd: prefix,
      timeoutMs: 30_000,
    });
    const row: Row = { target, tool: TOOL, status: run.exitCode === 0 ? 'pass' : 'fail' };
    if (run.exitCode !== 0) row.message = describePaths(nginxProblems(run.output), install.names);
    if (notes.length > 0) row.notes = notes;
    return [row];
  },
};
