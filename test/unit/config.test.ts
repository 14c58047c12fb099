import { describe, expect, it } from 'vitest';
import siteConfig from '../../academy.config.ts';
import { memoryMiB } from '../../src/config/memory.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { ConfigError } from '../../src/lib/errors.ts';

const problemsOf = (input: unknown): string[] => {
  try {
    validateConfig(input, 'site.config.ts');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the configuration to be rejected');
};

describe('site configuration', () => {
  it('defaults reproduce the specification', () => {
    const config = validateConfig({});
    expect(config.domain).toBe('smartacademy.edu.bd');
    expect(config.timezone).toBe('Asia/Dhaka');
    expect(config.paths).toEqual({
      app: '/app/smart-academy',
      data: '/data',
      backups: '/backups',
      logs: '/var/log/smart-academy',
    });
    expect(config.server).toMatchObject({ memoryGiB: 16, cpus: 8, disk: 'ssd' });
    expect(memoryMiB(config.resources.postgres.memory, 16)).toBe(8192);
    expect(memoryMiB(config.resources.api.memory, 16)).toBe(2048);
    expect(config.retention).toMatchObject({ metricsDays: 30, databaseBackupDays: 30, fileBackupDays: 14 });
  });

  it('academy.config.ts documents exactly the defaults', () => {
    expect(validateConfig(siteConfig)).toEqual(validateConfig({}));
  });

  it('reports a wrong type with its path, what was expected and what was found', () => {
    expect(problemsOf({ server: { memoryGiB: 'lots' } })).toEqual([
      'server.memoryGiB: expected a number >= 2, got "lots"',
    ]);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      server: { cpus: 0, disk: 'tape' },
      images: { postgres: 'postgres:latest', redis: 'redis' },
      alerts: { team: ['not-an-address'] },
      edge: { rateLimits: { exempt: ['10.0.0'] } },
    });
    expect(problems).toEqual([
      'server.cpus: expected a number >= 1, got 0',
      'server.disk: expected one of "ssd", "hdd", got "tape"',
      'images.postgres: expected an image reference with an explicit version tag (never "latest"), e.g. postgres:17.11-alpine, got "postgres:latest"',
      'images.redis: expected an image reference with an explicit version tag (never "latest"), e.g. postgres:17.11-alpine, got "redis"',
      'alerts.team[0]: expected an e-mail address, got "not-an-address"',
      'edge.rateLimits.exempt[0]: expected an IPv4 or IPv6 CIDR such as 10.0.0.0/8, got "10.0.0"',
    ]);
  });

  it('rejects unknown keys instead of ignoring them', () => {
    expect(problemsOf({ server: { memoryGb: 16 } })).toEqual([
      'server: unknown key "memoryGb" (check the spelling; see academy.config.ts for the fields)',
    ]);
  });

  it('rejects sizes that cannot work on the server', () => {
    expect(
      problemsOf({ server: { cpus: 2 }, resources: { postgres: { memory: '200GiB', cpus: 4 } } }),
    ).toEqual([
      "resources.postgres.memory: expected at most the server's 16384 MiB, got 204800 MiB (200GiB)",
      'resources.postgres.cpus: expected at most server.cpus (2), got 4',
    ]);
    expect(problemsOf({ resources: { redis: { memory: '0.1%' } } })).toEqual([
      'resources.redis.memory: expected at least 64 MiB, got 16 MiB (0.1% of 16 GiB)',
      'resources.redis.reserveMemory: expected at most the limit of 16 MiB, got 256 MiB',
    ]);
    const [problem] = problemsOf({ resources: { postgres: { memory: '90%', reserveMemory: '80%' } } });
    expect(problem).toMatch(
      /^resources: expected memory reservations .* to fit the server's 16384 MiB, got \d+ MiB$/,
    );
  });

  it('names the file in the error message', () => {
    expect(() => validateConfig({ name: 'Bad Name' }, 'site.config.ts')).toThrow(
      /^site\.config\.ts: 1 problem in the site configuration:\n {2}- name: expected a lower-case name/,
    );
  });
});
