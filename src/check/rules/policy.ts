import { posix } from 'node:path';
import type { NginxBlock } from '../../render/nginx/ast.ts';
import { blocksOf, directivesOf, findBlocks, findDirectives, parseNginx } from '../../render/nginx/parse.ts';
import { interpolate, parseBindMount, parseImage } from './compose.ts';
import {
  blockLabel,
  deniesAllBut,
  effectiveAccess,
  effectiveHeaders,
  isPublicListen,
  listensOf,
  nestedScopes,
  scopedBlocks,
  selectLocation,
  serverLabel,
} from './nginx.ts';
import type { Finding, Rule } from './rule.ts';
import { findSecrets } from './secrets.ts';
import { asArray, asRecord, type ComposeService, normalizeRelative } from './view.ts';
import { nginxErrors, portsOf, servers, serviceLabel } from './xref.ts';

// Security policy: one rule per decision, each with the reason it exists.

const loopbackPorts: Rule = {
  name: 'policy/loopback-ports',
  tool: 'policy',
  reason:
    "Docker must publish ports on 127.0.0.1 only: Docker's DNAT rules bypass UFW, so a port published on every address is open to the internet whatever the firewall says.",
  evaluate({ view, tree, model }) {
    const findings = [...view.composeErrors];
    let count = 0;
    for (const s of view.services) {
      for (const p of portsOf(s)) {
        count++;
        if (p.hostIp !== '127.0.0.1') {
          findings.push({
            where: `${serviceLabel(s)}.ports`,
            expected: `127.0.0.1:<host>:${p.containerPort}`,
            found: `${p.raw} (published on ${p.hostIp ?? 'every address'})`,
          });
        }
      }
    }
    for (const project of model.compose) {
      for (const s of project.services) {
        if ((s.ports?.length ?? 0) > 0 && s.hostNetwork) {
          findings.push({
            where: `model.compose ${project.key}/${s.name}`,
            expected: 'ports only on a bridge network',
            found: 'ports with the host network',
          });
        }
      }
    }
    const daemon = tree.files.get(model.host.files.dockerDaemon);
    if (daemon) {
      try {
        const ip = asRecord(JSON.parse(daemon.content)).ip;
        if (ip !== undefined && ip !== '127.0.0.1') {
          findings.push({
            where: `${model.host.files.dockerDaemon} ip`,
            expected: '127.0.0.1',
            found: String(ip),
          });
        }
      } catch (error) {
        findings.push({
          where: model.host.files.dockerDaemon,
          expected: 'JSON',
          found: (error as Error).message,
        });
      }
    }
    return { findings, notes: [`${count} published ports`] };
  },
};

/** An image reference with every variable at its default: pinned when it has a tag other than latest, or a digest. */
function imageProblem(ref: string): string | undefined {
  const { value, unresolved } = interpolate(ref);
  if (unresolved.length > 0)
    return `${ref}: \${${unresolved[0]}} has no default, so the tag is not pinned here`;
  const image = parseImage(value);
  if (image.digest) return undefined;
  if (image.tag === undefined || image.tag === '') return `${value} (untagged: Docker pulls latest)`;
  if (image.tag.toLowerCase() === 'latest') return `${value} (latest)`;
  return undefined;
}

const pinnedImages: Rule = {
  name: 'policy/pinned-images',
  tool: 'policy',
  reason: `Every image must be pinned to an explicit version (a tag other than latest, or a digest), defaults of \${VAR:-default} included: latest or no tag changes what runs at the next pull.`,
  evaluate({ view, model }) {
    const findings = [...view.composeErrors];
    for (const s of view.services) {
      const image = s.spec.image;
      if (typeof image !== 'string') {
        findings.push({
          where: `${serviceLabel(s)}.image`,
          expected: 'a pinned image reference',
          found: 'none',
        });
        continue;
      }
      const problem = imageProblem(image);
      if (problem)
        findings.push({
          where: `${serviceLabel(s)}.image`,
          expected: 'a pinned tag or digest',
          found: problem,
        });
    }
    for (const project of model.compose) {
      for (const s of project.services) {
        const problem = imageProblem(s.image.ref);
        if (problem) {
          findings.push({
            where: `model.compose ${project.key}/${s.name}.image`,
            expected: 'a pinned tag or digest',
            found: problem,
          });
        }
      }
    }
    for (const [name, value] of view.envExample?.names ?? []) {
      if (/^(latest|.*:latest)$/i.test(value)) {
        findings.push({
          where: `${view.envExample?.path} ${name}`,
          expected: 'a pinned version',
          found: value,
        });
      }
    }
    return { findings, notes: [`${view.services.length} images`] };
  },
};

