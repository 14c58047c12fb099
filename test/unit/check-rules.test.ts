import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { interpolate, parsePort, variablesOf } from '../../src/check/rules/compose.ts';
import { rules, rulesChecks } from '../../src/check/rules/index.ts';
import { selectLocation } from '../../src/check/rules/nginx.ts';
import { sudoersFindings } from '../../src/check/rules/policy.ts';
import { metricsOf, selectorsOf } from '../../src/check/rules/promql.ts';
import { runRule } from '../../src/check/rules/rule.ts';
import { findSecrets } from '../../src/check/rules/secrets.ts';
import { cronCommands, logrotateCommands, scriptsOf } from '../../src/check/rules/xref.ts';
import type { TreeFiles } from '../../src/check/types.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { buildModel, type Model } from '../../src/model/index.ts';
import type { AlertRule } from '../../src/model/monitoring.ts';
import { renderTree } from '../../src/render/index.ts';
import type { NginxBlock } from '../../src/render/nginx/ast.ts';
import { parseNginx } from '../../src/render/nginx/parse.ts';

// The rules run on the rendered tree as a TreeFiles object (no disk) and the model. Each break test changes
// the tree or the model in one way and expects the rule to fail with its reason and the finding: a rule
// that did nothing would pass and fail the test.

const model = buildModel(validateConfig({}));
const rendered = renderTree(model);

function baseTree(): TreeFiles {
  return {
    root: '/fake/infrastructure',
    files: new Map(rendered.map((f) => [f.path, { content: f.content, mode: f.mode }])),
  };
}

/** A copy of `tree` with one file rewritten; the rewrite must change it (a no-op edit would prove nothing). */
function edit(path: string, change: (content: string) => string, tree = baseTree()): TreeFiles {
  const file = tree.files.get(path);
  if (!file) throw new Error(`no ${path} in the tree`);
  const content = change(file.content);
  if (content === file.content) throw new Error(`edit of ${path} changed nothing`);
  const files = new Map(tree.files);
  files.set(path, { ...file, content });
  return { ...tree, files };
}

const replace = (path: string, from: string | RegExp, to: string, tree?: TreeFiles) =>
  edit(path, (c) => c.replace(from, to), tree);

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is edited structurally
type Any = any;
const editYaml = (path: string, change: (doc: Any) => void, tree?: TreeFiles) =>
  edit(
    path,
    (c) => {
      const doc = parse(c);
      change(doc);
      return stringify(doc, { lineWidth: 0 });
    },
    tree,
  );

const addFile = (path: string, content: string, mode = 0o644, tree = baseTree()): TreeFiles => {
  const files = new Map(tree.files);
  files.set(path, { content, mode });
  return { ...tree, files };
};

function run(name: string, tree = baseTree(), m: Model = model) {
  const rule = rules.find((r) => r.name === name);
  if (!rule) throw new Error(`no rule ${name}`);
  return runRule(rule, tree, m);
}

/** The rule fails, its message starts with the reason and names every fragment of the finding. */
function expectFailure(name: string, tree: TreeFiles, fragments: string[], m: Model = model) {
  const row = run(name, tree, m);
  const rule = rules.find((r) => r.name === name);
  expect(row.status, `${name} should fail`).toBe('fail');
  expect(row.message?.split('\n')[0]).toBe(rule?.reason);
  for (const fragment of fragments) expect(row.message).toContain(fragment);
  return row.message as string;
}

const DATA = 'docker/compose.data.yml';
const BLUE = 'docker/compose.blue.yml';
const GREEN = 'docker/compose.green.yml';
const MONITORING = 'docker/compose.monitoring.yml';
const PROMETHEUS = model.monitoring.files.prometheus;
const ALERT_RULES = model.monitoring.files.alertRules;
const SNIPPET = '/etc/nginx/snippets/security-headers.conf';

