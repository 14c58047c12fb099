import { posix } from 'node:path';
import { directivesOf, findDirectives } from '../../render/nginx/parse.ts';
import { type PortBinding, parseBindMount, parsePort, stringsOf, variablesOf } from './compose.ts';
import { isPublicListen, listensOf, scopedBlocks } from './nginx.ts';
import { literalValues, metricsOf, selectorsOf } from './promql.ts';
import type { Finding, Rule, RuleInput } from './rule.ts';
import { asArray, asRecord, type ComposeService, normalizeRelative, type TreeView, treeHas } from './view.ts';

// Cross-references: a name, port, path or variable used in one file must be defined where it is used from.

/** Findings for nginx files that do not parse (rules reading nginx report them rather than passing). */
export function nginxErrors(view: TreeView): Finding[] {
  return view.nginx.errors.map((e) => ({ where: e.file, expected: 'nginx syntax', found: e.message }));
}

/** The published ports of a compose service. */
export function portsOf(service: ComposeService): PortBinding[] {
  return asArray(service.spec.ports)
    .map(parsePort)
    .filter((p): p is PortBinding => p !== undefined);
}

export const serviceLabel = (s: ComposeService) => `${s.file} services.${s.name}`;

/** Docker network names a service is attached to (the `name:` of the file's network, else `<project>_<key>`). */
function networksOf(view: TreeView, service: ComposeService): Map<string, string[]> {
  const file = view.compose.find((f) => f.path === service.file);
  const declared = asRecord(file?.doc.networks);
  const raw = service.spec.networks;
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((k) => [String(k), {}])
    : Object.entries(asRecord(raw));
  if (entries.length === 0 && service.spec.network_mode === undefined) entries.push(['default', {}]);
  const out = new Map<string, string[]>();
  for (const [key, value] of entries) {
    const name = asRecord(declared[key]).name;
    const dockerName = typeof name === 'string' ? name : `${service.project}_${key}`;
    out.set(
      dockerName,
      asArray(asRecord(value).aliases).map((a) => String(a)),
    );
  }
  return out;
}

const upstreamPorts: Rule = {
  name: 'xref/upstream-ports',
  tool: 'xref',
  reason:
    'Every nginx upstream server must be 127.0.0.1:<port> that a compose service publishes on 127.0.0.1, and every proxy_pass must name a defined upstream; otherwise nginx proxies to nothing.',
  evaluate({ view }) {
    const findings = nginxErrors(view);
    const published = new Map<number, string[]>();
    for (const s of view.services) {
      for (const p of portsOf(s)) {
        if (p.hostIp !== '127.0.0.1') continue;
        for (const port of p.hostPorts)
          published.set(port, [...(published.get(port) ?? []), serviceLabel(s)]);
      }
    }
    const upstreams = scopedBlocks(view.nginx.nodes, 'upstream');
    const names = new Set(upstreams.map((u) => u.block.args[0] ?? ''));
    let servers = 0;
    for (const { block } of upstreams) {
      const where = `${view.nginx.fileOf.get(block)} upstream ${block.args[0]}`;
      for (const server of directivesOf(block, 'server')) {
        servers++;
        const address = server.args[0] ?? '';
        const m = /^127\.0\.0\.1:(\d+)$/.exec(address);
        if (!m) {
          findings.push({ where, expected: '127.0.0.1:<port>', found: `server ${address}` });
          continue;
        }
        const port = Number(m[1]);
        if (!published.has(port)) {
          findings.push({
            where,
            expected: `a compose service publishing 127.0.0.1:${port}`,
            found: `server ${address}, which no compose file publishes`,
          });
        }
      }
    }
    for (const pass of findDirectives(view.nginx.nodes, 'proxy_pass')) {
      const m = /^https?:\/\/([^/:]+)(?::(\d+))?/.exec(pass.args[0] ?? '');
      if (!m) continue;
      const host = m[1] as string;
      if (host.includes('$')) continue;
      const where = `${view.nginx.fileOf.get(pass)} proxy_pass ${pass.args[0]}`;
      if (m[2] === undefined && !/^[\d.]+$/.test(host) && !names.has(host)) {
        findings.push({ where, expected: 'the name of a defined upstream', found: `no upstream ${host}` });
      } else if ((host === '127.0.0.1' || host === 'localhost') && m[2] && !published.has(Number(m[2]))) {
        findings.push({
          where,
          expected: `a compose service publishing 127.0.0.1:${m[2]}`,
          found: 'no compose file publishes it',
        });
      }
    }
    return { findings, notes: [`${upstreams.length} upstreams, ${servers} servers`] };
  },
};

