// Container health probe of the placeholder app: exits 0 when this role's health path answers 200.
const HEALTH = { api: '/health', web: '/api/health', admin: '/api/health' };
const PORTS = { api: 4000, web: 3000, admin: 3001 };
const role = process.env.APP_ROLE in HEALTH ? process.env.APP_ROLE : 'api';
const port = Number(process.env.PORT ?? PORTS[role]);

fetch(`http://127.0.0.1:${port}${HEALTH[role]}`, { signal: AbortSignal.timeout(3000) }).then(
  (r) => process.exit(r.ok ? 0 : 1),
  () => process.exit(1),
);