describe('the rule set', () => {
  it('has one check per rule, stable names, no external program', () => {
    const names = rulesChecks.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'xref/upstream-ports',
        'xref/prometheus-targets',
        'xref/alert-metrics',
        'xref/bind-mounts',
        'xref/env-vars',
        'xref/scheduled-scripts',
        'xref/host-ports',
        'xref/blue-green',
        'policy/loopback-ports',
        'policy/pinned-images',
        'policy/no-secrets',
        'policy/redis-auth',
        'policy/pg-hba-no-trust',
        'policy/tls',
        'policy/security-headers',
        'policy/private-endpoints',
        'policy/prometheus-admin-api',
        'policy/grafana-signup',
        'policy/container-hardening',
        'policy/sudoers',
      ]),
    );
    expect(names).toHaveLength(20);
    for (const check of rulesChecks) expect(check.requires).toEqual([]);
  });

  it('passes the default tree, every rule, in well under a second', async () => {
    const tree = baseTree();
    const start = performance.now();
    const rows = (
      await Promise.all(
        rulesChecks.map((c) => c.run({ tree, model, tempDir: () => Promise.reject(new Error('no temp')) })),
      )
    ).flat();
    const elapsed = performance.now() - start;
    expect(rows).toHaveLength(rules.length);
    for (const row of rows) expect(row.status, `${row.target}: ${row.message}`).toBe('pass');
    expect(elapsed).toBeLessThan(5000);
  });

  it('passes a non-default site too', () => {
    const other = buildModel(
      validateConfig({ name: 'other-school', domain: 'school.example.org', paths: { app: '/srv/other' } }),
    );
    const tree = {
      root: '/fake',
      files: new Map(renderTree(other).map((f) => [f.path, { content: f.content, mode: f.mode }])),
    };
    for (const rule of rules) {
      const row = runRule(rule, tree, other);
      expect(row.status, `${row.target}: ${row.message}`).toBe('pass');
    }
  });
});

