import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/lib/env-file.ts';
import { SECRETS } from '../../src/model/secrets.ts';
import { planEnvFile } from '../../src/ops/secrets.ts';

describe('secrets init plan', () => {
  it('creates every secret, random and URL-safe where it can, empty where the operator must provide it', () => {
    const plan = planEnvFile('', SECRETS);
    const values = parseEnvFile(plan.content);
    expect(plan.created).toEqual(SECRETS.map((s) => s.name));
    for (const secret of SECRETS) {
      const value = values.get(secret.name);
      if (secret.source.kind === 'provided') expect(value).toBe('');
      else expect(value).toMatch(/^[A-Za-z0-9_-]{24,}$/);
    }
    expect(values.get('OBJECT_STORE_RPC_SECRET')).toMatch(/^[0-9a-f]{64}$/);
    expect(values.get('S3_ACCESS_KEY_ID')).toMatch(/^GK[0-9a-f]{24}$/);
    expect(plan.needValue).toContain('SLACK_WEBHOOK_URL');
  });

  it('two runs give different random values', () => {
    const a = parseEnvFile(planEnvFile('', SECRETS).content);
    const b = parseEnvFile(planEnvFile('', SECRETS).content);
    expect(a.get('POSTGRES_PASSWORD')).not.toBe(b.get('POSTGRES_PASSWORD'));
  });

  it('never overwrites an existing value and keeps the existing lines byte for byte', () => {
    const existing = '# mine\nPOSTGRES_PASSWORD=keep-me\nSENDGRID_API_KEY="SG.x"\nOTHER=1';
    const plan = planEnvFile(existing, SECRETS);
    expect(plan.content.startsWith(`${existing}\n`)).toBe(true);
    expect(plan.created).not.toContain('POSTGRES_PASSWORD');
    expect(plan.needValue).not.toContain('SENDGRID_API_KEY');
    const values = parseEnvFile(plan.content);
    expect(values.get('POSTGRES_PASSWORD')).toBe('keep-me');
    expect(values.get('SENDGRID_API_KEY')).toBe('SG.x');
  });

  it('is a no-op once every secret has a line', () => {
    const first = planEnvFile('', SECRETS).content;
    const second = planEnvFile(first, SECRETS);
    expect(second.created).toEqual([]);
    expect(second.content).toBe(first);
  });
});
