import { dirname } from 'node:path';
import { type Row, run } from '../../exec.ts';
import { hasProgram } from '../../runner.ts';
import type { Check, CheckContext } from '../../types.ts';
import { filesUnder, relabel, writeCopy } from './common.ts';

// `docker-daemon`: daemon.json must parse, and dockerd refuses to start on a key it does not know, so every
// top-level key must be a daemon option. Where dockerd is installed and has --validate (Docker 23+), it judges
// the file too; Debian 12's docker.io (20.10) has no --validate, which the row notes.

/**
 * Keys of daemon.json on Linux. Source: the dockerd reference, "Daemon configuration file" and its full Linux
 * example (https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file, kept in docker/cli at
 * docs/reference/dockerd.md), plus the keys of flags the example leaves out (metrics-addr, log-format, ...).
 */
export const DOCKERD_KEYS: ReadonlySet<string> = new Set([
  'allow-direct-routing',
  'allow-nondistributable-artifacts',
  'api-cors-header',
  'authorization-plugins',
  'bip',
  'bip6',
  'bridge',
  'bridge-accept-fwmark',
  'builder',
  'cdi-spec-dirs',
  'cgroup-parent',
  'containerd',
  'containerd-namespace',
  'containerd-plugin-namespace',
  'cpu-rt-period',
  'cpu-rt-runtime',
  'cri-containerd',
  'data-root',
  'debug',
  'default-address-pools',
  'default-cgroupns-mode',
  'default-gateway',
  'default-gateway-v6',
  'default-ipc-mode',
  'default-network-opts',
  'default-runtime',
  'default-shm-size',
  'default-ulimits',
  'dns',
  'dns-opts',
  'dns-search',
  'exec-opts',
  'exec-root',
  'experimental',
  'features',
  'firewall-backend',
  'fixed-cidr',
  'fixed-cidr-v6',
  'group',
  'host-gateway-ip',
  'host-gateway-ips',
  'hosts',
  'icc',
  'init',
  'init-path',
  'insecure-registries',
  'ip',
  'ip-forward',
  'ip-forward-no-drop',
  'ip-masq',
  'ip6tables',
  'iptables',
  'ipv6',
  'labels',
  'live-restore',
  'log-driver',
  'log-format',
  'log-level',
  'log-opts',
  'max-concurrent-downloads',
  'max-concurrent-uploads',
  'max-download-attempts',
  'metrics-addr',
  'min-api-version',
  'mtu',
  'network-control-plane-mtu',
  'no-new-privileges',
  'node-generic-resources',
  'pidfile',
  'proxies',
  'raw-logs',
  'registry-mirrors',
  'rootless',
  'runtimes',
  'seccomp-profile',
  'selinux-enabled',
  'shutdown-timeout',
  'storage-driver',
  'storage-opts',
  'swarm-default-advertise-addr',
  'tls',
  'tlscacert',
  'tlscert',
  'tlskey',
  'tlsverify',
  'userland-proxy',
  'userland-proxy-path',
  'userns-remap',
]);

/** Keys dockerd used to read and no longer does, with what replaced them. */
export const DOCKERD_REMOVED_KEYS: Readonly<Record<string, string>> = {
  graph: 'removed in Docker 23; use data-root',
  'cluster-store': 'removed in Docker 23 (legacy overlay networking); use swarm mode',
  'cluster-store-opts': 'removed in Docker 23',
  'cluster-advertise': 'removed in Docker 23',
  'disable-legacy-registry': 'removed in Docker 17.12',
  'oom-score-adjust':
    'deprecated in Docker 24 and removed in 25; dockerd no longer adjusts its own OOM score',
};

/** Parses daemon.json text and judges its top-level keys. */
export function checkDaemonJson(text: string): { problems: string[]; keys: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problems: [`not valid JSON: ${(error as Error).message}`], keys: [] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problems: ['the top level must be a JSON object'], keys: [] };
  }
  const keys = Object.keys(value);
  const problems: string[] = [];
  for (const key of keys) {
    const retired = DOCKERD_REMOVED_KEYS[key];
    if (retired) problems.push(`"${key}": ${retired}`);
    else if (!DOCKERD_KEYS.has(key))
      problems.push(`"${key}" is not a dockerd option: dockerd would refuse to start`);
  }
  return { problems, keys };
}

async function runDockerDaemon(ctx: CheckContext): Promise<Row[]> {
  const folder = dirname(ctx.model.host.files.dockerDaemon);
  const tool = 'daemon.json keys';
  const files = filesUnder(ctx.tree, folder, (p) => p.endsWith('.json'));
  if (files.length === 0)
    return [{ target: `${folder}/`, tool, status: 'pass', notes: ['no daemon.json rendered'] }];
  const rows: Row[] = [];
  const haveDockerd = await hasProgram('dockerd');
  for (const target of files) {
    const text = ctx.tree.files.get(target)?.content ?? '';
    const { problems } = checkDaemonJson(text);
    const notes: string[] = [];
    let tools = tool;
    if (problems.length === 0 && haveDockerd) {
      const dir = await ctx.tempDir('docker-daemon');
      const copy = await writeCopy(dir, 'daemon.json', text);
      const version = (await run('dockerd', ['--version'], { timeoutMs: 10_000 })).output;
      const validate = await run('dockerd', ['--validate', '--config-file', copy], { timeoutMs: 30_000 });
      const output = relabel(validate.output, [[copy, target]]);
      if (/unknown flag: --validate/.test(output)) {
        notes.push(
          `${version || 'dockerd'} has no --validate (Docker 23+); the key list alone judged the file`,
        );
      } else if (validate.exitCode !== 0) {
        problems.push(output || `dockerd --validate exited with ${validate.exitCode}`);
        tools = 'dockerd --validate';
      } else {
        tools = `${tool}, dockerd --validate`;
      }
    } else if (!haveDockerd) {
      notes.push('dockerd is not installed here; the key list alone judged the file');
    }
    rows.push(
      problems.length === 0
        ? { target, tool: tools, status: 'pass', ...(notes.length > 0 ? { notes } : {}) }
        : {
            target,
            tool: tools,
            status: 'fail',
            message: problems.join('\n'),
            ...(notes.length > 0 ? { notes } : {}),
          },
    );
  }
  return rows;
}

export const dockerDaemonCheck: Check = {
  name: 'docker-daemon',
  tool: 'daemon.json keys',
  requires: [],
  install: 'nothing required; with dockerd (Docker 23+) installed, dockerd --validate judges the file too',
  run: runDockerDaemon,
};
