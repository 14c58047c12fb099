import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.ts';
import { buildModel } from '../../src/model/index.ts';
import { hostListeners, listenerProblems } from '../../src/model/listeners.ts';

const model = buildModel(validateConfig({}));

describe('host listeners', () => {
  it('lists every port the site listens on at the host level, each once', () => {
    const ports = hostListeners(model).map((l) => l.port);
    expect(ports).toEqual(expect.arrayContaining([22, 80, 443, 8088, 3000, 3001, 3002, 3003, 4000, 4001]));
    expect(ports).toEqual(expect.arrayContaining([8080, 3100, 9090, 9093, 3900, 9100, 9323]));
    expect(new Set(ports).size).toBe(ports.length);
    expect(listenerProblems(hostListeners(model))).toEqual([]);
  });

  it('follows a relocated edge', () => {
    const edge = { ports: { http: 18080, https: 18443, status: 18088 } };
    const ports = hostListeners({ ...model, edge }).map((l) => l.port);
    expect(ports).toEqual(expect.arrayContaining([18080, 18443, 18088]));
    expect(ports).not.toContain(443);
  });

  it('reports two listeners on one port once, at the setting that chose it', () => {
    expect(
      listenerProblems([
        { port: 18444, what: 'nginx HTTP', path: '--http-port' },
        { port: 18444, what: 'nginx HTTPS', path: '--https-port' },
        { port: 22, what: 'sshd' },
      ]),
    ).toEqual([
      {
        path: '--http-port',
        message:
          'expected one listener per port, got 18444 for nginx HTTP (--http-port) and nginx HTTPS (--https-port)',
      },
    ]);
  });

  it('refuses ports in the ephemeral range and values that are not ports', () => {
    expect(
      listenerProblems([
        { port: 32768, what: 'sshd', path: 'server.sshPort' },
        { port: 60999, what: 'nginx HTTPS' },
        { port: 61000, what: 'nginx HTTP' },
        { port: 32767, what: 'nginx stub_status' },
        { port: 0, what: 'x', path: '--status-port' },
        { port: Number.NaN, what: 'y' },
      ]).map((p) => `${p.path}: ${p.message}`),
    ).toEqual([
      '--status-port: expected a port number 1-65535 for x, got 0',
      'y: expected a port number 1-65535 for y, got NaN',
      "server.sshPort: expected a port outside Linux's ephemeral range 32768-60999 (outgoing connections take ports there, so sshd could fail to bind), got 32768",
      "nginx HTTPS: expected a port outside Linux's ephemeral range 32768-60999 (outgoing connections take ports there, so nginx HTTPS could fail to bind), got 60999",
    ]);
  });
});
