import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { SECRETS } from '../model/secrets.ts';
import { planEnvFile } from '../ops/secrets.ts';

const readIfExists = async (path: string) =>
  readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('manage the env file that holds every secret');
  secrets
    .command('init')
    .description(
      'create every missing secret with a strong random value (mode 0600); never overwrites a value',
    )
    .option('--env-file <path>', 'env file read by Compose', 'infrastructure/docker/.env')
    .action(async (options: { envFile: string }) => {
      const path = options.envFile;
      const plan = planEnvFile(await readIfExists(path), SECRETS);
      if (plan.created.length > 0) {
        await mkdir(dirname(path), { recursive: true });
        const staging = `${path}.tmp-${process.pid}`;
        await writeFile(staging, plan.content, { mode: 0o600 });
        await rename(staging, path);
      }
      // An env file from elsewhere may have been readable by others: secrets are for its owner only.
      await chmod(path, 0o600);
      const mode = ((await stat(path)).mode & 0o777).toString(8);
      if (plan.created.length === 0)
        console.log(`${path}: every secret already has a line; nothing changed.`);
      else console.log(`${path}: created ${plan.created.length} secret(s): ${plan.created.join(', ')}`);
      if (plan.needValue.length > 0)
        console.log(`Set these yourself in ${path} (only you know them): ${plan.needValue.join(', ')}`);
      console.log(`Mode ${mode}. Values are never printed; keep this file out of git and backups in clear.`);
    });
}
