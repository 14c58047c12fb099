import type { RenderedFile } from '../file.ts';
import { textFile } from '../file.ts';
import { blank, block, comment, d, type NginxNode } from './ast.ts';
import { printNginx } from './print.ts';
import type { NginxInput } from './types.ts';

/**
 * conf.d/upstreams.conf: the only file a deployment changes (re-rendered with the new active colour, then
 * `nginx -t` and a reload). No least_conn: nginx rejects it together with `backup`.
 */
export function renderUpstreams({ edge }: NginxInput): RenderedFile[] {
  const nodes: NginxNode[] = [comment(`Active colour: ${edge.activeColor}. The other colour is the backup.`)];
  for (const upstream of edge.upstreams) {
    nodes.push(
      blank(),
      block(
        'upstream',
        [upstream.name],
        [
          ...upstream.servers.map((s) =>
            d(
              'server',
              s.address,
              ...(s.maxFails === undefined ? [] : [`max_fails=${s.maxFails}`]),
              ...(s.failTimeout === undefined ? [] : [`fail_timeout=${s.failTimeout}`]),
              ...(s.backup ? ['backup'] : []),
            ),
          ),
          d('keepalive', upstream.keepalive),
        ],
      ),
    );
  }
  return [textFile(edge.files.upstreams, printNginx(nodes))];
}
