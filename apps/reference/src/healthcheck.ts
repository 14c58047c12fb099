/**
 * Container health probe (Dockerfile HEALTHCHECK): `node dist/healthcheck.js` exits 0 when this container's
 * health endpoint answers 200, 1 otherwise.
 */
import { probeHealth } from './probe.js';

const { ok, output } = await probeHealth();
process.stdout.write(`${output}\n`);
process.exit(ok ? 0 : 1);
