import { stringify } from 'smol-toml';
import type { ObjectStoreModel } from '../model/object-store.ts';
import { type RenderedFile, textFile } from './file.ts';

/** garage.toml: no secret in it; Garage reads GARAGE_RPC_SECRET and the tokens from its environment. */
export function renderObjectStore(model: { objectStore: ObjectStoreModel }): RenderedFile[] {
  const { files, settings } = model.objectStore;
  return [textFile(files.config, stringify(settings))];
}
