import { Command } from 'commander';
import { EXIT_FAILED } from '../lib/errors.ts';
import { registerCheck } from './check.ts';
import { registerSecrets } from './secrets.ts';
import { registerSynth } from './synth.ts';
import { registerUp } from './up.ts';

const program = new Command()
  .name('academy')
  .description('The Smart Academy platform: one site config, rendered, checked and operated.')
  .option('-c, --config <file>', 'site configuration module', 'academy.config.ts')
  .showHelpAfterError();

registerSynth(program);
registerCheck(program);
registerSecrets(program);
registerUp(program);

// bin/academy passes our arguments after a `--` that keeps them away from Node's own option parser.
const argv =
  process.argv[2] === '--' ? [...process.argv.slice(0, 2), ...process.argv.slice(3)] : process.argv;

try {
  await program.parseAsync(argv);
} catch (error) {
  const err = error as Error & { exitCode?: number };
  process.stderr.write(`academy: ${err.message}\n`);
  process.exitCode = err.exitCode ?? EXIT_FAILED;
  if (err.exitCode === undefined && process.env.ACADEMY_DEBUG) process.stderr.write(`${err.stack}\n`);
}
