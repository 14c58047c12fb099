import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { EdgeModel, EdgeServer } from '../src/model/edge.ts';
import { block, d } from '../src/render/nginx/ast.ts';
import { printNginx } from '../src/render/nginx/print.ts';
import {
  createStub,
  NGINX_BIN,
  type NginxProcess,
  startEdge,
  startNginx,
} from '../test/support/edge-harness.ts';

// npm run bench:edge [-- --duration 5 --connections 50 --rounds 3]
//
// Requests/s and p99 latency of a small JSON response (a) straight from the upstream stub, (b) through a
// minimal nginx keepalive proxy, (c) through the rendered edge (security headers, JSON access log, rate-limit
// and connection-limit lookups, real-ip, proxy headers). b and c run over plain HTTP and over TLS.
//
// The rendered edge answers plain HTTP only with a redirect, so for the plain-HTTP figures the bench adds a
// copy of the main server (same locations, headers, logs, limits) listening without TLS on a spare port:
// b and c then differ in configuration only, not in transport. The TLS figures compare the real HTTPS main
// server (with authenticated origin pulls: the load generator presents the client certificate) with the
// minimal proxy on TLS.

const self = fileURLToPath(import.meta.url);

async function main() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const rounds = Math.max(3, Number(values.rounds));

  // 127.0.0.1, the load generator, is exempt from the rate and connection limits (they stay configured and
  // are still evaluated on every request).
  const exempt = ['127.0.0.1/32'];
  const edge = await startEdge({
    stubs: false,
    extraPorts: 3,
    config: { edge: { rateLimits: { exempt } } },
    transform: (model, { extraPorts }) => withPlainHttpMain(model, extraPorts[0] as number),
  });
  const [edgePlainPort, minimalPort, minimalTlsPort] = edge.extraPorts as [number, number, number];
  const upstreamPort = edge.upstreamPorts['web-blue'];
  const root = edge.core.domains.root;

  let stub: ChildProcess | undefined;
  let minimal: NginxProcess | undefined;
  const minimalPrefix = join(edge.prefix, 'minimal');
  try {
    stub = await startStubProcess(upstreamPort, 'web', 'blue');
    minimal = await startMinimal(minimalPrefix, upstreamPort, minimalPort, minimalTlsPort, edge.certs);

    const client = { cert: readFileSync(edge.certs.clientCert), key: readFileSync(edge.certs.clientKey) };
    const scenarios: Scenario[] = [
      {
        name: 'a direct (stub)',
        group: 'direct',
        transport: 'http',
        url: `http://127.0.0.1:${upstreamPort}/`,
      },
      {
        name: 'b minimal proxy',
        group: 'minimal',
        transport: 'http',
        url: `http://127.0.0.1:${minimalPort}/`,
        nginx: minimal,
      },
      {
        name: 'c rendered edge',
        group: 'edge',
        transport: 'http',
        url: `http://127.0.0.1:${edgePlainPort}/`,
        headers: { host: root },
        nginx: edge.nginx,
      },
      {
        name: 'b minimal proxy',
        group: 'minimal',
        transport: 'tls',
        url: `https://127.0.0.1:${minimalTlsPort}/`,
        servername: root,
        nginx: minimal,
      },
      {
        name: 'c rendered edge',
        group: 'edge',
        transport: 'tls',
        url: `https://127.0.0.1:${edge.ports.https}/`,
        headers: { host: root },
        servername: root,
        tlsOptions: client,
        nginx: edge.nginx,
      },
    ];

    const nginxVersion = spawnSync(NGINX_BIN, ['-v'], { encoding: 'utf8' }).stderr.trim();
    console.log('edge benchmark');
    console.log(`  nginx: ${NGINX_BIN} (${nginxVersion}); CPUs: ${cpus().length}`);
    console.log(
      `  load generator: autocannon (in-process), ${connections} connections, ${duration} s per run`,
    );
    console.log(`  rounds: ${rounds}, scenarios alternate a, b, c within each round; medians reported`);
    console.log(
      `  rate limits: edge.rateLimits.exempt = ${JSON.stringify(exempt)} (the load generator's address)`,
    );
    console.log('  upstream: one node:http stub in its own process answering small JSON (~70 bytes)');
    console.log(
      '  plain HTTP: (c) is a plain-HTTP copy of the rendered main server (the real one serves HTTP only as a\n' +
        '  redirect); TLS: (c) is the rendered HTTPS main server, client certificate presented (origin pulls).',
    );
    await checkEdgeIsTheEdge(scenarios[2] as Scenario);

    const stubPid = stub.pid as number;
    for (const s of scenarios) await measure(s, connections, 1, stubPid); // warm-up, not counted
    const results = new Map<Scenario, Run[]>(scenarios.map((s) => [s, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const s of scenarios) {
        const run = await measure(s, connections, duration, stubPid);
        results.get(s)?.push(run);
        process.stderr.write(
          `  round ${round}: ${label(s).padEnd(28)} ${run.rps.toFixed(0).padStart(7)} req/s  p99 ${run.p99} ms` +
            `  nginx ${us(run.nginxCpu)}  stub ${us(run.stubCpu)} CPU µs/req` +
            `${run.failures > 0 ? `  (${run.detail})` : ''}\n`,
        );
      }
    }

    const median = (xs: number[]) => {
      const sorted = [...xs].sort((x, y) => x - y);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2
        ? (sorted[mid] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    };
    const summary = scenarios.map((s) => {
      const runs = results.get(s) ?? [];
      return {
        scenario: s,
        rps: median(runs.map((r) => r.rps)),
        p99: median(runs.map((r) => r.p99)),
        nginxCpu: median(runs.map((r) => r.nginxCpu)),
        stubCpu: median(runs.map((r) => r.stubCpu)),
        all: runs.map((r) => r.rps.toFixed(0)).join(' / '),
        failures: runs.reduce((n, r) => n + r.failures, 0),
        bad: runs.some((r) => r.bad),
      };
    });
    console.log('');
    console.log(
      `${'scenario'.padEnd(30)}${'req/s'.padStart(8)}${'p99 ms'.padStart(8)}` +
        `${'nginx µs/req'.padStart(14)}${'stub µs/req'.padStart(13)}   req/s of each round`,
    );
    for (const row of summary) {
      console.log(
        `${label(row.scenario).padEnd(30)}${row.rps.toFixed(0).padStart(8)}${String(row.p99).padStart(8)}` +
          `${us(row.nginxCpu).padStart(14)}${us(row.stubCpu).padStart(13)}   ${row.all}` +
          `${row.failures > 0 ? `   (${row.failures} failed requests)` : ''}`,
      );
    }
    console.log('(medians; µs/req: CPU time of the nginx worker processes, and of the stub, per request)');
    const row = (group: Scenario['group'], transport: Scenario['transport']) =>
      summary.find((r) => r.scenario.group === group && r.scenario.transport === transport);
    const find = (group: Scenario['group'], transport: Scenario['transport']) =>
      row(group, transport)?.rps ?? Number.NaN;
    const cpu = (group: Scenario['group'], transport: Scenario['transport']) =>
      row(group, transport)?.nginxCpu ?? Number.NaN;
    console.log('');
    console.log(`ratio edge/minimal: ${(find('edge', 'http') / find('minimal', 'http')).toFixed(2)}`);
    console.log(`ratio edge/direct: ${(find('edge', 'http') / find('direct', 'http')).toFixed(2)}`);
    console.log(`ratio edge/minimal (TLS): ${(find('edge', 'tls') / find('minimal', 'tls')).toFixed(2)}`);
    console.log(
      `nginx CPU per request, edge/minimal: ${(cpu('edge', 'http') / cpu('minimal', 'http')).toFixed(2)} (HTTP), ` +
        `${(cpu('edge', 'tls') / cpu('minimal', 'tls')).toFixed(2)} (TLS)`,
    );
    console.log('(the first two ratios are plain HTTP, req/s medians; goal edge/minimal >= 0.9)');
    if (summary.some((r) => r.bad)) {
      console.log(
        'FAILED: a run had non-2xx answers or more than 0.1 % errors: the figures measure something else',
      );
      process.exitCode = 1;
    }
  } finally {
    stub?.disconnect();
    await minimal?.stop();
    await edge.stop();
  }
}

interface Scenario {
  name: string;
  group: 'direct' | 'minimal' | 'edge';
  transport: 'http' | 'tls';
  url: string;
  headers?: Record<string, string>;
  servername?: string;
  tlsOptions?: { cert: Buffer; key: Buffer };
  nginx?: NginxProcess;
}

interface Run {
  rps: number;
  p99: number;
  /** CPU µs per request of the nginx workers (NaN for the direct runs) and of the stub process. */
  nginxCpu: number;
  stubCpu: number;
  failures: number;
  detail: string;
  /** Any non-2xx answer (a 429 would mean the limits were not exempt), or errors above 0.1 %. */
  bad: boolean;
}

const us = (value: number) => (Number.isNaN(value) ? '-' : value.toFixed(0));

/** utime + stime of processes, in µs (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMicros(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended (a cache loader, say)
    }
  }
  return ticks * 10_000;
}

/** The worker (and cache) processes of an nginx master. */
function nginxWorkers(master: number): number[] {
  return readFileSync(`/proc/${master}/task/${master}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter((p) => p !== '')
    .map(Number);
}

const label = (s: Scenario) => `${s.name} (${s.transport === 'tls' ? 'TLS' : 'HTTP'})`;

async function measure(s: Scenario, connections: number, duration: number, stubPid: number): Promise<Run> {
  const workers = s.nginx?.child.pid ? nginxWorkers(s.nginx.child.pid) : [];
  const [nginxBefore, stubBefore] = [cpuMicros(workers), cpuMicros([stubPid])];
  const result = await autocannon({
    url: s.url,
    connections,
    duration,
    ...(s.headers ? { headers: s.headers } : {}),
    ...(s.servername ? { servername: s.servername } : {}),
    ...(s.tlsOptions ? { tlsOptions: s.tlsOptions } : {}),
  });
  const requests = result.requests.total;
  return {
    rps: requests / result.duration,
    p99: result.latency.p99,
    nginxCpu: workers.length > 0 ? (cpuMicros(workers) - nginxBefore) / requests : Number.NaN,
    stubCpu: (cpuMicros([stubPid]) - stubBefore) / requests,
    failures: result.errors + result.timeouts + result.non2xx,
    // A connection reset now and then as autocannon stops its connections is not a finding.
    bad: result.non2xx > 0 || result.errors + result.timeouts > requests / 1000,
    detail: `${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`,
  };
}

/** The edge's main server once more, on `port` without TLS: same locations, headers, log and limits. */
function withPlainHttpMain(model: EdgeModel, port: number): EdgeModel {
  const main = model.sites.flatMap((s) => s.servers).find((s) => s.id === 'main');
  if (!main) throw new Error('bench: the edge model has no main server');
  const plain: EdgeServer = {
    ...main,
    id: 'bench-plain-http',
    comment: 'bench only: the main server without TLS',
    listen: [{ address: `127.0.0.1:${port}`, ssl: false, http2: false, defaultServer: false }],
    http2Directive: false,
  };
  return {
    ...model,
    sites: [
      ...model.sites,
      {
        id: 'bench-plain-http',
        file: `${model.treeDir}/sites-available/bench-plain-http.conf`,
        enabledName: 'bench-plain-http.conf',
        servers: [plain],
      },
    ],
  };
}

/** The plain-HTTP copy really is the edge: security headers present, request logged as JSON. */
async function checkEdgeIsTheEdge(s: Scenario) {
  const res = await fetch(s.url, { headers: s.headers });
  const missing = ['x-frame-options', 'strict-transport-security', 'content-security-policy'].filter(
    (h) => !res.headers.has(h),
  );
  if (res.status !== 200 || missing.length > 0) {
    throw new Error(
      `bench: the plain-HTTP edge answered ${res.status}, missing headers: ${missing.join(', ')}`,
    );
  }
  await res.arrayBuffer();
}

async function startStubProcess(port: number, service: string, colour: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, self, '--stub', String(port), service, colour],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench: the stub process exited (${code})`)));
    child.once('message', () => resolve());
  });
  return child;
}

