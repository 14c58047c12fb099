// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected strings are bash, where ${...} is bash syntax
import { describe, expect, it } from 'vitest';
import type { SiteConfigInput } from '../../src/config/schema.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { buildCore, type CoreModel } from '../../src/model/core.ts';
import { buildHostModel, type HostModel } from '../../src/model/host.ts';
import type { RenderedFile } from '../../src/render/file.ts';
import { renderHost } from '../../src/render/host/index.ts';

// --------------------------------------------------------------------------------------------------------
// Helpers: build, render, and small parsers of what is rendered
// --------------------------------------------------------------------------------------------------------

interface Rendered {
  core: CoreModel;
  host: HostModel;
  files: RenderedFile[];
  file: (path: string) => string;
}

function render(input: SiteConfigInput = {}): Rendered {
  const core = buildCore(validateConfig(input));
  const host = buildHostModel(core);
  const files = renderHost({ ...core, host });
  const file = (path: string) => {
    const found = files.find((f) => f.path === path);
    if (!found) throw new Error(`not rendered: ${path}`);
    return found.content;
  };
  return { core, host, files, file };
}

const meaningful = (text: string) =>
  text.split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));

/** sysctl.d: `key = value` per line; a key given twice is an error. */
function parseSysctl(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of meaningful(text)) {
    const match = /^([a-z0-9_.-]+)\s*=\s*(.+)$/.exec(line);
    if (!match) throw new Error(`not a sysctl line: ${line}`);
    const [, key, value] = match as unknown as [string, string, string];
    if (map.has(key)) throw new Error(`duplicate sysctl key ${key}`);
    map.set(key, value.trim());
  }
  return map;
}

/** INI: `[section]` then `key = value`; keys outside a section or duplicated are errors. */
function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of meaningful(text)) {
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = header[1] as string;
      if (sections.has(name)) throw new Error(`duplicate section ${name}`);
      current = new Map();
      sections.set(name, current);
      continue;
    }
    const entry = /^([A-Za-z0-9_.]+)\s*=\s*(.*)$/.exec(line);
    if (!entry || !current) throw new Error(`not an INI entry: ${line}`);
    const [, key, value] = entry as unknown as [string, string, string];
    if (current.has(key)) throw new Error(`duplicate key ${key}`);
    current.set(key, value);
  }
  return sections;
}

