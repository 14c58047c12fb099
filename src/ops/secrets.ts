import { randomBytes } from 'node:crypto';
import { parseEnvFile } from '../lib/env-file.ts';
import type { Secret, SecretSource } from '../model/secrets.ts';

export interface EnvFilePlan {
  /** The env file's new content: the old lines untouched, missing names appended. */
  content: string;
  created: string[];
  /** Names the operator must fill in (provided secrets still empty). */
  needValue: string[];
}

export function generateSecret(
  source: SecretSource,
  random: (bytes: number) => Buffer = randomBytes,
): string {
  switch (source.kind) {
    case 'random':
      return random(source.bytes).toString(source.encoding);
    case 'prefixed-hex':
      return `${source.prefix}${random(source.bytes).toString('hex')}`;
    case 'provided':
      return '';
  }
}

/**
 * Plans the env file: every secret that has no line yet gets one, random where it can be generated,
 * empty where only the operator knows the value. Existing values are never changed; a file that does not
 * parse strictly is refused (EnvFileError) before anything is planned.
 */
export function planEnvFile(
  existing: string,
  secrets: readonly Secret[],
  random?: (bytes: number) => Buffer,
  file = '.env',
): EnvFilePlan {
  const values = parseEnvFile(existing, file);
  const created: string[] = [];
  const lines: string[] = [];
  for (const secret of secrets) {
    if (values.has(secret.name)) continue;
    const value = generateSecret(secret.source, random);
    lines.push(`# ${secret.purpose}${secret.source.kind === 'provided' ? ' (set by the operator)' : ''}`);
    lines.push(`${secret.name}=${value}`);
    values.set(secret.name, value);
    created.push(secret.name);
  }
  const needValue = secrets
    .filter((s) => s.source.kind === 'provided' && !values.get(s.name))
    .map((s) => s.name);
  const head = existing === '' || existing.endsWith('\n') ? existing : `${existing}\n`;
  return { content: lines.length ? `${head}${lines.join('\n')}\n` : existing, created, needValue };
}

export interface SecretFileWrite {
  name: string;
  /** The value to write; empty when the operator has not set the variable yet. */
  content: string;
  uid: number;
  env: string;
}

/** The secret files to write from the env file's values: one per file secret, empty where unset. */
export function planSecretFiles(
  env: Map<string, string>,
  files: readonly { name: string; env: string; uid: number }[],
): SecretFileWrite[] {
  return files.map((f) => ({ name: f.name, content: env.get(f.env) ?? '', uid: f.uid, env: f.env }));
}