const noSecrets: Rule = {
  name: 'policy/no-secrets',
  tool: 'policy',
  reason: `No secret may be written in a rendered file: the tree is committed. Secrets come from \${VAR} of the env file or from *_file / __FILE paths under the secrets folder (values are never shown here).`,
  evaluate({ tree }) {
    const findings: Finding[] = [];
    let scanned = 0;
    for (const [path, file] of tree.files) {
      if (file.content.includes('\u0000')) continue;
      scanned++;
      for (const hit of findSecrets(file.content)) {
        findings.push({
          where: `${path}:${hit.line}`,
          expected: `a \${VAR} reference or a *_file path`,
          found: `${hit.kind}${hit.key ? ` ${hit.key}` : ''} (${hit.length} characters, value not shown)`,
        });
      }
    }
    return { findings, notes: [`${scanned} files scanned`] };
  },
};

/** `key value` lines of redis.conf (comments dropped, quotes kept). */
function redisSettings(content: string): { line: number; key: string; value: string }[] {
  return content
    .split('\n')
    .map((raw, i) => ({ raw: raw.trim(), line: i + 1 }))
    .filter(({ raw }) => raw !== '' && !raw.startsWith('#'))
    .map(({ raw, line }) => {
      const m = /^(\S+)\s*(.*)$/.exec(raw) as RegExpExecArray;
      return { line, key: (m[1] as string).toLowerCase(), value: (m[2] as string).trim() };
    });
}

const emptyValue = (v: string) => v === '' || v === '""' || v === "''";
const commandText = (v: unknown) =>
  Array.isArray(v) ? v.map(String).join(' ') : typeof v === 'string' ? v : '';

function isImage(s: ComposeService, pattern: RegExp): boolean {
  if (typeof s.spec.image !== 'string') return false;
  return pattern.test(parseImage(interpolate(s.spec.image).value).name);
}

const redisAuth: Rule = {
  name: 'policy/redis-auth',
  tool: 'policy',
  reason:
    'Redis must require a password: requirepass set (fed by the container command from the env file, never empty), protected-mode on, and the healthcheck authenticating; an open Redis on the database network gives every container its sessions.',
  evaluate({ tree, view, model }) {
    const findings = [...view.composeErrors];
    const redis = view.services.filter(
      (s) => s.name === model.endpoints.redis.host || isImage(s, /(^|\/)(redis|valkey)$/),
    );
    const confs = new Set([...tree.files.keys()].filter((f) => /(^|\/)redis[^/]*\.conf$/.test(f)));
    for (const s of redis) {
      for (const entry of asArray(s.spec.volumes)) {
        const mount = parseBindMount(entry);
        if (!mount || mount.source.startsWith('/')) continue;
        const path = normalizeRelative(posix.join(posix.dirname(s.file), mount.source));
        if (path && tree.files.has(path) && path.endsWith('.conf')) confs.add(path);
      }
    }
    let confPassword = false;
    for (const path of confs) {
      for (const { line, key, value } of redisSettings(tree.files.get(path)?.content ?? '')) {
        const where = `${path}:${line}`;
        if (key === 'requirepass') {
          if (emptyValue(value)) findings.push({ where, expected: 'a password', found: 'requirepass ""' });
          else confPassword = true;
        }
        if (key === 'protected-mode' && value.toLowerCase() !== 'yes') {
          findings.push({ where, expected: 'protected-mode yes', found: `protected-mode ${value}` });
        }
        if (key === 'user' && /\bnopass\b/.test(value) && /\bon\b/.test(value)) {
          findings.push({ where, expected: 'an ACL user with a password', found: `user ${value}` });
        }
      }
    }
    for (const s of redis) {
      const label = serviceLabel(s);
      const command = `${commandText(s.spec.entrypoint)} ${commandText(s.spec.command)}`;
      const fed = /(--)?requirepass\s+("?)(\$\$?\{?[A-Za-z_][A-Za-z0-9_]*)/.exec(command);
      const emptyFed = /(--)?requirepass\s+(""|''|\s*$)/m.test(command);
      if (emptyFed)
        findings.push({
          where: `${label}.command`,
          expected: 'requirepass from a variable',
          found: 'an empty requirepass',
        });
      else if (!fed && !confPassword) {
        findings.push({
          where: `${label}.command`,
          expected: 'requirepass fed from the env file (or set in redis.conf)',
          found: 'no requirepass',
        });
      }
      if (/--protected-mode\s+no/.test(command)) {
        findings.push({
          where: `${label}.command`,
          expected: 'protected-mode on',
          found: '--protected-mode no',
        });
      }
      const test = commandText(asRecord(s.spec.healthcheck).test);
      if (!test) {
        findings.push({
          where: `${label}.healthcheck`,
          expected: 'a healthcheck that authenticates',
          found: 'none',
        });
      } else if (!/REDISCLI_AUTH=|\s-a\s|--pass\b|--askpass|\bAUTH\b/.test(test)) {
        findings.push({
          where: `${label}.healthcheck`,
          expected: 'redis-cli authenticating (REDISCLI_AUTH or -a)',
          found: test,
        });
      }
    }
    const notes =
      redis.length === 0
        ? ['no Redis service']
        : [`${redis.length} Redis service(s), ${confs.size} redis.conf`];
    return { findings, notes };
  },
};

/** Fields of a pg_hba.conf line, quotes honoured. */
function hbaFields(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? (m[2] as string));
}

