import { memoryMiB } from '../config/memory.ts';
import type { SiteConfig } from '../config/schema.ts';

// The names, ports, networks and paths every other part of the model and every renderer uses.
// Each is decided here, once.

export const COLORS = ['blue', 'green'] as const;
export type Color = (typeof COLORS)[number];

export const APP_ROLES = ['api', 'web', 'admin'] as const;
export type AppRole = (typeof APP_ROLES)[number];

export const DATA_SERVICES = ['postgres', 'mysql', 'redis', 'objectStore', 'gibbon'] as const;
export type DataService = (typeof DATA_SERVICES)[number];

export type ResourceKey = keyof SiteConfig['resources'];

export interface Resources {
  cpus: number;
  memoryMiB: number;
  reserveCpus: number;
  reserveMemoryMiB: number;
}

export interface App {
  role: AppRole;
  /** Port the process listens on inside its container. */
  containerPort: number;
  healthPath: string;
  /** Loopback port nginx uses for each colour. */
  hostPort: Record<Color, number>;
  /** nginx upstream that carries this role's traffic. */
  upstream: string;
  image: string;
}

export interface Network {
  /** Docker network name, shared by every compose project that joins it. */
  name: string;
  subnet: string;
  /** No route to the outside world. */
  internal: boolean;
  /** Linux bridge interface name, so firewall rules can name it. */
  bridge: string;
}

export type NetworkKey = 'internal' | 'database' | 'monitoring';

export interface Endpoint {
  host: string;
  port: number;
}

export interface CoreModel {
  config: SiteConfig;
  name: string;
  title: string;
  domains: { root: string; www: string; api: string; admin: string; grafana: string; gibbon: string };
  paths: SiteConfig['paths'] & {
    /** The compose env file holding every secret, mode 0600, on the server. */
    envFile: string;
    /** Secret files mounted into containers that read `*_file` settings. */
    secretsDir: string;
  };
  /** Paths inside the installed tree that hold server state (secrets), relative to the tree: synth keeps them. */
  localState: readonly string[];
  colors: readonly Color[];
  activeColor: Color;
  apps: Record<AppRole, App>;
  networks: Record<NetworkKey, Network>;
  /** Where containers reach the data services (service name on the database network). */
  endpoints: Record<'postgres' | 'mysql' | 'redis' | 'objectStore', Endpoint>;
  /** Loopback ports published by Docker on the host (besides the applications' colour ports). */
  hostPorts: {
    gibbon: number;
    grafana: number;
    prometheus: number;
    alertmanager: number;
    objectStore: number;
  };
  /** The host's address on Docker's default bridge: host-level exporters listen here for Prometheus. */
  dockerHostIp: string;
  /** Host-level metrics endpoints on dockerHostIp (the firewall opens them to the monitoring bridge only). */
  hostListeners: Record<
    'nodeExporter' | 'dockerd' | 'nginxStatus',
    { address: string; port: number; path: string }
  >;
  resources: Record<ResourceKey, Resources>;
  /** Compose project names. */
  projects: { data: string; monitoring: string } & Record<Color, string>;
  /** Container name of a service in a project, e.g. smart-academy-api-blue. */
  containerName: (service: string, color?: Color) => string;
}

/** Inside the installed tree: the env file Compose reads (beside the compose files) and the secret files. */
const ENV_FILE = 'docker/.env';
const SECRETS_DIR = 'secrets';

/** Application image reference; the release tag comes from APP_VERSION at deploy time. */
const appImage = (config: SiteConfig, role: AppRole) =>
  `${config.images[role]}:\${APP_VERSION:-${config.images.appVersion}}`;

export function buildCore(config: SiteConfig): CoreModel {
  const { name, domain, subdomains } = config;
  const sub = (label: string) => `${label}.${domain}`;
  const resources = Object.fromEntries(
    Object.entries(config.resources).map(([key, r]) => [
      key,
      {
        cpus: r.cpus,
        memoryMiB: memoryMiB(r.memory, config.server.memoryGiB),
        reserveCpus: r.reserveCpus,
        reserveMemoryMiB: memoryMiB(r.reserveMemory, config.server.memoryGiB),
      },
    ]),
  ) as Record<ResourceKey, Resources>;

  const app = (
    role: AppRole,
    containerPort: number,
    healthPath: string,
    blue: number,
    green: number,
  ): App => ({
    role,
    containerPort,
    healthPath,
    hostPort: { blue, green },
    upstream: `${role}_backend`,
    image: appImage(config, role),
  });

  const short = name.replace(/-/g, '').slice(0, 6);
  const dockerHostIp = config.server.dockerBridgeCidr.split('/')[0] as string;
  return {
    config,
    name,
    title: config.title,
    domains: {
      root: domain,
      www: sub(subdomains.www),
      api: sub(subdomains.api),
      admin: sub(subdomains.admin),
      grafana: sub(subdomains.grafana),
      gibbon: sub(subdomains.gibbon),
    },
    paths: {
      ...config.paths,
      envFile: `${config.paths.app}/${ENV_FILE}`,
      secretsDir: `${config.paths.app}/${SECRETS_DIR}`,
    },
    localState: [ENV_FILE, `${SECRETS_DIR}/`],
    colors: COLORS,
    activeColor: config.activeColor,
    apps: {
      api: app('api', 4000, '/health', 4000, 4001),
      web: app('web', 3000, '/api/health', 3000, 3002),
      admin: app('admin', 3001, '/api/health', 3001, 3003),
    },
    networks: {
      internal: {
        name: `${name}-internal`,
        subnet: '172.20.0.0/24',
        internal: false,
        bridge: `br-${short}-int`,
      },
      database: {
        name: `${name}-database`,
        subnet: '172.21.0.0/24',
        internal: true,
        bridge: `br-${short}-db`,
      },
      monitoring: {
        name: `${name}-monitoring`,
        subnet: '172.22.0.0/24',
        internal: false,
        bridge: `br-${short}-mon`,
      },
    },
    endpoints: {
      postgres: { host: 'postgres', port: 5432 },
      mysql: { host: 'mysql', port: 3306 },
      redis: { host: 'redis', port: 6379 },
      objectStore: { host: 'object-store', port: 3900 },
    },
    hostPorts: { gibbon: 8080, grafana: 3100, prometheus: 9090, alertmanager: 9093, objectStore: 3900 },
    dockerHostIp,
    hostListeners: {
      nodeExporter: { address: dockerHostIp, port: 9100, path: '/metrics' },
      dockerd: { address: dockerHostIp, port: 9323, path: '/metrics' },
      nginxStatus: { address: dockerHostIp, port: 8088, path: '/stub_status' },
    },
    resources,
    projects: {
      data: `${name}-data`,
      monitoring: `${name}-monitoring`,
      blue: `${name}-blue`,
      green: `${name}-green`,
    },
    containerName: (service, color) => `${name}-${service}${color ? `-${color}` : ''}`,
  };
}
