import { appAlias } from './apps.ts';
import type { Mount, ServiceSpec } from './compose.ts';
import { APP_ROLES, type AppRole, type CoreModel, type NetworkKey, type ResourceKey } from './core.ts';
import { requiredVar } from './env-vars.ts';
import { type SecretFile, secretFile } from './secret-files.ts';

// The monitoring stack derived from the core: scrape jobs, alert rules (with the metrics each one reads
// and the job that produces them), the containers of the monitoring project with their ports, commands,
// mounts and healthchecks, the host-level listeners Prometheus reaches, and the files the renderers write.

/** A set of scrape targets sharing the same extra labels. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export interface ScrapeJob {
  /** Prometheus `job` label. */
  name: string;
  groups: TargetGroup[];
  metricsPath: string;
  scheme: 'http' | 'https';
  /**
   * How Prometheus reaches the targets: over a Docker network (the target's service must be attached to
   * it), or `host` through `host.docker.internal` (compose adds `extra_hosts: host.docker.internal:host-gateway`).
   */
  via: NetworkKey | 'host';
  /** Set for blackbox probes: the targets are URLs, scraped through the exporter with this module. */
  probe?: { module: string; exporter: string };
  /** Bearer token file, a path inside the Prometheus container. */
  credentialsFile?: string;
  /** Overrides the global scrape interval. */
  scrapeInterval?: string;
}

export type Severity = 'critical' | 'warning';

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  severity: Severity;
  summary: string;
  /** May use `{{ $labels.x }}`; rules covered by promtool tests avoid `$value` so the test can expect the text. */
  description: string;
  /** Every metric name `expr` reads; each must be a key of `metricJobs`. */
  metrics: string[];
}

/** A value of a container environment variable: literal, or taken from the env file at `docker compose` time. */
export type EnvValue = string | { fromEnv: string };

export interface Healthcheck {
  /** Exec form (`CMD`, argv...): none of these images needs a shell. */
  test: string[];
  interval: string;
  timeout: string;
  retries: number;
  startPeriod: string;
}

export interface MonitoringService {
  /** Compose service name (also its DNS name on its networks). */
  service: string;
  containerName: string;
  image: string;
  /** Literal arguments (no compose interpolation intended: a renderer must escape `$` as `$$`). */
  command: string[];
  environment: Record<string, EnvValue>;
  /** Empty when the container uses the host's network. */
  networks: NetworkKey[];
  networkMode?: 'host';
  pid?: 'host';
  /** Only where the container cannot work otherwise. */
  privileged?: { reason: string };
  devices?: string[];
  extraHosts: string[];
  /** Port the process listens on (on `dockerHostIp` for host-network containers). */
  port: number;
  /** Published on 127.0.0.1 only. */
  publish?: { hostIp: '127.0.0.1'; hostPort: number; containerPort: number };
  /** Rendered files or directories (tree-relative) mounted read-only. */
  configMounts: { source: string; target: string }[];
  /** Host paths mounted into the container. */
  hostMounts: { source: string; target: string; readOnly: boolean; propagation?: 'rslave' }[];
  /** Named volumes holding the service's state. */
  volumes: { name: string; target: string }[];
  secrets: SecretFile[];
  healthcheck?: Healthcheck;
  /** Why there is no healthcheck, when there is none. */
  healthcheckNote?: string;
  dependsOn: string[];
}

export interface HostListener {
  address: string;
  port: number;
  path: string;
}