const WEAK_METHODS = new Set(['trust', 'password', 'md5']);

const pgHbaNoTrust: Rule = {
  name: 'policy/pg-hba-no-trust',
  tool: 'policy',
  reason:
    'pg_hba.conf must not use trust (no password at all), password (clear text) or md5 (replayable hashes): every login uses scram-sha-256.',
  evaluate({ tree }) {
    const findings: Finding[] = [];
    let files = 0;
    for (const [path, file] of tree.files) {
      if (posix.basename(path) === 'postgresql.conf') {
        const m = /^\s*password_encryption\s*=\s*'?([^'\s#]+)/m.exec(file.content);
        if (m && m[1] !== 'scram-sha-256') {
          findings.push({
            where: `${path} password_encryption`,
            expected: 'scram-sha-256',
            found: m[1] as string,
          });
        }
      }
      if (posix.basename(path) !== 'pg_hba.conf') continue;
      files++;
      file.content.split('\n').forEach((raw, i) => {
        const line = raw.replace(/#.*/, '').trim();
        if (line === '') return;
        const fields = hbaFields(line);
        const type = fields[0] ?? '';
        if (type.startsWith('include')) return;
        let method: string | undefined;
        if (type === 'local') method = fields[3];
        else {
          const address = fields[3] ?? '';
          const isIpWithoutMask = /^[\d.]+$|^[0-9a-f:]+$/i.test(address) && !address.includes('/');
          method = isIpWithoutMask ? fields[5] : fields[4];
        }
        if (method && WEAK_METHODS.has(method.toLowerCase())) {
          findings.push({
            where: `${path}:${i + 1}`,
            expected: 'scram-sha-256 (or peer, cert, reject)',
            found: fields.join(' '),
          });
        }
      });
    }
    return { findings, notes: files === 0 ? ['no pg_hba.conf in the tree'] : [`${files} pg_hba.conf`] };
  },
};

/**
 * Mozilla intermediate configuration (https://ssl-config.mozilla.org/, guidelines 5.7): TLS 1.2 suites. Kept
 * here on purpose rather than imported from the edge model: the policy judges what the renderer wrote.
 */
export const MOZILLA_INTERMEDIATE = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
]);
const TLS_PROTOCOLS = new Set(['TLSv1.2', 'TLSv1.3']);

