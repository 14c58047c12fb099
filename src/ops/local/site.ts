import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { SiteConfig } from '../../config/schema.ts';
import { buildEdgeModel, type EdgeModel } from '../../model/edge.ts';
import { buildModel, type Model } from '../../model/index.ts';

/** Where `academy up` keeps the local site: its rendered tree, data, nginx and secrets. */
export interface LocalSiteOptions {
  stateDir: string;
  httpPort: number;
  httpsPort: number;
  /** stub_status (production: 8088), moved so a local site never collides with a check's nginx. */
  statusPort: number;
}

export interface LocalSite {
  stateDir: string;
  /** The model of this machine's site: the configuration with every host path under stateDir. */
  model: Model;
  /** The edge relocated under stateDir/nginx, on the given ports. */
  edge: EdgeModel;
  /** The rendered tree (what /app/smart-academy is on a server). */
  treeDir: string;
  ports: { http: number; https: number };
}

/**
 * The site as it runs on this machine: host paths move under the state folder, nginx listens on high
 * loopback ports with a throwaway certificate, and Cloudflare's origin pull certificate is not required
 * (there is no Cloudflare in front of a developer machine). CPU limits are capped to this machine's CPUs.
 */
export function localSite(config: SiteConfig, options: LocalSiteOptions): LocalSite {
  const stateDir = resolve(options.stateDir);
  // Docker refuses a CPU limit above the machine's CPUs: a laptop gets the server's limits capped to its own.
  const cpus = availableParallelism();
  const resources = Object.fromEntries(
    Object.entries(config.resources).map(([key, r]) => [
      key,
      { ...r, cpus: Math.min(r.cpus, cpus), reserveCpus: Math.min(r.reserveCpus, cpus) },
    ]),
  ) as SiteConfig['resources'];
  const local: SiteConfig = {
    ...config,
    resources,
    paths: {
      app: `${stateDir}/app`,
      data: `${stateDir}/data`,
      backups: `${stateDir}/backups`,
      logs: `${stateDir}/logs`,
    },
    edge: {
      ...config.edge,
      cloudflare: { ...config.edge.cloudflare, authenticatedOriginPulls: false },
    },
  };
  const model = buildModel(local);
  const edge = buildEdgeModel(model, {
    prefix: `${stateDir}/nginx`,
    ports: { http: options.httpPort, https: options.httpsPort, status: options.statusPort },
    ipv6: false,
    user: null,
  });
  return {
    stateDir,
    model,
    edge,
    treeDir: model.paths.app,
    ports: { http: options.httpPort, https: options.httpsPort },
  };
}
