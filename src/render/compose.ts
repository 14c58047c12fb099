import { posix } from 'node:path';
import { stringify } from 'yaml';
import type { ComposeProject, Mount, ServiceSpec } from '../model/compose.ts';
import type { CoreModel } from '../model/core.ts';
import { type RenderedFile, textFile } from './file.ts';

const LOOPBACK = '127.0.0.1';

const logging = { driver: 'json-file', options: { 'max-size': '50m', 'max-file': '5' } };

/** Compose's memory unit: whole MiB. */
const mib = (value: number) => `${Math.floor(value)}M`;

function mountEntry(file: string, mount: Mount) {
  switch (mount.kind) {
    case 'tree':
      // Relative to the compose file's folder, so the tree works wherever it is installed.
      return `${posix.relative(posix.dirname(file), mount.source)}:${mount.target}:ro`;
    case 'host':
      return `${mount.source}:${mount.target}${mount.readOnly ? ':ro' : ''}`;
    case 'volume':
      return `${mount.name}:${mount.target}`;
  }
}

function serviceEntry(file: string, s: ServiceSpec): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    image: `\${${s.image.variable}:-${s.image.ref}}`,
    container_name: s.containerName,
    restart: 'unless-stopped',
  };
  if (s.privileged) entry.privileged = true;
  if (s.entrypoint) entry.entrypoint = s.entrypoint;
  if (s.command) entry.command = s.command;
  if (s.user) entry.user = s.user;
  if (s.environment && Object.keys(s.environment).length > 0) entry.environment = s.environment;
  if (s.ports?.length) entry.ports = s.ports.map((p) => `${LOOPBACK}:${p.host}:${p.container}`);
  if (s.hostNetwork) entry.network_mode = 'host';
  else if (s.networks) {
    entry.networks = Object.fromEntries(
      Object.entries(s.networks).map(([key, opts]) => [
        key,
        opts?.aliases?.length ? { aliases: opts.aliases } : {},
      ]),
    );
  }
  if (s.hostPid) entry.pid = 'host';
  if (s.extraHosts?.length) entry.extra_hosts = s.extraHosts;
  const mounts: Mount[] = [
    ...(s.mounts ?? []),
    ...(s.secrets ?? []).map((x) => ({
      kind: 'host' as const,
      source: x.hostPath,
      target: x.containerPath,
      readOnly: true,
    })),
  ];
  if (mounts.length) entry.volumes = mounts.map((m) => mountEntry(file, m));
  if (s.devices?.length) entry.devices = s.devices;
  if (s.tmpfs?.length) entry.tmpfs = s.tmpfs;
  if (s.readOnlyRootFs) entry.read_only = true;
  if (s.shmSizeMiB) entry.shm_size = mib(s.shmSizeMiB);
  if (s.dependsOn) {
    entry.depends_on = Object.fromEntries(
      Object.entries(s.dependsOn).map(([name, condition]) => [name, { condition }]),
    );
  }
  if ('test' in s.healthcheck) {
    const h = s.healthcheck;
    entry.healthcheck = {
      test: h.test,
      interval: h.interval ?? '30s',
      timeout: h.timeout ?? '10s',
      retries: h.retries ?? 3,
      start_period: h.startPeriod ?? '30s',
    };
  }
  if (s.resources) {
    const r = s.resources;
    entry.deploy = {
      resources: {
        limits: { cpus: String(r.cpus), memory: mib(r.memoryMiB) },
        reservations: { cpus: String(r.reserveCpus), memory: mib(r.reserveMemoryMiB) },
      },
    };
  }
  entry.security_opt = ['no-new-privileges:true'];
  if (s.stopGracePeriod) entry.stop_grace_period = s.stopGracePeriod;
  entry.logging = logging;
  return entry;
}

function composeDocument(core: CoreModel, project: ComposeProject): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  for (const key of project.ownsNetworks) {
    const n = core.networks[key];
    networks[key] = {
      name: n.name,
      driver: 'bridge',
      internal: n.internal,
      driver_opts: { 'com.docker.network.bridge.name': n.bridge },
      ipam: { config: [{ subnet: n.subnet }] },
    };
  }
  for (const key of project.joinsNetworks) networks[key] = { name: core.networks[key].name, external: true };

  const doc: Record<string, unknown> = {
    name: project.name,
    services: Object.fromEntries(project.services.map((s) => [s.name, serviceEntry(project.file, s)])),
  };
  if (Object.keys(networks).length > 0) doc.networks = networks;
  if (project.volumes.length > 0) doc.volumes = Object.fromEntries(project.volumes.map((v) => [v, {}]));
  return doc;
}

const privilegedNotes = (project: ComposeProject) =>
  project.services
    .filter((s) => s.privileged)
    .map((s) => `# ${s.name} runs privileged: ${s.privileged?.reason}\n`)
    .join('');

/** One compose file per project; every file declares its `name:` and the networks it creates or joins. */
export function renderCompose(model: CoreModel & { compose: ComposeProject[] }): RenderedFile[] {
  return model.compose.map((project) =>
    textFile(
      project.file,
      `${privilegedNotes(project)}${stringify(composeDocument(model, project), { lineWidth: 0, aliasDuplicateObjects: false })}`,
    ),
  );
}