const tls: Rule = {
  name: 'policy/tls',
  tool: 'policy',
  reason:
    'nginx must offer only TLSv1.2 and TLSv1.3 with the Mozilla intermediate ciphers: older protocols and other suites are broken or weak, and nginx defaults are wider.',
  evaluate({ view }) {
    const findings = nginxErrors(view);
    const { nodes, fileOf } = view.nginx;
    const protocols = findDirectives(nodes, 'ssl_protocols');
    const ciphers = findDirectives(nodes, 'ssl_ciphers');
    for (const d of protocols) {
      const bad = d.args.filter((p) => !TLS_PROTOCOLS.has(p));
      if (bad.length > 0) {
        findings.push({
          where: `${fileOf.get(d)} ssl_protocols`,
          expected: 'TLSv1.2 TLSv1.3 only',
          found: d.args.join(' '),
        });
      }
    }
    for (const d of ciphers) {
      const bad = (d.args.join(':') || '').split(':').filter((c) => c && !MOZILLA_INTERMEDIATE.has(c));
      if (bad.length > 0) {
        findings.push({
          where: `${fileOf.get(d)} ssl_ciphers`,
          expected: 'Mozilla intermediate ciphers only',
          found: `not in the list: ${bad.join(':')}`,
        });
      }
    }
    const sslListen = findDirectives(nodes, 'listen').some((d) => d.args.includes('ssl'));
    if (sslListen && protocols.length === 0) {
      findings.push({
        where: 'nginx',
        expected: 'ssl_protocols TLSv1.2 TLSv1.3',
        found: "none (nginx's default is wider)",
      });
    }
    if (sslListen && ciphers.length === 0) {
      findings.push({
        where: 'nginx',
        expected: 'ssl_ciphers with the Mozilla intermediate list',
        found: "none (nginx's default HIGH:!aNULL:!MD5)",
      });
    }
    return { findings };
  },
};

/** A server that answers every request with `return` (or deny): it serves no page and no proxied content. */
function answersOnlyWithReturn(server: NginxBlock): boolean {
  if (directivesOf(server, 'return').length > 0) return true;
  const locations = blocksOf(server, 'location');
  return (
    locations.length > 0 &&
    locations.every(
      (l) => directivesOf(l, 'return').length > 0 || deniesAllBut(effectiveAccess([l]), () => false),
    )
  );
}

const headerName = (args: string[]) => (args[0] ?? '').toLowerCase();

const securityHeaders: Rule = {
  name: 'policy/security-headers',
  tool: 'policy',
  reason:
    'Every public server sends the security headers, and every location or if block with its own add_header repeats them (include the snippet): nginx drops inherited add_header as soon as a level sets one.',
  evaluate({ tree, view, model }) {
    const findings = nginxErrors(view);
    const notes: string[] = [];
    const snippetPath = model.edge.files.securityHeaders;
    const snippet = tree.files.get(snippetPath);
    let required: string[] = [];
    if (!snippet) {
      findings.push({
        where: snippetPath,
        expected: 'the security headers snippet',
        found: 'missing from the tree',
      });
      required = model.edge.securityHeaders.map((h) => h.name.toLowerCase());
    } else {
      try {
        required = findDirectives(parseNginx(snippet.content, { comments: false }), 'add_header').map((d) =>
          headerName(d.args),
        );
      } catch (error) {
        findings.push({ where: snippetPath, expected: 'nginx syntax', found: (error as Error).message });
      }
    }
    const { fileOf } = view.nginx;
    const exempt: string[] = [];
    for (const s of servers(view)) {
      const label = serverLabel(s.block, fileOf);
      if (!s.public) {
        exempt.push(`${label} (not public)`);
        continue;
      }
      if (answersOnlyWithReturn(s.block)) {
        exempt.push(`${label} (answers only with return)`);
        continue;
      }
      const check = (chain: NginxBlock[], where: string) => {
        const have = new Set(effectiveHeaders(chain).map((d) => headerName(d.args)));
        const missing = required.filter((h) => !have.has(h));
        if (missing.length > 0) {
          findings.push({
            where,
            expected: `the security headers (include ${snippetPath.replace(`${model.edge.treeDir}/`, `${model.edge.paths.conf}/`)})`,
            found: `missing ${missing.join(', ')}`,
          });
        }
      };
      check([...s.ancestors, s.block], label);
      for (const scope of nestedScopes(s.block, s.ancestors)) {
        const path = scope.ancestors.slice(s.ancestors.length + 1).map(blockLabel);
        check([...scope.ancestors, scope.block], [label, ...path, blockLabel(scope.block)].join(' > '));
      }
    }
    if (exempt.length > 0) notes.push(`exempt: ${exempt.join('; ')}`);
    return { findings, notes };
  },
};

