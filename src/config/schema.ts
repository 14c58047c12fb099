import { z } from 'zod';
import { cloudflareIpRanges } from './cloudflare-ranges.ts';

// The site configuration: every field has a default that reproduces the specification, so an empty
// `defineConfig({})` describes the Smart Academy production server. Objects are strict: an unknown
// key is an error, not a silent no-op.

const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a lower-case DNS name');
const dnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a DNS label such as "api"');
const imageName = z.string().regex(/^[a-z0-9][a-z0-9._/-]*$/, 'an image name without tag');
const absolutePath = z.string().regex(/^\/[^\s]*[^/\s]$|^\/$/, 'an absolute path without trailing slash');
const email = z.email('an e-mail address');
const cidr = z
  .string()
  .regex(
    /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-f:]+\/\d{1,3})$/i,
    'an IPv4 or IPv6 CIDR such as 10.0.0.0/8',
  );
const imageRef = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._/:-]*:[A-Za-z0-9._-]*\d[A-Za-z0-9._-]*$/,
    'an image reference with an explicit version tag (never "latest"), e.g. postgres:17.11-alpine',
  );
/** A memory limit: a share of the server's memory ("12.5%") or an absolute size ("512MiB", "2GiB"). */
const memory = z
  .string()
  .regex(/^(\d+(\.\d+)?%|\d+(MiB|GiB))$/, 'a share such as "12.5%" or a size such as "2GiB"');
const resources = (cpus: number, mem: string, reserveCpus: number, reserveMem: string) =>
  z.strictObject({
    cpus: z.number().positive().max(256).default(cpus),
    memory: memory.default(mem),
    reserveCpus: z.number().nonnegative().default(reserveCpus),
    reserveMemory: memory.default(reserveMem),
  });
const days = (d: number) => z.int().min(1).max(3650).default(d);

const defaultCsp = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
  "font-src 'self' https://fonts.gstatic.com",
  "img-src 'self' data: https: blob:",
  "connect-src 'self' https://api.smartacademy.edu.bd wss://api.smartacademy.edu.bd wss://smartacademy.edu.bd",
  "frame-ancestors 'self'",
  "base-uri 'self'",
  "object-src 'none'",
].join('; ');

