/** `${NAME:?...}`: Compose refuses to start when a required secret is missing from the env file. */
export const requiredVar = (name: string) => `\${${name}:?${name} is not set: run academy secrets init}`;

/** `${NAME:-}`: an integration the operator may leave unconfigured. */
export const optionalVar = (name: string) => `\${${name}:-}`;

/** Every variable a compose value interpolates, in order of first use. */
export function referencedVars(value: string): string[] {
  return [...value.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string);
}
