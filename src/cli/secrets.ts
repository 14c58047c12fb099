import type { Command } from 'commander';
import { initSecrets } from '../ops/init-secrets.ts';
import { loadModel } from './context.ts';

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
      const report = await initSecrets(await loadModel(command), options.envFile, options.secretsDir);
      const path = report.envFile;
      if (report.created.length === 0)
        console.log(`${path}: every secret already has a line; nothing changed.`);
      else console.log(`${path}: created ${report.created.length} secret(s): ${report.created.join(', ')}`);
      console.log(`${options.secretsDir}/: ${report.secretFiles} secret file(s) in step with ${path}.`);
      if (!report.asRoot)
        console.log('Not root: secret files keep your ownership; run as root on the server.');
      if (report.needValue.length > 0)
        console.log(`Set these yourself in ${path}, then run this again: ${report.needValue.join(', ')}`);
      if (report.empty.length > 0) console.log(`Empty until then: ${report.empty.join(', ')}`);
      console.log('Values are never printed; keep these files out of git.');
    });
}
