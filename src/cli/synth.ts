import type { Command } from 'commander';
import { EXIT_FAILED } from '../lib/errors.ts';
import { diffTree, hasDrift, writeTree } from '../lib/tree.ts';
import { renderTree } from '../render/index.ts';
import { elapsed, loadModel } from './context.ts';

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('render the infrastructure tree from the site configuration')
    .option('-o, --out <dir>', 'tree to write (or compare with --check)', 'infrastructure')
    .option('--check', 'write nothing; list files that differ from the tree and exit 1 on any drift')
    .action(async (options: { out: string; check?: boolean }, command: Command) => {
      const start = performance.now();
      const model = await loadModel(command);
      const files = renderTree(model);
      const out = options.out.replace(/\/+$/, '');
      if (options.check) {
        const drift = await diffTree(out, files, model.localState);
        if (!hasDrift(drift)) {
          console.log(
            `${out}/ is up to date: ${files.length} files match the configuration (${elapsed(start)}).`,
          );
          return;
        }
        for (const path of drift.missing) console.log(`missing  ${out}/${path}`);
        for (const path of drift.changed) console.log(`changed  ${out}/${path}`);
        for (const path of drift.extra) console.log(`extra    ${out}/${path}`);
        const count = drift.missing.length + drift.changed.length + drift.extra.length;
        console.log(
          `${out}/ has drifted from the configuration: ${count} file${count === 1 ? '' : 's'} differ. Run \`npx academy synth --out ${out}\` and commit the result.`,
        );
        process.exitCode = EXIT_FAILED;
        return;
      }
      const before = await diffTree(out, files, model.localState);
      await writeTree(out, files, model.localState);
      const changed = new Set([...before.missing, ...before.changed]);
      for (const file of files) {
        const mark = before.missing.includes(file.path) ? '+' : changed.has(file.path) ? '~' : ' ';
        console.log(`${mark} ${out}/${file.path}${file.mode & 0o111 ? ' (executable)' : ''}`);
      }
      for (const path of before.extra) console.log(`- ${out}/${path} (removed: no longer rendered)`);
      console.log(
        `Wrote ${files.length} files to ${out}/ in ${elapsed(start)}: ${before.missing.length} new, ${before.changed.length} changed, ${before.extra.length} removed.`,
      );
    });
}
