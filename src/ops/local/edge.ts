import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import type { CoreModel } from '../../model/core.ts';
import { type EdgeModel, installedPath } from '../../model/edge.ts';
import { renderNginx } from '../../render/nginx/index.ts';

export const NGINX_BIN = '/usr/sbin/nginx';

/**
 * Writes the rendered nginx files where the (relocated) edge model says nginx reads them and links every
 * site into sites-enabled, as provisioning does on a server. Returns the main config path and whether any
 * file changed (a reload is needed).
 */
export async function installEdge(
  core: CoreModel,
  edge: EdgeModel,
): Promise<{ conf: string; changed: boolean }> {
  let changed = false;
  for (const file of renderNginx({ ...core, edge })) {
    const target = installedPath(edge, file.path);
    const current = await readFile(target, 'utf8').catch(() => undefined);
    if (current === file.content) continue;
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content, { mode: file.mode });
    changed = true;
  }
  await mkdir(edge.paths.sitesEnabled, { recursive: true });
  for (const site of edge.sites) {
    const link = join(edge.paths.sitesEnabled, site.enabledName);
    const target = installedPath(edge, site.file);
    if ((await readlink(link).catch(() => undefined)) === target) continue;
    await rm(link, { force: true });
    await symlink(target, link);
    changed = true;
  }
  for (const dir of [edge.paths.logs, edge.paths.state, dirname(edge.paths.pid)])
    await mkdir(dir, { recursive: true });
  return { conf: installedPath(edge, edge.files.nginxConf), changed };
}

/** A throwaway self-signed certificate for the site's names, at the paths the edge model names. */
export async function ensureLocalCertificate(edge: EdgeModel, domain: string): Promise<boolean> {
  const { certificate, certificateKey } = edge.paths;
  if (existsSync(certificate) && existsSync(certificateKey)) return false;
  await mkdir(dirname(certificate), { recursive: true });
  await mkdir(dirname(certificateKey), { recursive: true });
  await execa('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30'],
    ...['-subj', `/CN=${domain}`, '-addext', `subjectAltName=DNS:${domain},DNS:*.${domain}`],
    ...['-keyout', certificateKey, '-out', certificate],
  ]);
  return true;
}

/** nginx -t on the installed config, with the error log under the prefix (never the system's). */
export const nginxTestArgv = (conf: string, errorLog: string) => [
  NGINX_BIN,
  '-t',
  '-q',
  '-e',
  errorLog,
  '-c',
  conf,
];
export const nginxStartArgv = (conf: string, errorLog: string) => [NGINX_BIN, '-e', errorLog, '-c', conf];
export const nginxSignalArgv = (conf: string, errorLog: string, signal: 'reload' | 'quit') => [
  NGINX_BIN,
  '-e',
  errorLog,
  '-c',
  conf,
  '-s',
  signal,
];

/** Whether the nginx of this pid file runs. */
export async function nginxRunning(pidFile: string): Promise<boolean> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
