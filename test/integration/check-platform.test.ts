import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { alertmanagerCheck } from '../../src/check/tools/platform/alertmanager.ts';
import { composeCheck } from '../../src/check/tools/platform/compose.ts';
import { composeSchemaCheck } from '../../src/check/tools/platform/compose-schema.ts';
import { platformChecks } from '../../src/check/tools/platform/index.ts';
import { nginxCheck } from '../../src/check/tools/platform/nginx.ts';
import { prometheusCheck } from '../../src/check/tools/platform/prometheus.ts';
import { shellcheckCheck } from '../../src/check/tools/platform/shellcheck.ts';
import type { Check, CheckContext, CheckResult, TreeFiles } from '../../src/check/types.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { buildModel, type Model } from '../../src/model/index.ts';
import { renderTree } from '../../src/render/index.ts';

// Real nginx, promtool, amtool, shellcheck and docker compose (scripts/install-test-tools.sh installs them)
// over the default tree and over copies with one broken file.

type Row = Omit<CheckResult, 'durationMs'>;

let base: string;
let serial = 0;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'check-platform-'));
});
afterAll(async () => rm(base, { recursive: true, force: true }));

const modelOf = (input: unknown = {}) => buildModel(validateConfig(input));
const defaultModel = modelOf();

function treeOf(model: Model): TreeFiles {
  return {
    root: '/nonexistent/infrastructure',
    files: new Map(renderTree(model).map((f) => [f.path, { content: f.content, mode: f.mode }])),
  };
}

/** A copy of a tree with one file changed. */
function withFile(tree: TreeFiles, path: string, change: (content: string) => string): TreeFiles {
  const files = new Map(tree.files);
  const file = files.get(path);
  if (!file) throw new Error(`${path} is not in the tree`);
  const content = change(file.content);
  if (content === file.content) throw new Error(`the change left ${path} as it was`);
  files.set(path, { ...file, content });
  return { root: tree.root, files };
}

async function run(check: Check, tree: TreeFiles, model: Model = defaultModel): Promise<Row[]> {
  const ctx: CheckContext = {
    tree,
    model,
    tempDir: (label) => mkdtemp(join(base, `${label}-${serial++}-`)),
  };
  return check.run(ctx);
}

const defaultTree = treeOf(defaultModel);
const failed = (rows: Row[]) => rows.filter((r) => r.status === 'fail');