const LOOPBACK = ['127.0.0.1', '127.0.0.1/32', '127.0.0.0/8', '::1', '::1/128'];

/** Probed paths: metrics and the applications' internal endpoints. */
const PRIVATE_PATHS = ['/metrics', '/metrics/', '/internal/'];

const privateEndpoints: Rule = {
  name: 'policy/private-endpoints',
  tool: 'policy',
  reason:
    '/metrics and internal/admin endpoints must not be public: every public server must deny them (or answer them with return), and the stub_status server must allow only loopback and the monitoring subnet.',
  evaluate({ view, model }) {
    const findings = nginxErrors(view);
    const notes: string[] = [];
    const { fileOf, nodes } = view.nginx;
    const upstreamPorts = new Map(
      scopedBlocks(nodes, 'upstream').map((u) => [
        u.block.args[0] ?? '',
        directivesOf(u.block, 'server').map((d) => Number(/:(\d+)$/.exec(d.args[0] ?? '')?.[1])),
      ]),
    );
    const adminPorts = new Map([
      [model.hostPorts.prometheus, 'Prometheus'],
      [model.hostPorts.alertmanager, 'Alertmanager'],
    ]);
    const privateSource = (a: string) =>
      LOOPBACK.includes(a) || /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(a);
    let probed = 0;
    for (const s of servers(view)) {
      if (!s.public) continue;
      const label = serverLabel(s.block, fileOf);
      if (directivesOf(s.block, 'return').length > 0) continue;
      const probes = new Set(PRIVATE_PATHS);
      for (const loc of findBlocks(s.block.children, 'location')) {
        const modifier = loc.args.length > 1 ? loc.args[0] : '';
        const path = loc.args.at(-1) ?? '';
        const pass = directivesOf(loc, 'proxy_pass')[0]?.args[0] ?? '';
        // `location /api/ { proxy_pass http://x/; }` sends /api/metrics to the upstream's /metrics.
        if (
          (modifier === '' || modifier === '^~') &&
          path.endsWith('/') &&
          path !== '/' &&
          /^https?:\/\/[^/]+\//.test(pass)
        ) {
          for (const p of PRIVATE_PATHS) probes.add(`${path}${p.slice(1)}`);
        }
      }
      for (const uri of probes) {
        probed++;
        const chain = selectLocation(s.block, uri, notes);
        const full = [...s.ancestors, s.block, ...chain];
        const inner = chain.at(-1);
        if (inner && (directivesOf(inner, 'return').length > 0 || directivesOf(inner, 'internal').length > 0))
          continue;
        if (deniesAllBut(effectiveAccess(full), privateSource)) continue;
        const via = inner ? `location ${inner.args.join(' ')}` : 'no location (nginx serves its root)';
        const pass = inner ? directivesOf(inner, 'proxy_pass')[0]?.args[0] : undefined;
        findings.push({
          where: label,
          expected: `${uri} denied`,
          found: `${uri} served by ${via}${pass ? ` (proxy_pass ${pass})` : ''}`,
        });
      }
      for (const pass of findDirectives(s.block.children, 'proxy_pass')) {
        const target = /^https?:\/\/([^/:]+)(?::(\d+))?/.exec(pass.args[0] ?? '');
        if (!target) continue;
        const ports = target[2] ? [Number(target[2])] : (upstreamPorts.get(target[1] as string) ?? []);
        for (const port of ports) {
          const what = adminPorts.get(port);
          if (what) {
            findings.push({
              where: label,
              expected: `no public proxy to ${what} (it has no authentication)`,
              found: `proxy_pass ${pass.args[0]} -> 127.0.0.1:${port}`,
            });
          }
        }
      }
    }
    const monitoring = model.networks.monitoring.subnet;
    const statusAllowed = (a: string) => LOOPBACK.includes(a) || a === monitoring;
    let stubs = 0;
    for (const s of scopedBlocks(nodes, 'server')) {
      for (const scope of nestedScopes(s.block, s.ancestors)) {
        if (directivesOf(scope.block, 'stub_status').length === 0) continue;
        stubs++;
        const label = `${serverLabel(s.block, fileOf)} > ${blockLabel(scope.block)}`;
        const rules = effectiveAccess([...scope.ancestors, scope.block]);
        if (!deniesAllBut(rules, statusAllowed)) {
          findings.push({
            where: label,
            expected: `allow only loopback and ${monitoring}, then deny all`,
            found: rules.map((r) => `${r.name} ${r.args.join(' ')}`).join('; ') || 'no access rules',
          });
        }
        const open = listensOf(s.block).filter(isPublicListen);
        if (open.length > 0) {
          findings.push({
            where: label,
            expected: 'stub_status on loopback or the Docker host address only',
            found: `listen ${open.map((l) => l.raw).join(', ')}`,
          });
        }
      }
    }
    notes.push(`${probed} public paths probed, ${stubs} stub_status location(s)`);
    return { findings, notes };
  },
};