export const siteConfigSchema = z.strictObject({
  /** Short name: prefix of compose projects, containers, networks and files. */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,30}$/, 'a lower-case name of 2-31 letters, digits or dashes')
    .default('smart-academy'),
  /** Human name used in dashboards and messages. */
  title: z.string().min(1).default('Smart Academy'),
  /** The apex domain; the site answers on it and on the sub-domains below. */
  domain: hostname.default('smartacademy.edu.bd'),
  /** Sub-domain labels (prefixed to `domain`). */
  subdomains: z
    .strictObject({
      www: dnsLabel.default('www'),
      api: dnsLabel.default('api'),
      admin: dnsLabel.default('admin'),
      grafana: dnsLabel.default('grafana'),
      gibbon: dnsLabel.default('gibbon'),
    })
    .prefault({}),
  /** IANA time zone of the server, the databases and the cron schedule. */
  timezone: z
    .string()
    .regex(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/, 'an IANA time zone such as Asia/Dhaka')
    .default('Asia/Dhaka'),
  paths: z
    .strictObject({
      /** Where the rendered tree is installed on the server. */
      app: absolutePath.default('/app/smart-academy'),
      /** Bind-mounted data of the data services. */
      data: absolutePath.default('/data'),
      /** Local backup target. */
      backups: absolutePath.default('/backups'),
      /** Host log directory of the platform's own jobs. */
      logs: absolutePath.default('/var/log/smart-academy'),
    })
    .prefault({}),
  server: z
    .strictObject({
      memoryGiB: z.number().min(2).max(4096).default(16),
      cpus: z.int().min(1).max(512).default(8),
      disk: z.enum(['ssd', 'hdd']).default('ssd'),
      swapGiB: z.number().min(0).max(256).default(4),
      /** The unprivileged account that runs deployments and backups. */
      deployUser: z
        .string()
        .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a Linux user name')
        .default('deploy'),
      sshPort: z.int().min(1).max(65535).default(22),
      /** Docker's default bridge (docker0) address; host-level exporters listen here for Prometheus. */
      dockerBridgeCidr: z
        .string()
        .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'an IPv4 address with prefix, e.g. 172.17.0.1/16')
        .default('172.17.0.1/16'),
    })
    .prefault({}),
  /** Container limits and reservations. Memory is a share of `server.memoryGiB` or an absolute size. */
  resources: z
    .strictObject({
      api: resources(2, '12.5%', 0.5, '3.125%').prefault({}),
      web: resources(1, '6.25%', 0.25, '1.5625%').prefault({}),
      admin: resources(1, '6.25%', 0.25, '1.5625%').prefault({}),
      postgres: resources(4, '50%', 1, '12.5%').prefault({}),
      mysql: resources(2, '25%', 0.5, '6.25%').prefault({}),
      redis: resources(1, '12.5%', 0.25, '1.5625%').prefault({}),
      objectStore: resources(1, '6.25%', 0.25, '1.5625%').prefault({}),
      gibbon: resources(1, '6.25%', 0.25, '1.5625%').prefault({}),
      prometheus: resources(1, '1GiB', 0.25, '256MiB').prefault({}),
      alertmanager: resources(0.25, '128MiB', 0.05, '32MiB').prefault({}),
      grafana: resources(0.5, '512MiB', 0.1, '128MiB').prefault({}),
      loki: resources(1, '1GiB', 0.25, '256MiB').prefault({}),
      alloy: resources(0.5, '256MiB', 0.1, '64MiB').prefault({}),
      cadvisor: resources(0.5, '256MiB', 0.1, '64MiB').prefault({}),
      /** Each exporter (node, PostgreSQL, MySQL, Redis, nginx, blackbox). */
      exporter: resources(0.25, '128MiB', 0.05, '32MiB').prefault({}),
    })
    .prefault({}),
  /** Every image pinned by explicit version. Application images take the release tag at deploy time. */
  images: z
    .strictObject({
      api: imageName.default('ghcr.io/smart-academy/api'),
      web: imageName.default('ghcr.io/smart-academy/web'),
      admin: imageName.default('ghcr.io/smart-academy/admin'),
      /** The application release deployed when none is given. */
      appVersion: z
        .string()
        .regex(/^[0-9a-z][0-9a-z._-]*$/i, 'a release tag such as 1.4.2')
        .refine((t) => t !== 'latest', 'an explicit release, not "latest"')
        .default('1.0.0'),
      postgres: imageRef.default('postgres:17.11-alpine'),
      mysql: imageRef.default('mysql:8.4.11'),
      redis: imageRef.default('redis:7.4.11-alpine'),
      /** S3-compatible object store: Garage (MinIO's community edition is archived). */
      objectStore: imageRef.default('dxflrs/garage:v2.4.1'),
      /** Gibbon publishes no official image: build one (see docs/decisions.md) and pin its tag here. */
      gibbon: imageRef.default('ghcr.io/smart-academy/gibbon:30.0.03'),
      prometheus: imageRef.default('prom/prometheus:v3.13.3'),
      alertmanager: imageRef.default('prom/alertmanager:v0.34.1'),
      grafana: imageRef.default('grafana/grafana:12.4.11'),
      loki: imageRef.default('grafana/loki:3.7.8'),
      alloy: imageRef.default('grafana/alloy:v1.20.1'),
      nodeExporter: imageRef.default('prom/node-exporter:v1.12.1'),
      cadvisor: imageRef.default('ghcr.io/google/cadvisor:v0.60.5'),
      postgresExporter: imageRef.default('prometheuscommunity/postgres-exporter:v0.20.1'),
      mysqlExporter: imageRef.default('prom/mysqld-exporter:v0.19.0'),
      redisExporter: imageRef.default('oliver006/redis_exporter:v1.93.0'),
      nginxExporter: imageRef.default('nginx/nginx-prometheus-exporter:1.5.1'),
      blackboxExporter: imageRef.default('prom/blackbox-exporter:v0.29.0'),
    })
    .prefault({}),
  retention: z
    .strictObject({
      metricsDays: days(30),
      logsDays: days(30),
      databaseBackupDays: days(30),
      fileBackupDays: days(14),
      hostLogDays: days(14),
      nginxLogDays: days(30),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      from: email.default('alerts@smartacademy.edu.bd'),
      smtp: z
        .strictObject({
          host: z.string().min(1).default('smtp.sendgrid.net'),
          port: z.int().min(1).max(65535).default(587),
          username: z.string().min(1).default('apikey'),
        })
        .prefault({}),
      /** Receives every alert. */
      team: z.array(email).min(1).default(['devops@smartacademy.edu.bd']),
      /** Also receive critical alerts. */
      critical: z.array(email).default(['management@smartacademy.edu.bd']),
      /** Post critical alerts to Slack; the webhook URL lives in a secret file, never in the config. */
      slack: z
        .strictObject({ enabled: z.boolean().default(true), channel: z.string().min(1).default('#alerts') })
        .prefault({}),
    })
    .prefault({}),
  edge: z
    .strictObject({
      /** nginx version on the server: decides `http2 on;` (>= 1.25.1) or `listen ... http2`. */
      nginxVersion: z
        .string()
        .regex(/^\d+\.\d+\.\d+$/, 'a version such as 1.24.0')
        .default('1.24.0'),
      tls: z
        .strictObject({
          certificate: absolutePath.default('/etc/nginx/ssl/cloudflare-origin.pem'),
          key: absolutePath.default('/etc/nginx/ssl/cloudflare-origin-key.pem'),
        })
        .prefault({}),
      cloudflare: z
        .strictObject({
          /** Only requests from these ranges may set CF-Connecting-IP. */
          ipRanges: z
            .array(cidr)
            .min(1)
            .default([...cloudflareIpRanges]),
          /** Authenticated origin pulls: nginx requires Cloudflare's client certificate. */
          authenticatedOriginPulls: z.boolean().default(true),
          originPullCa: absolutePath.default('/etc/nginx/ssl/cloudflare-origin-pull-ca.pem'),
        })
        .prefault({}),
      hsts: z
        .strictObject({
          enabled: z.boolean().default(true),
          maxAgeSeconds: z.int().min(0).default(31_536_000),
          includeSubDomains: z.boolean().default(true),
          preload: z.boolean().default(false),
        })
        .prefault({}),
      contentSecurityPolicy: z.string().min(1).default(defaultCsp),
      /** Origins allowed by the API's CORS policy (the main site by default). */
      corsOrigins: z.array(z.url()).min(1).optional(),
      rateLimits: z
        .strictObject({
          generalPerSecond: z.int().min(1).default(10),
          apiPerSecond: z.int().min(1).default(30),
          loginPerMinute: z.int().min(1).default(5),
          connectionsPerClient: z.int().min(1).default(50),
          /** Clients exempt from rate limits (monitoring probes, load tests). */
          exempt: z.array(cidr).default([]),
        })
        .prefault({}),
      uploadLimitMiB: z.int().min(1).max(10_240).default(100),
      /**
       * Client ranges allowed on the admin and Grafana sites, in addition to their own login. Empty means
       * open to their login pages (put Cloudflare Access or a VPN in front, or list the school's ranges).
       */
      adminAllowlist: z.array(cidr).default([]),
    })
    .prefault({}),
  postgres: z
    .strictObject({
      database: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a PostgreSQL identifier')
        .default('smart_academy'),
      user: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a PostgreSQL identifier')
        .default('smart_academy'),
      maxConnections: z.int().min(10).max(5000).default(200),
      /** Read-only role for analytics (password in the env file). */
      analyticsUser: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a PostgreSQL identifier')
        .default('analytics'),
      /** Continuous WAL archiving (point-in-time recovery) arrives with the backup work; off until then. */
      walArchiving: z.boolean().default(false),
    })
    .prefault({}),
  mysql: z
    .strictObject({
      database: z
        .string()
        .regex(/^[a-zA-Z0-9_]{1,64}$/, 'a MySQL identifier')
        .default('gibbon'),
      user: z
        .string()
        .regex(/^[a-zA-Z0-9_]{1,32}$/, 'a MySQL user name')
        .default('gibbon'),
      maxConnections: z.int().min(10).max(10_000).default(200),
    })
    .prefault({}),
  /** Which colour serves traffic now; deployments switch it. */
  activeColor: z.enum(['blue', 'green']).default('blue'),
});

export type SiteConfigInput = z.input<typeof siteConfigSchema>;
export type SiteConfig = z.output<typeof siteConfigSchema>;
