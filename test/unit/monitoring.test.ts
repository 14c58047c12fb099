import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseIni as readIni } from '../../src/check/rules/policy.ts';
import { metricsOf } from '../../src/check/rules/promql.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { buildCore } from '../../src/model/core.ts';
import { buildModel } from '../../src/model/index.ts';
import {
  buildMonitoringModel,
  imageVersion,
  type MonitoringService,
  monitoringComposeServices,
  OBJECT_STORE_ADMIN_PORT,
} from '../../src/model/monitoring.ts';
import { buildObjectStoreModel } from '../../src/model/object-store.ts';
import type { RenderedFile } from '../../src/render/file.ts';
import { renderTree } from '../../src/render/index.ts';
import { renderAlertmanager } from '../../src/render/monitoring/alertmanager.ts';
import { attr, block, object, printAlloy, ref, renderAlloy } from '../../src/render/monitoring/alloy.ts';
import { overviewQueries } from '../../src/render/monitoring/dashboard.ts';
import { ini, overviewInput, renderGrafana } from '../../src/render/monitoring/grafana.ts';
import { renderLoki } from '../../src/render/monitoring/loki.ts';
import { renderPrometheus } from '../../src/render/monitoring/prometheus.ts';

function build(input: unknown = {}) {
  const core = buildCore(validateConfig(input));
  return { ...core, monitoring: buildMonitoringModel(core) };
}
type Model = ReturnType<typeof build>;

function render(model: Model): Map<string, RenderedFile> {
  const files = [
    ...renderPrometheus(model),
    ...renderAlertmanager(model),
    ...renderGrafana(model),
    ...renderLoki(model),
    ...renderAlloy(model),
  ];
  return new Map(files.map((f) => [f.path, f]));
}

function content(files: Map<string, RenderedFile>, path: string): string {
  const file = files.get(path);
  if (!file) throw new Error(`not rendered: ${path}`);
  return file.content;
}

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is walked structurally
type Any = any;
const yamlOf = (files: Map<string, RenderedFile>, path: string): Any => parse(content(files, path));

/** Every key anywhere in a parsed document. */
function allKeys(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) allKeys(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      allKeys(v, out);
    }
  }
  return out;
}

const jobMatchers = (expr: string) =>
  [...expr.matchAll(/\bjob(=~|!~|=)"([^"]*)"/g)].flatMap((m) => (m[2] as string).split('|'));

/** grafana.ini as plain records, read by the policy rules' INI reader. */
const parseIni = (text: string): Record<string, Record<string, string>> =>
  Object.fromEntries(
    [...readIni(text)].map(([section, keys]) => [
      section,
      Object.fromEntries([...keys].map(([k, v]) => [k, v.value])),
    ]),
  );

