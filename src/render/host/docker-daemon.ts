import { jsonFile, type RenderedFile } from '../file.ts';
import type { HostInput } from './input.ts';

/** /etc/docker/daemon.json. */
export const renderDockerDaemon = (model: HostInput): RenderedFile =>
  jsonFile(model.host.files.dockerDaemon, model.host.dockerDaemon);
