import type { CoreModel } from '../model/core.ts';
import { SECRETS } from '../model/secrets.ts';
import { type RenderedFile, textFile } from './file.ts';

/**
 * docker/.env.example: the names of every variable the compose files read, with placeholders only.
 * `academy secrets init` creates the real docker/.env (mode 0600, git-ignored) from the same list.
 */
export function renderEnvExample(model: CoreModel): RenderedFile[] {
  const lines = [
    `# Copy to ${model.paths.envFile} with \`npx academy secrets init\` (never commit the real file).`,
    '',
    '# Application release deployed by default (a release tag, never "latest").',
    `APP_VERSION=${model.config.images.appVersion}`,
    '',
  ];
  for (const secret of SECRETS) {
    lines.push(
      `# ${secret.purpose}${secret.source.kind === 'provided' ? ' (set by the operator)' : ' (generated)'}`,
    );
    lines.push(`${secret.name}=`);
  }
  return [textFile('docker/.env.example', lines.join('\n'))];
}
