import { chmod, chown, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { SECRETS } from '../model/secrets.ts';
import { parseEnvFile, planEnvFile, planSecretFiles } from '../ops/secrets.ts';
import { loadModel } from './context.ts';

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

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('manage the env file and secret files');
  secrets
    .command('init')
    .description(
      'create every missing secret with a strong random value (env file mode 0600, never overwriting a value), then write the secret files containers read from it',
    )
    .option('--env-file <path>', 'env file read by Compose', 'infrastructure/docker/.env')
    .option(
      '--secrets-dir <dir>',
      'folder of the secret files mounted into containers',
      'infrastructure/secrets',
    )
    .action(async (options: { envFile: string; secretsDir: string }, command: Command) => {
      const model = await loadModel(command);
      const path = options.envFile;
      const plan = planEnvFile(await readIfExists(path), SECRETS);
      if (plan.created.length > 0) {
        await mkdir(dirname(path), { recursive: true });
        await writeAtomically(path, plan.content, 0o600);
      }
      // An env file from elsewhere may have been readable by others: secrets are for its owner only.
      await chmod(path, 0o600);
      if (plan.created.length === 0)
        console.log(`${path}: every secret already has a line; nothing changed.`);
      else console.log(`${path}: created ${plan.created.length} secret(s): ${plan.created.join(', ')}`);

      // Containers run as their own users (nobody, grafana): as root the files are given to them (0400);
      // otherwise they stay the caller's, which is enough for a local check but not for the containers.
      const asRoot = process.getuid?.() === 0;
      await mkdir(options.secretsDir, { recursive: true, mode: 0o700 });
      await chmod(options.secretsDir, 0o700);
      const env = parseEnvFile(plan.content);
      const empty: string[] = [];
      for (const file of planSecretFiles(env, model.secretFiles)) {
        const target = join(options.secretsDir, file.name);
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
      console.log(`${options.secretsDir}/: ${model.secretFiles.length} secret file(s) in step with ${path}.`);
      if (!asRoot) console.log('Not root: secret files keep your ownership; run as root on the server.');
      if (plan.needValue.length > 0)
        console.log(`Set these yourself in ${path}, then run this again: ${plan.needValue.join(', ')}`);
      if (empty.length > 0) console.log(`Empty until then: ${empty.join(', ')}`);
      console.log('Values are never printed; keep these files out of git.');
    });
}
