// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are bash, where ${...} is bash's own syntax
import type { FirewallRule, HostInstall } from '../../model/host.ts';
import { type RenderedFile, scriptFile } from '../file.ts';
import type { HostInput } from './input.ts';
import { APT_GET, scriptHead, shConstants, shQuote } from './shell.ts';

// The provisioning scripts: bash, strict mode, run as root, idempotent (every file is written whole, every
// account, swap file and firewall rule is created only when missing), runnable from any directory.

const script = (path: string, sections: string[]): RenderedFile =>
  scriptFile(path, `${sections.join('\n\n')}\n`);

/** A tree file as a double-quoted bash word under $TREE (tree paths carry no characters that need escaping). */
function treePath(relative: string): string {
  if (!/^[A-Za-z0-9_@%+=:,./-]+$/.test(relative))
    throw new Error(`internal error: unsafe tree path ${relative}`);
  return `"$TREE/${relative}"`;
}

const installLine = (install: HostInstall) =>
  `install_file ${shQuote(install.source)} ${shQuote(install.target)} ${install.mode}`;

/** A relative path from one tree file's directory to a sibling script in the same directory. */
function sibling(from: string, to: string): string {
  const dir = (p: string) => p.slice(0, p.lastIndexOf('/'));
  if (dir(from) !== dir(to)) throw new Error(`internal error: ${to} is not a sibling of ${from}`);
  return `"$SCRIPT_DIR/${to.slice(to.lastIndexOf('/') + 1)}"`;
}

// --------------------------------------------------------------------------------------------------------
// provision-server.sh
// --------------------------------------------------------------------------------------------------------

