import type { CoreModel, DataService } from './core.ts';

// The host itself: what provisioning installs on the Ubuntu server and where, the kernel and limit settings,
// the firewall rules, fail2ban jails, log rotation, Docker daemon settings and the deploy user's sudo rights.

/** A host-level listener that Prometheus (on the monitoring network) scrapes at the Docker host address. */
export interface HostExporter {
  host: string;
  port: number;
}

export interface SysctlSetting {
  key: string;
  value: string;
}

/** Settings written together under one heading; `why` becomes a comment when the reason is not obvious. */
export interface SysctlGroup {
  title: string;
  why?: string[];
  settings: SysctlSetting[];
}

/** One line of /etc/security/limits.d: `<domain> <type> <item> <value>`. */
export interface LimitRule {
  domain: string;
  type: 'soft' | 'hard';
  item: 'nofile' | 'nproc';
  value: number;
}

/** A UFW rule; `in`/`to` select the extended syntax (`ufw allow in on <if> to <addr> port <p> proto <proto>`). */
export interface FirewallRule {
  action: 'allow' | 'limit';
  ports: number[];
  proto: 'tcp' | 'udp';
  in?: string;
  to?: string;
  comment: string;
}

export interface Fail2banJail {
  name: string;
  /** Comment lines printed above the section. */
  why?: string[];
  settings: [string, string][];
}

/** A logrotate block: the path pattern and its directives (a directive with a script is a `[name, lines]`). */
export interface LogrotateBlock {
  pattern: string;
  directives: (string | [string, string[]])[];
}

/** A directory provisioning creates. `always` re-applies owner and mode (of the directory only, never below it). */
export interface HostDirectory {
  path: string;
  owner: string;
  group: string;
  mode: string;
  /** `if-missing` for data directories: the containers' entrypoints take them over on first start. */
  create: 'always' | 'if-missing';
}

/** A file of the rendered tree and where provisioning installs it. */
export interface HostInstall {
  /** Tree-relative path. */
  source: string;
  /** Absolute path on the server. */
  target: string;
  mode: string;
}

export interface TlsFile {
  path: string;
  what: string;
  mode: string;
}

export interface HostModel {
  deployUser: string;
  sshPort: number;
  timezone: string;
  /** 0 when the config turns swap off. */
  swapMiB: number;
  swapFile: string;
  /** Tree-relative paths of every file this area renders. */
  files: {
    provisionServer: string;
    installDocker: string;
    setupFirewall: string;
    configureSwap: string;
    dockerDaemon: string;
    sysctl: string;
    limits: string;
    logrotate: string;
    nginxLogrotate: string;
    fail2banJail: string;
    sudoers: string;
    sshd: string;
  };
  /** Where provisioning installs each rendered host file (keys as in `files`). */
  installs: Record<
    | 'dockerDaemon'
    | 'sysctl'
    | 'limits'
    | 'logrotate'
    | 'nginxLogrotate'
    | 'fail2banJail'
    | 'sudoers'
    | 'sshd',
    HostInstall
  >;
  /** Host-level exporters Prometheus reaches on the Docker host address. */
  exporters: { nodeExporter: HostExporter; dockerd: HostExporter; nginxStatus: HostExporter };
  /** Ports something listens on at the host level (public, loopback or the Docker host address). */
  servicePorts: number[];
  /** The kernel's range for outgoing connections; kept clear of `servicePorts`. */
  ephemeralPorts: { first: number; last: number };
  /** Service ports that fall inside the ephemeral range and are therefore reserved (normally none). */
  reservedPorts: number[];
  sysctl: SysctlGroup[];
  limits: LimitRule[];
  /** /etc/docker/daemon.json, keys in the order written. */
  dockerDaemon: Record<string, unknown>;
  firewall: { incoming: 'deny'; outgoing: 'allow'; rules: FirewallRule[] };
  fail2ban: { defaults: [string, string][]; jails: Fail2banJail[] };
  logrotate: LogrotateBlock;
  nginxLogrotate: LogrotateBlock;
  /** Commands the deploy user may run as root without a password; nothing else. */
  sudoCommands: string[];
  /** sshd_config settings of the drop-in (first value wins in sshd, so the drop-in sorts first). */
  sshd: [string, string][];
  /** Data directory of each data service on the host (bind-mounted by the data stack). */
  dataDirs: Record<DataService, string>;
  directories: HostDirectory[];
  /**
   * The tree's nginx directory and where provisioning installs it: every file at the same relative path,
   * and a sites-enabled link for every file in sites-available.
   */
  nginxTree: { source: string; target: string };
  /** Files the operator copies to the server by hand; nginx is reloaded only once they exist. */
  tlsFiles: TlsFile[];
  nginxVersion: string;
  packages: string[];
}