/** logrotate: `pattern {` ... `}` blocks with their directive lines (scripts included, indented). */
function parseLogrotate(text: string): { pattern: string; directives: string[] }[] {
  const blocks: { pattern: string; directives: string[] }[] = [];
  let current: { pattern: string; directives: string[] } | undefined;
  for (const line of meaningful(text)) {
    const open = /^(\S+)\s*\{$/.exec(line);
    if (open) {
      current = { pattern: open[1] as string, directives: [] };
      blocks.push(current);
    } else if (line === '}') {
      current = undefined;
    } else {
      if (!current) throw new Error(`directive outside a block: ${line}`);
      current.directives.push(line.trim());
    }
  }
  if (current) throw new Error('unclosed logrotate block');
  return blocks;
}

/** limits.d: `<domain> <type> <item> <value>`. */
function parseLimits(text: string) {
  return meaningful(text).map((line) => {
    const [domain, type, item, value, ...rest] = line.trim().split(/\s+/);
    if (rest.length > 0 || value === undefined) throw new Error(`not a limits line: ${line}`);
    return { domain, type, item, value: Number(value) };
  });
}

const scriptPaths = (h: HostModel) => [
  h.files.provisionServer,
  h.files.installDocker,
  h.files.setupFirewall,
  h.files.configureSwap,
];

/** Every port the core model puts on the host, gathered here independently of the host model. */
function corePorts(core: CoreModel, sshPort: number): number[] {
  return [
    sshPort,
    80,
    443,
    9100,
    9323,
    8088,
    ...Object.values(core.apps).flatMap((app) => [app.hostPort.blue, app.hostPort.green]),
    ...Object.values(core.hostPorts),
  ];
}

const defaults = render();

// --------------------------------------------------------------------------------------------------------
// The tree
// --------------------------------------------------------------------------------------------------------

describe('host files', () => {
  it('renders exactly the files named in the sub-model, scripts executable', () => {
    const { host, files } = defaults;
    expect(files.map((f) => f.path).sort()).toEqual(Object.values(host.files).sort());
    for (const f of files) {
      expect(f.mode, f.path).toBe(f.path.endsWith('.sh') ? 0o755 : 0o644);
      expect(f.path.startsWith('scripts/provision/') || f.path.startsWith('host/'), f.path).toBe(true);
    }
  });

  it('is deterministic: two models built from the same config render the same bytes', () => {
    const again = render();
    expect(again.files).toEqual(defaults.files);
  });

  it('installs every rendered host file somewhere a script names', () => {
    const { host, file } = defaults;
    const scripts = scriptPaths(host).map(file).join('\n');
    for (const [key, install] of Object.entries(host.installs)) {
      expect(install.source, key).toBe(host.files[key as keyof HostModel['files']]);
      expect(scripts, key).toContain(install.target);
      expect(scripts, key).toContain(install.source);
    }
  });
});

// --------------------------------------------------------------------------------------------------------
// Scripts
// --------------------------------------------------------------------------------------------------------

describe('provisioning scripts', () => {
  it('are bash in strict mode before any command, and refuse to run as non-root', () => {
    const { host, file } = defaults;
    for (const path of scriptPaths(host)) {
      const lines = file(path).split('\n');
      expect(lines[0], path).toBe('#!/usr/bin/env bash');
      const firstCommand = lines.findIndex((l, i) => i > 0 && l.trim() !== '' && !l.startsWith('#'));
      expect(lines[firstCommand], path).toBe('set -euo pipefail');
      if (path !== host.files.configureSwap || host.swapMiB > 0) {
        expect(file(path), path).toMatch(
          /if \[\[ \$\{EUID\} -ne 0 \]\]; then\n {2}echo "[^"]+ must run as root/,
        );
      }
    }
  });

  it('never append to limits.conf, grant NOPASSWD: ALL, or reset the firewall', () => {
    for (const f of defaults.files) {
      expect(f.content, f.path).not.toMatch(/>>\s*\/etc\/security\/limits\.conf/);
      expect(f.content, f.path).not.toMatch(/NOPASSWD:\s*ALL/);
      expect(f.content, f.path).not.toMatch(/ufw\s+(--force\s+)?reset/);
      expect(f.content, f.path).not.toMatch(/\|\s*grep -q/); // grep -q closes the pipe early: SIGPIPE + pipefail
    }
  });

  it('call sibling scripts through $SCRIPT_DIR, never relative to the working directory', () => {
    const { host, file } = defaults;
    const names = scriptPaths(host).map((p) => p.slice(p.lastIndexOf('/') + 1));
    for (const path of scriptPaths(host)) {
      const text = file(path);
      for (const name of names) {
        for (const line of text
          .split('\n')
          .filter((l) => l.includes(name) && !l.trimStart().startsWith('#'))) {
          if (/^\s*(echo|printf) /.test(line)) continue; // a message naming the script, not a call
          expect(line, `${path}: ${line}`).toContain(`"$SCRIPT_DIR/${name}"`);
        }
      }
      if (text.includes('$SCRIPT_DIR')) {
        expect(text, path).toContain('SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"');
      }
    }
    const provision = file(host.files.provisionServer);
    for (const sibling of [host.files.configureSwap, host.files.installDocker, host.files.setupFirewall]) {
      const name = sibling.slice(sibling.lastIndexOf('/') + 1);
      expect(provision).toMatch(new RegExp(`^"\\$SCRIPT_DIR/${name.replace('.', '\\.')}"$`, 'm'));
    }
  });

  it('upgrade and install packages without prompts, nginx included', () => {
    const { host, file } = defaults;
    const provision = file(host.files.provisionServer);
    expect(provision).toContain('export DEBIAN_FRONTEND=noninteractive');
    expect(provision).toContain(
      'apt-get -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold upgrade',
    );
    expect(provision).not.toMatch(/apt-get upgrade -y/);
    const install = /apt-get -y [^\n]* install \\\n((?: {2}\S+ \\\n)* {2}\S+)\n/.exec(provision);
    expect(install).not.toBeNull();
    const packages = (install?.[1] ?? '').split(/\s*\\\n\s*|\s+/).filter(Boolean);
    expect(packages).toEqual(
      expect.arrayContaining(['nginx', 'fail2ban', 'python3-systemd', 'ufw', 'logrotate', 'cron']),
    );
    expect(file(host.files.installDocker)).toContain('export DEBIAN_FRONTEND=noninteractive');
  });

  it('create the deploy user only when missing, without sudo group or password', () => {
    const provision = defaults.file(defaults.host.files.provisionServer);
    expect(provision).toMatch(/if id -u "\$DEPLOY_USER" >\/dev\/null 2>&1; then[\s\S]*?useradd /);
    expect(provision).not.toMatch(/usermod -aG sudo/);
    expect(provision).toContain('readonly DEPLOY_USER=deploy');
  });

  it('create the directories of the core model, the secrets directory 0700 for the deploy user', () => {
    const { core, host, file } = defaults;
    const provision = file(host.files.provisionServer);
    expect(provision).toContain(`install -d -o deploy -g deploy -m 0700 ${core.paths.secretsDir}`);
    for (const path of [core.paths.app, core.paths.backups, core.paths.logs]) {
      expect(provision).toMatch(new RegExp(`^install -d -o deploy -g deploy -m 07[05][05] ${path}$`, 'm'));
    }
    for (const dir of Object.values(host.dataDirs)) {
      expect(dir.startsWith(`${core.paths.data}/`)).toBe(true);
      expect(provision).toContain(
        `if [[ ! -d ${dir} ]]; then\n  install -d -o root -g root -m 0750 ${dir}\nfi`,
      );
    }
    // Never re-own the databases' files: only root-owned files of the tree change hands.
    expect(provision).not.toMatch(/chown -R (?!--from=root:root)/);
    expect(provision).not.toContain(`chown -R deploy:deploy ${core.paths.data}`);
  });

  it('install nginx files from the tree, enable every site, and reload only when the TLS files exist', () => {
    const { config } = defaults.core;
    const provision = defaults.file(defaults.host.files.provisionServer);
    const { nginxTree } = defaults.host;
    expect(nginxTree).toEqual({ source: 'nginx', target: '/etc/nginx' });
    expect(provision).toContain('nginx_files="$(cd "$TREE/nginx" && find . -type f | sort)"');
    expect(provision).toContain(
      '  install_file nginx/"$relative" /etc/nginx/"$relative" 0644\ndone <<<"$nginx_files"',
    );
    expect(provision).toContain('rm -f /etc/nginx/sites-enabled/default');
    expect(provision).toContain('for site in "$TREE/nginx/sites-available"/*; do');
    expect(provision).toContain(
      'ln -sfn /etc/nginx/sites-available/"${site##*/}" /etc/nginx/sites-enabled/"${site##*/}"',
    );
    for (const path of [
      config.edge.tls.certificate,
      config.edge.tls.key,
      config.edge.cloudflare.originPullCa,
    ]) {
      expect(provision).toContain(`[[ -f ${path} ]] || missing+=(`);
    }
    const reload = provision.indexOf('if ((${#missing[@]} == 0)); then\n  nginx -t\n');
    expect(reload).toBeGreaterThan(provision.lastIndexOf('missing+=('));
    expect(provision).toMatch(
      /visudo -c -f "\$TEMP_FILE"\ninstall -m 0440 -o root -g root "\$TEMP_FILE" \/etc\/sudoers\.d\/deploy/,
    );
  });

  it('install-docker.sh adds the deploy user to docker and installs daemon.json from the tree', () => {
    const { host, file } = defaults;
    const text = file(host.files.installDocker);
    expect(text).toContain('usermod -aG docker "$DEPLOY_USER"');
    expect(text).toContain(`readonly DAEMON_JSON="$TREE/${host.files.dockerDaemon}"`);
    expect(text).toContain('dockerd --validate --config-file "$DAEMON_JSON"');
    expect(text).toContain('docker-compose-plugin');
    expect(text).not.toMatch(/cat > \/etc\/docker\/daemon\.json/);
  });
});