function provisionServer(model: HostInput): RenderedFile {
  const { host, paths } = model;
  const { files, installs } = host;
  const path = files.provisionServer;

  const head = scriptHead({
    path,
    root: true,
    locate: true,
    purpose: [
      `Provisions the ${model.title} server (Ubuntu 24.04): packages, time zone, the deploy user, kernel`,
      'settings and limits, the SSH port, swap, directories, Docker, firewall, fail2ban, log rotation, sudo',
      `rights and nginx with the configuration of this tree. Run it as root from the installed tree`,
      `(${paths.app}). Re-running it changes nothing: files are written whole, the rest is checked first.`,
    ],
  });

  const settings = [
    shConstants([
      ['DEPLOY_USER', host.deployUser],
      ['APP_DIR', paths.app],
      ['ENV_FILE', paths.envFile],
      ['TIMEZONE', host.timezone],
      ['NGINX_VERSION', host.nginxVersion],
    ]),
    'export DEBIAN_FRONTEND=noninteractive',
    '# needrestart lists services running outdated libraries instead of asking which to restart.',
    'export NEEDRESTART_MODE=l',
  ].join('\n');

  const helpers = [
    `step() { printf '\\n=== %s ===\\n' "$1"; }`,
    '',
    '# install_file SOURCE TARGET MODE: installs a file of the tree (root-owned) and sets CHANGED to true when',
    '# its content differed from the installed one.',
    'CHANGED=false',
    'install_file() {',
    '  local source="$TREE/$1" target="$2" mode="$3"',
    '  if [[ ! -f "$source" ]]; then',
    '    echo "Missing $source: copy the whole rendered tree to the server." >&2',
    '    exit 1',
    '  fi',
    '  if [[ -f "$target" ]] && cmp -s "$source" "$target"; then',
    '    CHANGED=false',
    '  else',
    '    CHANGED=true',
    '    echo "  updated $target"',
    '  fi',
    '  install -D -m "$mode" -o root -g root "$source" "$target"',
    '}',
    '',
    'TEMP_FILE=""',
    `trap 'rm -f "$TEMP_FILE"' EXIT`,
    '',
    'if [[ "$TREE" != "$APP_DIR" ]]; then',
    '  echo "Note: running from $TREE; nginx and the stacks expect this tree at $APP_DIR." >&2',
    'fi',
  ].join('\n');

  const packages = [
    "step 'System packages'",
    'apt-get update',
    `${APT_GET} upgrade`,
    `${APT_GET} install \\`,
    host.packages.map((p) => `  ${shQuote(p)}`).join(' \\\n'),
  ].join('\n');

  const timezone = ["step 'Time zone'", 'timedatectl set-timezone "$TIMEZONE"'].join('\n');

  const user = [
    "step 'Deploy user'",
    'if id -u "$DEPLOY_USER" >/dev/null 2>&1; then',
    '  echo "User $DEPLOY_USER exists"',
    'else',
    '  useradd --create-home --shell /bin/bash "$DEPLOY_USER"',
    '  echo "Created $DEPLOY_USER without a password: it logs in with an SSH key"',
    'fi',
  ].join('\n');

  const kernel = [
    "step 'Kernel settings and limits'",
    installLine(installs.sysctl),
    `sysctl --load=${shQuote(installs.sysctl.target)}`,
    installLine(installs.limits),
  ].join('\n');

  const ssh = [
    "step 'SSH'",
    installLine(installs.sshd),
    'if [[ "$CHANGED" == true ]]; then',
    '  install -d -m 0755 /run/sshd',
    '  if ! sshd -t; then',
    `    rm -f ${shQuote(installs.sshd.target)}`,
    `    echo "sshd rejects ${installs.sshd.target}; removed it, sshd is unchanged." >&2`,
    '    exit 1',
    '  fi',
    '  if systemctl is-enabled --quiet ssh.socket 2>/dev/null; then',
    '    # Socket activation (the Ubuntu 24.04 default): the socket takes its ports from sshd_config.',
    '    systemctl daemon-reload',
    '    systemctl restart ssh.socket',
    '  else',
    '    systemctl reload-or-restart ssh.service',
    '  fi',
    'fi',
  ].join('\n');

  // The sibling scripts print their own headings.
  const swap = sibling(path, files.configureSwap);

  const dirLines = host.directories.map((d) => {
    const make = `install -d -o ${shQuote(d.owner)} -g ${shQuote(d.group)} -m ${d.mode} ${shQuote(d.path)}`;
    return d.create === 'always'
      ? make
      : [`if [[ ! -d ${shQuote(d.path)} ]]; then`, `  ${make}`, 'fi'].join('\n');
  });
  const directories = [
    "step 'Directories'",
    '# Data directories are created once, empty: the containers take them over on their first start.',
    ...dirLines,
    '# The tree belongs to the deploy user; files owned by container users are left as they are.',
    'chown -R --from=root:root "$DEPLOY_USER:$DEPLOY_USER" "$APP_DIR"',
    'if [[ -f "$ENV_FILE" ]]; then',
    '  chown "$DEPLOY_USER:$DEPLOY_USER" "$ENV_FILE"',
    '  chmod 0600 "$ENV_FILE"',
    'else',
    '  echo "Note: $ENV_FILE does not exist yet: create it (owner $DEPLOY_USER, mode 0600) before starting the stacks."',
    'fi',
  ].join('\n');

  const docker = sibling(path, files.installDocker);
  const firewall = sibling(path, files.setupFirewall);

  const fail2ban = [
    "step 'fail2ban'",
    installLine(installs.fail2banJail),
    'fail2ban-client --test',
    'systemctl enable --now fail2ban.service',
    'if [[ "$CHANGED" == true ]]; then',
    '  systemctl restart fail2ban.service',
    'fi',
  ].join('\n');

  const logrotate = [
    "step 'Log rotation'",
    installLine(installs.logrotate),
    installLine(installs.nginxLogrotate),
    `if ! report="$(logrotate --debug ${shQuote(installs.logrotate.target)} ${shQuote(installs.nginxLogrotate.target)} 2>&1)"; then`,
    '  echo "$report" >&2',
    '  exit 1',
    'fi',
  ].join('\n');

  const sudoers = [
    "step 'sudo rights'",
    '# Checked with visudo before it replaces the installed file: a broken sudoers file disables sudo.',
    'TEMP_FILE="$(mktemp)"',
    `install -m 0440 ${treePath(installs.sudoers.source)} "$TEMP_FILE"`,
    'visudo -c -f "$TEMP_FILE"',
    `install -m ${installs.sudoers.mode} -o root -g root "$TEMP_FILE" ${shQuote(installs.sudoers.target)}`,
  ].join('\n');

  const certDirs = [...new Set(host.tlsFiles.map((f) => f.path.slice(0, f.path.lastIndexOf('/'))))];
  const { nginxTree } = host;
  const source = treePath(nginxTree.source);
  const target = shQuote(nginxTree.target);
  const nginx = [
    "step 'nginx'",
    `if [[ ! -d ${source} ]]; then`,
    `  echo "Missing ${source.slice(1, -1)}: copy the whole rendered tree to the server." >&2`,
    '  exit 1',
    'fi',
    'installed_nginx="$(nginx -v 2>&1)"',
    'installed_nginx="${installed_nginx#*nginx/}"',
    'installed_nginx="${installed_nginx%% *}"',
    'if [[ "$installed_nginx" != "$NGINX_VERSION" ]]; then',
    '  echo "Warning: nginx $installed_nginx is installed, the configuration is rendered for $NGINX_VERSION: set edge.nginxVersion and synthesize again." >&2',
    'fi',
    `# Every file under ${nginxTree.source}/ goes to the same place under ${nginxTree.target}; every site is enabled.`,
    `nginx_files="$(cd ${source} && find . -type f | sort)"`,
    'while IFS= read -r relative; do',
    '  [[ -n "$relative" ]] || continue',
    '  relative="${relative#./}"',
    `  install_file ${shQuote(nginxTree.source)}/"$relative" ${target}/"$relative" 0644`,
    'done <<<"$nginx_files"',
    "# The package's default site would claim default_server on port 80.",
    `rm -f ${target}/sites-enabled/default`,
    `for site in ${source.slice(0, -1)}/sites-available"/*; do`,
    '  if [[ -f "$site" ]]; then',
    `    ln -sfn ${target}/sites-available/"\${site##*/}" ${target}/sites-enabled/"\${site##*/}"`,
    '  fi',
    'done',
    ...certDirs.map((d) => `install -d -m 0700 -o root -g root ${shQuote(d)}`),
    'missing=()',
    ...host.tlsFiles.map(
      (f) => `[[ -f ${shQuote(f.path)} ]] || missing+=(${shQuote(`${f.path}: ${f.what} (mode ${f.mode})`)})`,
    ),
    'if ((${#missing[@]} == 0)); then',
    '  nginx -t',
    '  systemctl enable nginx.service',
    '  systemctl reload-or-restart nginx.service',
    'else',
    '  echo "nginx was not reloaded: its TLS files are missing. Copy them to:"',
    '  printf \'  %s\\n\' "${missing[@]}"',
    '  echo "then run: nginx -t && systemctl reload nginx"',
    '  echo "Until then nginx serves its previous configuration, and would not start after a reboot."',
    'fi',
  ].join('\n');

  const done = [
    "step 'Done'",
    'if [[ -f /var/run/reboot-required ]]; then',
    '  echo "A reboot is required to finish the package upgrades."',
    'fi',
    'echo "Next: put the SSH keys of $DEPLOY_USER in its ~/.ssh/authorized_keys, create $ENV_FILE, start the stacks."',
  ].join('\n');

  return script(path, [
    head,
    settings,
    helpers,
    packages,
    timezone,
    user,
    kernel,
    ssh,
    swap,
    directories,
    docker,
    firewall,
    fail2ban,
    logrotate,
    sudoers,
    nginx,
    done,
  ]);
}

