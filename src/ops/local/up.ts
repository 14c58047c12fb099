import { mkdir, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeTree } from '../../lib/tree.ts';
import type { ComposeProject } from '../../model/compose.ts';
import { renderTree } from '../../render/index.ts';
import { initSecrets } from '../init-secrets.ts';
import type { Plan, Step } from '../plan.ts';
import {
  ensureLocalCertificate,
  installEdge,
  nginxRunning,
  nginxSignalArgv,
  nginxStartArgv,
  nginxTestArgv,
} from './edge.ts';
import type { LocalSite } from './site.ts';

export type ImageSource = 'local' | 'official';

export interface UpOptions {
  images: ImageSource;
  withMonitoring: boolean;
  /** Compose image variables -> locally built images (from ensureLocalImages), for `images: 'local'`. */
  imageEnv: Record<string, string>;
  /** Data services that have no local image and stay down (object store, Gibbon). */
  skipped: string[];
  timeoutSeconds: number;
}

const project = (site: LocalSite, key: ComposeProject['key']) => {
  const found = site.model.compose.find((p) => p.key === key);
  if (!found) throw new Error(`internal error: no compose project ${key}`);
  return found;
};

export const composeFilePath = (site: LocalSite, key: ComposeProject['key']) =>
  join(site.treeDir, project(site, key).file);

/** `docker compose -f FILE ...`: every project is its own file with its own `name:`. */
export const composeArgv = (site: LocalSite, key: ComposeProject['key'], ...args: string[]) => [
  'docker',
  'compose',
  '-f',
  composeFilePath(site, key),
  ...args,
];

/** Which services failed and the tail of their logs: what a person needs when `up --wait` gives up. */
export async function diagnoseProject(
  site: LocalSite,
  key: ComposeProject['key'],
  env?: Record<string, string>,
) {
  const [file, ...args] = composeArgv(site, key, 'ps', '-a', '--format', 'json') as [string, ...string[]];
  const ps = await execa(file, args, { env, reject: false });
  const lines = ps.stdout.trim().startsWith('[')
    ? JSON.parse(ps.stdout)
    : ps.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
  const bad = (lines as { Service: string; State: string; Health?: string; ExitCode?: number }[]).filter(
    (c) => c.State !== 'running' || (c.Health && c.Health !== 'healthy'),
  );
  if (bad.length === 0) return 'every container of the project runs';
  const parts: string[] = [];
  for (const c of bad) {
    const [lf, ...largs] = composeArgv(site, key, 'logs', '--no-color', '--tail', '30', c.Service) as [
      string,
      ...string[],
    ];
    const logs = await execa(lf, largs, { env, reject: false, all: true });
    parts.push(
      `service ${c.Service} is ${c.State}${c.Health ? ` (${c.Health})` : ''}${c.State === 'exited' ? `, exit code ${c.ExitCode}` : ''}; last log lines:\n${logs.all?.trim() || '(no output)'}`,
    );
  }
  return parts.join('\n\n');
}

/** GET through the local nginx, with the Host of one of the site's names. */
export function edgeGet(
  site: LocalSite,
  host: string,
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: site.ports.https,
        path,
        servername: host,
        headers: { host },
        rejectUnauthorized: false,
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from nginx within 5 s (${host}${path})`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls the API's health through nginx until it is 200 from the active colour, with progress lines. */
async function waitForHealth(site: LocalSite, timeoutSeconds: number): Promise<string> {
  const host = site.model.domains.api;
  const color = site.model.activeColor;
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last = '';
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    try {
      const res = await edgeGet(site, host, '/health');
      if (res.status === 200 && res.headers['x-app-color'] === color)
        return `https://${host}/health: 200 from ${color}`;
      last = `status ${res.status}, colour ${res.headers['x-app-color'] ?? 'none'}: ${res.body.slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (attempt % 5 === 0) console.log(`      still waiting for https://${host}/health (${last})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(
    `the API did not turn healthy through nginx within ${timeoutSeconds} s; last answer: ${last}`,
  );
}

