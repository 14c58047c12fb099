/**
 * The Grafana overview dashboard of the platform, built with the Grafana Foundation SDK
 * (@grafana/grafana-foundation-sdk, the v0.0.x line that tracks Grafana 12's dashboard schema).
 *
 * The result is the classic (v1, `schemaVersion` 42) dashboard JSON model, which Grafana 11 and 12 both load
 * through file provisioning. It is a pure function of its input: panel ids and grid positions are assigned
 * in a fixed order, and nothing reads the clock or a random source, so two builds stringify identically.
 */
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  LegendDisplayMode,
  LegendPlacement,
  LogsDedupStrategy,
  LogsSortOrder,
  ReduceDataOptionsBuilder,
  SortOrder,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardCursorSync,
  MappingType,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as LogsPanelBuilder } from '@grafana/grafana-foundation-sdk/logs';
import { DataqueryBuilder as LokiQueryBuilder } from '@grafana/grafana-foundation-sdk/loki';
import { DataqueryBuilder as PromQueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

export interface OverviewDashboardInput {
  /** Dashboard uid (Grafana accepts 1-40 characters of [a-zA-Z0-9-_]). */
  uid: string;
  title: string;
  /** uid of the provisioned Prometheus datasource. */
  prometheusUid: string;
  /** uid of the provisioned Loki datasource. */
  lokiUid: string;
  /** Prometheus `job` label of each scrape job. */
  apiJob: string;
  nodeJob: string;
  cadvisorJob: string;
  postgresJob: string;
  redisJob: string;
  /** Compose container name prefix; cAdvisor series are kept when `name` starts with it. */
  containerPrefix: string;
}

/** Loki stream selector of the logs panel: every stream shipped from a Compose project. */
export const OVERVIEW_LOG_SELECTOR = '{compose_project=~".+"}';

/** PromQL string literal (double-quoted, with `\` and `"` escaped). */
function promString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** RE2 pattern matching `value` literally. */
function regexLiteral(value: string): string {
  return value.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** The PromQL expressions of the dashboard, exported so tests and other checks (promtool) can read them. */
export function overviewQueries(input: OverviewDashboardInput) {
  const api = `job=${promString(input.apiJob)}`;
  const node = `job=${promString(input.nodeJob)}`;
  const cadvisor = `job=${promString(input.cadvisorJob)}`;
  const postgres = `job=${promString(input.postgresJob)}`;
  const redis = `job=${promString(input.redisJob)}`;
  const rootFs = `${node},mountpoint="/",fstype!="rootfs"`;
  const containers = `${cadvisor},name=~${promString(`${regexLiteral(input.containerPrefix)}.*`)}`;
  return {
    targetsUp: 'up',
    apiRequestRate: `sum by (status) (rate(http_requests_total{${api}}[5m]))`,
    apiLatencyP95: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${api}}[5m])))`,
    // `or vector(0)` keeps the ratio at 0 (not "no data") while requests flow without any 5xx.
    apiErrorRatio:
      `(sum(rate(http_requests_total{${api},status=~"5.."}[5m])) or vector(0))` +
      ` / sum(rate(http_requests_total{${api}}[5m]))`,
    hostCpu: `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{${node},mode="idle"}[5m])))`,
    hostMemory: `100 * (1 - node_memory_MemAvailable_bytes{${node}} / node_memory_MemTotal_bytes{${node}})`,
    rootFilesystem: `100 * (1 - node_filesystem_avail_bytes{${rootFs}} / node_filesystem_size_bytes{${rootFs}})`,
    containerMemory: `sum by (name) (container_memory_working_set_bytes{${containers}})`,
    postgresConnections: `sum(pg_stat_activity_count{${postgres}})`,
    postgresMaxConnections: `max(pg_settings_max_connections{${postgres}})`,
    redisMemoryUsed: `sum(redis_memory_used_bytes{${redis}})`,
    redisMemoryMax: `sum(redis_memory_max_bytes{${redis}})`,
  } as const;
}

const GREEN = 'green';
const YELLOW = 'yellow';
const RED = 'red';

function percentThresholds(warn: number, crit: number): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: GREEN },
    { value: warn, color: YELLOW },
    { value: crit, color: RED },
  ]);
}

function legend(): VizLegendOptionsBuilder {
  return new VizLegendOptionsBuilder()
    .showLegend(true)
    .displayMode(LegendDisplayMode.List)
    .placement(LegendPlacement.Bottom)
    .calcs([]);
}

function tooltip(): VizTooltipOptionsBuilder {
  return new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending);
}

/**
 * Build the overview dashboard. Returns the SDK builder's output as a plain JSON object (no class
 * instances, no functions, no `undefined`), ready for `JSON.stringify`.
 */
export function overviewDashboard(input: OverviewDashboardInput): object {
  const prometheus: DataSourceRef = { type: 'prometheus', uid: input.prometheusUid };
  const loki: DataSourceRef = { type: 'loki', uid: input.lokiUid };
  const q = overviewQueries(input);

  // Panel ids are handed out in the order panels are added, rows included.
  let nextId = 1;
  const id = (): number => nextId++;

  const prom = (refId: string, expr: string, legendFormat: string): PromQueryBuilder =>
    new PromQueryBuilder().datasource(prometheus).refId(refId).expr(expr).legendFormat(legendFormat).range();

  const timeseries = (title: string, description: string, width: number): TimeseriesPanelBuilder =>
    new TimeseriesPanelBuilder()
      .id(id())
      .title(title)
      .description(description)
      .datasource(prometheus)
      .span(width)
      .height(8)
      .legend(legend())
      .tooltip(tooltip())
      .lineWidth(1)
      .fillOpacity(10);

  const row = (title: string): RowBuilder => new RowBuilder(title).id(id()).collapsed(false);

  const builder = new DashboardBuilder(input.title)
    .uid(input.uid)
    .tags(['smart-academy', 'overview', 'generated'])
    .description('Platform overview: API, host, containers, data stores, scrape targets and logs.')
    .readonly()
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    // Explicit empty lists: Grafana expects `templating.list` and `annotations.list` to exist and adds
    // its built-in annotation query itself.
    .variables([])
    .annotations([]);

  builder.withRow(row('Scrape targets')).withPanel(
    new StatPanelBuilder()
      .id(id())
      .title('Targets up')
      .description('Prometheus `up` for every scrape target: 1 when the last scrape succeeded.')
      .datasource(prometheus)
      .span(24)
      .height(5)
      .withTarget(
        new PromQueryBuilder()
          .datasource(prometheus)
          .refId('A')
          .expr(q.targetsUp)
          .legendFormat('{{job}} {{instance}}')
          .instant(),
      )
      .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
      .mappings([
        {
          type: MappingType.ValueToText,
          options: {
            '0': { text: 'DOWN', color: RED, index: 0 },
            '1': { text: 'UP', color: GREEN, index: 1 },
          },
        },
      ])
      .thresholds(
        new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
          { value: null, color: RED },
          { value: 1, color: GREEN },
        ]),
      )
      .colorMode(BigValueColorMode.Background)
      .graphMode(BigValueGraphMode.None)
      .textMode(BigValueTextMode.ValueAndName),
  );

  builder
    .withRow(row('API'))
    .withPanel(
      timeseries('API request rate by status', 'Requests per second, by HTTP status code.', 8)
        .withTarget(prom('A', q.apiRequestRate, '{{status}}'))
        .unit('reqps')
        .min(0),
    )
    .withPanel(
      timeseries('API p95 latency', '95th percentile of request duration over 5 minutes.', 8)
        .withTarget(prom('A', q.apiLatencyP95, 'p95'))
        .unit('s')
        .min(0),
    )
    .withPanel(
      timeseries('API error ratio', 'Share of requests answered with a 5xx status.', 8)
        .withTarget(prom('A', q.apiErrorRatio, '5xx / total'))
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(percentThresholds(0.01, 0.05)),
    );

  builder
    .withRow(row('Host'))
    .withPanel(
      timeseries('Host CPU usage', 'CPU busy time across all cores (node exporter).', 8)
        .withTarget(prom('A', q.hostCpu, '{{instance}}'))
        .unit('percent')
        .min(0)
        .max(100)
        .thresholds(percentThresholds(80, 90)),
    )
    .withPanel(
      timeseries('Host memory usage', 'Memory in use: 1 - MemAvailable / MemTotal (node exporter).', 8)
        .withTarget(prom('A', q.hostMemory, '{{instance}}'))
        .unit('percent')
        .min(0)
        .max(100)
        .thresholds(percentThresholds(80, 90)),
    )
    .withPanel(
      timeseries('Root filesystem used', 'Space used on the filesystem mounted at / (node exporter).', 8)
        .withTarget(prom('A', q.rootFilesystem, '{{instance}}'))
        .unit('percent')
        .min(0)
        .max(100)
        .thresholds(percentThresholds(80, 90)),
    );

  builder
    .withRow(row('Containers and data stores'))
    .withPanel(
      timeseries('Container memory', 'Working-set memory of each platform container (cAdvisor).', 12)
        .withTarget(prom('A', q.containerMemory, '{{name}}'))
        .unit('bytes')
        .min(0),
    )
    .withPanel(
      timeseries('PostgreSQL connections', 'Connections open on the server, and max_connections.', 6)
        .withTarget(prom('A', q.postgresConnections, 'connections'))
        .withTarget(prom('B', q.postgresMaxConnections, 'max_connections'))
        .unit('short')
        .min(0),
    )
    .withPanel(
      timeseries('Redis memory', 'Memory used by Redis, and its maxmemory limit (0 when unlimited).', 6)
        .withTarget(prom('A', q.redisMemoryUsed, 'used'))
        .withTarget(prom('B', q.redisMemoryMax, 'max'))
        .unit('bytes')
        .min(0),
    );

  builder
    .withRow(row('Logs'))
    .withPanel(
      new LogsPanelBuilder()
        .id(id())
        .title('Container logs')
        .description(`Most recent log lines of the Compose projects (${OVERVIEW_LOG_SELECTOR}).`)
        .datasource(loki)
        .span(24)
        .height(12)
        .withTarget(
          new LokiQueryBuilder().datasource(loki).refId('A').expr(OVERVIEW_LOG_SELECTOR).maxLines(500),
        )
        .showTime(true)
        .showLabels(false)
        .showCommonLabels(false)
        .wrapLogMessage(true)
        .prettifyLogMessage(false)
        .enableLogDetails(true)
        .sortOrder(LogsSortOrder.Descending)
        .dedupStrategy(LogsDedupStrategy.None),
    );

  // The builder returns its internal (mutable) model; a JSON round trip detaches it and drops the
  // SDK's marker functions and undefined fields, leaving exactly what Grafana will read.
  return JSON.parse(JSON.stringify(builder.build())) as object;
}