export interface MonitoringModel {
  /** Tree-relative paths of the rendered files. */
  files: {
    prometheus: string;
    alertRules: string;
    alertRulesTest: string;
    blackbox: string;
    alertmanager: string;
    grafanaIni: string;
    grafanaDatasources: string;
    grafanaDashboardProviders: string;
    overviewDashboard: string;
    loki: string;
    alloy: string;
  };
  /** Where the services read those files inside their containers. */
  containerPaths: {
    prometheusConfig: string;
    alertRules: string;
    blackboxConfig: string;
    alertmanagerConfig: string;
    grafanaIni: string;
    grafanaProvisioning: string;
    grafanaDashboards: string;
    lokiConfig: string;
    lokiData: string;
    alloyConfig: string;
    alloyData: string;
    dockerSocket: string;
  };
  /** Compose service name and port of each monitoring component. */
  addresses: Record<
    | 'prometheus'
    | 'alertmanager'
    | 'grafana'
    | 'loki'
    | 'alloy'
    | 'nodeExporter'
    | 'cadvisor'
    | 'postgresExporter'
    | 'redisExporter'
    | 'mysqlExporter'
    | 'nginxExporter'
    | 'blackboxExporter',
    { host: string; port: number }
  >;
  /** Name the containers use for the Docker host (resolved by `extra_hosts: <name>:host-gateway`). */
  dockerHostAlias: string;
  /**
   * Listeners on the host that Prometheus or an exporter reaches from the monitoring network: the host
   * firewall must accept them from `networks.monitoring.subnet`; dockerd needs `"metrics-addr"` in
   * daemon.json, nginx a `stub_status` server.
   */
  hostListeners: { nodeExporter: HostListener; dockerd: HostListener; nginxStatus: HostListener };
  scrapeInterval: string;
  evaluationInterval: string;
  externalLabels: Record<string, string>;
  jobs: ScrapeJob[];
  /** Job names by role, for dashboards and rules. */
  jobNames: Record<
    | 'prometheus'
    | 'alertmanager'
    | 'grafana'
    | 'loki'
    | 'alloy'
    | 'node'
    | 'cadvisor'
    | 'docker'
    | 'postgres'
    | 'redis'
    | 'mysql'
    | 'nginx'
    | 'blackbox'
    | 'objectStore'
    | AppRole,
    string
  >;
  /** The URLs the blackbox exporter probes (public HTTPS endpoints). */
  probes: string[];
  rules: AlertRule[];
  ruleGroup: string;
  /** metric name -> jobs that produce it (`up` is produced by Prometheus for every job). */
  metricJobs: Record<string, string[]>;
  /** Host log directories Alloy ships to Loki (mounted at the same path in the Alloy container). */
  hostLogs: { dir: string; glob: string; job: string }[];
  /** Containers whose name starts with this are the platform's (cAdvisor's `name` label). */
  containerPrefix: string;
  grafana: {
    datasources: { prometheus: { uid: string; url: string }; loki: { uid: string; url: string } };
    dashboard: { uid: string; title: string };
    adminUser: string;
  };
  /** Alertmanager secret files, also listed on the alertmanager service. */
  alertmanagerSecrets: { smtpPassword: SecretFile; slackWebhook?: SecretFile };
  services: MonitoringService[];
}

const NOBODY = 65534;
const GRAFANA_UID = 472;
/** Garage's admin API (/metrics, /health); equal to the object store model's adminPort (a unit test checks). */
export const OBJECT_STORE_ADMIN_PORT = 3903;

