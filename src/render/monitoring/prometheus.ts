import { stringify } from 'yaml';
import { appAlias } from '../../model/apps.ts';
import type { Color, CoreModel } from '../../model/core.ts';
import type { AlertRule, MonitoringModel, ScrapeJob } from '../../model/monitoring.ts';
import { type RenderedFile, textFile } from '../file.ts';

type Input = CoreModel & { monitoring: MonitoringModel };

export const yaml = (value: unknown): string => stringify(value, { lineWidth: 0 });

function scrapeConfig(job: ScrapeJob): Record<string, unknown> {
  const config: Record<string, unknown> = { job_name: job.name };
  if (job.scrapeInterval) config.scrape_interval = job.scrapeInterval;
  config.metrics_path = job.metricsPath;
  config.scheme = job.scheme;
  if (job.probe) config.params = { module: [job.probe.module] };
  if (job.credentialsFile) config.authorization = { type: 'Bearer', credentials_file: job.credentialsFile };
  config.static_configs = job.groups.map((g) =>
    Object.keys(g.labels).length > 0 ? { targets: g.targets, labels: g.labels } : { targets: g.targets },
  );
  if (job.probe) {
    config.relabel_configs = [
      { source_labels: ['__address__'], target_label: '__param_target' },
      { source_labels: ['__param_target'], target_label: 'instance' },
      { target_label: '__address__', replacement: job.probe.exporter },
    ];
  }
  return config;
}

/** monitoring/prometheus/prometheus.yml (exporters exist, blackbox, no fixed instance). */
export function prometheusConfig(model: Input): Record<string, unknown> {
  const m = model.monitoring;
  return {
    global: {
      scrape_interval: m.scrapeInterval,
      evaluation_interval: m.evaluationInterval,
      external_labels: m.externalLabels,
    },
    alerting: {
      alertmanagers: [
        {
          static_configs: [
            { targets: [`${m.addresses.alertmanager.host}:${m.addresses.alertmanager.port}`] },
          ],
        },
      ],
    },
    rule_files: [m.containerPaths.alertRules],
    scrape_configs: m.jobs.map(scrapeConfig),
  };
}

const ruleYaml = (rule: AlertRule) => ({
  alert: rule.alert,
  expr: rule.expr,
  for: rule.for,
  labels: { severity: rule.severity },
  annotations: { summary: rule.summary, description: rule.description },
});

/** monitoring/prometheus/alert-rules.yml . */
export function alertRules(model: Input): Record<string, unknown> {
  return { groups: [{ name: model.monitoring.ruleGroup, rules: model.monitoring.rules.map(ruleYaml) }] };
}

/** Fills `{{ $labels.x }}` the way Prometheus does, for the annotations a promtool test expects. */
function expand(template: string, labels: Record<string, string>): string {
  return template.replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? '');
}

function rule(model: Input, name: string): AlertRule {
  const found = model.monitoring.rules.find((r) => r.alert === name);
  if (!found) throw new Error(`internal error: no alert rule ${name}`);
  return found;
}

/** One expected alert: the rule's severity and annotations with the given labels filled in. */
function expected(r: AlertRule, labels: Record<string, string>) {
  return {
    exp_labels: { ...labels, severity: r.severity },
    exp_annotations: { summary: r.summary, description: expand(r.description, labels) },
  };
}

const series = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

