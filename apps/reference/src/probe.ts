import { roleAndPort } from './config.js';

/**
 * Asks this container's own health endpoint (role and port from APP_ROLE/PORT, loopback unless HOST names
 * one address). `ok` is true for a 200; `output` is what Docker keeps in `docker inspect` (no secrets: the
 * health body never holds any).
 */
export async function probeHealth(
  env: Record<string, string | undefined> = process.env,
  timeoutMs = 4000,
): Promise<{ ok: boolean; output: string }> {
  const { port, healthPath } = roleAndPort(env);
  const bind = env.HOST?.trim();
  const host = bind === undefined || bind === '' || bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${healthPath}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { ok: res.status === 200, output: `${res.status} ${(await res.text()).slice(0, 500)}` };
  } catch (err) {
    const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return { ok: false, output: `${url}: ${err instanceof Error ? err.message : String(err)}${detail}` };
  }
}