/** Linux's default ephemeral range (32768-60999): clear of every port the platform uses. */
const EPHEMERAL = { first: 32768, last: 60999 } as const;
const NOFILE = 65535;
const NPROC = 65535;

export function buildHostModel(core: CoreModel): HostModel {
  const { config, name, paths } = core;
  const { deployUser, sshPort } = config.server;
  const swapMiB = Math.round(config.server.swapGiB * 1024);

  const exporters = Object.fromEntries(
    Object.entries(core.hostListeners).map(([key, l]) => [key, { host: l.address, port: l.port }]),
  ) as Record<keyof CoreModel['hostListeners'], { host: string; port: number }>;

  const servicePorts = [
    ...new Set([
      sshPort,
      80,
      443,
      ...Object.values(core.apps).flatMap((app) => Object.values(app.hostPort)),
      ...Object.values(core.hostPorts),
      ...Object.values(exporters).map((e) => e.port),
    ]),
  ].sort((a, b) => a - b);
  const reservedPorts = servicePorts.filter((p) => p >= EPHEMERAL.first && p <= EPHEMERAL.last);

  const sysctl: SysctlGroup[] = [
    {
      title: 'Network',
      settings: [
        { key: 'net.core.somaxconn', value: '65535' },
        { key: 'net.core.netdev_max_backlog', value: '65535' },
        { key: 'net.ipv4.tcp_max_syn_backlog', value: '65535' },
        { key: 'net.ipv4.tcp_fin_timeout', value: '15' },
        { key: 'net.ipv4.tcp_keepalive_time', value: '300' },
        { key: 'net.ipv4.tcp_keepalive_probes', value: '5' },
        { key: 'net.ipv4.tcp_keepalive_intvl', value: '15' },
        { key: 'net.ipv4.tcp_tw_reuse', value: '1' },
      ],
    },
    {
      title: 'Ports for outgoing connections',
      why: [
        "Linux's default range, clear of the ports the platform listens on (any inside it is reserved), so an",
        'outgoing connection never takes a port a service needs (1024-65535 would collide with them).',
      ],
      settings: [
        { key: 'net.ipv4.ip_local_port_range', value: `${EPHEMERAL.first} ${EPHEMERAL.last}` },
        ...(reservedPorts.length > 0
          ? [{ key: 'net.ipv4.ip_local_reserved_ports', value: reservedPorts.join(',') }]
          : []),
      ],
    },
    {
      title: 'Binding the Docker host address',
      why: [
        `nginx serves stub_status on ${core.dockerHostIp}, the docker0 address, which exists only once dockerd`,
        'has started; this lets nginx (and the exporters) bind it whatever the boot order.',
      ],
      settings: [{ key: 'net.ipv4.ip_nonlocal_bind', value: '1' }],
    },
    {
      title: 'Hardening',
      settings: [
        { key: 'net.ipv4.tcp_syncookies', value: '1' },
        { key: 'net.ipv4.conf.all.accept_redirects', value: '0' },
        { key: 'net.ipv4.conf.default.accept_redirects', value: '0' },
        { key: 'net.ipv6.conf.all.accept_redirects', value: '0' },
        { key: 'net.ipv6.conf.default.accept_redirects', value: '0' },
        { key: 'net.ipv4.conf.all.send_redirects', value: '0' },
        { key: 'net.ipv4.conf.default.send_redirects', value: '0' },
        { key: 'net.ipv4.conf.all.accept_source_route', value: '0' },
        { key: 'net.ipv6.conf.all.accept_source_route', value: '0' },
      ],
    },
    {
      title: 'Memory',
      why: [
        'overcommit_memory = 1: Redis forks to write its snapshot and AOF; without it the fork can fail.',
        'dirty_ratio 15 : writers block before gigabytes of dirty pages queue ahead of the',
        "databases' fsyncs.",
      ],
      settings: [
        { key: 'vm.swappiness', value: '10' },
        { key: 'vm.dirty_ratio', value: '15' },
        { key: 'vm.dirty_background_ratio', value: '2' },
        { key: 'vm.overcommit_memory', value: '1' },
      ],
    },
    {
      title: 'File system',
      why: [
        'fs.file-max is left alone: systemd already raises it to the maximum, a fixed value would lower it.',
      ],
      settings: [{ key: 'fs.inotify.max_user_watches', value: '524288' }],
    },
  ];

  const limits: LimitRule[] = [deployUser, 'root'].flatMap((domain) =>
    (['nofile', 'nproc'] as const).flatMap((item) =>
      (['soft', 'hard'] as const).map((type) => ({
        domain,
        type,
        item,
        value: item === 'nofile' ? NOFILE : NPROC,
      })),
    ),
  );

  const dockerDaemon: Record<string, unknown> = {
    bip: config.server.dockerBridgeCidr,
    ip: '127.0.0.1',
    'default-network-opts': { bridge: { 'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1' } },
    icc: false,
    'userland-proxy': false,
    'no-new-privileges': true,
    'live-restore': true,
    'log-driver': 'json-file',
    'log-opts': { 'max-size': '100m', 'max-file': '5' },
    'storage-driver': 'overlay2',
    'default-ulimits': { nofile: { Name: 'nofile', Hard: NOFILE, Soft: NOFILE } },
    'metrics-addr': `${exporters.dockerd.host}:${exporters.dockerd.port}`,
    experimental: false,
  };

  const aop = config.edge.cloudflare.authenticatedOriginPulls;
  const firewall: HostModel['firewall'] = {
    incoming: 'deny',
    outgoing: 'allow',
    rules: [
      { action: 'limit', ports: [sshPort], proto: 'tcp', comment: 'SSH, rate limited' },
      { action: 'allow', ports: [80], proto: 'tcp', comment: 'HTTP via Cloudflare' },
      {
        action: 'allow',
        ports: [443],
        proto: 'tcp',
        comment: aop ? 'HTTPS via Cloudflare, origin-pull certificate required' : 'HTTPS via Cloudflare',
      },
      {
        action: 'allow',
        ports: Object.values(exporters).map((e) => e.port),
        proto: 'tcp',
        in: core.networks.monitoring.bridge,
        to: core.dockerHostIp,
        comment: 'Prometheus to host exporters',
      },
    ],
  };

  const nginxErrorLogs = '/var/log/nginx/*error.log';
  const fail2ban: HostModel['fail2ban'] = {
    defaults: [
      ['bantime', '1h'],
      ['findtime', '10m'],
      ['maxretry', '5'],
      ['banaction', 'ufw'],
      ['banaction_allports', 'ufw'],
      ['ignoreip', ['127.0.0.1/8', '::1', ...config.edge.rateLimits.exempt].join(' ')],
    ],
    jails: [
      {
        name: 'sshd',
        why: ["sshd's log is read from the journal, which needs neither rsyslog nor /var/log/auth.log."],
        settings: [
          ['enabled', 'true'],
          ['port', String(sshPort)],
          ['filter', 'sshd'],
          ['backend', 'systemd'],
          ['maxretry', '3'],
          ['bantime', '24h'],
        ],
      },
      {
        name: 'nginx-http-auth',
        why: [
          'The nginx jails read every error log nginx writes: error.log and the per-site <site>.error.log.',
          'nginx logs the real client address (restored from CF-Connecting-IP), so that is what gets banned.',
          'A UFW ban does not stop a client that comes through Cloudflare: its packets arrive from',
          "Cloudflare's addresses. These jails still stop clients that reach the origin directly.",
        ],
        settings: [
          ['enabled', 'true'],
          ['port', 'http,https'],
          ['filter', 'nginx-http-auth'],
          ['logpath', nginxErrorLogs],
          ['maxretry', '5'],
        ],
      },
      {
        name: 'nginx-limit-req',
        settings: [
          ['enabled', 'true'],
          ['port', 'http,https'],
          ['filter', 'nginx-limit-req'],
          ['logpath', nginxErrorLogs],
          ['maxretry', '10'],
          ['bantime', '1h'],
        ],
      },
    ],
  };

  const logrotate: LogrotateBlock = {
    pattern: `${paths.logs}/*.log`,
    directives: [
      'daily',
      `rotate ${config.retention.hostLogDays}`,
      'missingok',
      'notifempty',
      'compress',
      'delaycompress',
      'copytruncate',
      'su root root',
    ],
  };

  // Replaces the nginx package's own /etc/logrotate.d/nginx (same path, so the logs have one entry) to
  // apply retention.nginxLogDays; otherwise identical to Ubuntu's file.
  const nginxLogrotate: LogrotateBlock = {
    pattern: '/var/log/nginx/*.log',
    directives: [
      'daily',
      `rotate ${config.retention.nginxLogDays}`,
      'missingok',
      'notifempty',
      'compress',
      'delaycompress',
      'create 0640 www-data adm',
      'sharedscripts',
      [
        'prerotate',
        ['if [ -d /etc/logrotate.d/httpd-prerotate ]; then run-parts /etc/logrotate.d/httpd-prerotate; fi'],
      ],
      ['postrotate', ['invoke-rc.d nginx rotate >/dev/null 2>&1']],
    ],
  };

  const dataDirs = {
    postgres: `${paths.data}/postgres`,
    mysql: `${paths.data}/mysql`,
    redis: `${paths.data}/redis`,
    objectStore: `${paths.data}/object-store`,
    gibbon: `${paths.data}/gibbon`,
  } satisfies Record<DataService, string>;

  const dir = (path: string, owner: string, mode: string, create: HostDirectory['create'] = 'always') => ({
    path,
    owner,
    group: owner,
    mode,
    create,
  });
  const directories: HostDirectory[] = [
    dir(paths.app, deployUser, '0755'),
    dir(core.paths.secretsDir, deployUser, '0700'),
    dir(paths.data, 'root', '0755'),
    ...Object.values(dataDirs).map((path) => dir(path, 'root', '0750', 'if-missing')),
    dir(paths.backups, deployUser, '0750'),
    dir(paths.logs, deployUser, '0750'),
  ];

  const { tls, cloudflare } = config.edge;
  const tlsFiles: TlsFile[] = [
    { path: tls.certificate, what: 'the Cloudflare origin certificate', mode: '0644' },
    { path: tls.key, what: 'its private key', mode: '0600' },
    ...(aop
      ? [{ path: cloudflare.originPullCa, what: 'the Cloudflare authenticated origin pull CA', mode: '0644' }]
      : []),
  ];

  const files = {
    provisionServer: 'scripts/provision/provision-server.sh',
    installDocker: 'scripts/provision/install-docker.sh',
    setupFirewall: 'scripts/provision/setup-firewall.sh',
    configureSwap: 'scripts/provision/configure-swap.sh',
    dockerDaemon: 'host/docker/daemon.json',
    sysctl: `host/sysctl/99-${name}.conf`,
    limits: `host/limits/${name}.conf`,
    logrotate: `host/logrotate/${name}`,
    nginxLogrotate: 'host/logrotate/nginx',
    fail2banJail: 'host/fail2ban/jail.local',
    sudoers: `host/sudoers/${deployUser}`,
    sshd: `host/ssh/10-${name}.conf`,
  };
  const install = (source: string, target: string, mode = '0644'): HostInstall => ({ source, target, mode });

  return {
    deployUser,
    sshPort,
    timezone: config.timezone,
    swapMiB,
    swapFile: '/swapfile',
    files,
    installs: {
      dockerDaemon: install(files.dockerDaemon, '/etc/docker/daemon.json'),
      sysctl: install(files.sysctl, `/etc/sysctl.d/99-${name}.conf`),
      limits: install(files.limits, `/etc/security/limits.d/${name}.conf`),
      logrotate: install(files.logrotate, `/etc/logrotate.d/${name}`),
      nginxLogrotate: install(files.nginxLogrotate, '/etc/logrotate.d/nginx'),
      fail2banJail: install(files.fail2banJail, '/etc/fail2ban/jail.local'),
      sudoers: install(files.sudoers, `/etc/sudoers.d/${deployUser}`, '0440'),
      sshd: install(files.sshd, `/etc/ssh/sshd_config.d/10-${name}.conf`),
    },
    exporters,
    servicePorts,
    ephemeralPorts: { ...EPHEMERAL },
    reservedPorts,
    sysctl,
    limits,
    dockerDaemon,
    firewall,
    fail2ban,
    logrotate,
    nginxLogrotate,
    sudoCommands: ['/usr/sbin/nginx -t', '/usr/bin/systemctl reload nginx'],
    sshd: [
      ['Port', String(sshPort)],
      ['PermitRootLogin', 'prohibit-password'],
      ['X11Forwarding', 'no'],
    ],
    dataDirs,
    directories,
    nginxTree: { source: 'nginx', target: '/etc/nginx' },
    tlsFiles,
    nginxVersion: config.edge.nginxVersion,
    packages: [
      'ca-certificates',
      'cron',
      'curl',
      'dnsutils',
      'fail2ban',
      'git',
      'htop',
      'iotop',
      'jq',
      'logrotate',
      'ncdu',
      'net-tools',
      'nginx',
      'python3-systemd',
      'tree',
      'ufw',
      'unzip',
      'vim',
      'wget',
    ],
  };
}