// --------------------------------------------------------------------------------------------------------
// Firewall
// --------------------------------------------------------------------------------------------------------

describe('setup-firewall.sh', () => {
  const ufwLines = (text: string) => text.split('\n').filter((l) => l.startsWith('ufw '));

  it('denies incoming, limits SSH, opens 80/443, and lets the monitoring bridge reach host exporters', () => {
    const { core, host, file } = defaults;
    const lines = ufwLines(file(host.files.setupFirewall));
    expect(lines).toContain('ufw default deny incoming');
    expect(lines).toContain('ufw default allow outgoing');
    expect(lines).toContain("ufw limit 22/tcp comment 'SSH, rate limited'");
    expect(lines.some((l) => l.startsWith('ufw allow 80/tcp '))).toBe(true);
    expect(lines.some((l) => l.startsWith('ufw allow 443/tcp '))).toBe(true);
    const exporters = lines.find((l) => l.includes(' in on '));
    expect(exporters).toBe(
      `ufw allow in on ${core.networks.monitoring.bridge} to ${core.dockerHostIp} port 9100,9323,8088 proto tcp comment 'Prometheus to host exporters'`,
    );
    expect(lines).not.toContain('ufw --force reset');
    // Enabling is conditional, so a re-run does not reload the rules for nothing.
    expect(file(host.files.setupFirewall)).toContain(
      'if [[ "$status" != "Status: active"* ]]; then\n  ufw --force enable',
    );
  });

  it('refuses to enable the firewall when sshd does not listen on the configured port', () => {
    const text = defaults.file(defaults.host.files.setupFirewall);
    expect(text).toContain('readonly SSH_PORT=22');
    expect(text.indexOf('sshd -T')).toBeLessThan(text.indexOf('ufw default'));
  });
});

