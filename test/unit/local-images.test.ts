import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.ts';
import { buildModel } from '../../src/model/index.ts';
import { hashEntries, readTreeEntries } from '../../src/ops/images/hash.ts';
import {
  BASE_IMAGE,
  BASE_IMAGE_CHANGES,
  BASE_ROOTFS_FILES,
  baseImageHash,
  buildArgv,
  debootstrapArgv,
  IMAGE_HASH_LABEL,
  imageInputEntries,
  importArgv,
  inspectArgv,
  LOCAL_IMAGES,
  localImageEnv,
  npmCiArgv,
  parseInspect,
  referenceCompileArgv,
  referenceSource,
  tarArgv,
} from '../../src/ops/local-images.ts';

const spec = (name: string) => {
  const found = LOCAL_IMAGES.find((s) => s.name === name);
  if (!found) throw new Error(`no local image ${name}`);
  return found;
};

/** Values of every `flag value` pair in an argv. */
const flagValues = (argv: readonly string[], flag: string) =>
  argv.flatMap((arg, i) => (arg === flag && argv[i + 1] !== undefined ? [argv[i + 1] as string] : []));

describe('argv builders', () => {
  it('debootstrap makes a minbase bookworm tree from the Debian mirror', () => {
    expect(debootstrapArgv(BASE_IMAGE, '/var/tmp/x/rootfs')).toEqual([
      'debootstrap',
      '--variant=minbase',
      'bookworm',
      '/var/tmp/x/rootfs',
      'http://deb.debian.org/debian',
    ]);
  });

  it('tar streams the tree with numeric owners, docker import reads it from stdin', () => {
    expect(tarArgv('/r')).toEqual(['tar', '--numeric-owner', '-C', '/r', '-c', '.']);
    const argv = importArgv(BASE_IMAGE, 'abc');
    expect(argv.slice(0, 2)).toEqual(['docker', 'import']);
    expect(argv.slice(-2)).toEqual(['-', 'academy-local/debian-base:bookworm']);
    const changes = flagValues(argv, '--change');
    expect(changes).toEqual([...BASE_IMAGE_CHANGES, `LABEL ${IMAGE_HASH_LABEL}=abc`]);
    expect(changes).toContain('ENV LANG=C.UTF-8');
  });

  it('docker build labels the image with its input hash and passes the base and build arguments', () => {
    const argv = buildArgv(spec('postgres'), { context: '/p/images/postgres', hash: 'h1', baseRef: 'b:1' });
    expect(argv.slice(0, 3)).toEqual(['docker', 'build', '--force-rm']);
    expect(argv.at(-1)).toBe('/p/images/postgres');
    expect(flagValues(argv, '--label')).toEqual([`${IMAGE_HASH_LABEL}=h1`]);
    expect(flagValues(argv, '--tag')).toEqual(['academy-local/postgres:standin']);
    expect(flagValues(argv, '--build-arg')).toEqual(['BASE_IMAGE=b:1', 'POSTGRES_UID=70']);
    // The context is the last argument: nothing after it would be read as an option.
    expect(argv.indexOf('/p/images/postgres')).toBe(argv.length - 1);
  });

  it('inspect prints id and labels on one line, parsed back (labels may be null)', () => {
    expect(inspectArgv('x:1')).toEqual([
      'docker',
      'image',
      'inspect',
      '--format',
      '{{.Id}} {{json .Config.Labels}}',
      'x:1',
    ]);
    expect(parseInspect(`sha256:aa {"${IMAGE_HASH_LABEL}":"h"}\n`)).toEqual({
      id: 'sha256:aa',
      labels: { [IMAGE_HASH_LABEL]: 'h' },
    });
    expect(parseInspect('sha256:bb null\n')).toEqual({ id: 'sha256:bb', labels: {} });
    expect(() => parseInspect('garbage')).toThrow(/unexpected/);
  });

  it('the reference app is compiled by the project TypeScript into the staged context and installed with npm ci', () => {
    expect(referenceCompileArgv('/p', '/s/dist')).toEqual([
      '/p/node_modules/.bin/tsc',
      '-p',
      '/p/apps/reference',
      '--outDir',
      '/s/dist',
    ]);
    expect(npmCiArgv()).toEqual(['npm', 'ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund']);
  });
});