/** The compose service of Prometheus (by the model's service name). */
function prometheusService(input: RuleInput): ComposeService | undefined {
  const name = input.model.monitoring.addresses.prometheus.host;
  return input.view.services.find((s) => s.name === name);
}

const extraHostsOf = (spec: Record<string, unknown>): string[] => {
  const raw = spec.extra_hosts;
  if (Array.isArray(raw)) return raw.map((h) => String(h).replace('=', ':'));
  return Object.entries(asRecord(raw)).map(([k, v]) => `${k}:${String(v)}`);
};

const prometheusTargets: Rule = {
  name: 'xref/prometheus-targets',
  tool: 'xref',
  reason:
    'Every Prometheus target must be reachable from the Prometheus container: a compose service or alias on a network Prometheus joins, a host listener on host.docker.internal (with extra_hosts host-gateway), or a URL the blackbox exporter probes.',
  evaluate(input) {
    const { view, model } = input;
    const findings = [...view.composeErrors];
    const file = model.monitoring.files.prometheus;
    const parsed = view.yaml(file);
    if (!parsed || parsed.error) {
      return {
        findings: [
          { where: file, expected: 'prometheus.yml', found: parsed?.error ?? 'missing from the tree' },
        ],
      };
    }
    const prom = prometheusService(input);
    if (!prom) {
      findings.push({
        where: 'compose',
        expected: `a service ${model.monitoring.addresses.prometheus.host}`,
        found: 'none',
      });
      return { findings };
    }
    const promNetworks = new Set(networksOf(view, prom).keys());
    const reachable = new Map<string, string>();
    for (const s of view.services) {
      for (const [network, aliases] of networksOf(view, s)) {
        if (!promNetworks.has(network)) continue;
        const names = [s.name, ...aliases];
        if (typeof s.spec.container_name === 'string') names.push(s.spec.container_name);
        for (const n of names) reachable.set(n, `${serviceLabel(s)} on ${network}`);
      }
    }
    const alias = model.monitoring.dockerHostAlias;
    const gateway = extraHostsOf(prom.spec).includes(`${alias}:host-gateway`);
    const listenerPorts = new Set(Object.values(model.hostListeners).map((l) => l.port));
    const ownPort = model.monitoring.addresses.prometheus.port;
    const probes = new Set(model.monitoring.probes);

    let count = 0;
    const check = (target: string, where: string) => {
      count++;
      const m = /^(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(target);
      if (!m) {
        findings.push({ where, expected: 'host:port', found: target });
        return;
      }
      const host = m[1] as string;
      const port = Number(m[2]);
      if (host === 'localhost' || host === '127.0.0.1') {
        if (port !== ownPort) {
          findings.push({
            where,
            expected: `localhost only for Prometheus itself (:${ownPort})`,
            found: target,
          });
        }
      } else if (host === alias) {
        if (!listenerPorts.has(port)) {
          findings.push({
            where,
            expected: `a host listener port (${[...listenerPorts].join(', ')})`,
            found: target,
          });
        }
        if (!gateway) {
          findings.push({
            where: `${serviceLabel(prom)}.extra_hosts`,
            expected: `${alias}:host-gateway (target ${target})`,
            found: extraHostsOf(prom.spec).join(', ') || 'none',
          });
        }
      } else if (!reachable.has(host)) {
        findings.push({
          where,
          expected: `a service or alias on a network Prometheus joins (${[...promNetworks].join(', ')})`,
          found: `${target}: no such name there`,
        });
      }
    };

    const doc = asRecord(parsed.doc);
    for (const job of asArray(doc.scrape_configs).map(asRecord)) {
      const where = `${file} job ${String(job.job_name)}`;
      const exporter = asArray(job.relabel_configs)
        .map(asRecord)
        .find((r) => r.target_label === '__address__' && typeof r.replacement === 'string');
      for (const group of asArray(job.static_configs).map(asRecord)) {
        for (const target of asArray(group.targets).map(String)) {
          if (exporter) {
            count++;
            if (!probes.has(target)) {
              findings.push({
                where,
                expected: `a URL the blackbox exporter probes (${[...probes].join(', ')})`,
                found: target,
              });
            }
          } else check(target, where);
        }
      }
      if (exporter) check(String(exporter.replacement), `${where} relabel __address__`);
    }
    for (const am of asArray(asRecord(doc.alerting).alertmanagers).map(asRecord)) {
      for (const group of asArray(am.static_configs).map(asRecord)) {
        for (const target of asArray(group.targets).map(String)) check(target, `${file} alerting`);
      }
    }
    return { findings, notes: [`${count} targets checked`] };
  },
};

const alertMetrics: Rule = {
  name: 'xref/alert-metrics',
  tool: 'xref',
  reason:
    'Every metric an alert rule reads must be produced by a scrape job of prometheus.yml (model.monitoring.metricJobs); an alert on a metric nobody scrapes never fires.',
  evaluate({ view, model }) {
    const findings: Finding[] = [];
    const { metricJobs, files } = model.monitoring;
    const promDoc = view.yaml(files.prometheus);
    const jobs = new Set(
      asArray(asRecord(promDoc?.doc).scrape_configs).map((j) => String(asRecord(j).job_name)),
    );
    if (!promDoc || promDoc.error) {
      findings.push({
        where: files.prometheus,
        expected: 'prometheus.yml',
        found: promDoc?.error ?? 'missing from the tree',
      });
    }
    for (const [metric, producers] of Object.entries(metricJobs)) {
      for (const job of producers) {
        if (!jobs.has(job)) {
          findings.push({
            where: `model.monitoring.metricJobs.${metric}`,
            expected: `a job of ${files.prometheus}`,
            found: `job ${job}, which prometheus.yml does not scrape`,
          });
        }
      }
    }
    const rulesDoc = view.yaml(files.alertRules);
    const recorded = new Set<string>();
    const exprs: { where: string; expr: string; declared?: string[] }[] = [];
    if (!rulesDoc || rulesDoc.error) {
      findings.push({
        where: files.alertRules,
        expected: 'the alert rules file',
        found: rulesDoc?.error ?? 'missing from the tree',
      });
    } else {
      for (const group of asArray(asRecord(rulesDoc.doc).groups).map(asRecord)) {
        for (const rule of asArray(group.rules).map(asRecord)) {
          if (typeof rule.record === 'string') recorded.add(rule.record);
          exprs.push({
            where: `${files.alertRules} ${rule.alert ? `alert ${String(rule.alert)}` : `record ${String(rule.record)}`}`,
            expr: String(rule.expr ?? ''),
          });
        }
      }
    }
    model.monitoring.rules.forEach((rule, i) => {
      exprs.push({
        where: `model.monitoring.rules[${i}] (${rule.alert})`,
        expr: rule.expr,
        declared: rule.metrics,
      });
    });
    for (const { where, expr, declared } of exprs) {
      for (const selector of selectorsOf(expr)) {
        const metric = selector.metric;
        if (metric === undefined || recorded.has(metric)) continue;
        const producers = metricJobs[metric];
        if (!producers) {
          findings.push({
            where,
            expected: 'a metric a scrape job produces (model.monitoring.metricJobs)',
            found: `${metric}, which no job produces`,
          });
          continue;
        }
        for (const matcher of selector.matchers.filter((m) => m.label === 'job')) {
          for (const job of literalValues(matcher) ?? []) {
            if (!producers.includes(job)) {
              findings.push({
                where,
                expected: `${metric} from job ${producers.join('|')}`,
                found: `${metric}{job${matcher.op}"${matcher.value}"}: job ${job} does not produce it`,
              });
            }
          }
        }
      }
      if (declared) {
        const parsed = metricsOf(expr);
        const listed = [...new Set(declared)].sort();
        if (parsed.join(',') !== listed.join(',')) {
          findings.push({
            where: `${where}.metrics`,
            expected: `the metrics its expr reads (${parsed.join(', ')})`,
            found: listed.join(', '),
          });
        }
      }
    }
    return {
      findings,
      notes: [`${exprs.length} expressions, ${Object.keys(metricJobs).length} metrics, ${jobs.size} jobs`],
    };
  },
};

/**
 * Host paths containers may mount besides the declared data directories: each with why. `readOnly`: the
 * mount must be read-only.
 */
export const HOST_MOUNT_ALLOWLIST: { path: string; subpaths: boolean; readOnly: boolean; reason: string }[] =
  [
    {
      path: '/',
      subpaths: false,
      readOnly: true,
      reason: 'host root for node-exporter and cAdvisor filesystem metrics',
    },
    { path: '/proc', subpaths: false, readOnly: true, reason: 'host processes for node-exporter' },
    {
      path: '/sys',
      subpaths: false,
      readOnly: true,
      reason: 'cgroups and hardware statistics (cAdvisor, node-exporter)',
    },
    { path: '/var/run', subpaths: false, readOnly: true, reason: 'cAdvisor reads the Docker socket folder' },
    { path: '/run', subpaths: false, readOnly: true, reason: 'same as /var/run on Ubuntu' },
    {
      path: '/var/run/docker.sock',
      subpaths: false,
      readOnly: true,
      reason: 'Alloy discovers containers and reads their logs',
    },
    { path: '/var/lib/docker', subpaths: false, readOnly: true, reason: 'cAdvisor reads container layers' },
    { path: '/dev/disk', subpaths: false, readOnly: true, reason: 'cAdvisor reads disk identities' },
    { path: '/var/log', subpaths: true, readOnly: true, reason: 'host logs shipped to Loki by Alloy' },
    { path: '/etc/localtime', subpaths: false, readOnly: true, reason: 'the host time zone' },
  ];

const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir.replace(/\/$/, '')}/`);

const bindMounts: Rule = {
  name: 'xref/bind-mounts',
  tool: 'xref',
  reason:
    'Every bind-mount source must exist: a file or folder of the tree (relative paths resolve from the compose file), or a declared host directory (data directories, core paths, secret files, an allowlisted system path); Docker creates a missing source as an empty root-owned folder.',
  evaluate({ tree, view, model }) {
    const findings = [...view.composeErrors];
    const notes: string[] = [];
    const declared: { path: string; subpaths: boolean; what: string }[] = [
      ...Object.entries(model.host.dataDirs).map(([k, p]) => ({
        path: p,
        subpaths: true,
        what: `dataDirs.${k}`,
      })),
      { path: model.paths.data, subpaths: false, what: 'paths.data' },
      { path: model.paths.backups, subpaths: true, what: 'paths.backups' },
      { path: model.paths.logs, subpaths: true, what: 'paths.logs' },
      ...model.secretFiles.map((f) => ({ path: f.hostPath, subpaths: false, what: `secret ${f.name}` })),
    ];
    const localState = model.localState;
    let count = 0;
    const checkSource = (source: string, readOnly: boolean, where: string, fromDir: string) => {
      count++;
      if (source.startsWith('$') || source.startsWith('~')) {
        findings.push({ where, expected: 'a literal path', found: source });
        return;
      }
      let treePath: string | undefined;
      if (source.startsWith('/')) {
        const match = declared.find((d) => (d.subpaths ? under(source, d.path) : source === d.path));
        if (match) return;
        treePath = view.treePathOf(source);
        if (treePath === undefined) {
          const allowed = HOST_MOUNT_ALLOWLIST.find((a) =>
            a.subpaths ? under(source, a.path) : source === a.path,
          );
          if (!allowed) {
            findings.push({
              where,
              expected: 'a tree file, a declared host directory or an allowlisted system path',
              found: source,
            });
          } else if (allowed.readOnly && !readOnly) {
            findings.push({
              where,
              expected: `${source} mounted read-only (${allowed.reason})`,
              found: 'read-write',
            });
          }
          return;
        }
      } else {
        treePath = normalizeRelative(posix.join(fromDir, source));
        if (treePath === undefined) {
          findings.push({ where, expected: 'a path inside the tree', found: `${source} (outside the tree)` });
          return;
        }
      }
      if (localState.some((k) => (k.endsWith('/') ? `${treePath}/`.startsWith(k) : treePath === k))) {
        findings.push({ where, expected: 'a declared secret file', found: `${source} (server-local state)` });
        return;
      }
      if (!treeHas(tree, treePath)) {
        findings.push({ where, expected: `tree file or folder ${treePath}`, found: 'missing from the tree' });
      }
    };
    for (const s of view.services) {
      const dir = posix.dirname(s.file);
      asArray(s.spec.volumes).forEach((entry, i) => {
        const mount = parseBindMount(entry);
        if (mount) checkSource(mount.source, mount.readOnly, `${serviceLabel(s)}.volumes[${i}]`, dir);
      });
    }
    for (const project of model.compose) {
      for (const service of project.services) {
        for (const mount of service.mounts ?? []) {
          if (mount.kind === 'tree' && !treeHas(tree, mount.source)) {
            findings.push({
              where: `model.compose ${project.key}/${service.name} mount ${mount.target}`,
              expected: `tree file or folder ${mount.source}`,
              found: 'missing from the tree',
            });
          }
        }
      }
    }
    notes.push(`${count} bind mounts checked`);
    return { findings, notes };
  },
};

const envVars: Rule = {
  name: 'xref/env-vars',
  tool: 'xref',
  reason:
    'Every variable a compose file interpolates must be declared in the env example (image overrides *_IMAGE with a default excepted); `academy secrets init` creates the env file from the same list.',
  evaluate({ view }) {
    const findings = [...view.composeErrors];
    const example = view.envExample;
    if (!example) {
      return {
        findings: [
          ...findings,
          { where: 'docker/.env.example', expected: 'the env example', found: 'missing' },
        ],
      };
    }
    const used = new Set<string>();
    for (const file of view.compose) {
      for (const { path, value } of stringsOf(file.doc)) {
        for (const v of variablesOf(value)) {
          used.add(v.name);
          if (/_IMAGE$/.test(v.name) && (v.op === ':-' || v.op === '-')) continue;
          if (!example.names.has(v.name)) {
            findings.push({
              where: `${file.path} ${path}`,
              expected: `\${${v.name}} declared in ${example.path}`,
              found: 'not declared',
            });
          }
        }
      }
    }
    return { findings, notes: [`${used.size} variables interpolated, ${example.names.size} declared`] };
  },
};

/** Where cron and logrotate files live in the tree. */
const isCronFile = (path: string) => /(^|\/)(cron|cron\.d|crontab)(\/|$)|\.cron$|(^|\/)crontab$/.test(path);
const isLogrotateFile = (path: string, content: string) =>
  /(^|\/)logrotate(\.d)?\//.test(path) ||
  /^\s*(postrotate|prerotate|firstaction|lastaction)\s*$/m.test(content);

/** Commands of a cron file: after the five time fields (or @keyword) and, for system cron files, the user. */
export function cronCommands(content: string, withUser: boolean): { line: number; command: string }[] {
  const out: { line: number; command: string }[] = [];
  content.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || /^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(line)) return;
    const fields = line.split(/\s+/);
    const skip = (fields[0]?.startsWith('@') ? 1 : 5) + (withUser ? 1 : 0);
    const command = fields.slice(skip).join(' ');
    if (command) out.push({ line: i + 1, command });
  });
  return out;
}

/** Commands of logrotate's script blocks (postrotate ... endscript and the like). */
export function logrotateCommands(content: string): { line: number; command: string }[] {
  const out: { line: number; command: string }[] = [];
  let inScript = false;
  content.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (/^(postrotate|prerotate|firstaction|lastaction|preremove)$/.test(line)) inScript = true;
    else if (line === 'endscript') inScript = false;
    else if (inScript && line !== '' && !line.startsWith('#')) out.push({ line: i + 1, command: line });
  });
  return out;
}

const SYSTEM_DIRS = ['/usr/', '/bin/', '/sbin/', '/etc/', '/lib/', '/opt/', '/snap/'];

/** The script paths a shell command line runs: absolute or relative paths that are not system programs. */
export function scriptsOf(command: string, appDir: string): string[] {
  const words = command.split(/[\s;|&()`]+/).filter(Boolean);
  return words.filter((w, i) => {
    const clean = w.replace(/^["']|["']$/g, '');
    if (!clean.includes('/') || clean.includes('$') || clean.startsWith('-')) return false;
    if (clean.startsWith(`${appDir}/`) || clean.endsWith('.sh')) return true;
    const first =
      i === 0 || /^(then|do|else|exec|sudo|nice|ionice|flock|timeout|bash|sh)$/.test(words[i - 1] ?? '');
    return first && !SYSTEM_DIRS.some((d) => clean.startsWith(d)) && !clean.startsWith('/dev/');
  });
}

const scheduledScripts: Rule = {
  name: 'xref/scheduled-scripts',
  tool: 'xref',
  reason:
    'Every script cron or logrotate runs must be a file of the tree, executable; otherwise the job fails silently at night.',
  evaluate({ tree, view, model }) {
    const findings: Finding[] = [];
    const app = model.paths.app;
    let files = 0;
    let commands = 0;
    const scripts: string[] = [];
    for (const [path, file] of tree.files) {
      const cron = isCronFile(path);
      const logrotate = !cron && isLogrotateFile(path, file.content);
      if (!cron && !logrotate) continue;
      files++;
      const lines = cron
        ? cronCommands(file.content, !/crontab$/.test(path))
        : logrotateCommands(file.content);
      for (const { line, command } of lines) {
        commands++;
        for (const script of scriptsOf(command, app)) {
          const clean = script.replace(/^["']|["']$/g, '');
          scripts.push(clean);
          const treePath = clean.startsWith('/') ? view.treePathOf(clean) : normalizeRelative(clean);
          const where = `${path}:${line}`;
          if (treePath === undefined) {
            findings.push({
              where,
              expected: 'a script of the tree',
              found: `${clean} (not installed from the tree)`,
            });
            continue;
          }
          const entry = tree.files.get(treePath);
          if (!entry)
            findings.push({ where, expected: `tree file ${treePath}`, found: 'missing from the tree' });
          else if ((entry.mode & 0o111) === 0) {
            findings.push({
              where,
              expected: `${treePath} executable`,
              found: `mode ${entry.mode.toString(8).padStart(4, '0')}`,
            });
          }
        }
      }
    }
    const notes =
      scripts.length === 0
        ? [
            `${files} cron/logrotate files, ${commands} commands: none runs a script of the tree (only system commands)`,
          ]
        : [`${files} cron/logrotate files, scripts: ${[...new Set(scripts)].join(', ')}`];
    return { findings, notes };
  },
};

interface Listener {
  owner: string;
  host: string | undefined;
  port: number;
  family: 4 | 6;
  where: string;
}

const overlaps = (a: Listener, b: Listener) =>
  a.port === b.port &&
  a.family === b.family &&
  (a.host === undefined || b.host === undefined || a.host === b.host);

const hostPorts: Rule = {
  name: 'xref/host-ports',
  tool: 'xref',
  reason:
    'No host port may be taken twice (compose published ports of every project, nginx listen ports, host listeners, sshd): the second one fails to start.',
  evaluate({ view, model }) {
    const findings = [...view.composeErrors, ...nginxErrors(view)];
    const listeners: Listener[] = [];
    for (const s of view.services) {
      for (const p of portsOf(s)) {
        for (const port of p.hostPorts) {
          const host = p.hostIp === '0.0.0.0' ? undefined : p.hostIp?.replace(/^\[|\]$/g, '');
          listeners.push({
            owner: `${s.project}/${s.name}`,
            host: host === '::' ? undefined : host,
            port,
            family: host?.includes(':') ? 6 : 4,
            where: `${serviceLabel(s)}.ports ${p.raw}`,
          });
        }
      }
    }
    const nginxSeen = new Set<string>();
    for (const { block } of scopedBlocks(view.nginx.nodes, 'server')) {
      for (const l of listensOf(block)) {
        const key = `${l.family}/${l.host ?? '*'}:${l.port}`;
        if (nginxSeen.has(key)) continue;
        nginxSeen.add(key);
        listeners.push({ owner: 'nginx', ...l, where: `${view.nginx.fileOf.get(block)} listen ${l.raw}` });
      }
    }
    const owners: Record<string, string> = {
      nginxStatus: 'nginx',
      dockerd: 'dockerd',
      nodeExporter: 'node-exporter',
    };
    for (const [key, l] of Object.entries(model.hostListeners)) {
      const owner = owners[key] ?? key;
      const duplicate = listeners.some((x) => x.owner === owner && x.host === l.address && x.port === l.port);
      if (duplicate) continue;
      listeners.push({
        owner,
        host: l.address,
        port: l.port,
        family: 4,
        where: `model.hostListeners.${key}`,
      });
    }
    listeners.push({
      owner: 'sshd',
      host: undefined,
      port: model.host.sshPort,
      family: 4,
      where: 'model.host.sshPort',
    });
    for (let i = 0; i < listeners.length; i++) {
      for (let j = i + 1; j < listeners.length; j++) {
        const a = listeners[i] as Listener;
        const b = listeners[j] as Listener;
        if (!overlaps(a, b)) continue;
        findings.push({
          where: b.where,
          expected: `host port ${b.port} used once`,
          found: `also taken by ${a.owner} (${a.where})`,
        });
      }
    }
    return { findings, notes: [`${listeners.length} host listeners`] };
  },
};

const blueGreen: Rule = {
  name: 'xref/blue-green',
  tool: 'xref',
  reason:
    'Blue and green run side by side during a deployment: they must never share a container name, published port, service name or network alias.',
  evaluate({ view, model }) {
    const findings = [...view.composeErrors];
    type Names = Record<
      'container name' | 'published port' | 'service name' | 'network alias',
      Map<string, string>
    >;
    const empty = (): Names => ({
      'container name': new Map(),
      'published port': new Map(),
      'service name': new Map(),
      'network alias': new Map(),
    });
    const compare = (blue: Names, green: Names) => {
      for (const kind of Object.keys(blue) as (keyof Names)[]) {
        for (const [value, where] of green[kind]) {
          const other = blue[kind].get(value);
          if (other)
            findings.push({
              where,
              expected: `a ${kind} of its own`,
              found: `${value}, also used by ${other}`,
            });
        }
      }
    };
    // The rendered files.
    const fromTree = (key: 'blue' | 'green') => {
      const names = empty();
      const file = model.compose.find((p) => p.key === key)?.file ?? `docker/compose.${key}.yml`;
      for (const s of view.services.filter((x) => x.file === file)) {
        const label = serviceLabel(s);
        names['service name'].set(s.name, label);
        if (typeof s.spec.container_name === 'string')
          names['container name'].set(s.spec.container_name, label);
        for (const p of portsOf(s))
          for (const port of p.hostPorts) names['published port'].set(String(port), label);
        for (const [, aliases] of networksOf(view, s))
          for (const a of aliases) names['network alias'].set(a, label);
      }
      return names;
    };
    compare(fromTree('blue'), fromTree('green'));
    // The model the files come from.
    const fromModel = (key: 'blue' | 'green') => {
      const names = empty();
      for (const s of model.compose.find((p) => p.key === key)?.services ?? []) {
        const label = `model.compose ${key}/${s.name}`;
        names['service name'].set(s.name, label);
        names['container name'].set(s.containerName, label);
        for (const p of s.ports ?? []) names['published port'].set(String(p.host), label);
        for (const n of Object.values(s.networks ?? {}))
          for (const a of n?.aliases ?? []) names['network alias'].set(a, label);
      }
      return names;
    };
    compare(fromModel('blue'), fromModel('green'));
    return { findings };
  },
};

export const xrefRules: Rule[] = [
  upstreamPorts,
  prometheusTargets,
  alertMetrics,
  bindMounts,
  envVars,
  scheduledScripts,
  hostPorts,
  blueGreen,
];

/** Used by the policy rules too: every server block with its ancestors and whether it is public. */
export function servers(view: TreeView) {
  return scopedBlocks(view.nginx.nodes, 'server').map((s) => ({
    ...s,
    public: listensOf(s.block).some(isPublicListen),
  }));
}
