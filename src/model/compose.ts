import type { NetworkKey, Resources } from './core.ts';
import type { SecretFile } from './secret-files.ts';

/** A file or directory a container mounts. */
export type Mount =
  /** A file or directory of the rendered tree (path relative to the tree root). */
  | { kind: 'tree'; source: string; target: string }
  /** A host path that holds data or host state (absolute). */
  | { kind: 'host'; source: string; target: string; readOnly?: boolean }
  /** A named Docker volume owned by the project. */
  | { kind: 'volume'; name: string; target: string };

export interface Healthcheck {
  test: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  startPeriod?: string;
}

/** One container of a compose project, close to the Compose specification but decided by the model. */
export interface ServiceSpec {
  /** Compose service key; unique across all projects because projects share networks. */
  name: string;
  containerName: string;
  /** Image reference; `variable` lets tests substitute a locally built image. */
  image: { ref: string; variable: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  /** Published on 127.0.0.1 only. */
  ports?: { host: number; container: number }[];
  networks?: Partial<Record<NetworkKey, { aliases?: string[] }>>;
  /** Host network namespace, for exporters that must see the host. */
  hostNetwork?: boolean;
  hostPid?: boolean;
  mounts?: Mount[];
  /** Secret files, mounted read-only at their containerPath; never in the environment. */
  secrets?: SecretFile[];
  /** `null` with a reason when the image offers no way to check itself. */
  healthcheck: Healthcheck | { none: string };
  resources?: Resources;
  dependsOn?: Record<string, 'service_healthy' | 'service_started'>;
  user?: string;
  readOnlyRootFs?: boolean;
  tmpfs?: string[];
  shmSizeMiB?: number;
  extraHosts?: string[];
  /** Only for containers that cannot work otherwise; the reason is rendered next to it. */
  privileged?: { reason: string };
  devices?: string[];
  stopGracePeriod?: string;
}

export interface ComposeProject {
  key: 'data' | 'blue' | 'green' | 'monitoring';
  /** Compose project name (`name:` in the file). */
  name: string;
  /** Path of the compose file in the tree. */
  file: string;
  services: ServiceSpec[];
  /** Networks this project creates; the others it joins as external. */
  ownsNetworks: NetworkKey[];
  joinsNetworks: NetworkKey[];
  volumes: string[];
}
