// The site configuration of the Smart Academy platform. Every field is optional: what is left out takes the
// default shown here (the values of the infrastructure specification). Change a value, then run
// `npx academy synth` to re-render infrastructure/ and `npx academy synth --check` in CI.
import { defineConfig } from './src/config/define.ts';

export default defineConfig({
  // Prefix of compose projects, containers, networks and host files.
  name: 'smart-academy',
  title: 'Smart Academy',
  // The apex domain; sub-domains are `<label>.<domain>`.
  domain: 'smartacademy.edu.bd',
  subdomains: { www: 'www', api: 'api', admin: 'admin', grafana: 'grafana', gibbon: 'gibbon' },
  // Server time zone, also used by PostgreSQL, MySQL and the containers.
  timezone: 'Asia/Dhaka',
  paths: {
    app: '/app/smart-academy', // where infrastructure/ is installed on the server
    data: '/data', // bind-mounted data of PostgreSQL, MySQL, Redis, the object store and Gibbon
    backups: '/backups',
    logs: '/var/log/smart-academy',
  },
  // The machine: memory and CPUs size every container limit given as a share, and the database tuning.
  server: {
    memoryGiB: 16,
    cpus: 8,
    disk: 'ssd', // 'ssd' or 'hdd': planner costs and I/O concurrency
    swapGiB: 4, // 0 for none
    deployUser: 'deploy', // runs deployments and backups; no password-less root
    sshPort: 22,
    dockerBridgeCidr: '172.17.0.1/16', // docker0; host exporters listen on its address for Prometheus
  },
  // Container limits. Memory is a share of server.memoryGiB ("50%") or a size ("512MiB", "2GiB").
  // Applications count twice for reservations: blue and green run side by side during a deployment.
  resources: {
    api: { cpus: 2, memory: '12.5%', reserveCpus: 0.5, reserveMemory: '3.125%' },
    web: { cpus: 1, memory: '6.25%', reserveCpus: 0.25, reserveMemory: '1.5625%' },
    admin: { cpus: 1, memory: '6.25%', reserveCpus: 0.25, reserveMemory: '1.5625%' },
    postgres: { cpus: 4, memory: '50%', reserveCpus: 1, reserveMemory: '12.5%' },
    mysql: { cpus: 2, memory: '25%', reserveCpus: 0.5, reserveMemory: '6.25%' },
    redis: { cpus: 1, memory: '12.5%', reserveCpus: 0.25, reserveMemory: '1.5625%' },
    objectStore: { cpus: 1, memory: '6.25%', reserveCpus: 0.25, reserveMemory: '1.5625%' },
    gibbon: { cpus: 1, memory: '6.25%', reserveCpus: 0.25, reserveMemory: '1.5625%' },
    prometheus: { cpus: 1, memory: '1GiB', reserveCpus: 0.25, reserveMemory: '256MiB' },
    alertmanager: { cpus: 0.25, memory: '128MiB', reserveCpus: 0.05, reserveMemory: '32MiB' },
    grafana: { cpus: 0.5, memory: '512MiB', reserveCpus: 0.1, reserveMemory: '128MiB' },
    loki: { cpus: 1, memory: '1GiB', reserveCpus: 0.25, reserveMemory: '256MiB' },
    alloy: { cpus: 0.5, memory: '256MiB', reserveCpus: 0.1, reserveMemory: '64MiB' },
    cadvisor: { cpus: 0.5, memory: '256MiB', reserveCpus: 0.1, reserveMemory: '64MiB' },
    exporter: { cpus: 0.25, memory: '128MiB', reserveCpus: 0.05, reserveMemory: '32MiB' }, // each exporter
  },
  // Every image pinned by version. Application images take APP_VERSION at deploy time.
  images: {
    api: 'ghcr.io/smart-academy/api',
    web: 'ghcr.io/smart-academy/web',
    admin: 'ghcr.io/smart-academy/admin',
    appVersion: '1.0.0',
    postgres: 'postgres:17.11-alpine',
    mysql: 'mysql:8.4.11',
    redis: 'redis:7.4.11-alpine',
    objectStore: 'dxflrs/garage:v2.4.1', // Garage: MinIO's community edition is archived
    gibbon: 'ghcr.io/smart-academy/gibbon:30.0.03', // built by the school: Gibbon ships no official image
    prometheus: 'prom/prometheus:v3.13.3',
    alertmanager: 'prom/alertmanager:v0.34.1',
    grafana: 'grafana/grafana:12.4.11',
    loki: 'grafana/loki:3.7.8',
    alloy: 'grafana/alloy:v1.20.1',
    nodeExporter: 'prom/node-exporter:v1.12.1',
    cadvisor: 'ghcr.io/google/cadvisor:v0.60.5',
    postgresExporter: 'prometheuscommunity/postgres-exporter:v0.20.1',
    mysqlExporter: 'prom/mysqld-exporter:v0.19.0',
    redisExporter: 'oliver006/redis_exporter:v1.93.0',
    nginxExporter: 'nginx/nginx-prometheus-exporter:1.5.1',
    blackboxExporter: 'prom/blackbox-exporter:v0.29.0',
  },
  retention: {
    metricsDays: 30, // Prometheus TSDB
    logsDays: 30, // Loki
    databaseBackupDays: 30,
    fileBackupDays: 14,
    hostLogDays: 14, // logrotate of paths.logs
    nginxLogDays: 30,
  },
  alerts: {
    from: 'alerts@smartacademy.edu.bd',
    smtp: { host: 'smtp.sendgrid.net', port: 587, username: 'apikey' }, // password: SENDGRID_API_KEY
    team: ['devops@smartacademy.edu.bd'], // every alert
    critical: ['management@smartacademy.edu.bd'], // critical alerts too
    slack: { enabled: true, channel: '#alerts' }, // webhook: SLACK_WEBHOOK_URL in the env file
  },
  edge: {
    nginxVersion: '1.24.0', // Ubuntu 24.04; decides `http2 on;` (>= 1.25.1) or `listen ... http2`
    tls: {
      certificate: '/etc/nginx/ssl/cloudflare-origin.pem',
      key: '/etc/nginx/ssl/cloudflare-origin-key.pem',
    },
    cloudflare: {
      // ipRanges: Cloudflare's published ranges by default (src/config/cloudflare-ranges.ts says how to refresh).
      authenticatedOriginPulls: true, // nginx requires Cloudflare's client certificate
      originPullCa: '/etc/nginx/ssl/cloudflare-origin-pull-ca.pem',
    },
    hsts: { enabled: true, maxAgeSeconds: 31_536_000, includeSubDomains: true, preload: false },
    // contentSecurityPolicy: a strict default without 'unsafe-eval' (src/config/schema.ts).
    // corsOrigins: defaults to the main site (https://<domain> and https://www.<domain>).
    rateLimits: {
      generalPerSecond: 10,
      apiPerSecond: 30,
      loginPerMinute: 5,
      connectionsPerClient: 50,
      exempt: [], // CIDRs never rate limited (monitoring probes, load tests)
    },
    uploadLimitMiB: 100,
    adminAllowlist: [], // CIDRs allowed on admin and Grafana; empty: open to their login pages
  },
  postgres: {
    database: 'smart_academy',
    user: 'smart_academy',
    maxConnections: 200,
    analyticsUser: 'analytics',
    walArchiving: false, // point-in-time recovery arrives with the backup work
  },
  mysql: { database: 'gibbon', user: 'gibbon', maxConnections: 200 },
  // The colour serving traffic; deployments switch it.
  activeColor: 'blue',
});
