import type { CoreModel } from '../../model/core.ts';
import type { MonitoringModel } from '../../model/monitoring.ts';
import { jsonFile, type RenderedFile, textFile } from '../file.ts';
import { type OverviewDashboardInput, overviewDashboard } from './dashboard.ts';
import { yaml } from './prometheus.ts';

type Input = CoreModel & { monitoring: MonitoringModel };

export type IniValue = string | number | boolean;
export type IniSection = readonly [
  name: string,
  entries: readonly (readonly [key: string, value: IniValue])[],
];

/**
 * Serializes sections of `key = value` lines. Grafana reads the file with go-ini, where `#` and `;` start
 * comments and `%(name)s` is interpolated: values holding them, or a line break, are refused.
 */
export function ini(sections: readonly IniSection[]): string {
  return sections
    .map(([name, entries]) => {
      if (!/^[a-z0-9_.]+$/.test(name)) throw new Error(`ini: bad section name ${JSON.stringify(name)}`);
      const lines = entries.map(([key, value]) => {
        if (!/^[a-z0-9_]+$/.test(key)) throw new Error(`ini: bad key ${JSON.stringify(key)} in [${name}]`);
        const text = String(value);
        if (/[\n\r#;]|%\(/.test(text))
          throw new Error(`ini: value of ${name}.${key} cannot be written: ${JSON.stringify(text)}`);
        return `${key} = ${text}`;
      });
      return [`[${name}]`, ...lines].join('\n');
    })
    .join('\n\n');
}

/**
 * monitoring/grafana/grafana.ini. The admin password is not here: compose sets GF_SECURITY_ADMIN_PASSWORD__FILE
 * to a secret file (the model's grafana service).
 */
export function grafanaIni(model: Input): IniSection[] {
  const m = model.monitoring;
  return [
    [
      'server',
      [
        ['protocol', 'http'],
        ['http_port', m.addresses.grafana.port],
        ['domain', model.domains.grafana],
        ['root_url', `https://${model.domains.grafana}/`],
        ['serve_from_sub_path', false],
        ['enforce_domain', false],
      ],
    ],
    ['paths', [['provisioning', m.containerPaths.grafanaProvisioning]]],
    [
      'analytics',
      [
        ['reporting_enabled', false],
        ['check_for_updates', false],
        ['check_for_plugin_updates', false],
        ['feedback_links_enabled', false],
      ],
    ],
    [
      'security',
      [
        ['admin_user', m.grafana.adminUser],
        ['disable_gravatar', true],
        ['cookie_secure', true],
        ['cookie_samesite', 'lax'],
      ],
    ],
    [
      'users',
      [
        ['allow_sign_up', false],
        ['allow_org_create', false],
      ],
    ],
    ['auth.anonymous', [['enabled', false]]],
    ['snapshots', [['external_enabled', false]]],
    ['news', [['news_feed_enabled', false]]],
    [
      'log',
      [
        ['mode', 'console'],
        ['level', 'info'],
      ],
    ],
    // Scraped by Prometheus on the monitoring network; the public site should deny /metrics.
    ['metrics', [['enabled', true]]],
  ];
}

export function grafanaDatasources(model: Input): Record<string, unknown> {
  const ds = model.monitoring.grafana.datasources;
  return {
    apiVersion: 1,
    prune: true,
    datasources: [
      {
        name: 'Prometheus',
        uid: ds.prometheus.uid,
        type: 'prometheus',
        access: 'proxy',
        url: ds.prometheus.url,
        isDefault: true,
        editable: false,
        jsonData: {
          httpMethod: 'POST',
          timeInterval: model.monitoring.scrapeInterval,
          prometheusType: 'Prometheus',
        },
      },
      {
        name: 'Loki',
        uid: ds.loki.uid,
        type: 'loki',
        access: 'proxy',
        url: ds.loki.url,
        isDefault: false,
        editable: false,
        jsonData: { maxLines: 1000 },
      },
    ],
  };
}

export function grafanaDashboardProviders(model: Input): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: model.name,
        orgId: 1,
        folder: model.title,
        folderUid: model.name,
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: {
          path: model.monitoring.containerPaths.grafanaDashboards,
          foldersFromFilesStructure: false,
        },
      },
    ],
  };
}

/** What the overview dashboard is built from: the model's job names, datasource uids and container prefix. */
export function overviewInput(model: Input): OverviewDashboardInput {
  const m = model.monitoring;
  return {
    uid: m.grafana.dashboard.uid,
    title: m.grafana.dashboard.title,
    prometheusUid: m.grafana.datasources.prometheus.uid,
    lokiUid: m.grafana.datasources.loki.uid,
    apiJob: m.jobNames.api,
    nodeJob: m.jobNames.node,
    cadvisorJob: m.jobNames.cadvisor,
    postgresJob: m.jobNames.postgres,
    redisJob: m.jobNames.redis,
    containerPrefix: m.containerPrefix,
  };
}

export const grafanaOverview = (model: Input): object => overviewDashboard(overviewInput(model));

export function renderGrafana(model: Input): RenderedFile[] {
  const f = model.monitoring.files;
  return [
    textFile(f.grafanaIni, ini(grafanaIni(model))),
    textFile(f.grafanaDatasources, yaml(grafanaDatasources(model))),
    textFile(f.grafanaDashboardProviders, yaml(grafanaDashboardProviders(model))),
    jsonFile(f.overviewDashboard, grafanaOverview(model)),
  ];
}
