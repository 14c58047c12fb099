import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { buildModel, type Model } from '../model/index.ts';

/** Loads and validates the site configuration named by the global --config option, and derives the model. */
export async function loadModel(command: Command): Promise<Model> {
  const { config } = command.optsWithGlobals<{ config: string }>();
  return buildModel(await loadConfig(config));
}

/** Milliseconds since `start`, for progress and summaries. */
export const elapsed = (start: number) => `${Math.round(performance.now() - start)} ms`;