/** Major.minor.patch of an image tag such as `grafana/loki:3.7.8` or `prom/prometheus:v3.5.0`. */
export function imageVersion(image: string): [number, number, number] | undefined {
  const match = /:v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(image);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

const atLeast = (v: [number, number, number] | undefined, min: [number, number, number]) =>
  v !== undefined && (v[0] !== min[0] ? v[0] > min[0] : v[1] !== min[1] ? v[1] > min[1] : v[2] >= min[2]);

const httpCheck = (url: string, startPeriod = '20s'): Healthcheck => ({
  test: ['CMD', 'wget', '-q', '--spider', url],
  interval: '30s',
  timeout: '5s',
  retries: 3,
  startPeriod,
});

/** RE2 pattern matching `value` literally. */
const regexLiteral = (value: string) => value.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');

export function buildMonitoringModel(core: CoreModel): MonitoringModel {
  const { config, dockerHostIp } = core;
  const dockerHostAlias = 'host.docker.internal';

  const addresses = {
    prometheus: { host: 'prometheus', port: 9090 },
    alertmanager: { host: 'alertmanager', port: 9093 },
    grafana: { host: 'grafana', port: 3000 },
    loki: { host: 'loki', port: 3100 },
    alloy: { host: 'alloy', port: 12345 },
    nodeExporter: { host: 'node-exporter', port: core.hostListeners.nodeExporter.port },
    cadvisor: { host: 'cadvisor', port: 8080 },
    postgresExporter: { host: 'postgres-exporter', port: 9187 },
    redisExporter: { host: 'redis-exporter', port: 9121 },
    mysqlExporter: { host: 'mysqld-exporter', port: 9104 },
    nginxExporter: { host: 'nginx-exporter', port: 9113 },
    blackboxExporter: { host: 'blackbox-exporter', port: 9115 },
  } as const;
  const at = (a: { host: string; port: number }) => `${a.host}:${a.port}`;

  const { hostListeners } = core;

  const files = {
    prometheus: 'monitoring/prometheus/prometheus.yml',
    alertRules: 'monitoring/prometheus/alert-rules.yml',
    alertRulesTest: 'monitoring/prometheus/tests/alert-rules.test.yml',
    blackbox: 'monitoring/blackbox/blackbox.yml',
    alertmanager: 'monitoring/alertmanager/alertmanager.yml',
    grafanaIni: 'monitoring/grafana/grafana.ini',
    grafanaDatasources: 'monitoring/grafana/provisioning/datasources/datasources.yml',
    grafanaDashboardProviders: 'monitoring/grafana/provisioning/dashboards/dashboards.yml',
    overviewDashboard: 'monitoring/grafana/dashboards/overview.json',
    loki: 'monitoring/loki/loki-config.yml',
    alloy: 'monitoring/alloy/config.alloy',
  };
  const containerPaths = {
    prometheusConfig: '/etc/prometheus/prometheus.yml',
    alertRules: '/etc/prometheus/alert-rules.yml',
    blackboxConfig: '/etc/blackbox/blackbox.yml',
    alertmanagerConfig: '/etc/alertmanager/alertmanager.yml',
    grafanaIni: '/etc/grafana/grafana.ini',
    grafanaProvisioning: '/etc/grafana/provisioning',
    // Not under /var/lib/grafana: that is the data volume, and a bind mount inside it would shadow it.
    grafanaDashboards: '/etc/grafana/dashboards',
    lokiConfig: '/etc/loki/loki-config.yml',
    lokiData: '/loki',
    alloyConfig: '/etc/alloy/config.alloy',
    alloyData: '/var/lib/alloy/data',
    dockerSocket: '/var/run/docker.sock',
  };

  const jobNames = {
    prometheus: 'prometheus',
    alertmanager: 'alertmanager',
    grafana: 'grafana',
    loki: 'loki',
    alloy: 'alloy',
    node: 'node',
    cadvisor: 'cadvisor',
    docker: 'docker',
    postgres: 'postgres',
    redis: 'redis',
    mysql: 'mysql',
    nginx: 'nginx',
    blackbox: 'blackbox',
    objectStore: 'object-store',
    api: 'api',
    web: 'web',
    admin: 'admin',
  } as const;

  const secret = (service: string, file: string, env: string, uid: number) =>
    secretFile(core, service, file, env, uid);
  const objectStoreToken = secret(
    'prometheus',
    'object-store-metrics-token',
    'OBJECT_STORE_METRICS_TOKEN',
    NOBODY,
  );
  const smtpPassword = secret('alertmanager', 'smtp-password', 'SENDGRID_API_KEY', NOBODY);
  const slackWebhook = config.alerts.slack.enabled
    ? secret('alertmanager', 'slack-webhook-url', 'SLACK_WEBHOOK_URL', NOBODY)
    : undefined;
  const grafanaAdminPassword = secret('grafana', 'admin-password', 'GRAFANA_ADMIN_PASSWORD', GRAFANA_UID);

  const hostLogs = [
    { dir: '/var/log/nginx', glob: '*.log', job: 'nginx' },
    { dir: core.paths.logs, glob: '*.log', job: core.name },
  ];

  const probes = [`https://${core.domains.root}/`, `https://${core.domains.api}${core.apps.api.healthPath}`];

  const single = (target: string): TargetGroup[] => [{ targets: [target], labels: {} }];
  /** A container on the monitoring network serving /metrics over plain HTTP. */
  const containerJob = (name: string, address: { host: string; port: number }): ScrapeJob => ({
    name,
    groups: single(at(address)),
    metricsPath: '/metrics',
    scheme: 'http',
    via: 'monitoring',
  });
  /** A host-level listener on the Docker host address, reached as host.docker.internal. */
  const hostJob = (name: string, listener: CoreModel['hostListeners'][keyof CoreModel['hostListeners']]) => ({
    name,
    groups: single(`${dockerHostAlias}:${listener.port}`),
    metricsPath: listener.path,
    scheme: 'http' as const,
    via: 'host' as const,
  });
  const jobs: ScrapeJob[] = [
    {
      name: jobNames.prometheus,
      groups: single(`localhost:${addresses.prometheus.port}`),
      metricsPath: '/metrics',
      scheme: 'http',
      via: 'monitoring',
    },
    containerJob(jobNames.alertmanager, addresses.alertmanager),
    containerJob(jobNames.grafana, addresses.grafana),
    containerJob(jobNames.loki, addresses.loki),
    containerJob(jobNames.alloy, addresses.alloy),
    hostJob(jobNames.node, hostListeners.nodeExporter),
    containerJob(jobNames.cadvisor, addresses.cadvisor),
    hostJob(jobNames.docker, hostListeners.dockerd),
    // Both colours are listed: the inactive one may be stopped, so app rules look at the role, not a target.
    ...APP_ROLES.map(
      (role): ScrapeJob => ({
        name: jobNames[role],
        groups: core.colors.map((color) => ({
          targets: [`${appAlias(role, color)}:${core.apps[role].containerPort}`],
          labels: { color },
        })),
        metricsPath: '/metrics',
        scheme: 'http',
        via: 'internal',
      }),
    ),
    containerJob(jobNames.postgres, addresses.postgresExporter),
    containerJob(jobNames.redis, addresses.redisExporter),
    containerJob(jobNames.mysql, addresses.mysqlExporter),
    containerJob(jobNames.nginx, addresses.nginxExporter),
    {
      name: jobNames.blackbox,
      groups: [{ targets: probes, labels: {} }],
      metricsPath: '/probe',
      scheme: 'http',
      via: 'monitoring',
      probe: { module: 'https_2xx', exporter: at(addresses.blackboxExporter) },
      scrapeInterval: '60s',
    },
    // Garage's admin port serves /metrics with a bearer token; Garage sits on the internal network too.
    {
      name: jobNames.objectStore,
      groups: single(`${core.endpoints.objectStore.host}:${OBJECT_STORE_ADMIN_PORT}`),
      metricsPath: '/metrics',
      scheme: 'http',
      via: 'internal',
      credentialsFile: objectStoreToken.containerPath,
    },
  ];

  const allJobs = jobs.map((j) => j.name);
  const appJobs = APP_ROLES.map((r) => jobNames[r]);
  const metricJobs: Record<string, string[]> = {
    up: allJobs,
    node_cpu_seconds_total: [jobNames.node],
    node_memory_MemAvailable_bytes: [jobNames.node],
    node_memory_MemTotal_bytes: [jobNames.node],
    node_filesystem_avail_bytes: [jobNames.node],
    node_filesystem_size_bytes: [jobNames.node],
    container_last_seen: [jobNames.cadvisor],
    container_memory_working_set_bytes: [jobNames.cadvisor],
    http_requests_total: appJobs,
    http_request_duration_seconds_bucket: appJobs,
    pg_up: [jobNames.postgres],
    pg_stat_activity_count: [jobNames.postgres],
    pg_settings_max_connections: [jobNames.postgres],
    redis_up: [jobNames.redis],
    redis_memory_used_bytes: [jobNames.redis],
    redis_memory_max_bytes: [jobNames.redis],
    mysql_up: [jobNames.mysql],
    mysql_global_status_threads_connected: [jobNames.mysql],
    nginx_up: [jobNames.nginx],
    probe_success: [jobNames.blackbox],
    probe_ssl_earliest_cert_expiry: [jobNames.blackbox],
    alertmanager_notifications_failed_total: [jobNames.alertmanager],
  };

  const containerPrefix = `${core.name}-`;
  const prefix = regexLiteral(containerPrefix);
  const colourContainers = `${prefix}(${APP_ROLES.join('|')})-(${core.colors.join('|')})`;
  const apiJob = `job="${jobNames.api}"`;
  const postgresConnectionLimit = Math.floor(config.postgres.maxConnections * 0.8);
  const mysqlConnectionLimit = Math.floor(config.mysql.maxConnections * 0.8);

  const rules: AlertRule[] = [
    {
      alert: 'TargetDown',
      // Colour targets are left out: the inactive colour may be stopped (AppDown covers the roles).
      expr: `up{job!~"${appJobs.join('|')}"} == 0`,
      for: '2m',
      severity: 'critical',
      summary: 'Scrape target down',
      description: 'Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}).',
      metrics: ['up'],
    },
    {
      alert: 'AppDown',
      expr: `max by (job) (up{job=~"${appJobs.join('|')}"}) == 0`,
      for: '1m',
      severity: 'critical',
      summary: 'Application down',
      description: 'No colour of {{ $labels.job }} answers on /metrics.',
      metrics: ['up'],
    },
    {
      alert: 'ContainerDown',
      // `absent()` fired only when every container was gone, without `name`. A stopped
      // container's series ends (stale after at most 5m); last_over_time keeps its last value for an hour,
      // and `max by (name)` lets a recreated container (new id, same name) replace the old series.
      // Colour containers are left out: deployments stop the old colour on purpose (AppDown covers the roles).
      expr: `time() - max by (name) (last_over_time(container_last_seen{job="${jobNames.cadvisor}",name=~"${prefix}.+",name!~"${colourContainers}"}[1h])) > 60`,
      for: '1m',
      severity: 'critical',
      summary: 'Container down',
      description: 'Container {{ $labels.name }} has not been seen for more than 60 seconds.',
      metrics: ['container_last_seen'],
    },
    {
      alert: 'HighCPUUsage',
      expr: `100 - (avg by (instance) (rate(node_cpu_seconds_total{job="${jobNames.node}",mode="idle"}[5m])) * 100) > 80`,
      for: '5m',
      severity: 'warning',
      summary: 'High CPU usage',
      description: 'CPU usage is above 80% for more than 5 minutes on {{ $labels.instance }}.',
      metrics: ['node_cpu_seconds_total'],
    },
    {
      alert: 'HighMemoryUsage',
      expr: `(1 - node_memory_MemAvailable_bytes{job="${jobNames.node}"} / node_memory_MemTotal_bytes{job="${jobNames.node}"}) * 100 > 85`,
      for: '5m',
      severity: 'warning',
      summary: 'High memory usage',
      description: 'Memory usage is above 85% on {{ $labels.instance }}.',
      metrics: ['node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes'],
    },
    {
      alert: 'DiskSpaceLow',
      expr: `(1 - node_filesystem_avail_bytes{job="${jobNames.node}",mountpoint="/",fstype!="rootfs"} / node_filesystem_size_bytes{job="${jobNames.node}",mountpoint="/",fstype!="rootfs"}) * 100 > 80`,
      for: '5m',
      severity: 'warning',
      summary: 'Disk space low',
      description: 'The root filesystem is more than 80% full on {{ $labels.instance }}.',
      metrics: ['node_filesystem_avail_bytes', 'node_filesystem_size_bytes'],
    },
    {
      alert: 'HighResponseTime',
      expr: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${apiJob}}[5m]))) > 1`,
      for: '5m',
      severity: 'warning',
      summary: 'High API response time',
      description: 'The 95th percentile of API response time is above 1 second.',
      metrics: ['http_request_duration_seconds_bucket'],
    },
    {
      alert: 'HighErrorRate',
      expr: `sum(rate(http_requests_total{${apiJob},status=~"5.."}[5m])) / sum(rate(http_requests_total{${apiJob}}[5m])) > 0.01`,
      for: '5m',
      severity: 'critical',
      summary: 'High API error rate',
      description: 'More than 1% of API requests fail with a 5xx status.',
      metrics: ['http_requests_total'],
    },
    {
      alert: 'PostgresDown',
      expr: `pg_up{job="${jobNames.postgres}"} == 0`,
      for: '1m',
      severity: 'critical',
      summary: 'PostgreSQL unreachable',
      description: 'postgres-exporter cannot connect to PostgreSQL.',
      metrics: ['pg_up'],
    },
    {
      alert: 'DatabaseConnectionHigh',
      expr: `sum(pg_stat_activity_count{job="${jobNames.postgres}"}) > ${postgresConnectionLimit}`,
      for: '5m',
      severity: 'warning',
      summary: 'High PostgreSQL connection count',
      description: `PostgreSQL has more than ${postgresConnectionLimit} connections (80% of max_connections ${config.postgres.maxConnections}).`,
      metrics: ['pg_stat_activity_count'],
    },
    {
      alert: 'MysqlDown',
      expr: `mysql_up{job="${jobNames.mysql}"} == 0`,
      for: '1m',
      severity: 'critical',
      summary: 'MySQL unreachable',
      description: 'mysqld-exporter cannot connect to MySQL.',
      metrics: ['mysql_up'],
    },
    {
      alert: 'MysqlConnectionHigh',
      expr: `mysql_global_status_threads_connected{job="${jobNames.mysql}"} > ${mysqlConnectionLimit}`,
      for: '5m',
      severity: 'warning',
      summary: 'High MySQL connection count',
      description: `MySQL has more than ${mysqlConnectionLimit} connections (80% of max_connections ${config.mysql.maxConnections}).`,
      metrics: ['mysql_global_status_threads_connected'],
    },
    {
      alert: 'RedisDown',
      expr: `redis_up{job="${jobNames.redis}"} == 0`,
      for: '1m',
      severity: 'critical',
      summary: 'Redis unreachable',
      description: 'redis_exporter cannot connect to Redis.',
      metrics: ['redis_up'],
    },
    {
      alert: 'RedisMemoryHigh',
      // `> 0` drops the series when maxmemory is 0 (unlimited) instead of dividing by zero.
      expr: `redis_memory_used_bytes{job="${jobNames.redis}"} / (redis_memory_max_bytes{job="${jobNames.redis}"} > 0) > 0.9`,
      for: '5m',
      severity: 'warning',
      summary: 'Redis memory usage high',
      description: 'Redis uses more than 90% of its maxmemory.',
      metrics: ['redis_memory_used_bytes', 'redis_memory_max_bytes'],
    },
    {
      alert: 'NginxStatusDown',
      expr: `nginx_up{job="${jobNames.nginx}"} == 0`,
      for: '2m',
      severity: 'critical',
      summary: 'nginx status unreachable',
      description: 'nginx-prometheus-exporter cannot read the host nginx stub_status.',
      metrics: ['nginx_up'],
    },
    {
      alert: 'EndpointDown',
      expr: `probe_success{job="${jobNames.blackbox}"} == 0`,
      for: '3m',
      severity: 'critical',
      summary: 'Public endpoint failing',
      description: 'The HTTPS probe of {{ $labels.instance }} fails.',
      metrics: ['probe_success'],
    },
    {
      alert: 'SSLCertificateExpiring',
      expr: `(probe_ssl_earliest_cert_expiry{job="${jobNames.blackbox}"} - time()) / 86400 < 30`,
      for: '1h',
      severity: 'warning',
      summary: 'TLS certificate expiring soon',
      description: 'The certificate served for {{ $labels.instance }} expires in less than 30 days.',
      metrics: ['probe_ssl_earliest_cert_expiry'],
    },
    {
      alert: 'AlertmanagerNotificationsFailing',
      expr: `sum by (integration) (rate(alertmanager_notifications_failed_total{job="${jobNames.alertmanager}"}[5m])) > 0`,
      for: '10m',
      severity: 'critical',
      summary: 'Alert notifications failing',
      description: 'Alertmanager fails to deliver notifications through {{ $labels.integration }}.',
      metrics: ['alertmanager_notifications_failed_total'],
    },
  ];

  const lokiVersion = imageVersion(config.images.loki);
  type Required = 'service' | 'image' | 'networks' | 'port';
  const withDefaults = (
    s: Pick<MonitoringService, Required> & Partial<Omit<MonitoringService, Required>>,
  ): MonitoringService => ({
    containerName: core.containerName(s.service),
    command: [],
    environment: {},
    extraHosts: [],
    configMounts: [],
    hostMounts: [],
    volumes: [],
    secrets: [],
    dependsOn: [],
    ...s,
  });
  const hostGateway = [`${dockerHostAlias}:host-gateway`];
  const retention = `${config.retention.metricsDays}d`;

  const services: MonitoringService[] = [
    withDefaults({
      service: addresses.prometheus.host,
      image: config.images.prometheus,
      // No --web.enable-admin-api / --web.enable-lifecycle: reload with SIGHUP.
      command: [
        `--config.file=${containerPaths.prometheusConfig}`,
        '--storage.tsdb.path=/prometheus',
        `--storage.tsdb.retention.time=${retention}`,
      ],
      networks: ['monitoring', 'internal'],
      extraHosts: hostGateway,
      port: addresses.prometheus.port,
      publish: {
        hostIp: '127.0.0.1',
        hostPort: core.hostPorts.prometheus,
        containerPort: addresses.prometheus.port,
      },
      configMounts: [{ source: 'monitoring/prometheus', target: '/etc/prometheus' }],
      volumes: [{ name: 'prometheus-data', target: '/prometheus' }],
      secrets: [objectStoreToken],
      healthcheck: httpCheck(`http://127.0.0.1:${addresses.prometheus.port}/-/healthy`, '30s'),
      dependsOn: [addresses.alertmanager.host],
    }),
    withDefaults({
      service: addresses.alertmanager.host,
      image: config.images.alertmanager,
      command: [
        `--config.file=${containerPaths.alertmanagerConfig}`,
        '--storage.path=/alertmanager',
        // A single instance: no gossip listener.
        '--cluster.listen-address=',
      ],
      networks: ['monitoring'],
      port: addresses.alertmanager.port,
      publish: {
        hostIp: '127.0.0.1',
        hostPort: core.hostPorts.alertmanager,
        containerPort: addresses.alertmanager.port,
      },
      configMounts: [{ source: 'monitoring/alertmanager', target: '/etc/alertmanager' }],
      volumes: [{ name: 'alertmanager-data', target: '/alertmanager' }],
      secrets: slackWebhook ? [smtpPassword, slackWebhook] : [smtpPassword],
      healthcheck: httpCheck(`http://127.0.0.1:${addresses.alertmanager.port}/-/healthy`),
    }),
    withDefaults({
      service: addresses.grafana.host,
      image: config.images.grafana,
      environment: { GF_SECURITY_ADMIN_PASSWORD__FILE: grafanaAdminPassword.containerPath },
      networks: ['monitoring'],
      port: addresses.grafana.port,
      publish: {
        hostIp: '127.0.0.1',
        hostPort: core.hostPorts.grafana,
        containerPort: addresses.grafana.port,
      },
      configMounts: [
        { source: files.grafanaIni, target: containerPaths.grafanaIni },
        { source: 'monitoring/grafana/provisioning', target: containerPaths.grafanaProvisioning },
        { source: 'monitoring/grafana/dashboards', target: containerPaths.grafanaDashboards },
      ],
      volumes: [{ name: 'grafana-data', target: '/var/lib/grafana' }],
      secrets: [grafanaAdminPassword],
      healthcheck: httpCheck(`http://127.0.0.1:${addresses.grafana.port}/api/health`, '60s'),
      dependsOn: [addresses.prometheus.host, addresses.loki.host],
    }),
    withDefaults({
      service: addresses.loki.host,
      image: config.images.loki,
      command: [`-config.file=${containerPaths.lokiConfig}`],
      networks: ['monitoring'],
      port: addresses.loki.port,
      configMounts: [{ source: 'monitoring/loki', target: '/etc/loki' }],
      volumes: [{ name: 'loki-data', target: containerPaths.lokiData }],
      ...(atLeast(lokiVersion, [3, 7, 0])
        ? {
            healthcheck: {
              test: ['CMD', '/usr/bin/loki', '-health'],
              interval: '30s',
              timeout: '5s',
              retries: 3,
              startPeriod: '30s',
            },
          }
        : {
            healthcheckNote:
              'Loki images before 3.7 have no `-health` flag and 3.6+ are distroless (no wget); Prometheus `up{job="loki"}` watches it.',
          }),
    }),
    withDefaults({
      service: addresses.alloy.host,
      image: config.images.alloy,
      command: [
        'run',
        `--server.http.listen-addr=0.0.0.0:${addresses.alloy.port}`,
        `--storage.path=${containerPaths.alloyData}`,
        '--disable-reporting',
        containerPaths.alloyConfig,
      ],
      networks: ['monitoring'],
      port: addresses.alloy.port,
      configMounts: [{ source: 'monitoring/alloy', target: '/etc/alloy' }],
      // The socket is root-equivalent even read-only; Alloy only lists containers and reads their logs.
      hostMounts: [
        { source: containerPaths.dockerSocket, target: containerPaths.dockerSocket, readOnly: true },
        ...hostLogs.map((l) => ({ source: l.dir, target: l.dir, readOnly: true })),
      ],
      volumes: [{ name: 'alloy-data', target: containerPaths.alloyData }],
      healthcheckNote: 'The Alloy image has no curl or wget; Prometheus `up{job="alloy"}` watches it.',
      dependsOn: [addresses.loki.host],
    }),
    withDefaults({
      service: addresses.nodeExporter.host,
      image: config.images.nodeExporter,
      command: [
        '--path.rootfs=/host',
        '--path.procfs=/host/proc',
        '--path.sysfs=/host/sys',
        `--web.listen-address=${dockerHostIp}:${addresses.nodeExporter.port}`,
        // `\z` rather than `$`, which compose would try to interpolate.
        '--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/docker/.+|var/lib/containers/storage/.+|snap/.+)(/|\\z)',
      ],
      networks: [],
      networkMode: 'host',
      pid: 'host',
      port: addresses.nodeExporter.port,
      hostMounts: [{ source: '/', target: '/host', readOnly: true, propagation: 'rslave' }],
      healthcheck: httpCheck(`http://${dockerHostIp}:${addresses.nodeExporter.port}/`),
    }),
    withDefaults({
      service: addresses.cadvisor.host,
      image: config.images.cadvisor,
      command: ['--docker_only=true', '--housekeeping_interval=15s', '--store_container_labels=false'],
      networks: ['monitoring'],
      privileged: { reason: 'cAdvisor reads the cgroups, /dev/kmsg and disk statistics of every container' },
      devices: ['/dev/kmsg'],
      port: addresses.cadvisor.port,
      hostMounts: [
        { source: '/', target: '/rootfs', readOnly: true },
        { source: '/var/run', target: '/var/run', readOnly: true },
        { source: '/sys', target: '/sys', readOnly: true },
        { source: '/var/lib/docker', target: '/var/lib/docker', readOnly: true },
        { source: '/dev/disk', target: '/dev/disk', readOnly: true },
      ],
      healthcheck: httpCheck(`http://127.0.0.1:${addresses.cadvisor.port}/healthz`),
    }),
    withDefaults({
      service: addresses.postgresExporter.host,
      image: config.images.postgresExporter,
      environment: {
        DATA_SOURCE_URI: `${core.endpoints.postgres.host}:${core.endpoints.postgres.port}/${config.postgres.database}?sslmode=disable`,
        DATA_SOURCE_USER: config.postgres.user,
        DATA_SOURCE_PASS: { fromEnv: 'POSTGRES_PASSWORD' },
      },
      networks: ['database', 'monitoring'],
      port: addresses.postgresExporter.port,
      healthcheck: httpCheck(`http://127.0.0.1:${addresses.postgresExporter.port}/`),
    }),
    withDefaults({
      service: addresses.redisExporter.host,
      image: config.images.redisExporter,
      environment: {
        REDIS_ADDR: `redis://${core.endpoints.redis.host}:${core.endpoints.redis.port}`,
        REDIS_PASSWORD: { fromEnv: 'REDIS_PASSWORD' },
      },
      networks: ['database', 'monitoring'],
      port: addresses.redisExporter.port,
      healthcheckNote: 'oliver006/redis_exporter is FROM scratch (no shell, no wget).',
    }),
    withDefaults({
      service: addresses.mysqlExporter.host,
      image: config.images.mysqlExporter,
      command: [
        `--mysqld.address=${core.endpoints.mysql.host}:${core.endpoints.mysql.port}`,
        '--mysqld.username=root',
      ],
      environment: { MYSQLD_EXPORTER_PASSWORD: { fromEnv: 'MYSQL_ROOT_PASSWORD' } },
      networks: ['database', 'monitoring'],
      port: addresses.mysqlExporter.port,
      healthcheck: httpCheck(`http://127.0.0.1:${addresses.mysqlExporter.port}/`),
    }),
    withDefaults({
      service: addresses.nginxExporter.host,
      image: config.images.nginxExporter,
      command: [
        `--nginx.scrape-uri=http://${dockerHostAlias}:${hostListeners.nginxStatus.port}${hostListeners.nginxStatus.path}`,
      ],
      networks: ['monitoring'],
      extraHosts: hostGateway,
      port: addresses.nginxExporter.port,
      healthcheckNote: 'nginx/nginx-prometheus-exporter is FROM scratch (no shell, no wget).',
    }),
    withDefaults({
      service: addresses.blackboxExporter.host,
      image: config.images.blackboxExporter,
      command: [`--config.file=${containerPaths.blackboxConfig}`],
      networks: ['monitoring'],
      port: addresses.blackboxExporter.port,
      configMounts: [{ source: 'monitoring/blackbox', target: '/etc/blackbox' }],
      healthcheck: httpCheck(`http://127.0.0.1:${addresses.blackboxExporter.port}/-/healthy`),
    }),
  ];
  return {
    files,
    containerPaths,
    addresses,
    dockerHostAlias,
    hostListeners,
    scrapeInterval: '15s',
    evaluationInterval: '15s',
    externalLabels: { environment: 'production', project: core.name },
    jobs,
    jobNames,
    probes,
    rules,
    ruleGroup: core.name,
    metricJobs,
    hostLogs,
    containerPrefix,
    grafana: {
      datasources: {
        prometheus: { uid: 'prometheus', url: `http://${at(addresses.prometheus)}` },
        loki: { uid: 'loki', url: `http://${at(addresses.loki)}` },
      },
      dashboard: { uid: `${core.name}-overview`, title: `${core.title} / Overview` },
      adminUser: 'admin',
    },
    alertmanagerSecrets: slackWebhook ? { smtpPassword, slackWebhook } : { smtpPassword },
    services,
  };
}

