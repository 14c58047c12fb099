import { Document, isMap, isScalar } from 'yaml';
import type { CoreModel } from '../../model/core.ts';
import type { MonitoringModel } from '../../model/monitoring.ts';
import { type RenderedFile, textFile } from '../file.ts';

type Input = CoreModel & { monitoring: MonitoringModel };

/** First day of the only schema period. Fixed: changing it would orphan the stored index. */
export const LOKI_SCHEMA_FROM = '2025-01-01';

/** YAML of `value` with a comment above some top-level keys. */
export function yamlWithComments(value: Record<string, unknown>, comments: Record<string, string>): string {
  const doc = new Document(value);
  if (!isMap(doc.contents)) throw new Error('internal error: expected a mapping');
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    const comment = key === undefined ? undefined : comments[key];
    if (comment && isScalar(pair.key)) {
      pair.key.commentBefore = comment
        .split('\n')
        .map((line) => ` ${line}`)
        .join('\n');
    }
  }
  return doc.toString({ lineWidth: 0 });
}

/**
 * monitoring/loki/loki-config.yml for Loki 3 single binary: tsdb + schema v13, retention by
 * the compactor with a delete-request store, no `enforce_metric_name` (removed in 3.0).
 */
export function lokiConfig(model: Input): Record<string, unknown> {
  const m = model.monitoring;
  const data = m.containerPaths.lokiData;
  return {
    auth_enabled: false,
    server: { http_listen_port: m.addresses.loki.port, grpc_listen_port: 9096, log_level: 'info' },
    common: {
      instance_addr: '127.0.0.1',
      path_prefix: data,
      storage: { filesystem: { chunks_directory: `${data}/chunks`, rules_directory: `${data}/rules` } },
      replication_factor: 1,
      ring: { kvstore: { store: 'inmemory' } },
    },
    query_range: { results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: 100 } } } },
    schema_config: {
      configs: [
        {
          from: LOKI_SCHEMA_FROM,
          store: 'tsdb',
          object_store: 'filesystem',
          schema: 'v13',
          // Retention works per index period: 24h.
          index: { prefix: 'index_', period: '24h' },
        },
      ],
    },
    compactor: {
      working_directory: `${data}/compactor`,
      compaction_interval: '10m',
      retention_enabled: true,
      retention_delete_delay: '2h',
      delete_request_store: 'filesystem',
    },
    limits_config: {
      retention_period: `${model.config.retention.logsDays * 24}h`,
      reject_old_samples: true,
      reject_old_samples_max_age: '168h',
      max_query_series: 500,
    },
    ruler: { alertmanager_url: `http://${m.addresses.alertmanager.host}:${m.addresses.alertmanager.port}` },
    analytics: { reporting_enabled: false },
  };
}

export function renderLoki(model: Input): RenderedFile[] {
  const network = model.networks.monitoring.name;
  const body = yamlWithComments(lokiConfig(model), {
    auth_enabled: [
      'No tenant authentication: acceptable only because Loki publishes no port and is reachable',
      `solely on the Docker network ${network} (Alloy pushes, Grafana queries). Publishing a port`,
      'or attaching Loki to another network requires auth in front of it.',
    ].join('\n'),
  });
  return [textFile(model.monitoring.files.loki, body)];
}
