import type { Model } from '../model/index.ts';
import { renderCompose } from './compose.ts';
import { renderMysql } from './database/mysql.ts';
import { renderPostgres } from './database/postgres.ts';
import { renderEnvExample } from './env-example.ts';
import type { RenderedFile } from './file.ts';
import { renderHost } from './host/index.ts';
import { renderAlertmanager } from './monitoring/alertmanager.ts';
import { renderAlloy } from './monitoring/alloy.ts';
import { renderGrafana } from './monitoring/grafana.ts';
import { renderLoki } from './monitoring/loki.ts';
import { renderPrometheus } from './monitoring/prometheus.ts';
import { renderNginx } from './nginx/index.ts';
import { renderObjectStore } from './object-store.ts';
import { renderRedis } from './redis.ts';
import { renderTreeReadme } from './tree-readme.ts';

type Renderer = (model: Model) => RenderedFile[];

const renderers: Renderer[] = [
  renderTreeReadme,
  renderCompose,
  renderEnvExample,
  renderPostgres,
  renderMysql,
  renderRedis,
  renderObjectStore,
  renderPrometheus,
  renderAlertmanager,
  renderGrafana,
  renderLoki,
  renderAlloy,
  renderHost,
  renderNginx,
];

/** Renders the whole tree, sorted by path; two renderers claiming one path is a bug, reported as such. */
export function renderTree(model: Model): RenderedFile[] {
  const files = renderers.flatMap((render) => render(model));
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) throw new Error(`internal error: two renderers produce ${file.path}`);
    seen.add(file.path);
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
