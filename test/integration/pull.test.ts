// `minictr pull` against a real registry (docker-registry on the scratch host's loopback) holding images built
// offline with umoci and pushed with skopeo: by tag and by digest, a multi-platform index, and the ways a pull
// fails (not found, unreachable, no such platform, a registry that serves bytes not matching their digest), each
// with a message saying why and nothing half-stored.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, REGISTRY, TestImage, TestRegistry } from '../helpers/registry.js';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('pull (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost();
  let registry: TestRegistry;
  let image: TestImage;
  let data = '';
  const pull = (...args: string[]) => scratch.host.minictr(['pull', ...args], { env: { MINICTR_DATA_ROOT: data } });
  const blobs = () => (existsSync(join(data, 'blobs/sha256')) ? readdirSync(join(data, 'blobs/sha256')).sort() : []);

  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'minictr-data-'));
    registry = await TestRegistry.start(scratch.host);
    image = await TestImage.build('v1', BUSYBOX_ROOTFS, ['--config.cmd', '/bin/sh']);
    await TestImage.build('arm', BUSYBOX_ROOTFS, ['--architecture', 'arm64', '--os', 'linux'], image.layout);
    image.addIndex('multi', [
      { tag: 'arm', os: 'linux', architecture: 'arm64', variant: 'v8' },
      { tag: 'v1', os: 'linux', architecture: 'amd64' },
    ]);
    await image.push(scratch.host, 'v1', 'demo/busybox');
    await image.push(scratch.host, 'multi', 'demo/busybox');
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
    image?.remove();
    rmSync(data, { recursive: true, force: true });
  });

  it('pulls by tag: manifest, config and layer stored by digest, the reference pointing at the manifest', async () => {
    const result = await pull(`${REGISTRY}/demo/busybox:v1`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${REGISTRY}/demo/busybox:v1`);
    const manifest = image.descriptor('v1');
    expect(result.stderr).toBe(`Digest: ${manifest.digest}`); // not a terminal: no progress lines
    const stored = JSON.parse(readFileSync(join(data, 'blobs/sha256', manifest.digest.slice(7)), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
    expect(blobs()).toEqual([manifest.digest, stored.config.digest, ...stored.layers.map((l) => l.digest)].map((d) => d.slice(7)).sort());
    const records = readdirSync(join(data, 'images')).map((name) => JSON.parse(readFileSync(join(data, 'images', name), 'utf8')) as Record<string, unknown>);
    expect(records).toMatchObject([{ name: `${REGISTRY}/demo/busybox:v1`, manifest: manifest.digest, index: null, config: stored.config.digest }]);
    expect(readdirSync(join(data, 'tmp'))).toEqual([]);
  });

  it('pulls by digest, and a second pull downloads nothing new', async () => {
    const before = blobs();
    const { digest } = image.descriptor('v1');
    const result = await pull(`${REGISTRY}/demo/busybox@${digest}`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${REGISTRY}/demo/busybox@${digest}`);
    expect(blobs()).toEqual(before);
  });

  it("takes this host's platform from a multi-platform index, or the one --platform names", async () => {
    const host = await pull(`${REGISTRY}/demo/busybox:multi`);
    expect(host.exitCode, host.stderr).toBe(0);
    expect(host.stderr).toBe(`Digest: ${image.descriptor(process.arch === 'arm64' ? 'arm' : 'v1').digest}`);
    const arm = await pull('--platform', 'linux/arm64', `${REGISTRY}/demo/busybox:multi`);
    expect(arm.exitCode, arm.stderr).toBe(0);
    expect(arm.stderr).toBe(`Digest: ${image.descriptor('arm').digest}`);
    const none = await pull('--platform', 'linux/s390x', `${REGISTRY}/demo/busybox:multi`);
    expect(none.exitCode).toBe(125);
    expect(none.stderr).toContain('no manifest for linux/s390x; the image is for linux/arm64/v8, linux/amd64 (choose one with --platform)');
  });

  it('lists pulled images as docker images does', async () => {
    const list = await scratch.host.minictr(['images'], { env: { MINICTR_DATA_ROOT: data } });
    expect(list.exitCode, list.stderr).toBe(0);
    const lines = list.stdout.split('\n');
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    const configOf = (tag: string) => (JSON.parse(readFileSync(join(image.layout, 'blobs/sha256', image.descriptor(tag).digest.slice(7)), 'utf8')) as { config: { digest: string } }).config.digest;
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${REGISTRY}/demo/busybox\\s+v1\\s+${configOf('v1').slice(7, 19)}\\s+(?:Less than a second|\\d+ seconds?|About a minute|\\d+ minutes) ago\\s+1\\.\\dMB$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${REGISTRY}/demo/busybox\\s+<none>\\s+${configOf('v1').slice(7, 19)}\\s`)));
    const quiet = await scratch.host.minictr(['images', '-q'], { env: { MINICTR_DATA_ROOT: data } });
    expect(quiet.stdout.split('\n').sort()).toEqual([configOf('v1'), configOf('arm')].map((d) => d.slice(7, 19)).sort());
  });

  it('says why a pull failed: not found, unreachable, bad reference', async () => {
    const missing = await pull(`${REGISTRY}/demo/nothere:v1`);
    expect(missing.exitCode).toBe(125);
    expect(missing.stderr).toBe(`minictr: manifest demo/nothere:v1 from ${REGISTRY}: not found (HTTP 404)`);
    const unreachable = await pull('127.0.0.1:5999/demo/busybox:v1');
    expect(unreachable.exitCode).toBe(125);
    expect(unreachable.stderr).toMatch(/cannot reach 127\.0\.0\.1:5999: connect ECONNREFUSED/);
    const bad = await pull('Demo/Busybox');
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toMatch(/invalid reference format "Demo\/Busybox"/);
  });

  it('logs in to a registry that asks for a password, pulls with those credentials, and logs out', async () => {
    const address = '127.0.0.1:5001';
    const secured = await TestRegistry.start(scratch.host, { address, user: { name: 'demo', password: 's3cret' } });
    const home = mkdtempSync(join(tmpdir(), 'minictr-home-'));
    const env = { MINICTR_DATA_ROOT: data, DOCKER_CONFIG: join(home, '.docker') };
    try {
      await image.push(scratch.host, 'v1', 'private/app', { registry: address, creds: 'demo:s3cret' });
      const anonymous = await scratch.host.minictr(['pull', `${address}/private/app:v1`], { env });
      expect(anonymous.exitCode).toBe(125);
      expect(anonymous.stderr).toContain(`the registry asks for credentials; run minictr login ${address}`);
      const wrong = await scratch.host.minictr(['login', '-u', 'demo', '--password-stdin', address], { env, input: 'nope\n' });
      expect(wrong.exitCode).toBe(125);
      expect(wrong.stderr).toBe(`minictr: log in to ${address}: the registry refused the credentials of demo (HTTP 401)`);
      expect(existsSync(join(home, '.docker/config.json'))).toBe(false);
      const login = await scratch.host.minictr(['login', '-u', 'demo', '--password-stdin', address], { env, input: 's3cret\n' });
      expect(login.exitCode, login.stderr).toBe(0);
      expect(login.stdout).toBe('Login Succeeded');
      const config = JSON.parse(readFileSync(join(home, '.docker/config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
      expect(Buffer.from(config.auths[address]!.auth, 'base64').toString()).toBe('demo:s3cret');
      const pulled = await scratch.host.minictr(['pull', `${address}/private/app:v1`], { env });
      expect(pulled.exitCode, pulled.stderr).toBe(0);
      const logout = await scratch.host.minictr(['logout', address], { env });
      expect(logout.stdout).toBe(`Removing login credentials for ${address}`);
      expect(JSON.parse(readFileSync(join(home, '.docker/config.json'), 'utf8'))).toEqual({ auths: {} });
    } finally {
      await secured.stop();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('refuses a layer whose bytes do not match its digest, and keeps nothing of it', async () => {
    // A fresh image, so that no blob of it is stored yet; its layer is then corrupted in the registry's own store.
    const other = await TestImage.build('v2', BUSYBOX_ROOTFS, ['--config.cmd', '/bin/true']);
    try {
      await other.push(scratch.host, 'v2', 'demo/lying');
      const manifest = JSON.parse(readFileSync(join(other.layout, 'blobs/sha256', other.descriptor('v2').digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
      const layer = manifest.layers[0]!.digest;
      const served = registry.blobData(layer);
      const bytes = readFileSync(served);
      bytes[bytes.length - 10] ^= 0xff;
      writeFileSync(served, bytes);
      const before = blobs();
      const references = readdirSync(join(data, 'images'));
      const result = await pull(`${REGISTRY}/demo/lying:v2`);
      expect(result.exitCode).toBe(125);
      expect(result.stderr).toContain(`blob ${layer} of demo/lying from ${REGISTRY}: received`);
      expect(blobs().filter((b) => !before.includes(b))).not.toContain(layer.slice(7));
      expect(readdirSync(join(data, 'tmp'))).toEqual([]);
      expect(readdirSync(join(data, 'images'))).toEqual(references);
    } finally {
      other.remove();
    }
  });
});