/** The steps of `academy up` on this machine. */
export function upPlan(site: LocalSite, options: UpOptions): Plan {
  const { model, edge } = site;
  const env = options.images === 'local' ? options.imageEnv : {};
  const errorLog = join(edge.paths.logs, 'error.log');
  const dataServices = project(site, 'data')
    .services.map((s) => s.name)
    .filter((name) => !options.skipped.includes(name));
  const wait = ['--wait', '--wait-timeout', String(options.timeoutSeconds)];
  const color = model.activeColor;
  let conf = '';
  let edgeChanged = false;

  const steps: Step[] = [
    {
      kind: 'task',
      title: `render the site into ${site.treeDir}`,
      run: async () => {
        await writeTree(site.treeDir, renderTree(model), model.localState);
        for (const dir of Object.values(model.host.dataDirs)) await mkdir(dir, { recursive: true });
        return undefined;
      },
    },
    {
      kind: 'task',
      title: 'create missing secrets (env file 0600, secret files)',
      run: async () => {
        const report = await initSecrets(model, model.paths.envFile, model.paths.secretsDir);
        return report.created.length ? `created ${report.created.length} secrets` : 'every secret exists';
      },
    },
    {
      kind: 'command',
      title: `start the data services (${dataServices.join(', ')})`,
      argv: composeArgv(site, 'data', 'up', '-d', ...wait, ...dataServices),
      env,
      diagnose: () => diagnoseProject(site, 'data', env),
    },
    {
      kind: 'command',
      title: `start the ${color} applications`,
      argv: composeArgv(site, color, 'up', '-d', ...wait),
      env,
      diagnose: () => diagnoseProject(site, color, env),
    },
  ];
  if (options.withMonitoring) {
    steps.push({
      kind: 'command',
      title: 'start monitoring',
      argv: composeArgv(site, 'monitoring', 'up', '-d', ...wait),
      diagnose: () => diagnoseProject(site, 'monitoring'),
    });
  }
  steps.push(
    {
      kind: 'task',
      title: `install the nginx configuration under ${site.stateDir}/nginx`,
      run: async () => {
        const created = await ensureLocalCertificate(edge, model.domains.root);
        const installed = await installEdge(model, edge);
        conf = installed.conf;
        edgeChanged = installed.changed || created;
        return edgeChanged ? 'changed' : 'unchanged';
      },
    },
    {
      kind: 'task',
      title: 'test the nginx configuration (nginx -t)',
      run: async () => {
        const [file, ...args] = nginxTestArgv(conf, errorLog) as [string, ...string[]];
        const result = await execa(file, args, { reject: false, all: true });
        if (result.exitCode !== 0) throw new Error(result.all ?? `nginx -t exited ${result.exitCode}`);
        return undefined;
      },
    },
    {
      kind: 'task',
      title: `start or reload nginx on 127.0.0.1:${site.ports.http}/${site.ports.https}`,
      run: async () => {
        const running = await nginxRunning(edge.paths.pid);
        if (running && !edgeChanged) return 'running, configuration unchanged';
        const argv = running ? nginxSignalArgv(conf, errorLog, 'reload') : nginxStartArgv(conf, errorLog);
        const [file, ...args] = argv as [string, ...string[]];
        await execa(file, args);
        return running ? 'reloaded' : 'started';
      },
    },
    {
      kind: 'task',
      title: 'wait for the API to answer healthy through nginx',
      run: () => waitForHealth(site, options.timeoutSeconds),
    },
  );
  return { title: `academy up (${options.images} images, active colour ${color})`, steps };
}

/** The steps of `academy down`: every project, then nginx; data survives unless `volumes`. */
export function downPlan(site: LocalSite, options: { volumes: boolean }): Plan {
  const { edge } = site;
  const errorLog = join(edge.paths.logs, 'error.log');
  const conf = join(edge.paths.conf, 'nginx.conf');
  const removeVolumes = options.volumes ? ['--volumes'] : [];
  const keys: ComposeProject['key'][] = ['monitoring', 'green', 'blue', 'data'];
  const steps: Step[] = keys.map((key) => ({
    kind: 'command',
    title: `stop ${project(site, key).name}`,
    argv: composeArgv(site, key, 'down', '--remove-orphans', ...removeVolumes),
    mayFail: true,
  }));
  steps.push({
    kind: 'task',
    title: 'stop nginx',
    run: async () => {
      if (!(await nginxRunning(edge.paths.pid))) return 'not running';
      const [file, ...args] = nginxSignalArgv(conf, errorLog, 'quit') as [string, ...string[]];
      await execa(file, args);
      // `-s quit` only asks: wait until the master has exited and freed its ports.
      const deadline = Date.now() + 15_000;
      while (await nginxRunning(edge.paths.pid)) {
        if (Date.now() > deadline) throw new Error(`nginx (${edge.paths.pid}) still runs 15 s after quit`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return 'stopped';
    },
  });
  if (options.volumes) {
    steps.push({
      kind: 'task',
      title: `remove the data under ${site.model.paths.data}`,
      run: async () => {
        await rm(site.model.paths.data, { recursive: true, force: true });
        return undefined;
      },
    });
  }
  return { title: `academy down${options.volumes ? ' --volumes' : ''}`, steps };
}