// --------------------------------------------------------------------------------------------------------
// Kernel, limits, Docker
// --------------------------------------------------------------------------------------------------------

describe('sysctl', () => {
  const sysctl = parseSysctl(defaults.file(defaults.host.files.sysctl));

  it('keeps the ephemeral port range clear of every port the platform uses', () => {
    const [first, last] = (sysctl.get('net.ipv4.ip_local_port_range') ?? '').split(/\s+/).map(Number);
    expect(first).toBe(32768);
    expect(last).toBe(60999);
    const ports = corePorts(defaults.core, 22);
    expect(ports.filter((p) => p >= (first as number) && p <= (last as number))).toEqual([]);
    expect(sysctl.has('net.ipv4.ip_local_reserved_ports')).toBe(false);
  });

  it('sets nonlocal bind (stub_status on the docker bridge), Redis overcommit, swappiness, the specified network tuning', () => {
    expect(sysctl.get('net.ipv4.ip_nonlocal_bind')).toBe('1');
    expect(sysctl.get('vm.overcommit_memory')).toBe('1');
    expect(sysctl.get('vm.swappiness')).toBe('10');
    expect(sysctl.get('net.core.somaxconn')).toBe('65535');
    expect(sysctl.get('net.ipv4.tcp_tw_reuse')).toBe('1');
    expect(sysctl.get('net.ipv4.tcp_fin_timeout')).toBe('15');
    expect(sysctl.has('fs.file-max')).toBe(false);
    const text = defaults.file(defaults.host.files.sysctl);
    expect(text).toMatch(/#[^\n]*stub_status[^\n]*\n(#[^\n]*\n)*net\.ipv4\.ip_nonlocal_bind = 1/);
  });

  it('is the only file that sets swappiness', () => {
    const others = defaults.files.filter((f) => f.path !== defaults.host.files.sysctl);
    for (const f of others) expect(f.content, f.path).not.toMatch(/swappiness\s*=/);
  });

  it('reserves a service port that falls inside the ephemeral range', () => {
    const r = render({ server: { sshPort: 40022 } });
    const s = parseSysctl(r.file(r.host.files.sysctl));
    expect(s.get('net.ipv4.ip_local_reserved_ports')).toBe('40022');
  });
});

describe('limits', () => {
  it('sets soft and hard nofile/nproc for the deploy user and root, written whole to limits.d', () => {
    const { host, file } = defaults;
    const rules = parseLimits(file(host.files.limits));
    expect(rules).toHaveLength(8);
    for (const domain of ['deploy', 'root']) {
      for (const item of ['nofile', 'nproc']) {
        for (const type of ['soft', 'hard']) {
          expect(rules).toContainEqual({ domain, type, item, value: 65535 });
        }
      }
    }
    expect(host.installs.limits.target).toBe('/etc/security/limits.d/smart-academy.conf');
  });
});

describe('daemon.json', () => {
  const daemon = JSON.parse(defaults.file(defaults.host.files.dockerDaemon)) as Record<string, unknown>;
  // Keys dockerd accepts in daemon.json (docker/cli docs/reference/dockerd.md, Linux).
  const known = new Set([
    'bip',
    'ip',
    'default-network-opts',
    'icc',
    'userland-proxy',
    'no-new-privileges',
    'live-restore',
    'log-driver',
    'log-opts',
    'storage-driver',
    'default-ulimits',
    'metrics-addr',
    'experimental',
  ]);

  it('has only keys dockerd accepts', () => {
    for (const key of Object.keys(daemon)) expect(known.has(key), key).toBe(true);
  });

  it('binds published ports and metrics to private addresses and hardens containers', () => {
    const { core } = defaults;
    expect(daemon.bip).toBe(core.config.server.dockerBridgeCidr);
    expect(daemon['metrics-addr']).toBe(`${core.dockerHostIp}:9323`);
    expect(daemon.ip).toBe('127.0.0.1');
    expect(daemon['default-network-opts']).toEqual({
      bridge: { 'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1' },
    });
    expect(daemon['no-new-privileges']).toBe(true);
    expect(daemon['userland-proxy']).toBe(false);
    expect(daemon['live-restore']).toBe(true);
    expect(daemon['log-opts']).toEqual({ 'max-size': '100m', 'max-file': '5' });
  });
});

// --------------------------------------------------------------------------------------------------------
// Logs, fail2ban, sudo
// --------------------------------------------------------------------------------------------------------

describe('logrotate', () => {
  it('rotates only the platform host logs, by copytruncate, with no nginx stanza and no signals', () => {
    const { core, host, file } = defaults;
    const text = file(host.files.logrotate);
    const blocks = parseLogrotate(text);
    expect(blocks.map((b) => b.pattern)).toEqual([`${core.paths.logs}/*.log`]);
    const [block] = blocks;
    expect(block?.directives).toContain('copytruncate');
    expect(block?.directives).toContain(`rotate ${core.config.retention.hostLogDays}`);
    expect(block?.directives).toContain('su root root');
    expect(block?.directives.some((d) => /^(postrotate|prerotate|create)\b/.test(d))).toBe(false);
    expect(text).not.toMatch(/kill|USR1/);
    expect(meaningful(text).join('\n')).not.toContain('/var/log/nginx');
  });

  it("replaces the nginx package's file, with the configured retention", () => {
    const { core, host, file } = defaults;
    expect(host.installs.nginxLogrotate.target).toBe('/etc/logrotate.d/nginx');
    const [block, ...rest] = parseLogrotate(file(host.files.nginxLogrotate));
    expect(rest).toEqual([]);
    expect(block?.pattern).toBe('/var/log/nginx/*.log');
    expect(block?.directives).toContain(`rotate ${core.config.retention.nginxLogDays}`);
    expect(block?.directives).toContain('invoke-rc.d nginx rotate >/dev/null 2>&1');
  });
});

describe('fail2ban jail.local', () => {
  const jail = parseIni(defaults.file(defaults.host.files.fail2banJail));

  it('bans through UFW and watches sshd on the configured port', () => {
    expect(jail.get('DEFAULT')?.get('banaction')).toBe('ufw');
    const sshd = jail.get('sshd');
    expect(sshd?.get('enabled')).toBe('true');
    expect(sshd?.get('port')).toBe('22');
    expect(sshd?.get('backend')).toBe('systemd');
  });

  it('reads every error log nginx writes (error.log and <site>.error.log)', () => {
    for (const name of ['nginx-limit-req', 'nginx-http-auth']) {
      const section = jail.get(name);
      expect(section?.get('enabled'), name).toBe('true');
      expect(section?.get('filter'), name).toBe(name);
      const logpath = section?.get('logpath') ?? '';
      expect(logpath, name).toBe('/var/log/nginx/*error.log');
      // The glob matches both file names nginx writes.
      const glob = new RegExp(`^${logpath.replace(/[.]/g, '\\.').replace('*', '[^/]*')}$`);
      expect(glob.test('/var/log/nginx/error.log')).toBe(true);
      expect(glob.test('/var/log/nginx/smartacademy.error.log')).toBe(true);
      expect(glob.test('/var/log/nginx/access.log')).toBe(false);
    }
  });

  it('says that a UFW ban does not stop clients proxied by Cloudflare', () => {
    expect(defaults.file(defaults.host.files.fail2banJail)).toMatch(
      /# A UFW ban does not stop[^\n]*Cloudflare/,
    );
  });
});

describe('sudoers', () => {
  it('lets the deploy user test and reload nginx, nothing else', () => {
    const { host, file } = defaults;
    const lines = meaningful(file(host.files.sudoers));
    expect(lines).toEqual([
      'Cmnd_Alias NGINX_CONTROL = /usr/sbin/nginx -t, /usr/bin/systemctl reload nginx',
      'deploy ALL=(root) NOPASSWD: NGINX_CONTROL',
    ]);
    expect(host.installs.sudoers.mode).toBe('0440');
    expect(host.installs.sudoers.target).toBe('/etc/sudoers.d/deploy');
  });
});

// --------------------------------------------------------------------------------------------------------
// A non-default configuration changes the right lines
// --------------------------------------------------------------------------------------------------------

describe('non-default config: deploy user ops, SSH port 2222, no swap', () => {
  const other = render({
    name: 'school',
    server: { deployUser: 'ops', sshPort: 2222, swapGiB: 0, dockerBridgeCidr: '10.99.0.1/24' },
    retention: { hostLogDays: 7 },
    edge: { rateLimits: { exempt: ['203.0.113.0/24'] }, cloudflare: { authenticatedOriginPulls: false } },
  });
  const { host, file, core } = other;

  it('renders the deploy user into sudoers, limits, scripts and directories', () => {
    expect(host.files.sudoers).toBe('host/sudoers/ops');
    expect(meaningful(file(host.files.sudoers))).toContain('ops ALL=(root) NOPASSWD: NGINX_CONTROL');
    expect(new Set(parseLimits(file(host.files.limits)).map((r) => r.domain))).toEqual(
      new Set(['ops', 'root']),
    );
    expect(file(host.files.provisionServer)).toContain('readonly DEPLOY_USER=ops');
    expect(file(host.files.provisionServer)).toContain(
      `install -d -o ops -g ops -m 0700 ${core.paths.secretsDir}`,
    );
    expect(file(host.files.installDocker)).toContain('readonly DEPLOY_USER=ops');
    expect(file(host.files.provisionServer)).toContain('/etc/sudoers.d/ops');
  });

  it('moves SSH to the configured port in sshd, UFW and fail2ban', () => {
    expect(meaningful(file(host.files.sshd))).toContain('Port 2222');
    const firewall = file(host.files.setupFirewall);
    expect(firewall).toContain("ufw limit 2222/tcp comment 'SSH, rate limited'");
    expect(firewall).not.toContain('ufw limit 22/tcp');
    expect(firewall).toContain('readonly SSH_PORT=2222');
    expect(parseIni(file(host.files.fail2banJail)).get('sshd')?.get('port')).toBe('2222');
  });

  it('skips swap', () => {
    const swap = file(host.files.configureSwap);
    expect(swap).toContain('set -euo pipefail');
    expect(swap).not.toMatch(/fallocate|mkswap|swapon|fstab/);
    expect(swap).toContain('nothing to do');
    expect(defaults.file(defaults.host.files.configureSwap)).toContain('readonly SWAP_MIB=4096');
  });

  it('follows names, bridge address, retention, exempt clients and the origin-pull switch', () => {
    expect(host.files.sysctl).toBe('host/sysctl/99-school.conf');
    const daemon = JSON.parse(file(host.files.dockerDaemon));
    expect(daemon.bip).toBe('10.99.0.1/24');
    expect(daemon['metrics-addr']).toBe('10.99.0.1:9323');
    expect(file(host.files.setupFirewall)).toContain(
      `ufw allow in on ${core.networks.monitoring.bridge} to 10.99.0.1 port 9100,9323,8088 proto tcp`,
    );
    expect(parseLogrotate(file(host.files.logrotate))[0]?.directives).toContain('rotate 7');
    expect(parseIni(file(host.files.fail2banJail)).get('DEFAULT')?.get('ignoreip')).toBe(
      '127.0.0.1/8 ::1 203.0.113.0/24',
    );
    const provision = file(host.files.provisionServer);
    expect(provision).not.toContain(core.config.edge.cloudflare.originPullCa);
    expect(provision).toContain(core.config.edge.tls.key);
    const ports = corePorts(core, 2222);
    const [first, last] = (parseSysctl(file(host.files.sysctl)).get('net.ipv4.ip_local_port_range') ?? '')
      .split(' ')
      .map(Number);
    expect(ports.filter((p) => p >= (first as number) && p <= (last as number))).toEqual([]);
  });

  it('changes nothing else in the scripts than the lines that carry those values', () => {
    const a = defaults.file(defaults.host.files.installDocker).split('\n');
    const b = file(host.files.installDocker).split('\n');
    expect(b).toHaveLength(a.length);
    const differing = a.flatMap((line, i) => (line === b[i] ? [] : [line]));
    expect(differing).toEqual(['readonly DEPLOY_USER=deploy']);
  });
});
