import type { ServiceSpec } from './compose.ts';
import type { CoreModel, Endpoint } from './core.ts';
import { requiredVar } from './env-vars.ts';

/** The S3-compatible object store (Garage, single node). */
export interface ObjectStoreModel {
  endpoint: Endpoint;
  region: string;
  bucket: string;
  /** Admin API: /health and /metrics (bearer token). */
  adminPort: number;
  files: { config: string };
  /** garage.toml content as data; no secret in it (they come from the environment). */
  settings: Record<string, unknown>;
  service: ServiceSpec;
}

export function buildObjectStoreModel(core: CoreModel): ObjectStoreModel {
  const endpoint = core.endpoints.objectStore;
  const adminPort = 3903;
  const bucket = core.name;
  const configPath = 'storage/garage.toml';
  return {
    endpoint,
    region: 'garage',
    bucket,
    adminPort,
    files: { config: configPath },
    settings: {
      metadata_dir: '/var/lib/garage/meta',
      data_dir: '/var/lib/garage/data',
      db_engine: 'lmdb',
      replication_factor: 1,
      metadata_auto_snapshot_interval: '6h',
      rpc_bind_addr: '[::]:3901',
      rpc_public_addr: '127.0.0.1:3901',
      s3_api: { s3_region: 'garage', api_bind_addr: `[::]:${endpoint.port}` },
      admin: { api_bind_addr: `[::]:${adminPort}` },
    },
    service: {
      name: endpoint.host,
      containerName: core.containerName(endpoint.host),
      image: { ref: core.config.images.objectStore, variable: 'OBJECT_STORE_IMAGE' },
      // First start with an empty volume creates the applications' key and bucket.
      command: ['/garage', 'server', '--single-node', '--default-bucket'],
      environment: {
        GARAGE_RPC_SECRET: requiredVar('OBJECT_STORE_RPC_SECRET'),
        GARAGE_ADMIN_TOKEN: requiredVar('OBJECT_STORE_ADMIN_TOKEN'),
        GARAGE_METRICS_TOKEN: requiredVar('OBJECT_STORE_METRICS_TOKEN'),
        GARAGE_DEFAULT_ACCESS_KEY: requiredVar('S3_ACCESS_KEY_ID'),
        GARAGE_DEFAULT_SECRET_KEY: requiredVar('S3_SECRET_ACCESS_KEY'),
        GARAGE_DEFAULT_BUCKET: bucket,
        RUST_LOG: 'garage=info',
      },
      ports: [{ host: core.hostPorts.objectStore, container: endpoint.port }],
      networks: { internal: { aliases: [endpoint.host] }, database: { aliases: [endpoint.host] } },
      mounts: [
        { kind: 'tree', source: configPath, target: '/etc/garage.toml' },
        { kind: 'host', source: `${core.paths.data}/object-store/meta`, target: '/var/lib/garage/meta' },
        { kind: 'host', source: `${core.paths.data}/object-store/data`, target: '/var/lib/garage/data' },
      ],
      // The image is FROM scratch: no shell, no wget; the binary checks itself.
      healthcheck: {
        test: ['CMD', '/garage', 'status'],
        interval: '15s',
        timeout: '5s',
        retries: 5,
        startPeriod: '20s',
      },
      resources: core.resources.objectStore,
    },
  };
}