// ---- A tiny Alloy checker: balanced delimiters, every reference points at a defined component. ----
function checkAlloy(text: string): { components: string[]; references: string[] } {
  const noStrings = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const code = noStrings
    .split('\n')
    .map((l) => l.replace(/\/\/.*$/, ''))
    .join('\n');
  const stack: string[] = [];
  const pairs: Record<string, string> = { '}': '{', ']': '[', ')': '(' };
  for (const ch of code) {
    if ('{[('.includes(ch)) stack.push(ch);
    else if (ch in pairs) {
      if (stack.pop() !== pairs[ch]) throw new Error(`alloy: unbalanced ${ch}`);
    }
  }
  if (stack.length > 0) throw new Error(`alloy: unclosed ${stack.join('')}`);
  const components = [...text.matchAll(/^([a-z_][\w]*(?:\.[a-z_][\w]*)+)\s+"(\w+)"\s*\{/gm)].map(
    (m) => `${m[1]}.${m[2]}`,
  );
  const references = code
    .split('\n')
    .filter((l) => l.includes('='))
    .flatMap((l) =>
      [...l.slice(l.indexOf('=') + 1).matchAll(/[A-Za-z_]\w*(?:\.[A-Za-z_]\w*){2,}/g)].map((m) => m[0]),
    );
  for (const r of references) {
    if (!components.some((c) => r.startsWith(`${c}.`))) throw new Error(`alloy: ${r} refers to no component`);
  }
  return { components, references };
}

const service = (model: Model, name: string): MonitoringService => {
  const s = model.monitoring.services.find((x) => x.service === name);
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

/** Where a tree-relative file appears inside a service's container, following its config mounts. */
function containerPathOf(s: MonitoringService, treePath: string): string | undefined {
  for (const m of s.configMounts) {
    if (m.source === treePath) return m.target;
    if (treePath.startsWith(`${m.source}/`)) return `${m.target}${treePath.slice(m.source.length)}`;
  }
  return undefined;
}

const model = build();
const files = render(model);
const m = model.monitoring;

describe('monitoring model', () => {
  it('lists every rendered file, and renders every listed file', () => {
    expect([...files.keys()].sort()).toEqual(Object.values(m.files).sort());
  });

  it('mounts each config file where the services read it', () => {
    const at = (svc: string, path: string) => containerPathOf(service(model, svc), path);
    expect(at('prometheus', m.files.prometheus)).toBe(m.containerPaths.prometheusConfig);
    expect(at('prometheus', m.files.alertRules)).toBe(m.containerPaths.alertRules);
    expect(at('alertmanager', m.files.alertmanager)).toBe(m.containerPaths.alertmanagerConfig);
    expect(at('blackbox-exporter', m.files.blackbox)).toBe(m.containerPaths.blackboxConfig);
    expect(at('grafana', m.files.grafanaIni)).toBe(m.containerPaths.grafanaIni);
    expect(
      at('grafana', m.files.grafanaDatasources)?.startsWith(
        `${m.containerPaths.grafanaProvisioning}/datasources/`,
      ),
    ).toBe(true);
    expect(
      at('grafana', m.files.grafanaDashboardProviders)?.startsWith(
        `${m.containerPaths.grafanaProvisioning}/dashboards/`,
      ),
    ).toBe(true);
    expect(
      at('grafana', m.files.overviewDashboard)?.startsWith(`${m.containerPaths.grafanaDashboards}/`),
    ).toBe(true);
    expect(at('loki', m.files.loki)).toBe(m.containerPaths.lokiConfig);
    expect(at('alloy', m.files.alloy)).toBe(m.containerPaths.alloyConfig);
    // And the commands name those paths.
    expect(service(model, 'prometheus').command).toContain(
      `--config.file=${m.containerPaths.prometheusConfig}`,
    );
    expect(service(model, 'alertmanager').command).toContain(
      `--config.file=${m.containerPaths.alertmanagerConfig}`,
    );
    expect(service(model, 'loki').command).toEqual([`-config.file=${m.containerPaths.lokiConfig}`]);
    expect(service(model, 'alloy').command[0]).toBe('run');
    expect(service(model, 'alloy').command.at(-1)).toBe(m.containerPaths.alloyConfig);
    expect(service(model, 'blackbox-exporter').command).toEqual([
      `--config.file=${m.containerPaths.blackboxConfig}`,
    ]);
  });

  it('publishes only Prometheus, Alertmanager and Grafana, on 127.0.0.1', () => {
    const published = m.services.filter((s) => s.publish);
    expect(published.map((s) => s.service).sort()).toEqual(['alertmanager', 'grafana', 'prometheus']);
    for (const s of published) expect(s.publish?.hostIp).toBe('127.0.0.1');
    expect(service(model, 'grafana').publish).toEqual({
      hostIp: '127.0.0.1',
      hostPort: 3100,
      containerPort: 3000,
    });
    expect(service(model, 'prometheus').publish?.hostPort).toBe(model.hostPorts.prometheus);
    expect(service(model, 'loki').publish).toBeUndefined();
  });

  it('runs Prometheus without the admin API or lifecycle endpoints, with the configured retention', () => {
    const cmd = service(model, 'prometheus').command;
    expect(cmd.some((a) => a.includes('enable-admin-api') || a.includes('enable-lifecycle'))).toBe(false);
    expect(cmd).toContain('--storage.tsdb.retention.time=30d');
    expect(cmd).toContain('--storage.tsdb.path=/prometheus');
    expect(service(model, 'prometheus').networks.sort()).toEqual(['internal', 'monitoring']);
    expect(service(model, 'prometheus').extraHosts).toEqual(['host.docker.internal:host-gateway']);
  });

  it('runs node-exporter on the host network, reading the host root, on the docker bridge address', () => {
    const node = service(model, 'node-exporter');
    expect(node.networkMode).toBe('host');
    expect(node.pid).toBe('host');
    expect(node.networks).toEqual([]);
    expect(node.command).toContain('--path.rootfs=/host');
    expect(node.command).toContain(`--web.listen-address=${model.dockerHostIp}:9100`);
    expect(node.command.some((a) => a.startsWith('--collector.filesystem.mount-points-exclude='))).toBe(true);
    expect(node.hostMounts).toContainEqual({
      source: '/',
      target: '/host',
      readOnly: true,
      propagation: 'rslave',
    });
  });

  it('connects the data exporters to the database and monitoring networks with passwords from the env file', () => {
    for (const name of ['postgres-exporter', 'redis-exporter', 'mysqld-exporter']) {
      expect(service(model, name).networks.sort()).toEqual(['database', 'monitoring']);
    }
    expect(service(model, 'postgres-exporter').environment).toMatchObject({
      DATA_SOURCE_URI: 'postgres:5432/smart_academy?sslmode=disable',
      DATA_SOURCE_USER: 'smart_academy',
      DATA_SOURCE_PASS: { fromEnv: 'POSTGRES_PASSWORD' },
    });
    expect(service(model, 'redis-exporter').environment).toEqual({
      REDIS_ADDR: 'redis://redis:6379',
      REDIS_PASSWORD: { fromEnv: 'REDIS_PASSWORD' },
    });
    expect(service(model, 'mysqld-exporter').command).toContain('--mysqld.address=mysql:3306');
    expect(service(model, 'mysqld-exporter').environment).toEqual({
      MYSQLD_EXPORTER_PASSWORD: { fromEnv: 'MYSQL_ROOT_PASSWORD' },
    });
    expect(service(model, 'nginx-exporter').command).toEqual([
      '--nginx.scrape-uri=http://host.docker.internal:8088/stub_status',
    ]);
    expect(service(model, 'nginx-exporter').extraHosts).toEqual(['host.docker.internal:host-gateway']);
  });

  it('keeps literal strings literal: no `$` in commands, no secret value anywhere', () => {
    for (const s of m.services) {
      for (const arg of s.command) expect(arg, `${s.service}: ${arg}`).not.toContain('$');
      for (const [key, value] of Object.entries(s.environment)) {
        if (typeof value === 'string') expect(value, key).not.toContain('$');
        // A password is either read from the env file at compose time or from a secret file.
        if (/PASS(WORD)?$/.test(key)) expect(value, key).toEqual({ fromEnv: expect.any(String) });
        if (key.endsWith('__FILE')) expect(s.secrets.map((x) => x.containerPath)).toContain(value);
      }
      for (const secret of s.secrets) {
        expect(secret.hostPath.startsWith(`${model.paths.secretsDir}/`)).toBe(true);
        expect(secret.containerPath).toBe(`/run/secrets/${secret.name}`);
      }
    }
    expect(service(model, 'grafana').environment).toEqual({
      GF_SECURITY_ADMIN_PASSWORD__FILE: service(model, 'grafana').secrets[0]?.containerPath,
    });
  });

  it('gives a healthcheck to the images that have a tool for it, and says why not otherwise', () => {
    const withCheck = build({ images: { loki: 'grafana/loki:3.5.3' } })
      .monitoring.services.filter((s) => s.healthcheck)
      .map((s) => s.service);
    expect(withCheck.sort()).toEqual(
      [
        'alertmanager',
        'blackbox-exporter',
        'cadvisor',
        'grafana',
        'mysqld-exporter',
        'node-exporter',
        'postgres-exporter',
        'prometheus',
      ].sort(),
    );
    for (const s of m.services) {
      if (!s.healthcheck) expect(s.healthcheckNote, s.service).toBeTruthy();
      if (s.healthcheck) expect(s.healthcheck.test[0]).toBe('CMD');
    }
    // Loki >= 3.7 ships `loki -health`; older images get none.
    const newer = build({ images: { loki: 'grafana/loki:3.7.8' } });
    expect(service(newer, 'loki').healthcheck?.test).toEqual(['CMD', '/usr/bin/loki', '-health']);
    const older = build({ images: { loki: 'grafana/loki:3.5.3' } });
    expect(service(older, 'loki').healthcheck).toBeUndefined();
    expect(service(older, 'loki').healthcheckNote).toMatch(/-health/);
    expect(imageVersion('prom/prometheus:v3.5.0')).toEqual([3, 5, 0]);
  });

  it('maps every metric an alert rule or the dashboard reads to a job that exists', () => {
    const jobs = new Set(m.jobs.map((j) => j.name));
    for (const [metric, producers] of Object.entries(m.metricJobs)) {
      expect(producers.length, metric).toBeGreaterThan(0);
      for (const job of producers) expect(jobs.has(job), `${metric} -> ${job}`).toBe(true);
    }
    for (const rule of m.rules) {
      expect(metricsOf(rule.expr), rule.alert).toEqual([...rule.metrics].sort());
      for (const metric of rule.metrics)
        expect(m.metricJobs[metric], `${rule.alert}: ${metric}`).toBeDefined();
      for (const job of jobMatchers(rule.expr)) expect(jobs.has(job), `${rule.alert}: job ${job}`).toBe(true);
    }
    const queries = overviewQueries(overviewInput(model));
    for (const expr of Object.values(queries)) {
      for (const metric of metricsOf(expr))
        expect(m.metricJobs[metric], `dashboard: ${metric}`).toBeDefined();
    }
  });

  it('reads the metric names of PromQL expressions (the checker above can fail)', () => {
    expect(metricsOf('sum by (le) (rate(a_bucket{job="x",le=~"1e3"}[5m])) / ignoring (le) b > 1e3')).toEqual([
      'a_bucket',
      'b',
    ]);
    expect(metricsOf('time() - max by (name) (last_over_time(c{name=~"a.b"}[1h])) > 60')).toEqual(['c']);
  });
});

describe('compose services (monitoringComposeServices)', () => {
  const { services, volumes } = monitoringComposeServices(model, m);
  const spec = (name: string) => services.find((s) => s.name === name);

  it('converts every service, with env-file passwords as required variables and secrets as read-only mounts', () => {
    expect(services.map((s) => s.name)).toEqual(m.services.map((s) => s.service));
    expect(spec('postgres-exporter')?.environment?.DATA_SOURCE_PASS).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(spec('alertmanager')?.secrets).toContainEqual(
      expect.objectContaining({
        hostPath: `${model.paths.secretsDir}/alertmanager_smtp_password`,
        containerPath: '/run/secrets/alertmanager_smtp_password',
      }),
    );
    const rendered = renderTree(buildModel(validateConfig({}))).find(
      (f) => f.path === 'docker/compose.monitoring.yml',
    );
    expect(parse(rendered?.content ?? '').services.alertmanager.volumes).toContain(
      `${model.paths.secretsDir}/alertmanager_smtp_password:/run/secrets/alertmanager_smtp_password:ro`,
    );
    expect(spec('prometheus')?.ports).toEqual([{ host: 9090, container: 9090 }]);
    expect(spec('loki')?.ports).toBeUndefined();
    expect(spec('node-exporter')).toMatchObject({ hostNetwork: true, hostPid: true });
    expect(spec('node-exporter')?.networks).toBeUndefined();
    expect(spec('redis-exporter')?.healthcheck).toEqual({ none: expect.stringContaining('scratch') });
    expect(spec('grafana')?.dependsOn).toEqual({ prometheus: 'service_healthy', loki: 'service_healthy' });
    expect(spec('alloy')?.dependsOn).toEqual({ loki: 'service_healthy' });
    expect(spec('cadvisor')?.privileged?.reason).toBeTruthy();
    expect(volumes.sort()).toEqual([
      'alertmanager-data',
      'alloy-data',
      'grafana-data',
      'loki-data',
      'prometheus-data',
    ]);
  });

  it('scrapes the object store on the admin port its own model opens, over a network both share', () => {
    const store = buildObjectStoreModel(model);
    expect(OBJECT_STORE_ADMIN_PORT).toBe(store.adminPort);
    const job = m.jobs.find((j) => j.name === m.jobNames.objectStore);
    expect(job?.groups[0]?.targets).toEqual([`${store.endpoint.host}:${store.adminPort}`]);
    expect(Object.keys(store.service.networks ?? {})).toContain(job?.via);
    expect(service(model, 'prometheus').networks).toContain(job?.via);
  });
});

describe('prometheus.yml', () => {
  const prom = yamlOf(files, m.files.prometheus);
  const byJob = new Map<string, Any>(prom.scrape_configs.map((j: Any) => [j.job_name, j]));

  it('has external labels, the alertmanager target and the rule file at its container path', () => {
    expect(prom.global.external_labels).toEqual({ environment: 'production', project: 'smart-academy' });
    expect(prom.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093']);
    expect(prom.rule_files).toEqual(['/etc/prometheus/alert-rules.yml']);
  });

  it('scrapes every job of the model, with unique names', () => {
    expect([...byJob.keys()]).toEqual(m.jobs.map((j) => j.name));
    expect(byJob.size).toBe(prom.scrape_configs.length);
    for (const name of [
      'node',
      'cadvisor',
      'docker',
      'api',
      'web',
      'admin',
      'postgres',
      'redis',
      'mysql',
      'nginx',
      'blackbox',
    ]) {
      expect(byJob.has(name), name).toBe(true);
    }
  });

  it('scrapes each application colour by its alias with a color label, no fixed instance', () => {
    expect(byJob.get('api').static_configs).toEqual([
      { targets: ['api-blue:4000'], labels: { color: 'blue' } },
      { targets: ['api-green:4000'], labels: { color: 'green' } },
    ]);
    expect(byJob.get('web').static_configs[1]).toEqual({
      targets: ['web-green:3000'],
      labels: { color: 'green' },
    });
    expect(byJob.get('admin').static_configs[0]).toEqual({
      targets: ['admin-blue:3001'],
      labels: { color: 'blue' },
    });
    for (const job of prom.scrape_configs) {
      for (const r of job.relabel_configs ?? []) expect(r.replacement).not.toBe('api-blue');
    }
  });

  it('reaches host-level exporters through host.docker.internal', () => {
    expect(byJob.get('node').static_configs[0].targets).toEqual(['host.docker.internal:9100']);
    expect(byJob.get('docker').static_configs[0].targets).toEqual(['host.docker.internal:9323']);
    expect(m.hostListeners.dockerd).toEqual({ address: '172.17.0.1', port: 9323, path: '/metrics' });
    expect(byJob.get('cadvisor').static_configs[0].targets).toEqual(['cadvisor:8080']);
    expect(byJob.get('postgres').static_configs[0].targets).toEqual(['postgres-exporter:9187']);
    expect(byJob.get('redis').static_configs[0].targets).toEqual(['redis-exporter:9121']);
    expect(byJob.get('mysql').static_configs[0].targets).toEqual(['mysqld-exporter:9104']);
    expect(byJob.get('nginx').static_configs[0].targets).toEqual(['nginx-exporter:9113']);
  });

  it('probes the public HTTPS endpoints through the blackbox exporter', () => {
    const bb = byJob.get('blackbox');
    expect(bb.metrics_path).toBe('/probe');
    expect(bb.params.module).toEqual(['https_2xx']);
    expect(bb.static_configs[0].targets).toEqual([
      'https://smartacademy.edu.bd/',
      'https://api.smartacademy.edu.bd/health',
    ]);
    expect(bb.relabel_configs).toContainEqual({
      target_label: '__address__',
      replacement: 'blackbox-exporter:9115',
    });
    const blackbox = yamlOf(files, m.files.blackbox);
    expect(blackbox.modules.https_2xx.prober).toBe('http');
    expect(blackbox.modules.https_2xx.http.fail_if_not_ssl).toBe(true);
  });

  it('scrapes the object store with a bearer token file mounted into Prometheus, not MinIO', () => {
    const os = byJob.get('object-store');
    expect(os.static_configs[0].targets).toEqual(['object-store:3903']);
    const token = service(model, 'prometheus').secrets.find((s) => s.env === 'OBJECT_STORE_METRICS_TOKEN');
    expect(os.authorization).toEqual({ type: 'Bearer', credentials_file: token?.containerPath });
    expect(content(files, m.files.prometheus)).not.toMatch(/minio/i);
  });
});

describe('alert-rules.yml', () => {
  const rules: Any[] = yamlOf(files, m.files.alertRules).groups[0].rules;
  const byName = new Map<string, Any>(rules.map((r) => [r.alert, r]));

  it('watches each container by name', () => {
    const expr: string = byName.get('ContainerDown').expr;
    expect(expr).not.toContain('absent(');
    expect(expr).toMatch(
      /^time\(\) - max by \(name\) \(last_over_time\(container_last_seen\{.*name=~"smart-academy-\.\+".*\}\[1h\]\)\) > 60$/,
    );
    expect(byName.get('ContainerDown').annotations.description).toContain('{{ $labels.name }}');
  });

  it('sums PostgreSQL connections and compares with 80% of max_connections', () => {
    expect(byName.get('DatabaseConnectionHigh').expr).toBe(
      'sum(pg_stat_activity_count{job="postgres"}) > 160',
    );
  });

  it('guards the Redis ratio against maxmemory 0 and takes certificate expiry from blackbox', () => {
    expect(byName.get('RedisMemoryHigh').expr).toContain('(redis_memory_max_bytes{job="redis"} > 0)');
    expect(byName.get('SSLCertificateExpiring').expr).toContain(
      'probe_ssl_earliest_cert_expiry{job="blackbox"}',
    );
  });

  it('alerts on a down target for every job: TargetDown for single targets, AppDown for the colour roles', () => {
    expect(byName.get('TargetDown').expr).toBe('up{job!~"api|web|admin"} == 0');
    expect(byName.get('AppDown').expr).toBe('max by (job) (up{job=~"api|web|admin"}) == 0');
  });

  it('gives every rule a severity, summary and description, and unique names', () => {
    expect(byName.size).toBe(rules.length);
    for (const r of rules) {
      expect(['critical', 'warning']).toContain(r.labels.severity);
      expect(r.annotations.summary).toBeTruthy();
      expect(r.annotations.description).toBeTruthy();
    }
  });
});

describe('alert-rules.test.yml (promtool test rules)', () => {
  const t = yamlOf(files, m.files.alertRulesTest);

  it('points at the rules file next to it', () => {
    const dir = m.files.alertRulesTest.split('/').slice(0, -1).join('/');
    const resolved = `${dir}/${t.rule_files[0]}`.replace(/[^/]+\/\.\.\//, '');
    expect(resolved).toBe(m.files.alertRules);
  });

  it('covers ContainerDown, DatabaseConnectionHigh, TargetDown and HighErrorRate', () => {
    const tested = new Set(t.tests.flatMap((c: Any) => c.alert_rule_test.map((a: Any) => a.alertname)));
    for (const name of ['ContainerDown', 'DatabaseConnectionHigh', 'TargetDown', 'HighErrorRate'])
      expect(tested.has(name), name).toBe(true);
    const firing = t.tests
      .flatMap((c: Any) => c.alert_rule_test)
      .find((a: Any) => a.alertname === 'ContainerDown' && a.exp_alerts.length > 0);
    expect(firing.exp_alerts[0].exp_labels.name).toBe('smart-academy-postgres');
    expect(firing.exp_alerts[0].exp_annotations.description).toContain('smart-academy-postgres');
  });

  it('feeds DatabaseConnectionHigh series that are each below the limit but above it together', () => {
    const c = t.tests.find((x: Any) =>
      x.alert_rule_test.some((a: Any) => a.alertname === 'DatabaseConnectionHigh' && a.exp_alerts.length > 0),
    );
    const values = c.input_series.map((s: Any) => Number(String(s.values).split('x')[0]));
    for (const v of values) expect(v).toBeLessThanOrEqual(160);
    expect(values.reduce((a: number, b: number) => a + b, 0)).toBeGreaterThan(160);
  });
});

describe('alertmanager.yml', () => {
  const text = content(files, m.files.alertmanager);
  const am = parse(text);

  it('reads secrets from files the alertmanager container mounts', () => {
    expect(text).not.toContain('${');
    expect(am.global.smtp_auth_password).toBeUndefined();
    const secrets = service(model, 'alertmanager').secrets;
    expect(am.global.smtp_auth_password_file).toBe(
      secrets.find((s) => s.env === 'SENDGRID_API_KEY')?.containerPath,
    );
    const critical = am.receivers.find((r: Any) => r.name === 'critical');
    expect(critical.slack_configs[0].api_url_file).toBe(
      secrets.find((s) => s.env === 'SLACK_WEBHOOK_URL')?.containerPath,
    );
    expect(critical.slack_configs[0].channel).toBe('#alerts');
    expect(critical.webhook_configs).toBeUndefined();
  });

  it('uses matchers, not match/source_match, and renders no templates glob', () => {
    const keys = allKeys(am);
    for (const old of ['match', 'match_re', 'source_match', 'target_match', 'templates'])
      expect(keys.has(old), old).toBe(false);
    expect(am.route.routes).toEqual([{ receiver: 'critical', matchers: ['severity="critical"'] }]);
    expect(am.inhibit_rules[0]).toMatchObject({
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity="warning"'],
    });
  });

  it('sends to the team, and critical alerts to the team and the critical list', () => {
    expect(am.route.receiver).toBe('team');
    expect(am.receivers.find((r: Any) => r.name === 'team').email_configs[0].to).toBe(
      'devops@smartacademy.edu.bd',
    );
    expect(am.receivers.find((r: Any) => r.name === 'critical').email_configs[0].to).toBe(
      'devops@smartacademy.edu.bd, management@smartacademy.edu.bd',
    );
    expect(am.global.smtp_smarthost).toBe('smtp.sendgrid.net:587');
  });
});

describe('grafana', () => {
  const conf = parseIni(content(files, m.files.grafanaIni));

  it('disallows sign-up and anonymous access, serves its own domain, keeps the password out', () => {
    expect(conf.users?.allow_sign_up).toBe('false');
    expect(conf['auth.anonymous']?.enabled).toBe('false');
    expect(conf.server?.root_url).toBe('https://grafana.smartacademy.edu.bd/');
    expect(conf.server?.serve_from_sub_path).toBe('false');
    expect(conf.analytics?.reporting_enabled).toBe('false');
    expect(conf.security?.admin_password).toBeUndefined();
    expect(content(files, m.files.grafanaIni)).not.toMatch(/password/i);
  });

  it('provisions datasources whose uids the dashboard uses', () => {
    const ds = yamlOf(files, m.files.grafanaDatasources).datasources;
    const uids = ds.map((d: Any) => d.uid).sort();
    expect(uids).toEqual(['loki', 'prometheus']);
    expect(ds.find((d: Any) => d.type === 'prometheus').url).toBe('http://prometheus:9090');
    expect(ds.find((d: Any) => d.type === 'loki').url).toBe('http://loki:3100');
    const dashboard = JSON.parse(content(files, m.files.overviewDashboard));
    const used = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        const d = o.datasource as { uid?: string } | undefined;
        if (d?.uid) used.add(d.uid);
        Object.values(o).forEach(walk);
      }
    };
    walk(dashboard);
    expect([...used].sort()).toEqual(uids);
    expect(dashboard.uid).toBe(m.grafana.dashboard.uid);
  });

  it('loads dashboards from the directory mounted into the container', () => {
    const providers = yamlOf(files, m.files.grafanaDashboardProviders).providers;
    expect(providers[0].options.path).toBe(m.containerPaths.grafanaDashboards);
    expect(providers[0].type).toBe('file');
  });

  it('refuses ini values go-ini would misread', () => {
    expect(() => ini([['server', [['domain', 'a;b']]]])).toThrow(/cannot be written/);
    expect(() => ini([['server', [['Bad Key', 'x']]]])).toThrow(/bad key/);
    expect(ini([['a', [['b', true]]]])).toBe('[a]\nb = true');
  });
});

describe('loki-config.yml', () => {
  const text = content(files, m.files.loki);
  const loki = parse(text);

  it('uses tsdb and schema v13 from a fixed date', () => {
    expect(loki.schema_config.configs).toHaveLength(1);
    expect(loki.schema_config.configs[0]).toMatchObject({
      store: 'tsdb',
      schema: 'v13',
      object_store: 'filesystem',
    });
    expect(String(loki.schema_config.configs[0].from)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(loki.schema_config.configs[0].index.period).toBe('24h');
  });

  it('enforces retention through the compactor', () => {
    expect(loki.compactor.retention_enabled).toBe(true);
    expect(loki.compactor.delete_request_store).toBe('filesystem');
    expect(loki.limits_config.retention_period).toBe('720h');
    expect(allKeys(loki).has('enforce_metric_name')).toBe(false);
    expect(allKeys(loki).has('shared_store')).toBe(false);
    expect(loki.common.path_prefix).toBe(m.containerPaths.lokiData);
    expect(loki.analytics.reporting_enabled).toBe(false);
  });

  it('explains why auth is off', () => {
    expect(loki.auth_enabled).toBe(false);
    expect(text).toMatch(/# .*publishes no port/);
  });
});

describe('config.alloy', () => {
  const text = content(files, m.files.alloy);

  it('is balanced and every reference names a defined component', () => {
    const { components, references } = checkAlloy(text);
    expect(components.sort()).toEqual(
      [
        'discovery.docker.containers',
        'discovery.relabel.containers',
        'local.file_match.host_logs',
        'loki.source.docker.containers',
        'loki.source.file.host_logs',
        'loki.write.default',
      ].sort(),
    );
    expect(references).toContain('loki.write.default.receiver');
    expect(references).toContain('discovery.relabel.containers.rules');
  });

  it('ships container logs with container and compose labels, and the host log files, to Loki', () => {
    for (const label of ['container', 'compose_project', 'compose_service'])
      expect(text).toContain(`target_label  = "${label}"`);
    expect(text).toContain('"__path__" = "/var/log/nginx/*.log"');
    expect(text).toContain('"__path__" = "/var/log/smart-academy/*.log"');
    expect(text).toContain('url = "http://loki:3100/loki/api/v1/push"');
    expect(text).toContain('host             = "unix:///var/run/docker.sock"');
    const alloy = service(model, 'alloy');
    for (const dir of ['/var/log/nginx', '/var/log/smart-academy', '/var/run/docker.sock']) {
      expect(alloy.hostMounts.some((h) => h.source === dir && h.target === dir && h.readOnly)).toBe(true);
    }
  });

  it('the checker rejects a dangling reference and unbalanced braces', () => {
    expect(() => checkAlloy('a.b "c" {\n  x = d.e.f.g\n}\n')).toThrow(/refers to no component/);
    expect(() => checkAlloy('a.b "c" {\n')).toThrow(/unclosed/);
  });

  it('prints values by type and refuses bad names', () => {
    const out = printAlloy([
      block('x.y', 'z', [
        attr('s', 'a "q" \\ b'),
        attr('n', 3),
        attr('flag', true),
        attr('m', object({ k: ref('x.y.z.out') })),
        attr('l', []),
      ]),
    ]);
    expect(out).toBe(
      'x.y "z" {\n  s    = "a \\"q\\" \\\\ b"\n  n    = 3\n  flag = true\n  m    = {"k" = x.y.z.out}\n  l    = []\n}\n',
    );
    expect(() => attr('bad-name', 1)).toThrow();
    expect(() => block('x', 'bad label', [])).toThrow();
    expect(() => ref('nodots')).toThrow();
    const long = printAlloy([
      attr(
        'list',
        Array.from({ length: 8 }, (_, i) => `/some/long/path/number/${i}`),
      ),
    ]);
    expect(long.split('\n')).toHaveLength(11);
  });
});

describe('determinism and configuration', () => {
  it('renders the same bytes twice', () => {
    const again = render(build());
    expect([...again.entries()].map(([p, f]) => [p, f.content, f.mode])).toEqual(
      [...files.entries()].map(([p, f]) => [p, f.content, f.mode]),
    );
  });

  it('follows a non-default config into the right places', () => {
    const other = build({
      name: 'river-school',
      title: 'River School',
      domain: 'river.example.org',
      subdomains: { grafana: 'dash' },
      retention: { metricsDays: 90, logsDays: 7 },
      postgres: { maxConnections: 500, database: 'river' },
      alerts: { team: ['ops@river.example.org'], critical: [], slack: { enabled: false } },
    });
    const f = render(other);
    const om = other.monitoring;

    expect(service(other, 'prometheus').command).toContain('--storage.tsdb.retention.time=90d');
    expect(parse(content(f, om.files.loki)).limits_config.retention_period).toBe('168h');
    expect(parseIni(content(f, om.files.grafanaIni)).server?.root_url).toBe(
      'https://dash.river.example.org/',
    );

    const prom = parse(content(f, om.files.prometheus));
    expect(prom.global.external_labels.project).toBe('river-school');
    const bb = prom.scrape_configs.find((j: Any) => j.job_name === 'blackbox');
    expect(bb.static_configs[0].targets).toEqual([
      'https://river.example.org/',
      'https://api.river.example.org/health',
    ]);

    const rules: Any[] = parse(content(f, om.files.alertRules)).groups[0].rules;
    expect(rules.find((r) => r.alert === 'DatabaseConnectionHigh').expr).toBe(
      'sum(pg_stat_activity_count{job="postgres"}) > 400',
    );
    expect(rules.find((r) => r.alert === 'ContainerDown').expr).toContain('name=~"river-school-.+"');
    expect(service(other, 'postgres-exporter').environment.DATA_SOURCE_URI).toBe(
      'postgres:5432/river?sslmode=disable',
    );

    const am = parse(content(f, om.files.alertmanager));
    const critical = am.receivers.find((r: Any) => r.name === 'critical');
    expect(critical.slack_configs).toBeUndefined();
    expect(critical.email_configs[0].to).toBe('ops@river.example.org');
    expect(service(other, 'alertmanager').secrets.map((s) => s.env)).toEqual(['SENDGRID_API_KEY']);

    expect(JSON.parse(content(f, om.files.overviewDashboard)).uid).toBe('river-school-overview');
    expect(content(f, om.files.alloy)).toContain('"job" = "river-school"');
    expect(service(other, 'grafana').containerName).toBe('river-school-grafana');
  });
});
