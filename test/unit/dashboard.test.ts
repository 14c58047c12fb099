import { describe, expect, it } from 'vitest';
import {
  OVERVIEW_LOG_SELECTOR,
  type OverviewDashboardInput,
  overviewDashboard,
} from '../../src/render/monitoring/dashboard.ts';

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface DatasourceRef {
  type?: string;
  uid?: string;
}
interface Target {
  refId: string;
  expr: string;
  datasource?: DatasourceRef;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: GridPos;
  datasource?: DatasourceRef;
  targets?: Target[];
  panels?: unknown[];
  collapsed?: boolean;
}
interface Dashboard {
  uid: string;
  title: string;
  editable: boolean;
  refresh: string;
  time: { from: string; to: string };
  schemaVersion: number;
  templating: { list: unknown[] };
  annotations: { list: unknown[] };
  panels: Panel[];
}

// Distinct job names so that no job label is a substring of another.
const input: OverviewDashboardInput = {
  uid: 'academy-overview',
  title: 'Smart Academy / Overview',
  prometheusUid: 'prometheus-main',
  lokiUid: 'loki-main',
  apiJob: 'academy-api',
  nodeJob: 'host-node',
  cadvisorJob: 'docker-cadvisor',
  postgresJob: 'pg-exporter',
  redisJob: 'redis-exporter',
  containerPrefix: 'smart-academy-',
};

/** Build and read back through JSON, as Grafana will. */
function build(over: Partial<OverviewDashboardInput> = {}): Dashboard {
  return JSON.parse(JSON.stringify(overviewDashboard({ ...input, ...over }))) as Dashboard;
}

const dashboard = build();
const rows = dashboard.panels.filter((p) => p.type === 'row');
const panels = dashboard.panels.filter((p) => p.type !== 'row');
const byTitle = (title: string): Panel => {
  const panel = panels.find((p) => p.title === title);
  if (!panel) throw new Error(`no panel titled ${title}`);
  return panel;
};
const exprs = (title: string): string[] => (byTitle(title).targets ?? []).map((t) => t.expr);

/** Which scrape job each Prometheus panel must query; `null` = all targets, no job filter. */
const expectedJob: Record<string, string | null> = {
  'Targets up': null,
  'API request rate by status': input.apiJob,
  'API p95 latency': input.apiJob,
  'API error ratio': input.apiJob,
  'Host CPU usage': input.nodeJob,
  'Host memory usage': input.nodeJob,
  'Root filesystem used': input.nodeJob,
  'Container memory': input.cadvisorJob,
  'PostgreSQL connections': input.postgresJob,
  'Redis memory': input.redisJob,
};
const allJobs = [input.apiJob, input.nodeJob, input.cadvisorJob, input.postgresJob, input.redisJob];

