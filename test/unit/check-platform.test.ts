import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type ComposeFileSet,
  composeConfigArgs,
  composeFileSets,
  DUMMY_VALUE,
  dummyEnv,
  ENV_EXAMPLE,
  parseComposeVersion,
} from '../../src/check/tools/platform/compose.ts';
import {
  COMPOSE_FORMATS,
  composeValidator,
  formatSchemaErrors,
  prepareComposeSchema,
  yamlPath,
} from '../../src/check/tools/platform/compose-schema.ts';
import { containerCopy, serviceReading } from '../../src/check/tools/platform/container.ts';
import { trimOutput } from '../../src/check/tools/platform/exec.ts';
import {
  ALERTMANAGER_FILE_FIELDS,
  PROMETHEUS_NEWER_FIELDS,
  prometheus3Reason,
  ruleErrors,
  stripFields,
  stripRules,
  unknownFields,
} from '../../src/check/tools/platform/newer-syntax.ts';
import {
  http2ListenForm,
  localAddresses,
  localListen,
  nginxInstall,
  nginxPathMoves,
  nginxProblems,
  parseModulesPath,
  parseNginxVersion,
  unprivilegedListen,
} from '../../src/check/tools/platform/nginx.ts';
import { parsePromtoolVersion } from '../../src/check/tools/platform/prometheus.ts';
import { describePaths, relocatePaths } from '../../src/check/tools/platform/relocate.ts';
import {
  findingsByScript,
  isShellShebang,
  shellcheckArgs,
  shellScripts,
} from '../../src/check/tools/platform/shellcheck.ts';
import type { TreeFiles } from '../../src/check/types.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { buildModel } from '../../src/model/index.ts';
import { renderTree } from '../../src/render/index.ts';

const model = buildModel(validateConfig({}));
const treeOf = (input: unknown = {}): TreeFiles => ({
  root: '/nonexistent/infrastructure',
  files: new Map(
    renderTree(buildModel(validateConfig(input))).map((f) => [f.path, { content: f.content, mode: f.mode }]),
  ),
});
const tree = treeOf();
const PREFIX = '/tmp/check-nginx';