describe('cross-references', () => {
  it('xref/upstream-ports: an upstream port nothing publishes', () => {
    const tree = replace('nginx/conf.d/upstreams.conf', 'server 127.0.0.1:3000 ', 'server 127.0.0.1:3999 ');
    expectFailure('xref/upstream-ports', tree, ['upstream web_backend', 'server 127.0.0.1:3999']);
  });

  it('xref/upstream-ports: an upstream that is not on loopback, a proxy_pass to no upstream', () => {
    const tree = replace('nginx/conf.d/upstreams.conf', 'server 127.0.0.1:8080;', 'server 10.0.0.5:8080;');
    expectFailure('xref/upstream-ports', tree, ['expected 127.0.0.1:<port>', 'server 10.0.0.5:8080']);
    const missing = replace(
      'nginx/sites-available/gibbon.conf',
      'http://gibbon_backend;',
      'http://gibon_backend;',
    );
    expectFailure('xref/upstream-ports', missing, [
      'proxy_pass http://gibon_backend',
      'no upstream gibon_backend',
    ]);
  });

  it('xref/prometheus-targets: a target no network of Prometheus knows', () => {
    const tree = replace(PROMETHEUS, '- grafana:3000', '- grafna:3000');
    expectFailure('xref/prometheus-targets', tree, ['job grafana', 'grafna:3000: no such name there']);
  });

  it('xref/prometheus-targets: a service Prometheus shares no network with', () => {
    // postgres sits on the database network only; Prometheus joins monitoring and internal.
    const tree = replace(PROMETHEUS, '- postgres-exporter:9187', '- postgres:5432');
    expectFailure('xref/prometheus-targets', tree, ['postgres:5432: no such name there']);
  });

  it('xref/prometheus-targets: host.docker.internal without a host listener or without host-gateway', () => {
    const port = replace(PROMETHEUS, 'host.docker.internal:9100', 'host.docker.internal:9999');
    expectFailure('xref/prometheus-targets', port, ['job node', 'host.docker.internal:9999']);
    const gateway = editYaml(MONITORING, (doc) => {
      delete doc.services.prometheus.extra_hosts;
    });
    expectFailure('xref/prometheus-targets', gateway, ['extra_hosts', 'host.docker.internal:host-gateway']);
  });

  it('xref/prometheus-targets: a blackbox URL nobody probes', () => {
    const tree = replace(PROMETHEUS, 'https://api.smartacademy.edu.bd/health', 'https://evil.example.com/');
    expectFailure('xref/prometheus-targets', tree, ['job blackbox', 'https://evil.example.com/']);
  });

  it('xref/alert-metrics: a model rule on a metric no job produces', () => {
    const rule: AlertRule = {
      alert: 'QueueBacklog',
      expr: 'sum(queue_jobs_waiting{job="api"}) > 100',
      for: '5m',
      severity: 'warning',
      summary: 'Queue backlog',
      description: 'Jobs wait.',
      metrics: ['queue_jobs_waiting'],
    };
    const m = { ...model, monitoring: { ...model.monitoring, rules: [...model.monitoring.rules, rule] } };
    expectFailure(
      'xref/alert-metrics',
      baseTree(),
      ['(QueueBacklog)', 'queue_jobs_waiting, which no job produces'],
      m,
    );
  });

  it('xref/alert-metrics: a rendered rule on an unknown metric, or on a job that does not produce it', () => {
    const unknown = replace(ALERT_RULES, 'pg_up{job="postgres"}', 'pg_upp{job="postgres"}');
    expectFailure('xref/alert-metrics', unknown, ['alert PostgresDown', 'pg_upp, which no job produces']);
    const wrongJob = replace(ALERT_RULES, 'pg_up{job="postgres"}', 'pg_up{job="redis"}');
    expectFailure('xref/alert-metrics', wrongJob, ['alert PostgresDown', 'job redis does not produce it']);
  });

  it("xref/alert-metrics: the table names a job prometheus.yml does not scrape, or a rule's metrics list is wrong", () => {
    const table = { ...model.monitoring.metricJobs, pg_up: ['pgsql'] };
    const m = { ...model, monitoring: { ...model.monitoring, metricJobs: table } };
    expectFailure('xref/alert-metrics', baseTree(), ['metricJobs.pg_up', 'job pgsql'], m);
    const rules2 = model.monitoring.rules.map((r) =>
      r.alert === 'RedisDown' ? { ...r, metrics: ['up'] } : r,
    );
    const m2 = { ...model, monitoring: { ...model.monitoring, rules: rules2 } };
    expectFailure('xref/alert-metrics', baseTree(), ['(RedisDown).metrics', 'redis_up'], m2);
  });

  it('xref/bind-mounts: a tree file that does not exist', () => {
    const tree = replace(
      DATA,
      '../database/postgresql/pg_hba.conf:',
      '../database/postgresql/pg_hba.missing:',
    );
    expectFailure('xref/bind-mounts', tree, [
      'services.postgres.volumes[1]',
      'tree file or folder database/postgresql/pg_hba.missing',
    ]);
  });

  it('xref/bind-mounts: a model mount of a missing tree file', () => {
    const compose = model.compose.map((p) =>
      p.key !== 'data'
        ? p
        : {
            ...p,
            services: p.services.map((s) =>
              s.name !== 'mysql'
                ? s
                : {
                    ...s,
                    mounts: [
                      ...(s.mounts ?? []),
                      { kind: 'tree' as const, source: 'database/mysql/extra.cnf', target: '/x' },
                    ],
                  },
            ),
          },
    );
    expectFailure('xref/bind-mounts', baseTree(), ['data/mysql', 'database/mysql/extra.cnf'], {
      ...model,
      compose,
    });
  });

  it('xref/bind-mounts: an undeclared host path, a path outside the tree, a read-write system path', () => {
    const host = replace(DATA, '- /data/mysql:/var/lib/mysql', '- /srv/mysql:/var/lib/mysql');
    expectFailure('xref/bind-mounts', host, ['services.mysql.volumes', 'found /srv/mysql']);
    const outside = replace(DATA, '../redis/redis.conf:', '../../redis.conf:');
    expectFailure('xref/bind-mounts', outside, ['(outside the tree)']);
    const rw = replace(
      MONITORING,
      '/var/run/docker.sock:/var/run/docker.sock:ro',
      '/var/run/docker.sock:/var/run/docker.sock',
    );
    expectFailure('xref/bind-mounts', rw, ['/var/run/docker.sock mounted read-only']);
  });

  it('xref/env-vars: a variable the env example does not declare', () => {
    const tree = editYaml(BLUE, (doc) => {
      doc.services['api-blue'].environment.FEATURE_FLAGS = `\${FEATURE_FLAGS:?set it}`;
    });
    expectFailure('xref/env-vars', tree, [
      'environment.FEATURE_FLAGS',
      `\${FEATURE_FLAGS} declared in docker/.env.example`,
    ]);
  });

  it('xref/env-vars: an image variable without a default is not excepted', () => {
    const tree = replace(BLUE, /\$\{API_IMAGE:-[^}]*\}\}/, `\${API_IMAGE}`);
    expectFailure('xref/env-vars', tree, [`\${API_IMAGE} declared`]);
  });

  it('xref/scheduled-scripts: cron runs a script the tree does not have, or one that is not executable', () => {
    const cron =
      '0 3 * * * deploy /app/smart-academy/scripts/backup.sh >> /var/log/smart-academy/backup.log 2>&1\n';
    const missing = addFile('host/cron/smart-academy', cron);
    expectFailure('xref/scheduled-scripts', missing, [
      'host/cron/smart-academy:1',
      'tree file scripts/backup.sh',
    ]);
    const notExecutable = addFile('scripts/backup.sh', '#!/bin/bash\n', 0o644, missing);
    expectFailure('xref/scheduled-scripts', notExecutable, ['scripts/backup.sh executable', 'mode 0644']);
    const fine = addFile('scripts/backup.sh', '#!/bin/bash\n', 0o755, missing);
    const row = run('xref/scheduled-scripts', fine);
    expect(row.status).toBe('pass');
    expect(row.notes?.join()).toContain('/app/smart-academy/scripts/backup.sh');
  });

  it('xref/scheduled-scripts: a logrotate postrotate script missing from the tree', () => {
    const tree = replace(
      `host/logrotate/${model.name}`,
      '    su root root\n',
      '    su root root\n    postrotate\n        /app/smart-academy/scripts/reopen-logs.sh\n    endscript\n',
    );
    expectFailure('xref/scheduled-scripts', tree, [
      'tree file scripts/reopen-logs.sh',
      'missing from the tree',
    ]);
  });

  it('xref/host-ports: the same host port published twice', () => {
    const tree = replace(MONITORING, '127.0.0.1:3100:3000', '127.0.0.1:9090:3000');
    expectFailure('xref/host-ports', tree, [
      'services.grafana.ports',
      'host port 9090 used once',
      'smart-academy-monitoring/prometheus',
    ]);
  });

  it('xref/host-ports: a compose port on the nginx stub_status listener', () => {
    const tree = replace(DATA, '127.0.0.1:8080:80', '127.0.0.1:8088:80');
    expectFailure('xref/host-ports', tree, ['host port 8088 used once', 'nginx']);
  });

  it('xref/blue-green: blue and green share a port (rendered) or an alias (model)', () => {
    const tree = replace(GREEN, '127.0.0.1:4001:4000', '127.0.0.1:4000:4000');
    expectFailure('xref/blue-green', tree, [
      'compose.green.yml services.api-green',
      'a published port of its own',
      '4000, also used by',
    ]);
    const compose = model.compose.map((p) =>
      p.key !== 'green'
        ? p
        : {
            ...p,
            services: p.services.map((s) =>
              s.name === 'web-green' ? { ...s, networks: { internal: { aliases: ['web-blue'] } } } : s,
            ),
          },
    );
    expectFailure(
      'xref/blue-green',
      baseTree(),
      ['model.compose green/web-green', 'a network alias of its own', 'web-blue'],
      {
        ...model,
        compose,
      },
    );
  });

  it('xref/blue-green: a shared container name', () => {
    const tree = replace(
      GREEN,
      'container_name: smart-academy-web-green',
      'container_name: smart-academy-web-blue',
    );
    expectFailure('xref/blue-green', tree, ['a container name of its own', 'smart-academy-web-blue']);
  });
});