const ADMIN_FLAGS = ['--web.enable-admin-api', '--web.enable-lifecycle'];

const prometheusAdminApi: Rule = {
  name: 'policy/prometheus-admin-api',
  tool: 'policy',
  reason:
    'Prometheus must run without --web.enable-admin-api (deletes series, snapshots the TSDB) and --web.enable-lifecycle (shutdown, reload over HTTP): its port has no authentication; reload with SIGHUP.',
  evaluate({ view, model }) {
    const findings = [...view.composeErrors];
    const name = model.monitoring.addresses.prometheus.host;
    const services = view.services.filter((s) => s.name === name || isImage(s, /(^|\/)prometheus$/));
    for (const s of services) {
      const argv = [...asArray(s.spec.entrypoint), ...asArray(s.spec.command)].map(String);
      const text = typeof s.spec.command === 'string' ? s.spec.command : argv.join(' ');
      for (const flag of ADMIN_FLAGS) {
        if (text.includes(flag))
          findings.push({ where: `${serviceLabel(s)}.command`, expected: `no ${flag}`, found: flag });
      }
    }
    for (const s of model.monitoring.services.filter((x) => x.service === name)) {
      for (const flag of ADMIN_FLAGS) {
        if (s.command.some((a) => a.startsWith(flag))) {
          findings.push({
            where: `model.monitoring.services ${s.service}.command`,
            expected: `no ${flag}`,
            found: flag,
          });
        }
      }
    }
    if (services.length === 0)
      findings.push({ where: 'compose', expected: `a service ${name}`, found: 'none' });
    return { findings };
  },
};

/** go-ini subset: `[section]`, `key = value`, `;`/`#` comments. */
export function parseIni(text: string): Map<string, Map<string, { value: string; line: number }>> {
  const out = new Map<string, Map<string, { value: string; line: number }>>();
  let section = '';
  out.set(section, new Map());
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = (header[1] as string).trim();
      if (!out.has(section)) out.set(section, new Map());
      return;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (kv) out.get(section)?.set((kv[1] as string).trim(), { value: (kv[2] as string).trim(), line: i + 1 });
  });
  return out;
}

const grafanaSignup: Rule = {
  name: 'policy/grafana-signup',
  tool: 'policy',
  reason:
    'Grafana is reachable from the internet: sign-up must be off ([users] allow_sign_up = false) and anonymous access disabled ([auth.anonymous] enabled = false), with no environment override turning them on.',
  evaluate({ tree, view, model }) {
    const findings = [...view.composeErrors];
    const path = model.monitoring.files.grafanaIni;
    const paths = new Set([
      path,
      ...[...tree.files.keys()].filter((f) => posix.basename(f) === 'grafana.ini'),
    ]);
    for (const p of paths) {
      const file = tree.files.get(p);
      if (!file) {
        findings.push({ where: p, expected: 'grafana.ini', found: 'missing from the tree' });
        continue;
      }
      const ini = parseIni(file.content);
      const signup = ini.get('users')?.get('allow_sign_up');
      if (signup?.value.toLowerCase() !== 'false') {
        findings.push({
          where: `${p}${signup ? `:${signup.line}` : ''} [users]`,
          expected: 'allow_sign_up = false',
          found: signup ? `allow_sign_up = ${signup.value}` : 'not set',
        });
      }
      const anonymous = ini.get('auth.anonymous')?.get('enabled');
      if (anonymous?.value.toLowerCase() !== 'false') {
        findings.push({
          where: `${p}${anonymous ? `:${anonymous.line}` : ''} [auth.anonymous]`,
          expected: 'enabled = false',
          found: anonymous ? `enabled = ${anonymous.value}` : 'not set',
        });
      }
    }
    for (const s of view.services) {
      const env = s.spec.environment;
      const entries: [string, string][] = Array.isArray(env)
        ? env.map((e) => {
            const [k, ...v] = String(e).split('=');
            return [k as string, v.join('=')];
          })
        : Object.entries(asRecord(env)).map(([k, v]) => [k, String(v)]);
      for (const [k, v] of entries) {
        if (
          (k === 'GF_USERS_ALLOW_SIGN_UP' || k === 'GF_AUTH_ANONYMOUS_ENABLED') &&
          v.toLowerCase() !== 'false'
        ) {
          findings.push({
            where: `${serviceLabel(s)}.environment.${k}`,
            expected: 'false or unset',
            found: v,
          });
        }
      }
    }
    return { findings };
  },
};