/** Every file-system path of a text (location URIs and regexes are not). */
const absolutePaths = (text: string) =>
  (text.match(/(?<=^|[\s"'=(])\/[^\s;"'{}()]*/gm) ?? []).filter((p) =>
    /^\/(etc|var|run|usr|tmp|srv|opt|home|data|app)\//.test(p),
  );

describe('relocatePaths', () => {
  const moves = [
    { from: '/etc/nginx', to: '/p/etc/nginx' },
    { from: '/etc/nginx/ssl/cert.pem', to: '/q/cert.pem' },
    { from: '/var/log/nginx', to: '/p/var/log/nginx' },
  ];
  const keep = ['/etc/nginx/mime.types', '/etc/nginx/modules-enabled'];

  it('moves paths inside a moved folder, the longest move first', () => {
    const out = relocatePaths(
      'include /etc/nginx/conf.d/*.conf;\nssl_certificate /etc/nginx/ssl/cert.pem;\nerror_log /var/log/nginx/e.log warn;',
      moves,
      keep,
    );
    expect(out).toBe(
      'include /p/etc/nginx/conf.d/*.conf;\nssl_certificate /q/cert.pem;\nerror_log /p/var/log/nginx/e.log warn;',
    );
  });

  it('keeps the package files and anything that only shares a prefix', () => {
    const text =
      'include /etc/nginx/mime.types;\ninclude /etc/nginx/modules-enabled/*.conf;\nroot /etc/nginxold/x;';
    expect(relocatePaths(text, moves, keep)).toBe(text);
  });

  it('leaves URIs, regexes and URLs alone', () => {
    const text =
      'location = /etc/nginx-not-a-path { return 301 https://$host$request_uri; }\nlocation ~* ^/(metrics)(/|$) {}';
    expect(relocatePaths(text, [{ from: '/etc', to: '/x' }])).toBe(
      'location = /x/nginx-not-a-path { return 301 https://$host$request_uri; }\nlocation ~* ^/(metrics)(/|$) {}',
    );
    expect(relocatePaths('proxy_pass http://api/etc/nginx;', moves)).toBe('proxy_pass http://api/etc/nginx;');
  });

  it('moves YAML values and quoted paths', () => {
    expect(
      relocatePaths('rule_files:\n  - /etc/p/r.yml\nfile: "/etc/p/x"', [{ from: '/etc/p', to: '/t' }]),
    ).toBe('rule_files:\n  - /t/r.yml\nfile: "/t/x"');
  });

  it('names the copy paths in messages, files before their folders', () => {
    const names = new Map([
      ['/p/etc/nginx', '/etc/nginx'],
      ['/p/etc/nginx/nginx.conf', 'nginx/nginx.conf'],
    ]);
    expect(describePaths('in /p/etc/nginx/nginx.conf:3 and /p/etc/nginx/ssl/a', names)).toBe(
      'in nginx/nginx.conf:3 and /etc/nginx/ssl/a',
    );
  });
});

describe('nginx relocation', () => {
  const { moves, keep } = nginxPathMoves(model, PREFIX);
  const install = nginxInstall(tree, model, PREFIX);

  it('moves what the edge model moves under a prefix and keeps the package files', () => {
    expect(moves).toContainEqual({ from: '/etc/nginx', to: `${PREFIX}/etc/nginx` });
    expect(moves).toContainEqual({ from: '/var/log/nginx', to: `${PREFIX}/var/log/nginx` });
    expect(moves).toContainEqual({ from: '/run/nginx.pid', to: `${PREFIX}/run/nginx.pid` });
    expect(moves).toContainEqual({ from: '/var/lib/nginx/cache', to: `${PREFIX}/var/lib/nginx/cache` });
    expect(moves).toContainEqual({
      from: model.config.edge.cloudflare.originPullCa,
      to: `${PREFIX}${model.config.edge.cloudflare.originPullCa}`,
    });
    expect(keep).toEqual(['/etc/nginx/mime.types', '/etc/nginx/modules-enabled']);
  });

  it('installs every file of nginx/ under the prefix with no path left outside it but the package files', () => {
    const nginxFiles = [...tree.files.keys()].filter((p) => p.startsWith('nginx/'));
    expect(install.files.size).toBe(nginxFiles.length);
    expect(install.conf).toBe(`${PREFIX}/etc/nginx/nginx.conf`);
    for (const [path, content] of install.files) {
      expect(path.startsWith(`${PREFIX}/etc/nginx/`), path).toBe(true);
      for (const abs of absolutePaths(content.replace(/^\s*#.*$/gm, '')))
        expect(abs.startsWith(`${PREFIX}/`) || keep.some((k) => abs.startsWith(k)), `${path}: ${abs}`).toBe(
          true,
        );
    }
    const conf = install.files.get(install.conf) ?? '';
    expect(conf).toContain(`pid ${PREFIX}/run/nginx.pid;`);
    expect(conf).toContain('include /etc/nginx/mime.types;');
    expect(conf).toContain(`include ${PREFIX}/etc/nginx/sites-enabled/*.conf;`);
    const tls = install.files.get(`${PREFIX}/etc/nginx/conf.d/tls.conf`) ?? '';
    expect(tls).toContain(`ssl_certificate ${PREFIX}${model.config.edge.tls.certificate};`);
  });

  it('enables every site of sites-available under its own name, as provisioning does', () => {
    const sites = [...tree.files.keys()].filter((p) => p.startsWith('nginx/sites-available/'));
    expect(install.links.map(([, link]) => link).sort()).toEqual(
      sites.map((s) => `${PREFIX}/etc/nginx/sites-enabled/${s.split('/').pop()}`).sort(),
    );
    for (const [target, link] of install.links)
      expect(install.names.get(link)).toBe(install.names.get(target));
  });

  it("maps nginx's paths back to tree paths", () => {
    const message = `[emerg] "server_tokens" directive is duplicate in ${PREFIX}/etc/nginx/sites-enabled/main.conf:23`;
    expect(describePaths(message, install.names)).toBe(
      '[emerg] "server_tokens" directive is duplicate in nginx/sites-available/main.conf:23',
    );
  });

  it('keeps only what nginx says is wrong, without time and process id', () => {
    const output =
      '2026/11/25 19:14:28 [warn] 20#20: something\n2026/11/25 19:14:28 [emerg] 2000#2000: "x" directive is duplicate in /a:1\nnginx: configuration file /a test failed';
    expect(nginxProblems(output)).toBe('[emerg] "x" directive is duplicate in /a:1');
    expect(nginxProblems('nginx: something odd')).toBe('nginx: something odd');
  });

  it('reads the version and the modules folder', () => {
    expect(parseNginxVersion('nginx version: nginx/1.22.1')).toBe('1.22.1');
    expect(parseNginxVersion('nope')).toBeNull();
    expect(
      parseModulesPath(
        'configure arguments: --prefix=/usr/share/nginx --modules-path=/usr/lib/nginx/modules',
      ),
    ).toBe('/usr/lib/nginx/modules');
  });

  it('turns `http2 on;` into the listen parameter for an older nginx', () => {
    const conf = [
      'server {',
      '    listen 443 ssl;',
      '    listen [::]:443 ssl default_server;',
      '    http2 on;',
      '    listen 80;',
      '}',
      'server {',
      '    listen 443 ssl http2;',
      '}',
    ].join('\n');
    expect(http2ListenForm(conf)).toBe(
      [
        'server {',
        '    listen 443 ssl http2;',
        '    listen [::]:443 ssl http2 default_server;',
        '    listen 80;',
        '}',
        'server {',
        '    listen 443 ssl http2;',
        '}',
      ].join('\n'),
    );
    const rendered = treeOf({ edge: { nginxVersion: '1.26.0' } }).files.get(
      'nginx/sites-available/main.conf',
    );
    expect(rendered?.content).toContain('http2 on;');
    const downgraded = http2ListenForm(rendered?.content ?? '');
    expect(downgraded).not.toContain('http2 on;');
    expect(downgraded).toContain('listen 443 ssl http2;');
  });
});

describe('monitoring copies', () => {
  const { containerPaths, files } = model.monitoring;
  const prometheus = serviceReading(model.monitoring.services, containerPaths.prometheusConfig);
  const alertmanager = serviceReading(model.monitoring.services, containerPaths.alertmanagerConfig);

  it('finds the services by the configuration file they mount', () => {
    expect(prometheus?.service).toBe('prometheus');
    expect(alertmanager?.service).toBe('alertmanager');
  });

  it('rebuilds the Prometheus container files under a root, with rule and secret paths moved', () => {
    if (!prometheus) throw new Error('no prometheus service');
    const copy = containerCopy(tree, prometheus, '/r');
    expect(copy.copies.get(files.prometheus)).toBe(`/r${containerPaths.prometheusConfig}`);
    expect(copy.copies.get(files.alertRulesTest)).toBe('/r/etc/prometheus/tests/alert-rules.test.yml');
    const config = parse(copy.files.get(`/r${containerPaths.prometheusConfig}`) ?? '');
    expect(config.rule_files).toEqual([`/r${containerPaths.alertRules}`]);
    const credentials = config.scrape_configs
      .map((j: { authorization?: { credentials_file?: string } }) => j.authorization?.credentials_file)
      .filter(Boolean);
    expect(credentials.length).toBeGreaterThan(0);
    for (const c of credentials) {
      expect(c.startsWith('/r/run/secrets/')).toBe(true);
      expect(copy.secrets).toContain(c);
    }
    expect(copy.names.get('/r/etc/prometheus/prometheus.yml')).toBe(files.prometheus);
  });

  it('gives Alertmanager a dummy file for every secret it reads', () => {
    if (!alertmanager) throw new Error('no alertmanager service');
    const copy = containerCopy(tree, alertmanager, '/r');
    const config = copy.files.get(`/r${containerPaths.alertmanagerConfig}`) ?? '';
    const fileSettings = [...config.matchAll(/_file: (\S+)/g)].map((m) => m[1]);
    expect(fileSettings.length).toBeGreaterThan(0);
    for (const f of fileSettings) expect(copy.secrets).toContain(f);
  });
});

describe('tools older than production', () => {
  const config = [
    'global:',
    '  scrape_interval: 15s',
    '  metric_name_validation_scheme: utf8',
    'scrape_configs:',
    '  - job_name: a',
    '    fallback_scrape_protocol: PrometheusText0.0.4',
    '    static_configs:',
    '      - targets: [a:1]',
    '',
  ].join('\n');
  const output = [
    '  FAILED: parsing YAML file p.yml: yaml: unmarshal errors:',
    '  line 3: field metric_name_validation_scheme not found in type config.plain',
    '  line 6: field fallback_scrape_protocol not found in type config.ScrapeConfig',
  ].join('\n');

  it("reads Go YAML's unknown-field errors", () => {
    expect(unknownFields(output)).toEqual([
      { line: 3, field: 'metric_name_validation_scheme', type: 'config.plain' },
      { line: 6, field: 'fallback_scrape_protocol', type: 'config.ScrapeConfig' },
    ]);
    expect(unknownFields(output).every((f) => PROMETHEUS_NEWER_FIELDS.has(f.field))).toBe(true);
    expect(PROMETHEUS_NEWER_FIELDS.has('scrape_intervall')).toBe(false);
  });

  it('takes exactly the reported keys out of a copy', () => {
    const stripped = parse(stripFields(config, unknownFields(output)));
    expect(stripped).toEqual({
      global: { scrape_interval: '15s' },
      scrape_configs: [{ job_name: 'a', static_configs: [{ targets: ['a:1'] }] }],
    });
    // Same name on another line: kept.
    expect(parse(stripFields(config, [{ line: 2, field: 'fallback_scrape_protocol' }]))).toEqual(
      parse(config),
    );
  });

  it('puts a dummy inline value in place of a newer Alertmanager *_file field', () => {
    const am = 'receivers:\n  - name: a\n    webhook_configs:\n      - url_file: /run/secrets/x\n';
    expect(parse(stripFields(am, [{ line: 4, field: 'url_file' }], ALERTMANAGER_FILE_FIELDS))).toEqual({
      receivers: [{ name: 'a', webhook_configs: [{ url: 'http://academy-check.invalid/' }] }],
    });
  });

  it('recognises rules that only Prometheus 3 reads and takes them out', () => {
    const errors = ruleErrors(
      [
        'r.yml: 7:15: group "g", rule 2, "B": could not parse expression: 1:1: parse error: unknown function with name "info"',
        'r.yml: 9:15: group "g", rule 3, "C": could not parse expression: 1:8: parse error: unexpected string "\\"foo.bar\\"" in label matching, expected identifier or "}"',
      ].join('\n'),
    );
    expect(errors.map((e) => [e.group, e.rule, e.name])).toEqual([
      ['g', 2, 'B'],
      ['g', 3, 'C'],
    ]);
    expect(errors.map((e) => prometheus3Reason(e.message))).toEqual([
      'info() is a Prometheus 3 function',
      '"foo.bar" is a quoted UTF-8 name (Prometheus 3)',
    ]);
    expect(prometheus3Reason('parse error: unknown function with name "rated"')).toBeNull();
    expect(prometheus3Reason('1:5: parse error: unexpected right parenthesis')).toBeNull();
    const rules =
      'groups:\n  - name: g\n    rules:\n      - alert: A\n      - alert: B\n      - alert: C\n  - name: h\n    rules:\n      - alert: B\n';
    expect(parse(stripRules(rules, errors))).toEqual({
      groups: [
        { name: 'g', rules: [{ alert: 'A' }] },
        { name: 'h', rules: [{ alert: 'B' }] },
      ],
    });
  });

  it('reads the tool versions', () => {
    expect(parsePromtoolVersion('promtool, version 2.42.0+ds (branch: debian/sid)')).toBe('2.42.0+ds');
    expect(parseComposeVersion('Docker Compose version 2.26.1-4')).toBe('2.26.1');
    expect(parseComposeVersion('Docker Compose version v2.29.7')).toBe('2.29.7');
    expect(parseComposeVersion("docker: 'compose' is not a docker command.")).toBeNull();
  });
});

describe('shell scripts', () => {
  it('finds *.sh files and sh/bash shebangs, nothing else', () => {
    for (const line of [
      '#!/bin/sh',
      '#!/bin/bash',
      '#!/usr/bin/env bash',
      '#! /bin/bash -eu',
      '#!/usr/bin/env -S bash',
    ])
      expect(isShellShebang(line), line).toBe(true);
    for (const line of ['#!/usr/bin/env python3', '#!/bin/zsh', '# just a comment', '#!/usr/bin/env node'])
      expect(isShellShebang(line), line).toBe(false);
    const files: TreeFiles = {
      root: '/x',
      files: new Map([
        ['b/run.sh', { content: 'echo\n', mode: 0o755 }],
        ['a/hook', { content: '#!/usr/bin/env bash\necho\n', mode: 0o755 }],
        ['a/tool.py', { content: '#!/usr/bin/env python3\n', mode: 0o755 }],
        ['a/readme', { content: 'text\n', mode: 0o644 }],
      ]),
    };
    expect(shellScripts(files)).toEqual(['a/hook', 'b/run.sh']);
  });

  it('checks every script of the default tree', () => {
    const scripts = shellScripts(tree);
    expect(scripts).toContain('scripts/provision/provision-server.sh');
    expect(scripts).toContain('database/postgresql/init-scripts/01-init.sh');
    expect(shellcheckArgs(scripts)).toEqual([
      '--severity=style',
      '--external-sources',
      '--source-path=SCRIPTDIR',
      '--format=gcc',
      ...scripts,
    ]);
  });

  it('groups findings by script', () => {
    const output = [
      'a/x.sh:3:4: note: Double quote to prevent globbing and word splitting. [SC2086]',
      'a/x.sh:5:1: warning: foo [SC2034]',
      'b/y.sh:1:1: error: bar [SC1000]',
    ].join('\n');
    const found = findingsByScript(output, ['a/x.sh', 'b/y.sh', 'c/z.sh']);
    expect(found.get('a/x.sh')).toHaveLength(2);
    expect(found.get('b/y.sh')).toEqual(['b/y.sh:1:1: error: bar [SC1000]']);
    expect(found.get('c/z.sh')).toEqual([]);
  });
});

describe('compose file sets and env', () => {
  it('checks each compose project on its own, as it is brought up', () => {
    const sets: ComposeFileSet[] = composeFileSets(model.compose);
    expect(sets.map((s) => s.name)).toEqual(model.compose.map((p) => p.file));
    expect(sets.map((s) => s.files)).toEqual(model.compose.map((p) => [p.file]));
    for (const set of sets) for (const f of set.files) expect(tree.files.has(f), f).toBe(true);
    expect(composeFileSets(model.compose.filter((p) => p.key !== 'green')).map((s) => s.name)).not.toContain(
      'docker/compose.green.yml',
    );
  });

  it('defines every variable of the env example with a harmless value', () => {
    const example = tree.files.get(ENV_EXAMPLE)?.content ?? '';
    const names = [...example.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]);
    expect(names).toContain('S3_ACCESS_KEY_ID');
    const env = new Map(
      dummyEnv(example)
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect([...env.keys()]).toEqual(names);
    for (const [name, value] of env) expect(value, name).not.toBe('');
    expect(env.get('APP_VERSION')).toBe('1.0.0');
    expect(env.get('POSTGRES_PASSWORD')).toBe(DUMMY_VALUE);
    expect(dummyEnv('# A=1\n\nexport B=\n C=x \n')).toBe(`B=${DUMMY_VALUE}\nC=x\n`);
  });

  it('builds the compose argv', () => {
    expect(composeConfigArgs('/t/.env', ['/t/a.yml', '/t/b.yml'])).toEqual([
      'compose',
      '--env-file',
      '/t/.env',
      '-f',
      '/t/a.yml',
      '-f',
      '/t/b.yml',
      'config',
      '--quiet',
    ]);
  });
});

describe('compose schema', () => {
  it('makes the packaged schema usable: no draft-04 ids, a top-level name', () => {
    const raw = {
      $schema: 'x',
      id: 'compose_spec.json',
      properties: { services: { id: '#/p/s', type: 'object' } },
    };
    const schema = prepareComposeSchema(raw);
    expect(JSON.stringify(schema)).not.toMatch(/"id"|\$schema/);
    expect(Object.keys(schema.properties as object)).toEqual(['name', 'services']);
  });

  it("checks Compose's own formats", () => {
    const { duration, ports, expose, subnet_ip_address: subnet } = COMPOSE_FORMATS;
    if (!duration || !ports || !expose || !subnet) throw new Error('missing format');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Compose variable, not a template
    for (const ok of ['10s', '1m30s', '1.5h', '0', '${T}']) expect(duration(ok), ok).toBe(true);
    for (const bad of ['10', 'P1D', '1d', 'ten seconds']) expect(duration(bad), bad).toBe(false);
    for (const ok of [
      '127.0.0.1:4000:4000',
      '80',
      '8080:80/udp',
      '[::1]:80:80',
      '127.0.0.1::80',
      '1000-1010:1000-1010',
    ])
      expect(ports(ok), ok).toBe(true);
    for (const bad of ['127.0.0.1:x:80', 'a:b', '80/icmp']) expect(ports(bad), bad).toBe(false);
    expect(expose('3000')).toBe(true);
    expect(expose('3000:3000')).toBe(false);
    for (const ok of ['172.20.0.0/24', 'fd00::/64', '10.0.0.1']) expect(subnet(ok), ok).toBe(true);
    for (const bad of ['172.20.0.0/33', '300.1.1.1/8', 'x/8']) expect(subnet(bad), bad).toBe(false);
  });

  it('prints paths as Compose does', () => {
    expect(yamlPath('/services/api-blue/ports/0')).toBe('services.api-blue.ports[0]');
    expect(yamlPath('/networks/a~1b')).toBe('networks.a/b');
    expect(yamlPath('')).toBe('(top level)');
  });

  it('accepts every rendered compose file and names the path of an unknown key', async () => {
    const validate = await composeValidator();
    for (const project of model.compose) {
      const doc = parse(tree.files.get(project.file)?.content ?? '');
      expect(validate(doc), `${project.file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    const doc = parse(tree.files.get('docker/compose.blue.yml')?.content ?? '');
    doc.services['api-blue'].restartt = 'always';
    doc.services['api-blue'].healthcheck.interval = '10 seconds';
    expect(validate(doc)).toBe(false);
    const lines = formatSchemaErrors(validate.errors ?? []);
    expect(lines).toContain('services.api-blue: must NOT have additional properties (restartt)');
    expect(lines).toContain('services.api-blue.healthcheck.interval: must match format "duration"');
  });
});

describe('tool output', () => {
  it('trims long output and drops blank lines', () => {
    const text = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n\n');
    const out = trimOutput(text, 5).split('\n');
    expect(out).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4', '... (25 more lines)']);
  });
});

describe('nginx without root', () => {
  it('moves only ports below 1024 of listen lines', () => {
    const conf = [
      '    listen 80 default_server;',
      '    listen [::]:443 ssl http2;',
      '    listen 127.0.0.1:8088;',
      '    listen 0.0.0.0:443;',
      '    # listen 80;',
      '    return 301 https://$host:443;',
    ].join('\n');
    expect(unprivilegedListen(conf)).toBe(
      [
        '    listen 10080 default_server;',
        '    listen [::]:10443 ssl http2;',
        '    listen 127.0.0.1:8088;',
        '    listen 0.0.0.0:10443;',
        '    # listen 80;',
        '    return 301 https://$host:443;',
      ].join('\n'),
    );
  });
});

describe('nginx listen addresses this machine lacks', () => {
  it('moves each missing IPv4 address to its own loopback address', () => {
    const local = localAddresses({
      lo: [
        { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: null },
      ],
      eth0: [
        {
          address: '192.0.2.2',
          netmask: '255.255.255.0',
          family: 'IPv4',
          mac: '',
          internal: false,
          cidr: null,
        },
      ],
    });
    const conf = [
      '    listen 127.0.0.1:8088;',
      '    listen 172.17.0.1:8088;',
      '    listen 192.0.2.2:80;',
      '    listen 10.9.9.9 ssl;',
      '    listen 443 ssl;',
      '    listen [::]:443 ssl;',
    ].join('\n');
    const { conf: out, moved } = localListen(conf, local);
    expect(out).toBe(
      [
        '    listen 127.0.0.1:8088;',
        '    listen 127.100.0.1:8088;',
        '    listen 192.0.2.2:80;',
        '    listen 127.100.0.2 ssl;',
        '    listen 443 ssl;',
        '    listen [::]:443 ssl;',
      ].join('\n'),
    );
    expect([...moved]).toEqual([
      ['172.17.0.1', '127.100.0.1'],
      ['10.9.9.9', '127.100.0.2'],
    ]);
  });
});
