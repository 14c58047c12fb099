import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { allChecks } from '../check/catalog.ts';
import { formatTable, summarize } from '../check/report.ts';
import { runChecks } from '../check/runner.ts';
import { readTree } from '../check/tree.ts';
import { EXIT_FAILED, UsageError } from '../lib/errors.ts';
import { loadModel } from './context.ts';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'validate the rendered tree with the real programs that read it, plus cross-references and security policy',
    )
    .option('-d, --dir <dir>', 'rendered tree to check', 'infrastructure')
    .option('--strict', 'a missing tool fails the check instead of skipping it (CI)')
    .option('--json', 'print the results as JSON')
    .option('--only <names>', 'comma-separated check names to run (see --list)')
    .option('--list', 'list the checks and exit')
    .action(
      async (
        options: { dir: string; strict?: boolean; json?: boolean; only?: string; list?: boolean },
        command: Command,
      ) => {
        if (options.list) {
          for (const check of allChecks) console.log(`${check.name.padEnd(28)} ${check.tool}`);
          return;
        }
        const start = performance.now();
        const model = await loadModel(command);
        const tree = await readTree(options.dir, model.localState);
        const wanted = options.only?.split(',').map((s) => s.trim());
        const checks = wanted ? allChecks.filter((c) => wanted.includes(c.name)) : allChecks;
        const unknown = wanted?.filter((w) => !allChecks.some((c) => c.name === w)) ?? [];
        if (unknown.length > 0)
          throw new UsageError(`--only: expected check names from --list, got unknown ${unknown.join(', ')}`);
        if (!options.json)
          console.log(`Checking ${options.dir}/ (${tree.files.size} files) with ${checks.length} checks...`);
        const results = await runChecks(checks, tree, model, {
          strict: Boolean(options.strict),
          concurrency: Math.max(2, availableParallelism()),
        });
        const elapsed = performance.now() - start;
        if (options.json) {
          console.log(
            JSON.stringify(
              { ok: !results.some((r) => r.status === 'fail'), elapsedMs: Math.round(elapsed), results },
              null,
              2,
            ),
          );
        } else {
          console.log(formatTable(results));
          console.log(summarize(results, elapsed));
        }
        if (results.some((r) => r.status === 'fail')) process.exitCode = EXIT_FAILED;
      },
    );
}