// --------------------------------------------------------------------------------------------------------
// install-docker.sh
// --------------------------------------------------------------------------------------------------------

function installDocker(model: HostInput): RenderedFile {
  const { host } = model;
  const daemon = host.installs.dockerDaemon;
  const head = scriptHead({
    path: host.files.installDocker,
    root: true,
    locate: true,
    purpose: [
      "Installs Docker Engine and the Compose plugin from Docker's apt repository, adds the deploy user to the",
      'docker group and installs daemon.json from this tree (dockerd restarts only when it changed).',
    ],
  });
  const body = [
    [
      shConstants([
        ['DEPLOY_USER', host.deployUser],
        ['DAEMON_JSON_TARGET', daemon.target],
      ]),
      `readonly DAEMON_JSON=${treePath(daemon.source)}`,
      'export DEBIAN_FRONTEND=noninteractive',
      'export NEEDRESTART_MODE=l',
    ].join('\n'),
    [
      "echo '=== Docker Engine ==='",
      "# Ubuntu's own packages conflict with Docker's.",
      'for pkg in docker.io docker-doc docker-compose docker-compose-v2 podman-docker containerd runc; do',
      '  if dpkg -s "$pkg" >/dev/null 2>&1; then',
      `    ${APT_GET} remove "$pkg"`,
      '  fi',
      'done',
    ].join('\n'),
    [
      'apt-get update',
      `${APT_GET} install ca-certificates curl`,
      'install -m 0755 -d /etc/apt/keyrings',
      'curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc',
      'chmod a+r /etc/apt/keyrings/docker.asc',
      '# shellcheck source=/dev/null',
      'codename="$(. /etc/os-release && echo "${UBUNTU_CODENAME:-$VERSION_CODENAME}")"',
      'arch="$(dpkg --print-architecture)"',
      'echo "deb [arch=$arch signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu $codename stable" \\',
      '  >/etc/apt/sources.list.d/docker.list',
      'apt-get update',
      `${APT_GET} install docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin`,
    ].join('\n'),
    [
      'if id -u "$DEPLOY_USER" >/dev/null 2>&1; then',
      '  usermod -aG docker "$DEPLOY_USER"',
      'else',
      '  echo "Warning: user $DEPLOY_USER does not exist yet; provision-server.sh creates it and adds it to docker." >&2',
      'fi',
    ].join('\n'),
    [
      'if [[ ! -f "$DAEMON_JSON" ]]; then',
      '  echo "Missing $DAEMON_JSON: copy the whole rendered tree to the server." >&2',
      '  exit 1',
      'fi',
      'restart=false',
      'if [[ ! -f "$DAEMON_JSON_TARGET" ]] || ! cmp -s "$DAEMON_JSON" "$DAEMON_JSON_TARGET"; then',
      '  dockerd --validate --config-file "$DAEMON_JSON"',
      `  install -D -m ${daemon.mode} -o root -g root "$DAEMON_JSON" "$DAEMON_JSON_TARGET"`,
      '  echo "  updated $DAEMON_JSON_TARGET"',
      '  restart=true',
      'fi',
      'systemctl enable --now containerd.service docker.service',
      '# live-restore keeps the containers running while dockerd restarts.',
      'if [[ "$restart" == true ]]; then',
      '  systemctl restart docker.service',
      'fi',
    ].join('\n'),
    ['docker --version', 'docker compose version'].join('\n'),
  ];
  return script(host.files.installDocker, [head, ...body]);
}

