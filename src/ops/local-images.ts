import { constants } from 'node:fs';
import {
  access,
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { OperationFailed } from '../lib/errors.ts';
import { factEntries, type HashEntry, hashEntries, readTreeEntries } from './images/hash.ts';
import { withLockDir } from './images/lock.ts';

// Stand-in images for machines without a container registry (CI, test VMs): a Debian bookworm base from
// debootstrap, and images built FROM it with Debian packages that honour the contracts of the official images
// the compose files use. Compose picks them up through the image variables (POSTGRES_IMAGE, ...).

/** Label holding the hash of everything an image was built from; an equal hash means "up to date". */
export const IMAGE_HASH_LABEL = 'org.smart-academy.local-image.hash';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface BaseImageSpec {
  ref: string;
  suite: string;
  variant: string;
  mirror: string;
}

export const BASE_IMAGE: BaseImageSpec = {
  ref: 'academy-local/debian-base:bookworm',
  suite: 'bookworm',
  variant: 'minbase',
  mirror: 'http://deb.debian.org/debian',
};

/** Files written into the debootstrap tree before it is imported (paths relative to the tree). */
export interface RootfsFile {
  path: string;
  mode: number;
  content: string;
}

export const BASE_ROOTFS_FILES: readonly RootfsFile[] = [
  // No service starts while an image build installs packages.
  { path: 'usr/sbin/policy-rc.d', mode: 0o755, content: '#!/bin/sh\nexit 101\n' },
  {
    path: 'etc/apt/apt.conf.d/90academy-no-recommends',
    mode: 0o644,
    content: 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n',
  },
  // Image layers are thrown away when a build fails: fsync per file only slows dpkg down.
  { path: 'etc/dpkg/dpkg.cfg.d/90academy-unsafe-io', mode: 0o644, content: 'force-unsafe-io\n' },
  {
    path: 'etc/dpkg/dpkg.cfg.d/90academy-no-docs',
    mode: 0o644,
    content: [
      'path-exclude=/usr/share/doc/*',
      'path-include=/usr/share/doc/*/copyright',
      'path-exclude=/usr/share/man/*',
      'path-exclude=/usr/share/info/*',
      '',
    ].join('\n'),
  },
];

/** Directories of the debootstrap tree whose files are dropped before the import (package caches). */
export const BASE_ROOTFS_EMPTIED: readonly string[] = ['var/cache/apt/archives', 'var/lib/apt/lists'];

/** `docker import --change` instructions of the base image. */
export const BASE_IMAGE_CHANGES: readonly string[] = [
  'ENV LANG=C.UTF-8',
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'CMD ["bash"]',
];

export type LocalImageName = 'postgres' | 'mysql' | 'redis' | 'reference';

export interface LocalImageSpec {
  name: LocalImageName;
  ref: string;
  /** Build context, relative to the project root (for `reference`: the Dockerfile's directory; the context is staged). */
  context: string;
  /** Compose image variables this image stands in for. */
  replaces: readonly string[];
  /** What it stands in for, and with what. */
  standsFor: string;
  /** Debian packages the Dockerfile installs (for the report and docs). */
  debianPackages: readonly string[];
  buildArgs: Readonly<Record<string, string>>;
}

export const LOCAL_IMAGES: readonly LocalImageSpec[] = [
  {
    name: 'postgres',
    ref: 'academy-local/postgres:standin',
    context: 'images/postgres',
    replaces: ['POSTGRES_IMAGE'],
    standsFor: 'postgres:17 (official image) with Debian PostgreSQL 15',
    debianPackages: ['postgresql-15', 'postgresql-common', 'tzdata'],
    // uid 70 as the default image (postgres:*-alpine): the host data directory is owned by it.
    buildArgs: { POSTGRES_UID: '70' },
  },
  {
    name: 'mysql',
    ref: 'academy-local/mysql:standin',
    context: 'images/mysql',
    replaces: ['MYSQL_IMAGE'],
    standsFor: 'mysql:8.4 (official image) with Debian MariaDB 10.11',
    debianPackages: ['mariadb-server', 'mariadb-client', 'tzdata'],
    buildArgs: { MYSQL_UID: '999' },
  },
  {
    name: 'redis',
    ref: 'academy-local/redis:standin',
    context: 'images/redis',
    replaces: ['REDIS_IMAGE'],
    standsFor: 'redis:7.4 (official image) with Debian redis-server 7.0',
    debianPackages: ['redis-server', 'redis-tools', 'tzdata'],
    buildArgs: { REDIS_UID: '999' },
  },
  {
    name: 'reference',
    ref: 'academy-local/reference:standin',
    context: 'images/reference',
    replaces: ['API_IMAGE', 'WEB_IMAGE', 'ADMIN_IMAGE'],
    standsFor: 'the api/web/admin images with apps/reference on the host Node binary',
    debianPackages: [],
    buildArgs: {},
  },
];

/** Compose image variables -> local image references, for the env of `docker compose`. */
export function localImageEnv(images: readonly LocalImageSpec[] = LOCAL_IMAGES): Record<string, string> {
  const env: Record<string, string> = {};
  for (const image of images) for (const variable of image.replaces) env[variable] = image.ref;
  return env;
}

// ---------------------------------------------------------------------------------------------------------
// argv builders (pure)

export function ensureDockerArgv(root: string): string[] {
  return [join(root, 'scripts/ensure-docker.sh')];
}

export function debootstrapArgv(base: BaseImageSpec, rootfs: string): string[] {
  return ['debootstrap', `--variant=${base.variant}`, base.suite, rootfs, base.mirror];
}

export function tarArgv(rootfs: string): string[] {
  return ['tar', '--numeric-owner', '-C', rootfs, '-c', '.'];
}

/** `docker import` reading the tar stream on stdin. */
export function importArgv(base: BaseImageSpec, hash: string, changes = BASE_IMAGE_CHANGES): string[] {
  return [
    'docker',
    'import',
    ...changes.flatMap((change) => ['--change', change]),
    '--change',
    `LABEL ${IMAGE_HASH_LABEL}=${hash}`,
    '-',
    base.ref,
  ];
}

export function inspectArgv(ref: string): string[] {
  return ['docker', 'image', 'inspect', '--format', '{{.Id}} {{json .Config.Labels}}', ref];
}

/** Id and labels from `inspectArgv`'s output. */
export function parseInspect(stdout: string): { id: string; labels: Record<string, string> } {
  const text = stdout.trim();
  const space = text.indexOf(' ');
  if (space < 0) throw new Error(`unexpected docker image inspect output: ${text}`);
  const labels = JSON.parse(text.slice(space + 1)) as Record<string, string> | null;
  return { id: text.slice(0, space), labels: labels ?? {} };
}

export function buildArgv(
  spec: Pick<LocalImageSpec, 'ref' | 'buildArgs'>,
  options: { context: string; hash: string; baseRef: string },
): string[] {
  const args = { BASE_IMAGE: options.baseRef, ...spec.buildArgs };
  return [
    'docker',
    'build',
    // Intermediate containers of a failed step go too (the classic builder keeps them otherwise).
    '--force-rm',
    '--label',
    `${IMAGE_HASH_LABEL}=${options.hash}`,
    ...Object.entries(args).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]),
    '--tag',
    spec.ref,
    options.context,
  ];
}