describe('the image list against the model', () => {
  const model = buildModel(validateConfig({}));
  const variables = new Set(model.compose.flatMap((p) => p.services.map((s) => s.image.variable)));

  it('every replaced variable is an image variable of a compose service', () => {
    for (const image of LOCAL_IMAGES) for (const v of image.replaces) expect(variables, v).toContain(v);
  });

  it('env overrides cover postgres, mysql, redis and the three app roles', () => {
    expect(localImageEnv()).toEqual({
      POSTGRES_IMAGE: 'academy-local/postgres:standin',
      MYSQL_IMAGE: 'academy-local/mysql:standin',
      REDIS_IMAGE: 'academy-local/redis:standin',
      API_IMAGE: 'academy-local/reference:standin',
      WEB_IMAGE: 'academy-local/reference:standin',
      ADMIN_IMAGE: 'academy-local/reference:standin',
    });
  });

  it('service users have the uids the model gives the host data directories', () => {
    const uid = (runtime: { dataMounts: readonly { uid: number }[] }) => String(runtime.dataMounts[0]?.uid);
    expect(spec('postgres').buildArgs.POSTGRES_UID).toBe(uid(model.data.postgres));
    expect(spec('mysql').buildArgs.MYSQL_UID).toBe(uid(model.data.mysql));
    expect(spec('redis').buildArgs.REDIS_UID).toBe(uid(model.data.redis));
  });

  it('no tag is latest and every ref is local', () => {
    for (const image of [...LOCAL_IMAGES.map((s) => s.ref), BASE_IMAGE.ref]) {
      expect(image).toMatch(/^academy-local\/[a-z-]+:[a-z0-9.-]+$/);
      expect(image.endsWith(':latest')).toBe(false);
    }
  });
});

