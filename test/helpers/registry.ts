// A real registry for the image tests: Debian's docker-registry (CNCF distribution) on 127.0.0.1:5000 inside a
// scratch host, with a filesystem store in a temporary directory; images built offline with umoci from the busybox
// rootfs and pushed with skopeo, as a user of those tools would. Nothing leaves the scratch host's loopback.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import type { ScratchHost } from './scratch-host.js';
import type { TokenAuth } from './token-server.js';

export const REGISTRY = '127.0.0.1:5000';
export const BUSYBOX_ROOTFS = fileURLToPath(new URL('../../rootfs/image', import.meta.url));

export class TestRegistry {
  private constructor(
    readonly dir: string,
    private readonly server: ResultPromise,
  ) {}

  /**
   * Starts a registry on `address`; with `user`, it asks for basic authentication (an htpasswd file with that user,
   * its bcrypt hash made by Python's crypt, since Debian's registry package brings no htpasswd tool); with
   * `tokenAuth`, it accepts only bearer tokens of that token server (see token-server.ts); with `redirectBlobsTo`
   * (a base URL), it answers blob downloads with a redirect there (distribution's `redirect` storage middleware);
   * with `tls` (PEM files), it serves HTTPS.
   */
  static async start(
    host: ScratchHost,
    options: { address?: string; user?: { name: string; password: string }; tokenAuth?: TokenAuth; redirectBlobsTo?: string; tls?: { certificate: string; key: string } } = {},
  ): Promise<TestRegistry> {
    const address = options.address ?? REGISTRY;
    const dir = mkdtempSync(join(tmpdir(), 'minictr-registry-'));
    const auth: string[] = [];
    if (options.user !== undefined) {
      const hash = await execa('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', options.user.password]);
      writeFileSync(join(dir, 'htpasswd'), `${options.user.name}:${hash.stdout.trim()}\n`);
      auth.push('auth:', '  htpasswd:', '    realm: minictr-test', `    path: ${join(dir, 'htpasswd')}`);
    }
    if (options.tokenAuth !== undefined) {
      const { realm, service, issuer, rootCertBundle } = options.tokenAuth;
      auth.push('auth:', '  token:', `    realm: ${realm}`, `    service: ${service}`, `    issuer: ${issuer}`, `    rootcertbundle: ${rootCertBundle}`);
    }
    if (options.redirectBlobsTo !== undefined) {
      // Not auth, but also a last section of the config.
      auth.push('middleware:', '  storage:', '    - name: redirect', '      options:', `        baseurl: ${options.redirectBlobsTo}`);
    }
    const tls = options.tls !== undefined ? ['  tls:', `    certificate: ${options.tls.certificate}`, `    key: ${options.tls.key}`] : [];
    writeFileSync(
      join(dir, 'config.yml'),
      ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, 'http:', `  addr: ${address}`, ...tls, ...auth, ''].join('\n'),
    );
    const server = host.exec(['docker-registry', 'serve', join(dir, 'config.yml')]);
    for (let i = 0; i < 100; i++) {
      // Over HTTPS any certificate will do: the probe asks only whether the registry answers yet.
      const probe = options.tls !== undefined
        ? `require('node:https').get('https://${address}/v2/', { rejectUnauthorized: false }, (r) => process.exit(r.statusCode < 500 ? 0 : 1)).on('error', () => process.exit(1))`
        : `fetch('http://${address}/v2/').then((r) => process.exit(r.status < 500 ? 0 : 1), () => process.exit(1))`;
      if ((await host.exec([process.execPath, '-e', probe])).exitCode === 0) return new TestRegistry(dir, server);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    server.kill('SIGKILL');
    throw new Error(`docker-registry did not answer on ${address}: ${String((await server).stderr)}`);
  }

  /** The file the registry serves a blob from (tests corrupt it to play a lying registry). */
  blobData(digest: string): string {
    const hex = digest.slice('sha256:'.length);
    return join(this.dir, 'data/docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  }

  async stop(): Promise<void> {
    this.server.kill('SIGKILL');
    await this.server;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An OCI image layout built offline with umoci: one layer holding `rootfs`, config set by umoci flags. */
export class TestImage {
  readonly layout: string;

  private constructor(layout: string) {
    this.layout = layout;
  }

  static async build(tag: string, rootfs: string, config: string[] = [], layout?: string): Promise<TestImage> {
    const dir = layout ?? join(mkdtempSync(join(tmpdir(), 'minictr-oci-')), 'layout'); // umoci init makes it
    const bundle = mkdtempSync(join(tmpdir(), 'minictr-bundle-'));
    try {
      if (layout === undefined) await execa('umoci', ['init', '--layout', dir]);
      await execa('umoci', ['new', '--image', `${dir}:${tag}`]);
      rmSync(bundle, { recursive: true });
      await execa('umoci', ['unpack', '--image', `${dir}:${tag}`, bundle]);
      cpSync(rootfs, join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
      await execa('umoci', ['repack', '--image', `${dir}:${tag}`, bundle]);
      await execa('umoci', ['config', '--image', `${dir}:${tag}`, '--config.env', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', ...config]);
    } finally {
      rmSync(bundle, { recursive: true, force: true });
    }
    return new TestImage(dir);
  }

  /** The manifest descriptor of `tag` in the layout's index.json. */
  descriptor(tag: string): { mediaType: string; digest: string; size: number } {
    const index = JSON.parse(readFileSync(join(this.layout, 'index.json'), 'utf8')) as { manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[] };
    const found = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
    if (found === undefined) throw new Error(`no ${tag} in ${this.layout}`);
    return { mediaType: found.mediaType, digest: found.digest, size: found.size };
  }

  /**
   * Tags as `to` the image `from` with `layers` (uncompressed tar archives, lowest first) stacked on top: blobs,
   * config (diff_ids and history extended) and manifest written straight into the layout, as umoci would write them
   * after as many repacks, without unpacking and repacking the image each time.
   */
  addLayers(from: string, to: string, layers: Buffer[]): void {
    const blob = (digest: string) => readFileSync(join(this.layout, 'blobs/sha256', digest.slice('sha256:'.length)));
    const put = (bytes: Buffer) => {
      const hex = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(join(this.layout, 'blobs/sha256', hex), bytes);
      return { digest: `sha256:${hex}`, size: bytes.length };
    };
    const manifest = JSON.parse(blob(this.descriptor(from).digest).toString()) as { config: { digest: string }; layers: unknown[] };
    const config = JSON.parse(blob(manifest.config.digest).toString()) as { rootfs: { diff_ids: string[] }; history?: unknown[] };
    for (const [n, layer] of layers.entries()) {
      const descriptor = put(layer);
      manifest.layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...descriptor });
      config.rootfs.diff_ids.push(descriptor.digest);
      config.history?.push({ created_by: `test layer ${n + 1} of ${layers.length}` });
    }
    manifest.config = { ...manifest.config, ...put(Buffer.from(JSON.stringify(config))) };
    const mediaType = 'application/vnd.oci.image.manifest.v1+json';
    const top = JSON.parse(readFileSync(join(this.layout, 'index.json'), 'utf8')) as { manifests: unknown[] };
    top.manifests.push({ mediaType, ...put(Buffer.from(JSON.stringify(manifest))), annotations: { 'org.opencontainers.image.ref.name': to } });
    writeFileSync(join(this.layout, 'index.json'), JSON.stringify(top));
  }

  /** Adds an image index `tag` listing the given tags' manifests for the given platforms. */
  addIndex(tag: string, entries: { tag: string; os: string; architecture: string; variant?: string }[]): string {
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: entries.map((entry) => ({
        ...this.descriptor(entry.tag),
        platform: { os: entry.os, architecture: entry.architecture, ...(entry.variant !== undefined ? { variant: entry.variant } : {}) },
      })),
    };
    const bytes = Buffer.from(JSON.stringify(index));
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(this.layout, 'blobs/sha256', hex), bytes);
    const top = JSON.parse(readFileSync(join(this.layout, 'index.json'), 'utf8')) as { manifests: unknown[] };
    top.manifests.push({
      mediaType: index.mediaType,
      digest: `sha256:${hex}`,
      size: bytes.length,
      annotations: { 'org.opencontainers.image.ref.name': tag },
    });
    writeFileSync(join(this.layout, 'index.json'), JSON.stringify(top));
    return `sha256:${hex}`;
  }

  /** skopeo copy of `tag` (with every platform of an index) to a registry of the scratch host as NAME:TAG. */
  async push(host: ScratchHost, tag: string, name: string, options: { registry?: string; creds?: string } = {}): Promise<void> {
    const creds = options.creds !== undefined ? [`--dest-creds=${options.creds}`] : [];
    await host.must(['skopeo', 'copy', '-q', '--all', '--dest-tls-verify=false', ...creds, `oci:${this.layout}:${tag}`, `docker://${options.registry ?? REGISTRY}/${name}:${tag}`]);
  }

  remove(): void {
    rmSync(dirname(this.layout), { recursive: true, force: true });
  }
}
