import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { UsageError } from '../lib/errors.ts';
import { localSite } from '../ops/local/site.ts';
import { downPlan, type ImageSource, upPlan } from '../ops/local/up.ts';
import { ensureLocalImages, localImageEnv } from '../ops/local-images.ts';
import { describePlan } from '../ops/plan.ts';
import { runPlan } from '../ops/run-plan.ts';

interface LocalOptions {
  state: string;
  httpPort: string;
  httpsPort: string;
  statusPort: string;
  dryRun?: boolean;
}

const port = (flag: string, value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`${flag}: expected a port number, got "${value}"`);
  return n;
};

async function site(command: Command, options: LocalOptions) {
  const { config } = command.optsWithGlobals<{ config: string }>();
  return localSite(await loadConfig(config), {
    stateDir: options.state,
    httpPort: port('--http-port', options.httpPort),
    httpsPort: port('--https-port', options.httpsPort),
    statusPort: port('--status-port', options.statusPort),
  });
}

const localOptions = (cmd: Command) =>
  cmd
    .option('--state <dir>', 'folder of the local site: rendered tree, data, nginx, secrets', '.academy')
    .option('--http-port <port>', 'local nginx HTTP port', '18080')
    .option('--https-port <port>', 'local nginx HTTPS port', '18443')
    .option('--status-port <port>', 'local nginx stub_status port', '18088')
    .option('--dry-run', 'print the plan and run nothing');

/** Services that have no local stand-in image: they stay down with --images local. */
const NO_LOCAL_IMAGE = ['object-store', 'gibbon'];

export function registerUp(program: Command): void {
  localOptions(
    program
      .command('up')
      .description('bring up the data services and the active colour on this machine, behind a local nginx'),
  )
    .option(
      '--images <source>',
      '"official" (pull the pinned images) or "local" (build stand-ins offline)',
      'official',
    )
    .option('--with <extra>', '"monitoring" to start the monitoring project too')
    .option('--timeout <seconds>', 'how long to wait for health', '180')
    .action(
      async (
        options: LocalOptions & { images: string; with?: string; timeout: string },
        command: Command,
      ) => {
        if (options.images !== 'local' && options.images !== 'official')
          throw new UsageError(`--images: expected "local" or "official", got "${options.images}"`);
        if (options.with !== undefined && options.with !== 'monitoring')
          throw new UsageError(`--with: expected "monitoring", got "${options.with}"`);
        const images = options.images as ImageSource;
        const withMonitoring = options.with === 'monitoring';
        if (withMonitoring && images === 'local')
          throw new UsageError(
            '--with monitoring needs --images official: no local stand-ins exist for Prometheus, Grafana, Loki and Alloy',
          );
        const timeoutSeconds = port('--timeout', options.timeout);
        const local = await site(command, options);
        const skipped = images === 'local' ? NO_LOCAL_IMAGE : [];
        let imageEnv: Record<string, string> = {};
        if (images === 'local') imageEnv = options.dryRun ? localImageEnv() : (await ensureLocalImages()).env;
        const plan = upPlan(local, { images, withMonitoring, imageEnv, skipped, timeoutSeconds });
        if (options.dryRun) {
          console.log(describePlan(plan));
          return;
        }
        if (skipped.length > 0)
          console.log(
            `No local image for ${skipped.join(' and ')}: they stay down (the applications start without them).`,
          );
        await runPlan(plan);
        const { domains } = local.model;
        const https = local.ports.https;
        console.log(
          `\nThe ${local.model.activeColor} stack runs behind nginx on 127.0.0.1 (throwaway certificate):`,
        );
        for (const name of [domains.root, domains.api, domains.admin]) {
          console.log(
            `  https://${name}:${https}/   curl -k --resolve ${name}:${https}:127.0.0.1 https://${name}:${https}/`,
          );
        }
        console.log(
          `State (tree, data, secrets, nginx) in ${local.stateDir}; stop with \`npx academy down\`.`,
        );
      },
    );

  localOptions(program.command('down').description('stop the local site; data survives unless --volumes'))
    .option('--volumes', 'also remove the data (databases, Redis, volumes)')
    .action(async (options: LocalOptions & { volumes?: boolean }, command: Command) => {
      const plan = downPlan(await site(command, options), { volumes: Boolean(options.volumes) });
      if (options.dryRun) console.log(describePlan(plan));
      else await runPlan(plan);
    });
}