describe('content hashes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-images-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('entry order does not matter; content, name and executable bit do', () => {
    const a = { name: 'Dockerfile', content: 'FROM x\n' };
    const b = { name: 'docker-entrypoint.sh', executable: true, content: '#!/bin/sh\n' };
    const h = hashEntries([a, b]);
    expect(hashEntries([b, a])).toBe(h);
    expect(hashEntries([a, { ...b, content: '#!/bin/bash\n' }])).not.toBe(h);
    expect(hashEntries([a, { ...b, executable: false }])).not.toBe(h);
    expect(hashEntries([a, { ...b, name: 'entrypoint.sh' }])).not.toBe(h);
    // Bytes moved between files: same concatenation, other hash.
    expect(
      hashEntries([
        { name: 'a', content: 'xy' },
        { name: 'b', content: 'z' },
      ]),
    ).not.toBe(
      hashEntries([
        { name: 'a', content: 'x' },
        { name: 'b', content: 'yz' },
      ]),
    );
    expect(() => hashEntries([a, a])).toThrow(/duplicate/);
  });

  it('the base hash follows the debootstrap parameters and the files written into the tree', () => {
    const h = baseImageHash(BASE_IMAGE);
    expect(baseImageHash({ ...BASE_IMAGE })).toBe(h);
    expect(baseImageHash({ ...BASE_IMAGE, suite: 'trixie' })).not.toBe(h);
    expect(baseImageHash({ ...BASE_IMAGE, mirror: 'http://mirror.example/debian' })).not.toBe(h);
    expect(baseImageHash(BASE_IMAGE, BASE_ROOTFS_FILES.slice(1))).not.toBe(h);
    expect(baseImageHash(BASE_IMAGE, undefined, undefined, ['CMD ["sh"]'])).not.toBe(h);
  });

  it('a context hash is stable and changes with a file, a new file, the base image or a build argument', async () => {
    const root = join(dir, 'project');
    const ctx = join(root, 'images/postgres');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM base\n');
    await writeFile(join(ctx, 'docker-entrypoint.sh'), '#!/bin/sh\nexec "$@"\n');
    await chmod(join(ctx, 'docker-entrypoint.sh'), 0o755);
    const pg = spec('postgres');
    const hash = async (s = pg, baseId = 'sha256:base1') =>
      hashEntries(await imageInputEntries(s, { root, baseId }));

    const first = await hash();
    expect(await hash()).toBe(first);
    expect(await hash(pg, 'sha256:base2')).not.toBe(first);
    expect(await hash({ ...pg, buildArgs: { POSTGRES_UID: '999' } })).not.toBe(first);

    await writeFile(join(ctx, 'docker-entrypoint.sh'), '#!/bin/sh\nset -e\nexec "$@"\n');
    const changed = await hash();
    expect(changed).not.toBe(first);
    await chmod(join(ctx, 'docker-entrypoint.sh'), 0o644);
    expect(await hash()).not.toBe(changed);
    await writeFile(join(ctx, 'extra.conf'), 'x\n');
    expect(await hash()).not.toBe(changed);
  });

  it('the reference hash follows the app sources and lockfile, not dist or node_modules', async () => {
    const root = join(dir, 'ref');
    await mkdir(join(root, 'images/reference'), { recursive: true });
    await writeFile(join(root, 'images/reference/Dockerfile'), 'FROM base\n');
    const ref = spec('reference');
    const node = { version: 'v20.0.0', size: 1 };
    const hash = async (n = node) =>
      hashEntries(await imageInputEntries(ref, { root, baseId: 'b', node: n }));

    // Without apps/reference: a clear error naming what is missing.
    await expect(referenceSource(root)).rejects.toThrow(/apps\/reference: package.json, package-lock.json/);

    const app = join(root, 'apps/reference');
    await mkdir(join(app, 'src'), { recursive: true });
    await writeFile(join(app, 'package.json'), '{"type":"module"}\n');
    await expect(referenceSource(root)).rejects.toThrow(
      /apps\/reference: package-lock.json, tsconfig.json missing;/,
    );
    await writeFile(join(app, 'package-lock.json'), '{"lockfileVersion":3}\n');
    await writeFile(join(app, 'tsconfig.json'), '{}\n');
    await writeFile(join(app, 'src/main.ts'), 'console.log(1);\n');
    expect((await referenceSource(root)).dir).toBe(app);
    const real = await hash();

    // Build output and installed modules are not inputs.
    await mkdir(join(app, 'dist'), { recursive: true });
    await mkdir(join(app, 'node_modules/x'), { recursive: true });
    await writeFile(join(app, 'dist/main.js'), 'compiled\n');
    await writeFile(join(app, 'node_modules/x/index.js'), 'x\n');
    expect(await hash()).toBe(real);

    await writeFile(join(app, 'src/main.ts'), 'console.log(2);\n');
    const source = await hash();
    expect(source).not.toBe(real);
    await writeFile(join(app, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}\n');
    expect(await hash()).not.toBe(source);
    expect(await hash({ version: 'v20.1.0', size: 1 })).not.toBe(await hash());
    await writeFile(join(root, 'images/reference/Dockerfile'), 'FROM base\nUSER node\n');
    expect(await hash()).not.toBe(source);
  });

  it('readTreeEntries names files relative to the directory with forward slashes and honours skip', async () => {
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'a/b'), { recursive: true });
    await writeFile(join(tree, 'a/b/c.txt'), 'c');
    await writeFile(join(tree, 'top.txt'), 't');
    const names = (await readTreeEntries(tree, { prefix: 'p/' })).map((e) => e.name).sort();
    expect(names).toEqual(['p/a/b/c.txt', 'p/top.txt']);
    const skipped = (await readTreeEntries(tree, { skip: (p) => p === 'a' })).map((e) => e.name);
    expect(skipped).toEqual(['top.txt']);
  });
});
