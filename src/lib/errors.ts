/** Exit codes of the CLI: 0 ok (the default), 1 a check or operation failed, 2 bad input. */
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

/** One problem with the site configuration: where, what was expected, what was found. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** The configuration is invalid; every problem is listed, nothing has been written. */
export class ConfigError extends Error {
  readonly exitCode = EXIT_BAD_INPUT;
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the site configuration:\n${problems
        .map((p) => `  - ${p.path}: ${p.message}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Bad input that is not the site configuration (a flag, a file given on the command line). */
export class UsageError extends Error {
  readonly exitCode = EXIT_BAD_INPUT;
  override name = 'UsageError';
}

/** An operation or check ran and failed. */
export class OperationFailed extends Error {
  readonly exitCode = EXIT_FAILED;
  override name = 'OperationFailed';
}
