import { chmod, chown, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseEnvFile } from '../lib/env-file.ts';
import type { Model } from '../model/index.ts';
import { SECRETS } from '../model/secrets.ts';
import { planEnvFile, planSecretFiles } from './secrets.ts';

export interface InitSecretsReport {
  envFile: string;
  created: string[];
  needValue: string[];
  secretFiles: number;
  /** Secret files still empty because the operator has not set their variable. */
  empty: string[];
  asRoot: boolean;
}

const readIfExists = async (path: string) =>
  readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });

/** Writes beside the target and renames over it: never a half-written secret. */
async function writeAtomically(path: string, content: string, mode: number, uid?: number): Promise<void> {
  const staging = `${path}.tmp-${process.pid}`;
  await writeFile(staging, content, { mode });
  await chmod(staging, mode);
  if (uid !== undefined) await chown(staging, uid, uid);
  await rename(staging, path);
}

/**
 * Creates every missing secret in the env file (mode 0600, existing values kept), then writes the secret
 * files containers read from it. As root the files belong to the container's user (0400); otherwise they
 * stay the caller's, enough for a local check but not for the containers.
 */
export async function initSecrets(
  model: Model,
  envFile: string,
  secretsDir: string,
): Promise<InitSecretsReport> {
  const plan = planEnvFile(await readIfExists(envFile), SECRETS, undefined, envFile);
  if (plan.created.length > 0) {
    await mkdir(dirname(envFile), { recursive: true });
    await writeAtomically(envFile, plan.content, 0o600);
  }
  // An env file from elsewhere may have been readable by others: secrets are for its owner only.
  await chmod(envFile, 0o600);

  const asRoot = process.getuid?.() === 0;
  await mkdir(secretsDir, { recursive: true, mode: 0o700 });
  await chmod(secretsDir, 0o700);
  const env = parseEnvFile(plan.content, envFile);
  const empty: string[] = [];
  for (const file of planSecretFiles(env, model.secretFiles)) {
    const target = join(secretsDir, file.name);
    const current = await readIfExists(target);
    const owner = await stat(target).then(
      (s) => s.uid,
      () => undefined,
    );
    if (current !== file.content || (asRoot && owner !== file.uid)) {
      await writeAtomically(target, file.content, 0o400, asRoot ? file.uid : undefined);
    }
    if (file.content === '') empty.push(`${file.name} (from ${file.env})`);
  }
  return {
    envFile,
    created: plan.created,
    needValue: plan.needValue,
    secretFiles: model.secretFiles.length,
    empty,
    asRoot,
  };
}
