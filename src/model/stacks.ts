import { appServices } from './apps.ts';
import type { ComposeProject, ServiceSpec } from './compose.ts';
import { COLORS, type CoreModel } from './core.ts';
import type { DataModel, ServiceRuntime } from './data.ts';
import { requiredVar } from './env-vars.ts';
import { gibbonService } from './gibbon.ts';
import type { ObjectStoreModel } from './object-store.ts';

/** Compose files live together in docker/, beside the env file Compose reads from the same folder. */
export const composeFile = (key: string) => `docker/compose.${key}.yml`;

/** A data service's runtime facts (from the data model) as a compose service. */
function dataService(
  core: CoreModel,
  name: 'postgres' | 'mysql' | 'redis',
  runtime: ServiceRuntime,
  extra: Partial<ServiceSpec> = {},
): ServiceSpec {
  const environment: Record<string, string> = { TZ: core.config.timezone, ...runtime.environment };
  for (const variable of runtime.secretEnv) environment[variable] = requiredVar(variable);
  return {
    name,
    containerName: core.containerName(name),
    image: { ref: runtime.image, variable: `${name.toUpperCase()}_IMAGE` },
    ...(runtime.command ? { command: [...runtime.command] } : {}),
    environment,
    networks: { database: { aliases: [name] } },
    mounts: [
      ...runtime.configMounts.map((m) => ({ kind: 'tree' as const, source: m.source, target: m.target })),
      ...runtime.dataMounts.map((m) => ({ kind: 'host' as const, source: m.host, target: m.container })),
    ],
    healthcheck: {
      test: [...runtime.healthcheck],
      interval: '10s',
      timeout: '5s',
      retries: 5,
      startPeriod: '30s',
    },
    resources: core.resources[name],
    ...extra,
  };
}

/**
 * The compose projects: data services in one project that owns the shared networks; blue and green hold
 * only api/web/admin and join those networks, so both colours run side by side during a deployment.
 */
export function buildStacks(
  core: CoreModel,
  data: DataModel,
  store: ObjectStoreModel,
  monitoring: { services: ServiceSpec[]; volumes: string[] },
): ComposeProject[] {
  const dataProject: ComposeProject = {
    key: 'data',
    name: core.projects.data,
    file: composeFile('data'),
    services: [
      dataService(core, 'postgres', data.postgres, {
        shmSizeMiB: data.postgres.shmSizeMiB,
        stopGracePeriod: '60s',
      }),
      dataService(core, 'mysql', data.mysql, { stopGracePeriod: '60s' }),
      dataService(core, 'redis', data.redis),
      store.service,
      gibbonService(core),
    ],
    ownsNetworks: ['internal', 'database'],
    joinsNetworks: [],
    volumes: [],
  };
  const colorProjects = COLORS.map(
    (color): ComposeProject => ({
      key: color,
      name: core.projects[color],
      file: composeFile(color),
      services: appServices(core, store, color),
      ownsNetworks: [],
      joinsNetworks: ['internal', 'database'],
      volumes: [],
    }),
  );
  const monitoringProject: ComposeProject = {
    key: 'monitoring',
    name: core.projects.monitoring,
    file: composeFile('monitoring'),
    services: monitoring.services,
    ownsNetworks: ['monitoring'],
    joinsNetworks: ['internal', 'database'],
    volumes: monitoring.volumes,
  };
  return [dataProject, ...colorProjects, monitoringProject];
}