// --------------------------------------------------------------------------------------------------------
// setup-firewall.sh
// --------------------------------------------------------------------------------------------------------

function ufwRule(rule: FirewallRule): string {
  const comment = `comment ${shQuote(rule.comment)}`;
  if (rule.in === undefined && rule.to === undefined && rule.ports.length === 1) {
    return `ufw ${rule.action} ${rule.ports[0]}/${rule.proto} ${comment}`;
  }
  const words = [
    'ufw',
    rule.action,
    ...(rule.in ? ['in', 'on', shQuote(rule.in)] : []),
    'to',
    shQuote(rule.to ?? 'any'),
    'port',
    rule.ports.join(','),
    'proto',
    rule.proto,
    comment,
  ];
  return words.join(' ');
}

function setupFirewall(model: HostInput): RenderedFile {
  const { host } = model;
  const { firewall } = host;
  const aop = model.config.edge.cloudflare.authenticatedOriginPulls;
  const head = scriptHead({
    path: host.files.setupFirewall,
    root: true,
    locate: false,
    purpose: [
      'Configures UFW: deny incoming, allow outgoing, SSH (rate limited), HTTP/HTTPS, and the host exporters',
      'for Prometheus on the monitoring network. Rules are added only when missing; nothing is reset.',
    ],
  });
  const body = [
    shConstants([['SSH_PORT', host.sshPort]]),
    [
      '# Enabling the firewall on a port sshd does not listen on would lock everyone out.',
      'if command -v sshd >/dev/null 2>&1; then',
      '  install -d -m 0755 /run/sshd',
      `  sshd_ports="$(sshd -T | awk '$1 == "port" { print $2 }')"`,
      '  if ! grep -qxF "$SSH_PORT" <<<"$sshd_ports"; then',
      '    echo "sshd does not listen on port $SSH_PORT (server.sshPort) but on: ${sshd_ports//$\'\\n\'/ }." >&2',
      '    echo "Run provision-server.sh, which sets the sshd port, or correct server.sshPort." >&2',
      '    exit 1',
      '  fi',
      'fi',
    ].join('\n'),
    [
      "echo '=== UFW ==='",
      `ufw default ${firewall.incoming} incoming`,
      `ufw default ${firewall.outgoing} outgoing`,
      ...firewall.rules.flatMap((rule) => {
        const why =
          rule.ports.includes(443) && rule.in === undefined
            ? [
                "# Cloudflare's address ranges change, so 80 and 443 are open to all;",
                aop
                  ? "# nginx accepts HTTPS only with Cloudflare's origin-pull client certificate."
                  : '# nginx restores client addresses only from Cloudflare ranges.',
              ]
            : rule.in !== undefined
              ? [
                  '# Prometheus and the nginx exporter reach the host-level exporters at the Docker host address.',
                ]
              : [];
        return [...why, ufwRule(rule)];
      }),
    ].join('\n'),
    [
      'status="$(ufw status)"',
      'if [[ "$status" != "Status: active"* ]]; then',
      '  ufw --force enable',
      'fi',
      'ufw status verbose',
    ].join('\n'),
  ];
  return script(host.files.setupFirewall, [head, ...body]);
}