/** Containers without a healthcheck, and why: their images have nothing to run one with. */
export const HEALTHCHECK_EXCEPTIONS: Record<string, string> = {
  alloy: 'the grafana/alloy image has no curl or wget; Prometheus up{job="alloy"} watches it',
  'redis-exporter':
    'oliver006/redis_exporter is FROM scratch (no shell, no wget); up{job="redis"} watches it',
  'nginx-exporter':
    'nginx/nginx-prometheus-exporter is FROM scratch (no shell, no wget); up{job="nginx"} watches it',
  loki: 'Loki images before 3.7 have no -health flag and are distroless; up{job="loki"} watches it',
};

/** Containers allowed to run privileged, and why. */
export const PRIVILEGED_EXCEPTIONS: Record<string, string> = {
  cadvisor: 'cAdvisor reads the cgroups, /dev/kmsg and disk statistics of every container',
};

const containerHardening: Rule = {
  name: 'policy/container-hardening',
  tool: 'policy',
  reason:
    'Every container has a memory limit (one runaway container must not take the host), a healthcheck (deployments and depends_on wait on it), no-new-privileges, and is not privileged; exceptions are listed with their reason.',
  evaluate({ view, model }) {
    const findings = [...view.composeErrors];
    const notes: string[] = [];
    const specs = new Map(model.compose.flatMap((p) => p.services.map((s) => [s.name, s])));
    for (const s of view.services) {
      const label = serviceLabel(s);
      const spec = specs.get(s.name);
      const limits = asRecord(asRecord(asRecord(s.spec.deploy).resources).limits);
      if (limits.memory === undefined && s.spec.mem_limit === undefined) {
        findings.push({
          where: `${label}.deploy.resources.limits`,
          expected: 'a memory limit',
          found: 'none',
        });
      }
      const health = asRecord(s.spec.healthcheck);
      const test = asArray(health.test).map(String);
      const disabled = health.disable === true || test[0] === 'NONE';
      if (s.spec.healthcheck === undefined || disabled) {
        const reason = HEALTHCHECK_EXCEPTIONS[s.name];
        const declared = spec && 'none' in spec.healthcheck ? spec.healthcheck.none : undefined;
        if (reason && declared) notes.push(`${s.name}: no healthcheck (${reason})`);
        else {
          findings.push({
            where: `${label}.healthcheck`,
            expected: reason
              ? 'the model to declare why there is none'
              : 'a healthcheck (or a listed exception)',
            found: disabled ? 'disabled' : 'none',
          });
        }
      }
      const securityOpt = asArray(s.spec.security_opt).map(String);
      if (!securityOpt.some((o) => /^no-new-privileges([:=]true)?$/.test(o))) {
        findings.push({
          where: `${label}.security_opt`,
          expected: 'no-new-privileges:true',
          found: securityOpt.join(', ') || 'none',
        });
      }
      if (s.spec.privileged === true) {
        const reason = PRIVILEGED_EXCEPTIONS[s.name];
        if (reason && spec?.privileged?.reason) notes.push(`${s.name}: privileged (${reason})`);
        else {
          findings.push({
            where: `${label}.privileged`,
            expected: reason ? 'the model to declare why' : 'not privileged (or a listed exception)',
            found: 'privileged: true',
          });
        }
      }
      const caps = asArray(s.spec.cap_add).map(String);
      for (const cap of caps.filter((c) => /^(CAP_)?(ALL|SYS_ADMIN)$/i.test(c))) {
        if (!PRIVILEGED_EXCEPTIONS[s.name])
          findings.push({ where: `${label}.cap_add`, expected: 'no ALL or SYS_ADMIN', found: cap });
      }
    }
    return { findings, notes };
  },
};