describe('security policy', () => {
  it('policy/loopback-ports: a port published on every address', () => {
    const all = replace(BLUE, '127.0.0.1:4000:4000', '0.0.0.0:4000:4000');
    expectFailure('policy/loopback-ports', all, [
      'services.api-blue.ports',
      '0.0.0.0:4000:4000 (published on 0.0.0.0)',
    ]);
    const bare = replace(BLUE, '- 127.0.0.1:4000:4000', '- "4000:4000"');
    expectFailure('policy/loopback-ports', bare, ['4000:4000 (published on every address)']);
  });

  it('policy/pinned-images: latest, untagged, latest inside a default', () => {
    const latest = replace(MONITORING, 'prom/prometheus:v3.13.3', 'prom/prometheus:latest');
    expectFailure('policy/pinned-images', latest, [
      'services.prometheus.image',
      'prom/prometheus:latest (latest)',
    ]);
    const untagged = replace(DATA, `\${REDIS_IMAGE:-redis:7.4.11-alpine}`, `\${REDIS_IMAGE:-redis}`);
    expectFailure('policy/pinned-images', untagged, ['services.redis.image', 'redis (untagged']);
    const nested = replace(BLUE, /\$\{APP_VERSION:-1\.0\.0\}\}/, `\${APP_VERSION:-latest}}`);
    expectFailure('policy/pinned-images', nested, [
      'services.api-blue.image',
      'ghcr.io/smart-academy/api:latest',
    ]);
  });

  it('policy/pinned-images: a model image on latest, an env example default of latest', () => {
    const compose = model.compose.map((p) => ({
      ...p,
      services: p.services.map((s) =>
        s.name === 'loki' ? { ...s, image: { ...s.image, ref: 'grafana/loki' } } : s,
      ),
    }));
    expectFailure('policy/pinned-images', baseTree(), ['model.compose monitoring/loki.image'], {
      ...model,
      compose,
    });
    const env = replace('docker/.env.example', 'APP_VERSION=1.0.0', 'APP_VERSION=latest');
    expectFailure('policy/pinned-images', env, ['docker/.env.example APP_VERSION']);
  });

  it('policy/no-secrets: a password assigned in a rendered file, never echoed', () => {
    const tree = replace(
      'docker/.env.example',
      /^POSTGRES_PASSWORD=$/m,
      'POSTGRES_PASSWORD=hunter2hunter2hunter2',
    );
    const message = expectFailure('policy/no-secrets', tree, [
      'docker/.env.example:',
      'secret assigned a literal POSTGRES_PASSWORD (21 characters, value not shown)',
    ]);
    expect(message).not.toContain('hunter2');
  });

  it('policy/no-secrets: a literal in compose, a private key, a random token, redis requirepass', () => {
    const compose = editYaml(BLUE, (doc) => {
      doc.services['api-blue'].environment.JWT_SECRET = 'correct-horse-battery-staple';
    });
    expectFailure('policy/no-secrets', compose, ['compose.blue.yml:', 'JWT_SECRET']);
    const key = addFile(
      'host/ssh/id_ed25519',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n',
    );
    expectFailure('policy/no-secrets', key, ['host/ssh/id_ed25519:1', 'private key block']);
    const token = replace(
      'monitoring/loki/loki-config.yml',
      /\n$/,
      '\n# 9fQ2xLk7Rz3Vw8Bn4Tq6Yp1Hs5Dj0Gm2Ac8Ue\n',
    );
    expectFailure('policy/no-secrets', token, ['loki-config.yml', 'high-entropy string']);
    const redis = replace('redis/redis.conf', 'port 6379\n', 'port 6379\nrequirepass s3cretRedisPass\n');
    const message = expectFailure('policy/no-secrets', redis, [
      'redis/redis.conf:',
      'password setting requirepass',
    ]);
    expect(message).not.toContain('s3cretRedisPass');
  });

  it('policy/redis-auth: protected-mode off, an empty requirepass', () => {
    const off = replace('redis/redis.conf', 'protected-mode yes', 'protected-mode no');
    expectFailure('policy/redis-auth', off, ['redis/redis.conf:', 'protected-mode no']);
    const empty = replace('redis/redis.conf', 'port 6379\n', 'port 6379\nrequirepass ""\n');
    expectFailure('policy/redis-auth', empty, ['requirepass ""']);
  });

  it('policy/redis-auth: the command does not feed requirepass, the healthcheck does not authenticate', () => {
    const command = editYaml(DATA, (doc) => {
      doc.services.redis.command = ['redis-server', '/usr/local/etc/redis/redis.conf'];
    });
    expectFailure('policy/redis-auth', command, ['services.redis.command', 'no requirepass']);
    const health = editYaml(DATA, (doc) => {
      doc.services.redis.healthcheck.test = ['CMD', 'redis-cli', 'ping'];
    });
    expectFailure('policy/redis-auth', health, ['services.redis.healthcheck', 'redis-cli authenticating']);
  });

  it('policy/pg-hba-no-trust: trust, md5, password', () => {
    const hba = 'database/postgresql/pg_hba.conf';
    const trust = replace(hba, /\n$/, '\nhost    all          all   0.0.0.0/0      trust\n');
    expectFailure('policy/pg-hba-no-trust', trust, [
      `${hba}:`,
      'host all all 0.0.0.0/0 trust'.replace(/ /g, ' '),
    ]);
    const md5 = replace(
      hba,
      'local   all          all                  scram-sha-256',
      'local   all          all                  md5',
    );
    expectFailure('policy/pg-hba-no-trust', md5, ['md5']);
    const password = replace(hba, /\n$/, '\nhost all all 10.0.0.1 255.255.255.255 password\n');
    expectFailure('policy/pg-hba-no-trust', password, ['password']);
  });

  it('policy/tls: an old protocol, a cipher outside the list, no ssl_protocols at all', () => {
    const tlsConf = 'nginx/conf.d/tls.conf';
    const old = replace(tlsConf, 'ssl_protocols TLSv1.2 TLSv1.3;', 'ssl_protocols TLSv1 TLSv1.2 TLSv1.3;');
    expectFailure('policy/tls', old, [`${tlsConf} ssl_protocols`, 'TLSv1 TLSv1.2 TLSv1.3']);
    const cipher = replace(tlsConf, 'ssl_ciphers ECDHE', 'ssl_ciphers AES128-SHA:ECDHE');
    expectFailure('policy/tls', cipher, ['not in the list: AES128-SHA']);
    const none = replace(tlsConf, 'ssl_protocols TLSv1.2 TLSv1.3;\n', '');
    expectFailure('policy/tls', none, ["none (nginx's default is wider)"]);
  });

  it('policy/security-headers: a location with its own add_header loses the snippet', () => {
    const tree = edit('nginx/sites-available/main.conf', (c) => {
      const at = c.indexOf('location ^~ /_next/static/');
      const include = c.indexOf(`include ${SNIPPET};`, at);
      const end = c.indexOf('\n', include);
      return c.slice(0, c.lastIndexOf('\n', include)) + c.slice(end);
    });
    expectFailure('policy/security-headers', tree, ['location ^~ /_next/static/', 'missing x-frame-options']);
  });

  it('policy/security-headers: a server without the snippet, an if block with its own add_header', () => {
    const server = replace('nginx/sites-available/admin.conf', `    include ${SNIPPET};\n`, '');
    expectFailure('policy/security-headers', server, [
      'admin.conf server admin.smartacademy.edu.bd',
      'missing',
    ]);
    const ifBlock = replace(
      'nginx/sites-available/api.conf',
      `        if ($request_method = OPTIONS) {\n            include ${SNIPPET};\n`,
      '        if ($request_method = OPTIONS) {\n',
    );
    expectFailure('policy/security-headers', ifBlock, [
      '> if ($request_method = OPTIONS)',
      'strict-transport-security',
    ]);
  });

  it('policy/private-endpoints: /metrics no longer denied', () => {
    const tree = edit('nginx/sites-available/api.conf', (c) =>
      c.replace(/ {4}location ~\* \^\/\(metrics\|internal\)\(\/\|\$\) \{[^}]*\}\n\n/, ''),
    );
    expectFailure('policy/private-endpoints', tree, [
      'api.conf server api.smartacademy.edu.bd',
      '/metrics served by location /',
      'proxy_pass http://api_backend',
    ]);
  });

  it('policy/private-endpoints: /api/metrics through the prefix-stripping /api/ location', () => {
    const tree = edit('nginx/sites-available/main.conf', (c) =>
      c.replace(/ {8}location ~\* \^\/api\/\(metrics\|internal\)\(\/\|\$\) \{[^}]*\}\n/, ''),
    );
    expectFailure('policy/private-endpoints', tree, ['/api/metrics served by location ^~ /api/']);
  });

  it('policy/private-endpoints: stub_status open to everyone, a public proxy to Prometheus', () => {
    const status = replace('nginx/sites-available/status.conf', 'allow 172.22.0.0/24;', 'allow 0.0.0.0/0;');
    expectFailure('policy/private-endpoints', status, ['location = /stub_status', 'allow 0.0.0.0/0']);
    const prom = replace('nginx/conf.d/upstreams.conf', 'server 127.0.0.1:3100;', 'server 127.0.0.1:9090;');
    expectFailure('policy/private-endpoints', prom, ['no public proxy to Prometheus']);
  });

  it('policy/prometheus-admin-api: the admin API or lifecycle flag in the command or the model', () => {
    const tree = editYaml(MONITORING, (doc) => {
      doc.services.prometheus.command.push('--web.enable-admin-api');
    });
    expectFailure('policy/prometheus-admin-api', tree, [
      'services.prometheus.command',
      'no --web.enable-admin-api',
    ]);
    const services = model.monitoring.services.map((s) =>
      s.service === 'prometheus' ? { ...s, command: [...s.command, '--web.enable-lifecycle'] } : s,
    );
    expectFailure(
      'policy/prometheus-admin-api',
      baseTree(),
      ['model.monitoring.services prometheus.command'],
      {
        ...model,
        monitoring: { ...model.monitoring, services },
      },
    );
  });

  it('policy/grafana-signup: sign-up on, anonymous on through the environment', () => {
    const ini = model.monitoring.files.grafanaIni;
    const signup = replace(ini, 'allow_sign_up = false', 'allow_sign_up = true');
    expectFailure('policy/grafana-signup', signup, [`${ini}:`, 'allow_sign_up = true']);
    const anonymous = editYaml(MONITORING, (doc) => {
      doc.services.grafana.environment.GF_AUTH_ANONYMOUS_ENABLED = 'true';
    });
    expectFailure('policy/grafana-signup', anonymous, ['environment.GF_AUTH_ANONYMOUS_ENABLED']);
  });

  it('policy/container-hardening: no memory limit, privileged outside the exceptions', () => {
    const memory = editYaml(BLUE, (doc) => {
      delete doc.services['web-blue'].deploy.resources.limits.memory;
    });
    expectFailure('policy/container-hardening', memory, [
      'services.web-blue.deploy.resources.limits',
      'a memory limit',
    ]);
    const privileged = editYaml(MONITORING, (doc) => {
      doc.services.grafana.privileged = true;
    });
    expectFailure('policy/container-hardening', privileged, [
      'services.grafana.privileged',
      'not privileged',
    ]);
  });

  it('policy/container-hardening: no healthcheck, no no-new-privileges', () => {
    const health = editYaml(DATA, (doc) => {
      delete doc.services.mysql.healthcheck;
    });
    expectFailure('policy/container-hardening', health, [
      'services.mysql.healthcheck',
      'a healthcheck (or a listed exception)',
    ]);
    const nnp = editYaml(DATA, (doc) => {
      delete doc.services.gibbon.security_opt;
    });
    expectFailure('policy/container-hardening', nnp, [
      'services.gibbon.security_opt',
      'no-new-privileges:true',
    ]);
  });

  it('policy/sudoers: NOPASSWD: ALL and its variants', () => {
    const sudoers = model.host.files.sudoers;
    const all = replace(sudoers, /\n$/, '\ndeploy ALL=(ALL) NOPASSWD: ALL\n');
    expectFailure('policy/sudoers', all, [`${sudoers}:`, 'NOPASSWD: ALL']);
    const tight = replace(sudoers, /\n$/, '\ndeploy ALL=(ALL:ALL) NOPASSWD:ALL\n');
    expectFailure('policy/sudoers', tight, ['NOPASSWD: ALL']);
  });
});