/** monitoring/prometheus/tests/alert-rules.test.yml: `promtool test rules` cases for the rules whose logic is easy to get wrong. */
export function alertRuleTests(model: Input): Record<string, unknown> {
  const m = model.monitoring;
  const j = m.jobNames;
  const rulesFile = m.files.alertRules.split('/').pop() as string;
  const cadvisor = `${m.addresses.cadvisor.host}:${m.addresses.cadvisor.port}`;
  const stopped = { instance: cadvisor, job: j.cadvisor, name: model.containerName('postgres') };
  const running = { instance: cadvisor, job: j.cadvisor, name: model.containerName('redis') };
  const down = { name: stopped.name };
  const oldColour = { instance: cadvisor, job: j.cadvisor, name: model.containerName('api', 'green') };
  const postgres = {
    instance: `${m.addresses.postgresExporter.host}:${m.addresses.postgresExporter.port}`,
    job: j.postgres,
  };
  const limit = Math.floor(model.config.postgres.maxConnections * 0.8);
  const redis = {
    instance: `${m.addresses.redisExporter.host}:${m.addresses.redisExporter.port}`,
    job: j.redis,
  };
  const apiTarget = (color: Color) => ({
    color,
    instance: `${appAlias('api', color)}:${model.apps.api.containerPort}`,
    job: j.api,
  });

  return {
    rule_files: [`../${rulesFile}`],
    evaluation_interval: '1m',
    tests: [
      {
        // A container that stops reporting fires with its name; one still reporting and a stopped colour do not.
        interval: '15s',
        input_series: [
          { series: series('container_last_seen', stopped), values: '0+15x8 _x40' },
          { series: series('container_last_seen', running), values: '0+15x160' },
          { series: series('container_last_seen', oldColour), values: '0+15x8 _x40' },
        ],
        alert_rule_test: [
          { eval_time: '1m', alertname: 'ContainerDown', exp_alerts: [] },
          {
            eval_time: '6m',
            alertname: 'ContainerDown',
            exp_alerts: [expected(rule(model, 'ContainerDown'), down)],
          },
          // Still firing long after the series went stale (the 5m lookback).
          {
            eval_time: '30m',
            alertname: 'ContainerDown',
            exp_alerts: [expected(rule(model, 'ContainerDown'), down)],
          },
        ],
      },
      {
        // Connections are counted across states and databases: each series alone stays below the limit.
        interval: '1m',
        input_series: [
          {
            series: series('pg_stat_activity_count', {
              ...postgres,
              datname: model.config.postgres.database,
              state: 'active',
            }),
            values: `${Math.ceil(limit / 2) + 1}x15`,
          },
          {
            series: series('pg_stat_activity_count', {
              ...postgres,
              datname: model.config.postgres.database,
              state: 'idle',
            }),
            values: `${Math.ceil(limit / 2)}x15`,
          },
        ],
        alert_rule_test: [
          {
            eval_time: '10m',
            alertname: 'DatabaseConnectionHigh',
            exp_alerts: [expected(rule(model, 'DatabaseConnectionHigh'), {})],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [
          {
            series: series('pg_stat_activity_count', {
              ...postgres,
              datname: model.config.postgres.database,
              state: 'active',
            }),
            values: `${Math.floor(limit / 2)}x15`,
          },
          {
            series: series('pg_stat_activity_count', {
              ...postgres,
              datname: model.config.postgres.database,
              state: 'idle',
            }),
            values: `${Math.floor(limit / 2)}x15`,
          },
        ],
        alert_rule_test: [{ eval_time: '10m', alertname: 'DatabaseConnectionHigh', exp_alerts: [] }],
      },
      {
        // An exporter down fires TargetDown; the stopped colour of a role does not, as long as one colour is up.
        interval: '1m',
        input_series: [
          { series: series('up', postgres), values: '0x10' },
          { series: series('up', apiTarget('blue')), values: '1x10' },
          { series: series('up', apiTarget('green')), values: '0x10' },
        ],
        alert_rule_test: [
          {
            eval_time: '5m',
            alertname: 'TargetDown',
            exp_alerts: [expected(rule(model, 'TargetDown'), postgres)],
          },
          { eval_time: '5m', alertname: 'AppDown', exp_alerts: [] },
        ],
      },
      {
        interval: '1m',
        input_series: [
          { series: series('up', apiTarget('blue')), values: '0x10' },
          { series: series('up', apiTarget('green')), values: '0x10' },
        ],
        alert_rule_test: [
          {
            eval_time: '5m',
            alertname: 'AppDown',
            exp_alerts: [expected(rule(model, 'AppDown'), { job: j.api })],
          },
          { eval_time: '5m', alertname: 'TargetDown', exp_alerts: [] },
        ],
      },
      {
        // 10 of 110 requests per minute fail: about 9%.
        interval: '1m',
        input_series: [
          {
            series: series('http_requests_total', { ...apiTarget('blue'), status: '500' }),
            values: '0+10x20',
          },
          {
            series: series('http_requests_total', { ...apiTarget('blue'), status: '200' }),
            values: '0+100x20',
          },
        ],
        alert_rule_test: [
          { eval_time: '3m', alertname: 'HighErrorRate', exp_alerts: [] },
          {
            eval_time: '10m',
            alertname: 'HighErrorRate',
            exp_alerts: [expected(rule(model, 'HighErrorRate'), {})],
          },
        ],
      },
      {
        // 1 of 1001 requests per minute fails: below 1%.
        interval: '1m',
        input_series: [
          {
            series: series('http_requests_total', { ...apiTarget('blue'), status: '500' }),
            values: '0+1x20',
          },
          {
            series: series('http_requests_total', { ...apiTarget('blue'), status: '200' }),
            values: '0+1000x20',
          },
        ],
        alert_rule_test: [{ eval_time: '10m', alertname: 'HighErrorRate', exp_alerts: [] }],
      },
      {
        // maxmemory 0 means unlimited: no alert .
        interval: '1m',
        input_series: [
          { series: series('redis_memory_used_bytes', redis), values: '1000000x15' },
          { series: series('redis_memory_max_bytes', redis), values: '0x15' },
        ],
        alert_rule_test: [{ eval_time: '10m', alertname: 'RedisMemoryHigh', exp_alerts: [] }],
      },
    ],
  };
}

/** monitoring/blackbox/blackbox.yml: the probe module of the blackbox job. */
export function blackboxConfig(model: Input): Record<string, unknown> {
  const modules: Record<string, unknown> = {};
  for (const job of model.monitoring.jobs) {
    if (!job.probe) continue;
    modules[job.probe.module] = {
      prober: 'http',
      timeout: '10s',
      http: {
        method: 'GET',
        // Empty: any 2xx.
        valid_status_codes: [],
        fail_if_not_ssl: true,
        follow_redirects: true,
        preferred_ip_protocol: 'ip4',
      },
    };
  }
  return { modules };
}

export function renderPrometheus(model: Input): RenderedFile[] {
  const f = model.monitoring.files;
  return [
    textFile(f.prometheus, yaml(prometheusConfig(model))),
    textFile(f.alertRules, yaml(alertRules(model))),
    textFile(f.alertRulesTest, yaml(alertRuleTests(model))),
    textFile(f.blackbox, yaml(blackboxConfig(model))),
  ];
}