/** Commands that amount to ALL: a shell or su runs anything. */
const UNRESTRICTED =
  /^(ALL|(\/usr)?\/bin\/(ba|da|z|k|c|tc|fi)?sh|(\/usr)?\/bin\/su|sudoedit|(\/usr)?\/bin\/env)(\s|$)/;

/** Reads sudoers lines (continuations joined, comments dropped): aliases and user specifications. */
export function sudoersFindings(content: string, path: string): Finding[] {
  const findings: Finding[] = [];
  const lines: { line: number; text: string }[] = [];
  let buffer = '';
  let start = 0;
  content.split('\n').forEach((raw, i) => {
    if (buffer === '') start = i + 1;
    const text = raw.replace(/(^|\s)#(?!\d).*$/, '');
    if (text.endsWith('\\')) buffer += `${text.slice(0, -1)} `;
    else {
      lines.push({ line: start, text: (buffer + text).trim() });
      buffer = '';
    }
  });
  const aliases = new Map<string, string[]>();
  for (const { text } of lines) {
    const m = /^Cmnd_Alias\s+(.*)$/.exec(text);
    if (!m) continue;
    for (const part of (m[1] as string).split(':')) {
      const [name, list] = part.split('=');
      if (name && list)
        aliases.set(
          name.trim(),
          list.split(',').map((c) => c.trim()),
        );
    }
  }
  const expand = (command: string, depth = 0): string[] =>
    aliases.has(command) && depth < 8
      ? (aliases.get(command) ?? []).flatMap((c) => expand(c, depth + 1))
      : [command];
  for (const { line, text } of lines) {
    if (text === '' || /^(Cmnd_Alias|User_Alias|Host_Alias|Runas_Alias)\b/.test(text)) continue;
    if (/^Defaults/.test(text)) {
      if (/!authenticate\b/.test(text)) {
        findings.push({ where: `${path}:${line}`, expected: 'authentication required', found: text });
      }
      continue;
    }
    const eq = text.indexOf('=');
    if (eq < 0) continue;
    let nopasswd = false;
    for (const item of text.slice(eq + 1).split(',')) {
      let rest = item.trim().replace(/^\([^)]*\)\s*/, '');
      for (let tag = /^([A-Z_]+):\s*/.exec(rest); tag; tag = /^([A-Z_]+):\s*/.exec(rest)) {
        if (tag[1] === 'NOPASSWD') nopasswd = true;
        if (tag[1] === 'PASSWD') nopasswd = false;
        rest = rest.slice(tag[0].length);
      }
      if (!nopasswd) continue;
      for (const command of expand(rest.trim())) {
        if (UNRESTRICTED.test(command)) {
          findings.push({
            where: `${path}:${line}`,
            expected: 'NOPASSWD only for named commands',
            found: `${text} (NOPASSWD: ${command})`,
          });
        }
      }
    }
  }
  return findings;
}

const sudoers: Rule = {
  name: 'policy/sudoers',
  tool: 'policy',
  reason:
    'The deploy user may run only named commands as root without a password: NOPASSWD: ALL (or a shell) makes a stolen deploy key root.',
  evaluate({ tree, model }) {
    const findings: Finding[] = [];
    const paths = [...tree.files.keys()].filter(
      (f) => f === model.host.files.sudoers || /(^|\/)sudoers(\.d)?(\/|$)/.test(f),
    );
    for (const path of paths) findings.push(...sudoersFindings(tree.files.get(path)?.content ?? '', path));
    model.host.sudoCommands.forEach((c, i) => {
      if (UNRESTRICTED.test(c))
        findings.push({ where: `model.host.sudoCommands[${i}]`, expected: 'a named command', found: c });
    });
    return { findings, notes: [`${paths.length} sudoers file(s)`] };
  },
};

export const policyRules: Rule[] = [
  loopbackPorts,
  pinnedImages,
  noSecrets,
  redisAuth,
  pgHbaNoTrust,
  tls,
  securityHeaders,
  privateEndpoints,
  prometheusAdminApi,
  grafanaSignup,
  containerHardening,
  sudoers,
];
