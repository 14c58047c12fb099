// Placeholder for apps/reference, built into academy-local/reference only while that app does not exist:
// the same contract in a few lines (APP_ROLE, PORT, STACK_COLOR, APP_VERSION; health, /version, /metrics).
import { createServer } from 'node:http';

const HEALTH = { api: '/health', web: '/api/health', admin: '/api/health' };
const PORTS = { api: 4000, web: 3000, admin: 3001 };
const role = process.env.APP_ROLE in HEALTH ? process.env.APP_ROLE : 'api';
const port = Number(process.env.PORT ?? PORTS[role]);
const color = process.env.STACK_COLOR ?? 'none';
const version = process.env.APP_VERSION ?? '0.0.0-dev';
let draining = false;

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const send = (status, body, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'x-app-color': color, 'x-app-version': version });
    res.end(type === 'application/json' ? JSON.stringify(body) : body);
  };
  if (path === HEALTH[role])
    send(draining ? 503 : 200, { status: draining ? 'draining' : 'ok', role, color });
  else if (path === '/version') send(200, { version, color, role, placeholder: true });
  else if (path === '/metrics') send(200, 'placeholder_up 1\n', 'text/plain; version=0.0.4');
  else send(404, { error: 'not found' });
});

server.listen(port, '0.0.0.0', () => console.log(JSON.stringify({ msg: 'listening', role, port, color })));

const drain = () => {
  draining = true;
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
};
process.on('SIGTERM', drain);
process.on('SIGINT', drain);
