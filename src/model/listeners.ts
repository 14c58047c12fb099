import type { ConfigProblem } from '../lib/errors.ts';
import type { ComposeProject } from './compose.ts';
import type { CoreModel } from './core.ts';
import type { EdgeModel } from './edge.ts';
import type { HostModel } from './host.ts';

// Every port something listens on at the host level, and what is wrong with a set of them.

/** A port one process listens on; `path` names the setting (config path or flag) that chose it, if any. */
export interface HostListener {
  port: number;
  what: string;
  path?: string;
}

/** Linux's default range for outgoing connections (net.ipv4.ip_local_port_range). */
export const EPHEMERAL_PORTS = { first: 32768, last: 60999 } as const;

/** What the listeners are read from: the model, with `edge` replaceable by a relocated local edge. */
export interface ListenerSources {
  compose: ComposeProject[];
  host: Pick<HostModel, 'sshPort'>;
  edge: Pick<EdgeModel, 'ports'>;
  hostListeners: CoreModel['hostListeners'];
}

/** Every host listener the model decides: nginx, sshd, published container ports, host-level exporters. */
export function hostListeners(model: ListenerSources): HostListener[] {
  const { ports } = model.edge;
  const published = model.compose.flatMap((project) =>
    project.services.flatMap((service) =>
      (service.ports ?? []).map((p) => ({ port: p.host, what: `${service.containerName} (published)` })),
    ),
  );
  return [
    { port: model.host.sshPort, what: 'sshd', path: 'server.sshPort' },
    { port: ports.http, what: 'nginx HTTP' },
    { port: ports.https, what: 'nginx HTTPS' },
    // The stub_status server is core.hostListeners.nginxStatus, moved wherever the edge was moved.
    { port: ports.status, what: 'nginx stub_status' },
    ...published,
    { port: model.hostListeners.nodeExporter.port, what: 'node exporter' },
    { port: model.hostListeners.dockerd.port, what: 'dockerd metrics' },
  ];
}

const named = (l: HostListener) => (l.path ? `${l.what} (${l.path})` : l.what);

/**
 * Ports that are not a port, ports two listeners share, and ports inside the ephemeral range (an outgoing
 * connection may hold one when the service starts, and the bind fails). One problem per port, at the
 * setting that chose it when one did.
 */
export function listenerProblems(listeners: HostListener[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const byPort = new Map<number, HostListener[]>();
  for (const l of listeners) {
    if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535) {
      problems.push({
        path: l.path ?? l.what,
        message: `expected a port number 1-65535 for ${l.what}, got ${String(l.port)}`,
      });
      continue;
    }
    byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
  }
  for (const [port, group] of byPort) {
    const [first] = group as [HostListener, ...HostListener[]];
    const chosen = group.find((l) => l.path) ?? first;
    const at = chosen.path ?? chosen.what;
    if (group.length > 1) {
      problems.push({
        path: at,
        message: `expected one listener per port, got ${port} for ${group.map(named).join(' and ')}`,
      });
    }
    if (port >= EPHEMERAL_PORTS.first && port <= EPHEMERAL_PORTS.last) {
      problems.push({
        path: at,
        message: `expected a port outside Linux's ephemeral range ${EPHEMERAL_PORTS.first}-${EPHEMERAL_PORTS.last} (outgoing connections take ports there, so ${group.map((l) => l.what).join(' and ')} could fail to bind), got ${port}`,
      });
    }
  }
  return problems;
}
