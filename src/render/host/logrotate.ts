import type { LogrotateBlock } from '../../model/host.ts';
import { type RenderedFile, textFile } from '../file.ts';
import type { HostInput } from './input.ts';

function renderBlock(block: LogrotateBlock): string {
  const lines = block.directives.flatMap((directive) =>
    typeof directive === 'string'
      ? [`    ${directive}`]
      : [`    ${directive[0]}`, ...directive[1].map((line) => `        ${line}`), '    endscript'],
  );
  return [`${block.pattern} {`, ...lines, '}'].join('\n');
}

/**
 * /etc/logrotate.d/<name> for the platform's host logs, and a replacement of the nginx package's
 * /etc/logrotate.d/nginx that applies the configured retention (same path, so each log has one entry).
 */
export function renderLogrotate(model: HostInput): RenderedFile[] {
  const { host } = model;
  return [
    textFile(
      host.files.logrotate,
      [
        '# Jobs append to these files and never reopen them: copytruncate, no signal to anyone.',
        "# nginx's logs are rotated by /etc/logrotate.d/nginx, never here.",
        renderBlock(host.logrotate),
      ].join('\n'),
    ),
    textFile(
      host.files.nginxLogrotate,
      [
        "# Installed as /etc/logrotate.d/nginx in place of the package's file (same content but the retention).",
        renderBlock(host.nginxLogrotate),
      ].join('\n'),
    ),
  ];
}