// Concurrent: each test waits on its own tool processes.
describe.concurrent('platform checks', () => {
  describe('platform checks on the default tree', () => {
    it('lists one check per tool', ({ expect }) => {
      expect(platformChecks.map((c) => c.name)).toEqual([
        'nginx',
        'prometheus',
        'alertmanager',
        'shellcheck',
        'compose',
        'compose-schema',
      ]);
    });

    it.for(platformChecks.map((c) => [c.name, c] as const))('%s passes', async ([, check], { expect }) => {
      const rows = await run(check, defaultTree);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.status, `${row.target}: ${row.message}`).toBe('pass');
    });
  });

  describe('nginx -t', () => {
    it('surfaces a duplicate directive with the tree path', async ({ expect }) => {
      const tree = withFile(defaultTree, 'nginx/nginx.conf', (c) =>
        c.replace('    server_tokens off;\n', '    server_tokens off;\n    server_tokens off;\n'),
      );
      const [row] = await run(nginxCheck, tree);
      expect(row?.status).toBe('fail');
      expect(row?.message).toMatch(
        /\[emerg\] "server_tokens" directive is duplicate in nginx\/nginx\.conf:\d+/,
      );
      expect(row?.message).not.toContain(base);
    });

    it('reads the sites through sites-enabled and names the site file', async ({ expect }) => {
      const tree = withFile(defaultTree, 'nginx/sites-available/api.conf', (c) =>
        c.replace('proxy_pass http://api_backend;', 'proxy_pass http://no_such_backend;'),
      );
      const [row] = await run(nginxCheck, tree);
      expect(row?.status).toBe('fail');
      expect(row?.message).toContain(
        'host not found in upstream "no_such_backend" in nginx/sites-available/api.conf',
      );
    });

    it('checks a listen address this machine lacks on loopback, and says so', async ({ expect }) => {
      const tree = withFile(defaultTree, 'nginx/sites-available/status.conf', (c) =>
        c.replace(/listen 127\.0\.0\.1:(\d+);/, 'listen 127.0.0.1:$1;\n    listen 198.51.100.7:$1;'),
      );
      const [row] = await run(nginxCheck, tree);
      expect(row?.status, row?.message).toBe('pass');
      expect(row?.notes).toContain(
        'listen address 198.51.100.7 is not on this machine: checked as 127.100.0.1 (nginx -t binds every listen address)',
      );
    });

    it('checks `http2 on;` (nginx >= 1.25.1) in the listen form with an older local nginx, and says so', async ({
      expect,
    }) => {
      const model = modelOf({ edge: { nginxVersion: '1.26.0' } });
      const [row] = await run(nginxCheck, treeOf(model), model);
      expect(row?.status, row?.message).toBe('pass');
      expect(row?.notes?.join('\n')).toMatch(
        /`http2 on;` is for nginx >= 1\.25\.1 .*listen \.\.\. ssl http2/,
      );
    });
  });

  describe('promtool', () => {
    it('surfaces a bad PromQL expression in the alert rules', async ({ expect }) => {
      const tree = withFile(defaultTree, defaultModel.monitoring.files.alertRules, (c) =>
        c.replace('expr: up{job!~"api|web|admin"} == 0', 'expr: up{job!~"api|web|admin"} == == 0'),
      );
      const rows = await run(prometheusCheck, tree);
      const rules = rows.find((r) => r.target === defaultModel.monitoring.files.alertRules);
      expect(rules?.status).toBe('fail');
      expect(rules?.message).toContain('could not parse expression');
      expect(rules?.message).toContain('parse error');
      expect(rules?.message).toContain(defaultModel.monitoring.files.alertRules);
    });

    it('checks a Prometheus 3 field in a copy without it, and says so', async ({ expect }) => {
      const tree = withFile(defaultTree, defaultModel.monitoring.files.prometheus, (c) =>
        c.replace(
          '  - job_name: prometheus\n',
          '  - job_name: prometheus\n    fallback_scrape_protocol: PrometheusText0.0.4\n',
        ),
      );
      const rows = await run(prometheusCheck, tree);
      const config = rows.find((r) => r.target === defaultModel.monitoring.files.prometheus);
      expect(config?.status, config?.message).toBe('pass');
      expect(config?.notes?.join('\n')).toContain('`fallback_scrape_protocol`');
    });

    it('fails a field no Prometheus knows', async ({ expect }) => {
      const tree = withFile(defaultTree, defaultModel.monitoring.files.prometheus, (c) =>
        c.replace('  scrape_interval: 15s\n', '  scrape_intervall: 15s\n'),
      );
      const rows = await run(prometheusCheck, tree);
      const config = rows.find((r) => r.target === defaultModel.monitoring.files.prometheus);
      expect(config?.status).toBe('fail');
      expect(config?.message).toContain('field scrape_intervall not found');
    });
  });

  describe('amtool', () => {
    it('surfaces an invalid configuration', async ({ expect }) => {
      const tree = withFile(defaultTree, defaultModel.monitoring.files.alertmanager, (c) =>
        c.replace(/^ {2}receiver: team$/m, '  receiver: nobody'),
      );
      const [row] = await run(alertmanagerCheck, tree);
      expect(row?.status).toBe('fail');
      expect(row?.message).toContain('undefined receiver "nobody"');
    });
  });

  describe('shellcheck', () => {
    it('fails the script with an unquoted variable, and only that one', async ({ expect }) => {
      const script = 'scripts/provision/setup-firewall.sh';
      const tree = withFile(defaultTree, script, (c) => `${c}rm $DIR/x\n`);
      const rows = await run(shellcheckCheck, tree);
      expect(failed(rows).map((r) => r.target)).toEqual([script]);
      expect(rows.find((r) => r.target === script)?.message).toMatch(
        /^scripts\/provision\/setup-firewall\.sh:\d+:\d+: .*\[SC2086\]/m,
      );
    });
  });

  describe('docker compose and the Compose schema', () => {
    const file = 'docker/compose.blue.yml';
    const broken = withFile(defaultTree, file, (c) =>
      c.replace('    restart: unless-stopped\n', '    restart: unless-stopped\n    restartt: always\n'),
    );

    it('docker compose config rejects an unknown service key', async ({ expect }) => {
      const rows = await run(composeCheck, broken);
      expect(failed(rows).map((r) => r.target)).toEqual([file]);
      expect(rows.find((r) => r.target === file)?.message).toMatch(/services\.api-blue.*restartt/);
    });

    it('the schema check names the path of the unknown key', async ({ expect }) => {
      const rows = await run(composeSchemaCheck, broken);
      expect(failed(rows).map((r) => r.target)).toEqual([file]);
      expect(rows.find((r) => r.target === file)?.message).toContain(
        `${file}: services.api-blue: must NOT have additional properties (restartt)`,
      );
    });

    it('a missing variable in the env example fails interpolation', async ({ expect }) => {
      const tree = withFile(defaultTree, 'docker/.env.example', (c) => c.replace(/^JWT_SECRET=.*\n/m, ''));
      const rows = await run(composeCheck, tree);
      expect(failed(rows).length).toBeGreaterThan(0);
      for (const row of failed(rows)) expect(row.message).toContain('JWT_SECRET');
    });
  });
});