describe('overviewDashboard', () => {
  it('returns a plain JSON object that survives a round trip unchanged', () => {
    const built = overviewDashboard(input);
    expect(JSON.parse(JSON.stringify(built))).toEqual(built);
    expect(Object.getPrototypeOf(built)).toBe(Object.prototype);
  });

  it('sets the dashboard settings', () => {
    expect(dashboard.uid).toBe(input.uid);
    expect(dashboard.title).toBe(input.title);
    expect(dashboard.editable).toBe(false);
    expect(dashboard.refresh).toBe('30s');
    expect(dashboard.time).toEqual({ from: 'now-6h', to: 'now' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.templating.list).toEqual([]);
    expect(dashboard.annotations.list).toEqual([]);
  });

  it('has the expected panels', () => {
    expect(dashboard.panels).toHaveLength(16);
    expect(rows.map((r) => r.title)).toEqual([
      'Scrape targets',
      'API',
      'Host',
      'Containers and data stores',
      'Logs',
    ]);
    expect(panels.map((p) => [p.title, p.type])).toEqual([
      ['Targets up', 'stat'],
      ['API request rate by status', 'timeseries'],
      ['API p95 latency', 'timeseries'],
      ['API error ratio', 'timeseries'],
      ['Host CPU usage', 'timeseries'],
      ['Host memory usage', 'timeseries'],
      ['Root filesystem used', 'timeseries'],
      ['Container memory', 'timeseries'],
      ['PostgreSQL connections', 'timeseries'],
      ['Redis memory', 'timeseries'],
      ['Container logs', 'logs'],
    ]);
  });

  it('gives every panel, rows included, a unique positive integer id', () => {
    const ids = dashboard.panels.map((p) => p.id);
    for (const id of ids) expect(Number.isInteger(id) && id > 0).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps rows expanded and empty, so their panels sit at the top level', () => {
    for (const row of rows) {
      expect(row.collapsed).toBe(false);
      expect(row.panels).toEqual([]);
      expect(row.targets).toBeUndefined();
    }
  });

  it('refers to datasources only by the two given uids, on panels and on their queries', () => {
    const allowed = [input.prometheusUid, input.lokiUid];
    for (const panel of panels) {
      expect(allowed).toContain(panel.datasource?.uid);
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource).toEqual(panel.datasource);
    }
    const prometheusPanels = panels.filter((p) => p.datasource?.uid === input.prometheusUid);
    expect(prometheusPanels.map((p) => p.title).sort()).toEqual(Object.keys(expectedJob).sort());
    for (const p of prometheusPanels) expect(p.datasource?.type).toBe('prometheus');
  });

  it('filters every Prometheus selector on the right job', () => {
    for (const [title, job] of Object.entries(expectedJob)) {
      for (const expr of exprs(title)) {
        const selectors = [...expr.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '');
        if (job === null) {
          expect(expr, title).toBe('up');
          continue;
        }
        expect(selectors.length, `${title}: ${expr}`).toBeGreaterThan(0);
        for (const selector of selectors) expect(selector, `${title}: ${expr}`).toContain(`job="${job}"`);
        for (const other of allJobs.filter((j) => j !== job)) expect(expr, title).not.toContain(other);
      }
    }
  });

  it('uses the requested queries', () => {
    const api = `job="${input.apiJob}"`;
    expect(exprs('API request rate by status')).toEqual([
      `sum by (status) (rate(http_requests_total{${api}}[5m]))`,
    ]);
    expect(exprs('API p95 latency')).toEqual([
      `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${api}}[5m])))`,
    ]);
    const [ratio] = exprs('API error ratio');
    expect(ratio).toContain(`http_requests_total{${api},status=~"5.."}`);
    expect(ratio).toContain(` / sum(rate(http_requests_total{${api}}[5m]))`);
    expect(exprs('Host CPU usage')[0]).toContain('node_cpu_seconds_total');
    expect(exprs('Host memory usage')[0]).toContain('node_memory_MemAvailable_bytes');
    for (const e of exprs('Root filesystem used')) expect(e).toContain('mountpoint="/"');
    expect(exprs('Container memory')).toEqual([
      `sum by (name) (container_memory_working_set_bytes{job="${input.cadvisorJob}",name=~"smart-academy-.*"})`,
    ]);
    expect(exprs('PostgreSQL connections')[0]).toBe(
      `sum(pg_stat_activity_count{job="${input.postgresJob}"})`,
    );
    const redis = exprs('Redis memory');
    expect(redis.some((e) => e.includes('redis_memory_used_bytes'))).toBe(true);
    expect(redis.some((e) => e.includes('redis_memory_max_bytes'))).toBe(true);
    for (const p of panels) {
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
    }
  });

  it('reads logs from Loki', () => {
    const logs = byTitle('Container logs');
    expect(logs.datasource).toEqual({ type: 'loki', uid: input.lokiUid });
    expect(exprs('Container logs')).toEqual([OVERVIEW_LOG_SELECTOR]);
    expect(OVERVIEW_LOG_SELECTOR).toBe('{compose_project=~".+"}');
  });

  it('escapes the container prefix as a regex and label values as PromQL strings', () => {
    const d = build({ containerPrefix: 'a.b+', cadvisorJob: 'job "x"\\y' });
    const expr = d.panels.find((p) => p.title === 'Container memory')?.targets?.[0]?.expr;
    expect(expr).toBe(
      'sum by (name) (container_memory_working_set_bytes{job="job \\"x\\"\\\\y",name=~"a\\\\.b\\\\+.*"})',
    );
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    const boxes = dashboard.panels.map((p) => ({ title: p.title, ...p.gridPos }));
    for (const b of boxes) {
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.y).toBeGreaterThanOrEqual(0);
      expect(b.w).toBeGreaterThan(0);
      expect(b.h).toBeGreaterThan(0);
      expect(b.x + b.w, b.title).toBeLessThanOrEqual(24);
    }
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i];
        const b = boxes[j];
        if (!a || !b) continue;
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
    // Panels follow their row: each row's y is below everything placed before it.
    for (const row of rows) {
      const before = dashboard.panels.slice(0, dashboard.panels.indexOf(row));
      for (const p of before) expect(p.gridPos.y + p.gridPos.h).toBeLessThanOrEqual(row.gridPos.y);
    }
  });

  it('is deterministic', () => {
    expect(JSON.stringify(overviewDashboard(input))).toBe(JSON.stringify(overviewDashboard({ ...input })));
    expect(JSON.stringify(build())).toBe(JSON.stringify(dashboard));
  });
});
