import type { CoreModel } from './core.ts';

/**
 * A secret a container reads from a file: written by `academy secrets init` from an env-file variable
 * (src/model/secrets.ts), mode 0400, owned by `uid`, and bind-mounted read-only at /run/secrets/<name>.
 * The value never enters the container's environment, so `docker inspect` cannot show it.
 */
export interface SecretFile {
  /** File name under the secrets folder and under /run/secrets in the container. */
  name: string;
  /** Env-file variable whose value the file holds. */
  env: string;
  hostPath: string;
  containerPath: string;
  /** The container's user, which must be able to read the file. */
  uid: number;
}

/** Where secret files are read inside a container. */
export const SECRETS_MOUNT = '/run/secrets';

/** The secret file `<service>_<file>` holding the env-file variable `env`, readable by `uid`. */
export function secretFile(
  core: CoreModel,
  service: string,
  file: string,
  env: string,
  uid: number,
): SecretFile {
  const name = `${service}_${file}`.replace(/-/g, '_');
  return {
    name,
    env,
    hostPath: `${core.paths.secretsDir}/${name}`,
    containerPath: `${SECRETS_MOUNT}/${name}`,
    uid,
  };
}

/** Every secret file of the given services, once each (two services may share one file). */
export const uniqueSecretFiles = (services: readonly { secrets?: readonly SecretFile[] }[]): SecretFile[] => [
  ...new Map(services.flatMap((s) => s.secrets ?? []).map((f) => [f.name, f])).values(),
];