// --------------------------------------------------------------------------------------------------------
// configure-swap.sh
// --------------------------------------------------------------------------------------------------------

function configureSwap(model: HostInput): RenderedFile {
  const { host } = model;
  const path = host.files.configureSwap;
  if (host.swapMiB === 0) {
    const head = scriptHead({
      path,
      root: false,
      locate: false,
      purpose: ['Swap is off in the configuration (server.swapGiB = 0).'],
    });
    return script(path, [head, `echo 'Swap is off (server.swapGiB = 0): nothing to do.'`]);
  }
  const head = scriptHead({
    path,
    root: true,
    locate: false,
    purpose: [
      `Creates and enables a ${host.swapMiB} MiB swap file once; does nothing while it is active.`,
      `Swappiness is set in ${host.installs.sysctl.target}.`,
    ],
  });
  const body = [
    shConstants([
      ['SWAP_FILE', host.swapFile],
      ['SWAP_MIB', host.swapMiB],
    ]),
    [
      "echo '=== Swap ==='",
      'active="$(swapon --show=NAME --noheadings)"',
      'if grep -qxF "$SWAP_FILE" <<<"$active"; then',
      '  size="$(stat -c %s "$SWAP_FILE")"',
      '  if ((size != SWAP_MIB * 1024 * 1024)); then',
      '    echo "Note: $SWAP_FILE has $((size / 1024 / 1024)) MiB, the configuration asks for $SWAP_MIB MiB; resize it by hand (swapoff, rm, run again)."',
      '  fi',
      '  echo "Swap file $SWAP_FILE is active"',
      '  exit 0',
      'fi',
    ].join('\n'),
    [
      'if [[ ! -f "$SWAP_FILE" ]]; then',
      '  echo "Creating a $SWAP_MIB MiB swap file at $SWAP_FILE"',
      '  if ! fallocate -l "${SWAP_MIB}M" "$SWAP_FILE"; then',
      '    dd if=/dev/zero of="$SWAP_FILE" bs=1M count="$SWAP_MIB" status=none',
      '  fi',
      '  chmod 0600 "$SWAP_FILE"',
      '  mkswap "$SWAP_FILE"',
      'fi',
      'chmod 0600 "$SWAP_FILE"',
      'swapon "$SWAP_FILE"',
      'if ! grep -qE "^${SWAP_FILE}[[:space:]]" /etc/fstab; then',
      '  echo "$SWAP_FILE none swap sw 0 0" >>/etc/fstab',
      'fi',
      'swapon --show',
    ].join('\n'),
  ];
  return script(path, [head, ...body]);
}

/** The four provisioning scripts. */
export function renderProvisionScripts(model: HostInput): RenderedFile[] {
  return [provisionServer(model), installDocker(model), setupFirewall(model), configureSwap(model)];
}
