import type { SiteConfig } from '../config/schema.ts';
import type { ComposeProject } from './compose.ts';
import { buildCore, type CoreModel } from './core.ts';
import { buildDataModel, type DataModel } from './data.ts';
import { buildEdgeModel, type EdgeModel } from './edge.ts';
import { buildHostModel, type HostModel } from './host.ts';
import { buildMonitoringModel, type MonitoringModel, monitoringComposeServices } from './monitoring.ts';
import { buildObjectStoreModel, type ObjectStoreModel } from './object-store.ts';
import { type SecretFile, uniqueSecretFiles } from './secret-files.ts';
import { buildStacks } from './stacks.ts';

/** The whole platform derived from the site configuration; renderers read only this. */
export interface Model extends CoreModel {
  data: DataModel;
  objectStore: ObjectStoreModel;
  monitoring: MonitoringModel;
  host: HostModel;
  edge: EdgeModel;
  compose: ComposeProject[];
  /** Secrets containers read from files (`*_file` settings), each written from an env-file variable. */
  secretFiles: SecretFile[];
}

export function buildModel(config: SiteConfig): Model {
  const core = buildCore(config);
  const data = buildDataModel(core);
  const objectStore = buildObjectStoreModel(core);
  const monitoring = buildMonitoringModel(core);
  const compose = buildStacks(core, data, objectStore, monitoringComposeServices(core, monitoring));
  const secretFiles = uniqueSecretFiles(compose.flatMap((p) => p.services));
  const host = buildHostModel(core);
  const edge = buildEdgeModel(core);
  return { ...core, data, objectStore, monitoring, host, edge, compose, secretFiles };
}