describe('readers used by the rules', () => {
  it('reads compose interpolation like docker compose', () => {
    expect(variablesOf(`\${A:-x\${B}} $C $$D \${E:?msg}`).map((v) => `${v.name}${v.op}`)).toEqual([
      'A:-',
      'B',
      'C',
      'E:?',
    ]);
    expect(interpolate(`\${IMG:-repo/app:\${TAG:-1.2}}`)).toEqual({ value: 'repo/app:1.2', unresolved: [] });
    expect(interpolate(`app:\${TAG}`).unresolved).toEqual(['TAG']);
  });

  it('reads published ports in short and long syntax', () => {
    expect(parsePort('127.0.0.1:80:8080/udp')).toMatchObject({
      hostIp: '127.0.0.1',
      hostPorts: [80],
      containerPort: '8080',
      protocol: 'udp',
    });
    expect(parsePort('[::1]:80:80')).toMatchObject({ hostIp: '::1', hostPorts: [80] });
    expect(parsePort('3000-3001:3000')).toMatchObject({ hostIp: undefined, hostPorts: [3000, 3001] });
    expect(parsePort(3000)).toMatchObject({ hostPorts: [], containerPort: '3000' });
    expect(parsePort({ target: 80, published: '8080', host_ip: '127.0.0.1' })).toMatchObject({
      hostIp: '127.0.0.1',
      hostPorts: [8080],
    });
  });

  it('reads metric selectors of PromQL', () => {
    expect(metricsOf('sum by (le) (rate(a_bucket{job="x",le=~"1e3"}[5m])) / ignoring (le) b > 1e3')).toEqual([
      'a_bucket',
      'b',
    ]);
    expect(metricsOf('max by (job) (up{job=~"a|b"}) == 0 and on (instance) c offset 5m')).toEqual([
      'c',
      'up',
    ]);
    expect(selectorsOf('x{job="a"} / {__name__="y", job=~"b|c"}')).toEqual([
      { metric: 'x', matchers: [{ label: 'job', op: '=', value: 'a' }] },
      { metric: 'y', matchers: [{ label: 'job', op: '=~', value: 'b|c' }] },
    ]);
  });

  it('selects locations the way nginx does', () => {
    const [server] = parseNginx(
      'server { location / { a; } location ^~ /api/ { location ~ ^/api/x { b; } } location ~ \\.png$ { c; } location = /e { d; } }',
    ) as [NginxBlock];
    const pick = (uri: string) => selectLocation(server, uri).map((l) => l.args.join(' '));
    expect(pick('/e')).toEqual(['= /e']);
    expect(pick('/a.png')).toEqual(['~ \\.png$']);
    expect(pick('/api/a.png')).toEqual(['^~ /api/']);
    expect(pick('/api/x')).toEqual(['^~ /api/', '~ ^/api/x']);
    expect(pick('/other')).toEqual(['/']);
  });

  it('finds secrets without returning them, and leaves references alone', () => {
    const hits = findSecrets(
      [
        `PASSWORD=\${PASSWORD:?set}`,
        'password_file: /run/secrets/x',
        'GF_SECURITY_ADMIN_PASSWORD__FILE: /run/secrets/y',
        'api_key: ""',
        'echo "no password: it logs in with a key"',
        `url: "redis://:\${REDIS_PASSWORD}@redis:6379"`,
        'token: abcdefgh',
        'url: postgres://u:literalpw@db/x',
      ].join('\n'),
    );
    expect(hits.map((h) => h.line)).toEqual([7, 8]);
    expect(JSON.stringify(hits)).not.toContain('abcdefgh');
  });

  it('reads sudoers through aliases and tags', () => {
    expect(
      sudoersFindings('Cmnd_Alias X = /usr/sbin/nginx -t\ndeploy ALL=(root) NOPASSWD: X\n', 's'),
    ).toEqual([]);
    expect(sudoersFindings('Cmnd_Alias X = ALL\ndeploy ALL=(root) NOPASSWD: X\n', 's')).toHaveLength(1);
    expect(sudoersFindings('deploy ALL=(root) NOPASSWD: /usr/bin/systemctl, /bin/bash\n', 's')).toHaveLength(
      1,
    );
    expect(sudoersFindings('deploy ALL=(ALL) ALL\n', 's')).toEqual([]);
  });

  it('reads cron and logrotate commands and the scripts they run', () => {
    expect(
      cronCommands('SHELL=/bin/bash\n# x\n*/5 * * * * deploy /app/x.sh\n@daily root run\n', true),
    ).toEqual([
      { line: 3, command: '/app/x.sh' },
      { line: 4, command: 'run' },
    ]);
    expect(logrotateCommands('/x {\n  postrotate\n    a b\n  endscript\n}\n')).toEqual([
      { line: 3, command: 'a b' },
    ]);
    expect(scriptsOf('invoke-rc.d nginx rotate >/dev/null 2>&1', '/app')).toEqual([]);
    expect(scriptsOf('[ -x /app/s/run.sh ] && /app/s/run.sh --now', '/app')).toEqual([
      '/app/s/run.sh',
      '/app/s/run.sh',
    ]);
  });
});
