import type { SiteConfig } from '../config/schema.ts';
import type { ComposeProject } from './compose.ts';
import { buildCore, type CoreModel } from './core.ts';
import { buildDataModel, type DataModel } from './data.ts';
import { buildMonitoringModel, type MonitoringModel, monitoringComposeServices } from './monitoring.ts';
import { buildObjectStoreModel, type ObjectStoreModel } from './object-store.ts';
import { buildStacks } from './stacks.ts';

/** The whole platform derived from the site configuration; renderers read only this. */
export interface Model extends CoreModel {
  data: DataModel;
  objectStore: ObjectStoreModel;
  monitoring: MonitoringModel;
  compose: ComposeProject[];
}

export function buildModel(config: SiteConfig): Model {
  const core = buildCore(config);
  const data = buildDataModel(core);
  const objectStore = buildObjectStoreModel(core);
  const monitoring = buildMonitoringModel(core);
  const compose = buildStacks(core, data, objectStore, monitoringComposeServices(core, monitoring));
  return { ...core, data, objectStore, monitoring, compose };
}