/** (b): upstream with keepalive, one server, HTTP/1.1 and an empty Connection header; nothing else. */
async function startMinimal(
  prefix: string,
  upstreamPort: number,
  port: number,
  tlsPort: number,
  certs: { serverCert: string; serverKey: string },
) {
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  const errorLog = join(prefix, 'error.log');
  const nodes = [
    d('worker_processes', 'auto'),
    d('pid', join(prefix, 'nginx.pid')),
    d('error_log', errorLog, 'warn'),
    block('events', [], [d('worker_connections', 4096)]),
    block(
      'http',
      [],
      [
        d('access_log', 'off'),
        d('client_body_temp_path', join(prefix, 'body')),
        d('proxy_temp_path', join(prefix, 'proxy')),
        block('upstream', ['backend'], [d('server', `127.0.0.1:${upstreamPort}`), d('keepalive', 32)]),
        block(
          'server',
          [],
          [
            d('listen', `127.0.0.1:${port}`),
            d('listen', `127.0.0.1:${tlsPort}`, 'ssl'),
            d('ssl_certificate', certs.serverCert),
            d('ssl_certificate_key', certs.serverKey),
            block(
              'location',
              ['/'],
              [
                d('proxy_pass', 'http://backend'),
                d('proxy_http_version', '1.1'),
                d('proxy_set_header', 'Connection', ''),
              ],
            ),
          ],
        ),
      ],
    ),
  ];
  writeFileSync(conf, printNginx(nodes));
  return startNginx(conf, errorLog, port);
}

// Child mode: one stub upstream in its own process, so it does not share an event loop with the load generator.
if (process.argv[2] === '--stub') {
  const [port, service, colour] = process.argv.slice(3) as [string, string, 'blue' | 'green'];
  const stub = createStub(service, colour, Number(port), false);
  await stub.start();
  process.send?.('ready');
  // Ends with the bench, also when the bench dies without stopping it.
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}