/** Upper-case variable name: `node-exporter` -> `NODE_EXPORTER`. */
const envName = (service: string) => service.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/** The resources entry of the site configuration that sizes each monitoring container. */
const resourceKey = (service: string): ResourceKey =>
  (['prometheus', 'alertmanager', 'grafana', 'loki', 'alloy', 'cadvisor'] as const).find(
    (k) => k === service,
  ) ?? 'exporter';

/** The monitoring services in the compose model's shape (src/model/compose.ts), for buildStacks. */
export function monitoringComposeServices(
  core: CoreModel,
  m: MonitoringModel,
): {
  services: ServiceSpec[];
  volumes: string[];
} {
  const healthy = new Set(m.services.filter((s) => s.healthcheck).map((s) => s.service));
  const services = m.services.map((s): ServiceSpec => {
    const environment = Object.fromEntries(
      Object.entries(s.environment).map(([k, v]) => [k, typeof v === 'string' ? v : requiredVar(v.fromEnv)]),
    );
    const mounts: Mount[] = [
      ...s.configMounts.map((c) => ({ kind: 'tree' as const, source: c.source, target: c.target })),
      ...s.hostMounts.map((h) => ({
        kind: 'host' as const,
        source: h.source,
        target: h.target,
        readOnly: h.readOnly,
      })),
      ...s.volumes.map((v) => ({ kind: 'volume' as const, name: v.name, target: v.target })),
    ];
    const spec: ServiceSpec = {
      name: s.service,
      containerName: s.containerName,
      image: { ref: s.image, variable: `${envName(s.service)}_IMAGE` },
      healthcheck: s.healthcheck ?? { none: s.healthcheckNote ?? 'no check available' },
      mounts,
      resources: core.resources[resourceKey(s.service)],
    };
    if (s.secrets.length > 0) spec.secrets = [...s.secrets];
    if (s.command.length > 0) spec.command = [...s.command];
    if (Object.keys(environment).length > 0) spec.environment = environment;
    if (s.publish) spec.ports = [{ host: s.publish.hostPort, container: s.publish.containerPort }];
    if (s.networks.length > 0)
      spec.networks = Object.fromEntries(s.networks.map((n) => [n, { aliases: [s.service] }]));
    if (s.networkMode === 'host') spec.hostNetwork = true;
    if (s.pid === 'host') spec.hostPid = true;
    if (s.extraHosts.length > 0) spec.extraHosts = [...s.extraHosts];
    if (s.privileged)
      spec.privileged = { reason: 'cAdvisor reads cgroups, /dev/kmsg and disk stats of every container' };
    if (s.devices) spec.devices = [...s.devices];
    if (s.dependsOn.length > 0) {
      spec.dependsOn = Object.fromEntries(
        s.dependsOn.map((d) => [
          d,
          healthy.has(d) ? ('service_healthy' as const) : ('service_started' as const),
        ]),
      );
    }
    return spec;
  });
  const volumes = [...new Set(m.services.flatMap((s) => s.volumes.map((v) => v.name)))];
  return { services, volumes };
}
