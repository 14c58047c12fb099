import { ConfigError, loadConfig, redact, secretsOf } from './config.js';
import { errorMessage } from './health.js';
import { start } from './server.js';

/** Entry point of the container: `node dist/main.js`. Exit codes: 0 drained, 1 failure, 2 bad environment. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`reference app: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const secrets = secretsOf(config);

  const app = await start(config).catch((err: unknown) => {
    process.stderr.write(
      `reference app: cannot listen on ${config.host}:${config.port}: ${errorMessage(err)}\n`,
    );
    process.exit(1);
  });
  const { log } = app;

  const fatal = (what: string) => (err: unknown) => {
    log.fatal({ err: redact(errorMessage(err), secrets) }, what);
    process.exit(1);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled rejection'));

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      log.warn({ phase: 'exit', signal, code: 1 }, 'second signal during drain: exiting now');
      process.exit(1);
    }
    app.drain(signal).then(() => {
      log.info({ phase: 'exit', code: 0 }, 'exiting');
      process.exit(0);
    }, fatal('drain failed'));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

await main();