export function removeImageArgv(id: string): string[] {
  return ['docker', 'image', 'rm', id];
}

/** Compiles the reference app's sources into `outDir` with the project's TypeScript (apps/reference/dist is left alone). */
export function referenceCompileArgv(root: string, outDir: string): string[] {
  return [join(root, 'node_modules/.bin/tsc'), '-p', join(root, 'apps/reference'), '--outDir', outDir];
}

/** Production dependencies from the app's lockfile, installed on the host (npm cannot reach the registry from containers). */
export function npmCiArgv(): string[] {
  return ['npm', 'ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
}

// ---------------------------------------------------------------------------------------------------------
// content hashes

export function baseImageHash(
  base: BaseImageSpec,
  files: readonly RootfsFile[] = BASE_ROOTFS_FILES,
  emptied: readonly string[] = BASE_ROOTFS_EMPTIED,
  changes: readonly string[] = BASE_IMAGE_CHANGES,
): string {
  return hashEntries([
    ...factEntries('base', { suite: base.suite, variant: base.variant, mirror: base.mirror }),
    ...files.map((f) => ({ name: `file:${f.path}`, executable: (f.mode & 0o111) !== 0, content: f.content })),
    { name: 'emptied', content: emptied.join('\n') },
    { name: 'changes', content: changes.join('\n') },
  ]);
}

/** Where the reference image's application comes from. */
export interface ReferenceSource {
  dir: string;
}

const exists = (path: string) =>
  access(path, constants.F_OK).then(
    () => true,
    () => false,
  );

export async function referenceSource(root: string): Promise<ReferenceSource> {
  const dir = join(root, 'apps/reference');
  const missing: string[] = [];
  for (const name of ['package.json', 'package-lock.json', 'tsconfig.json', 'src']) {
    if (!(await exists(join(dir, name)))) missing.push(name);
  }
  if (missing.length > 0) {
    throw new OperationFailed(
      `apps/reference: ${missing.join(', ')} missing; the stand-in image compiles src/ with tsconfig.json ` +
        'and installs the production dependencies with npm ci from package-lock.json',
    );
  }
  return { dir };
}

/** Hash entries of the reference app's inputs: sources, tsconfig, package.json and lockfile (not dist, node_modules). */
export async function referenceInputEntries(source: ReferenceSource): Promise<HashEntry[]> {
  const entries = await readTreeEntries(join(source.dir, 'src'), { prefix: 'app/src/' });
  for (const name of ['tsconfig.json', 'package.json', 'package-lock.json']) {
    entries.push({ name: `app/${name}`, content: await readFile(join(source.dir, name)) });
  }
  return entries;
}

/**
 * Everything an image is built from. For `reference` also the Node binary copied in (version and size) and
 * the TypeScript that compiles the app; `node` defaults to the running binary.
 */
export async function imageInputEntries(
  spec: LocalImageSpec,
  options: { root: string; baseId: string; node?: { version: string; size: number } },
): Promise<HashEntry[]> {
  const entries: HashEntry[] = [
    ...factEntries('arg', spec.buildArgs),
    ...factEntries('image', { ref: spec.ref, base: options.baseId }),
  ];
  if (spec.name !== 'reference') {
    return [...entries, ...(await readTreeEntries(join(options.root, spec.context)))];
  }
  const source = await referenceSource(options.root);
  const node = options.node ?? { version: process.version, size: (await stat(process.execPath)).size };
  const tsc = await readFile(join(options.root, 'node_modules/typescript/package.json'), 'utf8').then(
    (text) => (JSON.parse(text) as { version?: string }).version ?? '?',
    () => 'none',
  );
  return [
    ...entries,
    ...factEntries('node', { version: node.version, size: String(node.size) }),
    ...factEntries('typescript', { version: tsc }),
    ...(await readTreeEntries(join(options.root, spec.context), { prefix: 'image/' })),
    ...(await referenceInputEntries(source)),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// runner

export type ImageProgress =
  | { kind: 'start'; step: string; message: string }
  /** A line of a tool's output; `notable` lines (build steps, debootstrap stages) are worth showing. */
  | { kind: 'line'; step: string; line: string; notable: boolean }
  | { kind: 'done'; step: string; outcome: 'built' | 'up to date' | 'ready'; ms: number; message?: string };

export interface StepSummary {
  step: string;
  outcome: 'built' | 'up to date' | 'ready';
  ms: number;
}

export interface LocalImagesResult {
  /** Image variables for `docker compose` (POSTGRES_IMAGE, ...). */
  env: Record<string, string>;
  steps: StepSummary[];
  ms: number;
}

export interface EnsureLocalImagesOptions {
  /** Project root (default: this checkout). */
  root?: string;
  onProgress?: (event: ImageProgress) => void;
  /** Build these images only (the base always). */
  only?: readonly LocalImageName[];
  /** Rebuild the stand-ins even when their hash label matches (not the base). */
  force?: boolean;
  /** Skip scripts/ensure-docker.sh (the caller knows the engine runs). */
  skipEnsureDocker?: boolean;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const NOTABLE =
  /^(Step \d+\/\d+ :|Successfully built|apps\/reference |compiling |npm ci |ensure-docker:|install-compose-plugin:|I: (Retrieving Release|Validating Release|Resolving dependencies|Checking component|Retrieving packages|Extracting|Installing (core|base)|Unpacking the base|Configuring the base|Base system installed))/;

/** Prints progress as `[images] step: message`, with the notable lines of long steps indented. */
export function printProgress(write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {
  return (event: ImageProgress): void => {
    if (event.kind === 'start') write(`[images] ${event.step}: ${event.message}`);
    else if (event.kind === 'line') {
      if (event.notable) write(`[images]   ${event.line}`);
    } else
      write(
        `[images] ${event.step}: ${event.outcome} in ${seconds(event.ms)}${event.message ? ` (${event.message})` : ''}`,
      );
  };
}

interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  onLine?: (line: string) => void;
}

/** Runs a command, streaming its output lines; fails with the last lines of output. */
async function run(step: string, argv: readonly string[], options: RunOptions = {}): Promise<void> {
  const [file, ...args] = argv as [string, ...string[]];
  const tail: string[] = [];
  const subprocess = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    all: true,
    buffer: false,
    reject: false,
    stdin: 'ignore',
  });
  for await (const line of subprocess.iterable({ from: 'all' })) {
    tail.push(line);
    if (tail.length > 40) tail.shift();
    options.onLine?.(line);
  }
  const result = await subprocess;
  if (result.exitCode !== 0) {
    const why =
      result.exitCode === undefined
        ? (result.shortMessage ?? 'did not start')
        : `exit code ${result.exitCode}`;
    throw new OperationFailed(
      `${step}: \`${argv.join(' ')}\` failed (${why}):\n${tail.join('\n')}`.trimEnd(),
    );
  }
}

async function inspect(ref: string): Promise<{ id: string; labels: Record<string, string> } | null> {
  const [file, ...args] = inspectArgv(ref) as [string, ...string[]];
  const result = await execa(file, args, { reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0) return null;
  return parseInspect(result.stdout);
}

async function emptyDirFiles(dir: string): Promise<void> {
  const items = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const item of items) if (item.isFile()) await rm(join(dir, item.name), { force: true });
}

async function buildBase(base: BaseImageSpec, hash: string, onLine: (line: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new OperationFailed(`building ${base.ref} runs debootstrap, which needs root: run as root (sudo)`);
  }
  const work = await mkdtemp(join('/var/tmp', 'academy-base-'));
  const rootfs = join(work, 'rootfs');
  try {
    await run('base: debootstrap', debootstrapArgv(base, rootfs), { onLine });
    for (const file of BASE_ROOTFS_FILES) {
      const path = join(rootfs, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.content);
      await chmod(path, file.mode);
    }
    for (const dir of BASE_ROOTFS_EMPTIED) await emptyDirFiles(join(rootfs, dir));
    const [tarFile, ...tarArgs] = tarArgv(rootfs) as [string, ...string[]];
    const [dockerFile, ...importArgs] = importArgv(base, hash) as [string, ...string[]];
    onLine(`${tarArgv(rootfs).join(' ')} | ${importArgv(base, hash).join(' ')}`);
    try {
      await execa(tarFile, tarArgs, { buffer: false, stdin: 'ignore' }).pipe(dockerFile, importArgs);
    } catch (error) {
      throw new OperationFailed(`base: tar | docker import failed: ${(error as Error).message}`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Stages the reference image's build context: Dockerfile, node binary, package.json, dist/, node_modules/. */
async function stageReference(
  root: string,
  spec: LocalImageSpec,
  onLine: (line: string) => void,
): Promise<string> {
  const staging = await mkdtemp(join(tmpdir(), 'academy-reference-'));
  const imageDir = join(root, spec.context);
  for (const item of await readdir(imageDir, { withFileTypes: true })) {
    if (item.isFile()) await copyFile(join(imageDir, item.name), join(staging, item.name));
  }
  await copyFile(process.execPath, join(staging, 'node'));
  const source = await referenceSource(root);
  const dist = join(staging, 'dist');
  onLine(`compiling apps/reference into the build context`);
  await run('reference: tsc', referenceCompileArgv(root, dist), { cwd: root, onLine });
  // What the app's build script adds: dist/ is an ES module package of its own.
  await writeFile(join(dist, 'package.json'), '{"type":"module"}\n');
  for (const name of ['package.json', 'package-lock.json']) {
    await copyFile(join(source.dir, name), join(staging, name));
  }
  onLine(`${npmCiArgv().join(' ')} (on the host)`);
  await run('reference: npm ci', npmCiArgv(), { cwd: staging, onLine });
  await rm(join(staging, 'package-lock.json'));
  return staging;
}

/**
 * Makes the stand-in images exist and be current: runs scripts/ensure-docker.sh, imports the Debian base
 * when missing, builds every image whose inputs changed (hash label), and returns the compose image
 * variables pointing at them. Concurrent callers wait for each other.
 */
export async function ensureLocalImages(options: EnsureLocalImagesOptions = {}): Promise<LocalImagesResult> {
  const root = options.root ?? PROJECT_ROOT;
  const onProgress = options.onProgress ?? printProgress();
  const started = performance.now();
  const steps: StepSummary[] = [];
  const specs = LOCAL_IMAGES.filter((s) => !options.only || options.only.includes(s.name));
  const lineSink = (step: string) => (line: string) =>
    onProgress({ kind: 'line', step, line, notable: NOTABLE.test(line) });
  const done = (step: string, outcome: StepSummary['outcome'], since: number, message?: string) => {
    const ms = performance.now() - since;
    steps.push({ step, outcome, ms });
    onProgress({ kind: 'done', step, outcome, ms, ...(message ? { message } : {}) });
  };

  if (!options.skipEnsureDocker) {
    const since = performance.now();
    onProgress({ kind: 'start', step: 'docker', message: 'scripts/ensure-docker.sh' });
    await run('docker', ensureDockerArgv(root), { cwd: root, onLine: lineSink('docker') });
    done('docker', 'ready', since);
  }

  await withLockDir(
    join(tmpdir(), 'academy-local-images.lock'),
    async () => {
      const baseHash = baseImageHash(BASE_IMAGE);
      let since = performance.now();
      let base = await inspect(BASE_IMAGE.ref);
      if (base && base.labels[IMAGE_HASH_LABEL] === baseHash) {
        done('base', 'up to date', since, BASE_IMAGE.ref);
      } else {
        onProgress({
          kind: 'start',
          step: 'base',
          message: `${base ? 'stale' : 'missing'}: debootstrap --variant=${BASE_IMAGE.variant} ${BASE_IMAGE.suite} + docker import ${BASE_IMAGE.ref}`,
        });
        await buildBase(BASE_IMAGE, baseHash, lineSink('base'));
        base = await inspect(BASE_IMAGE.ref);
        if (!base) throw new OperationFailed(`base: ${BASE_IMAGE.ref} does not exist after docker import`);
        done('base', 'built', since, BASE_IMAGE.ref);
      }

      for (const spec of specs) {
        since = performance.now();
        const hash = hashEntries(await imageInputEntries(spec, { root, baseId: base.id }));
        const current = await inspect(spec.ref);
        if (!options.force && current?.labels[IMAGE_HASH_LABEL] === hash) {
          done(spec.name, 'up to date', since, spec.ref);
          continue;
        }
        onProgress({
          kind: 'start',
          step: spec.name,
          message: `${current ? 'inputs changed' : 'missing'}: building ${spec.ref} (${spec.standsFor})`,
        });
        const onLine = lineSink(spec.name);
        const context =
          spec.name === 'reference' ? await stageReference(root, spec, onLine) : join(root, spec.context);
        try {
          await run(spec.name, buildArgv(spec, { context, hash, baseRef: BASE_IMAGE.ref }), {
            onLine,
            // The classic builder everywhere: docker.io 20.10's CLI has no buildx, and its output is one format.
            env: { DOCKER_BUILDKIT: '0' },
          });
        } finally {
          if (context !== join(root, spec.context)) await rm(context, { recursive: true, force: true });
        }
        const built = await inspect(spec.ref);
        if (built?.labels[IMAGE_HASH_LABEL] !== hash) {
          throw new OperationFailed(
            `${spec.name}: ${spec.ref} lacks label ${IMAGE_HASH_LABEL}=${hash} after the build`,
          );
        }
        if (current && current.id !== built.id) {
          // The replaced image, unless a container still uses it.
          const [file, ...args] = removeImageArgv(current.id) as [string, ...string[]];
          await execa(file, args, { reject: false, stdin: 'ignore' });
        }
        done(spec.name, 'built', since, spec.ref);
      }
    },
    {
      onWait: (holder) =>
        onProgress({
          kind: 'line',
          step: 'lock',
          line: `waiting for ${holder}, which builds the images`,
          notable: true,
        }),
    },
  );

  const ms = performance.now() - started;
  return { env: localImageEnv(specs), steps, ms };
}
