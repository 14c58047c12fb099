import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AppConfig } from './config.js';

/**
 * Prometheus metrics of one application instance. The names and the `status` label are a contract with the
 * platform's alert rules: http_request_duration_seconds and http_requests_total{method,route,status}.
 */
export interface Metrics {
  registry: Registry;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  websocketOpened(): void;
  websocketClosed(): void;
  setDraining(draining: boolean): void;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function createMetrics(config: AppConfig): Metrics {
  // One registry per instance, so several apps can live in one process (tests).
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const labelNames = ['method', 'route', 'status'] as const;
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds, by route pattern and status code',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const total = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route pattern and status code',
    labelNames,
    registers: [registry],
  });
  const websockets = new Gauge({
    name: 'websocket_connections',
    help: 'Open WebSocket connections',
    registers: [registry],
  });
  const draining = new Gauge({
    name: 'app_draining',
    help: '1 while the instance drains after SIGTERM',
    registers: [registry],
  });
  const info = new Gauge({
    name: 'app_info',
    help: 'Version, colour and role of this instance (value 1)',
    labelNames: ['version', 'color', 'role'] as const,
    registers: [registry],
  });
  info.set({ version: config.version, color: config.color, role: config.role }, 1);
  draining.set(0);
  websockets.set(0);

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      // Bounded label values: unknown methods and unmatched URLs collapse into one series each.
      const labels = { method: METHODS.has(method) ? method : 'OTHER', route, status: String(status) };
      duration.observe(labels, seconds);
      total.inc(labels);
    },
    websocketOpened: () => websockets.inc(),
    websocketClosed: () => websockets.dec(),
    setDraining: (d) => draining.set(d ? 1 : 0),
  };
}
