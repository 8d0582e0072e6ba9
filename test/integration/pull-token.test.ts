// `minictr pull` from a registry that demands bearer tokens (docker-registry with `auth: token`) issued by a real
// token server (test/helpers/token-server.ts), all on the scratch host's loopback: the anonymous token flow for a
// public repository (the client asks with the registry's service and the repository's pull scope), a private
// repository that needs `minictr login` (and again after `logout`), a token server that fails, and a registry that
// redirects blob downloads to another host, which must never see a token (nor be reached over plain HTTP, unless
// it is a loopback one). A failed pull leaves the store as it was.

import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, REGISTRY, TestImage, TestRegistry } from '../helpers/registry.js';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';
import { RedirectTarget, TOKEN_SERVICE, TokenServer } from '../helpers/token-server.js';

/** Every file and directory under `root`, as relative paths (what a failed pull must not change). */
function tree(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir)) {
      found.push(`${prefix}${name}`);
      if (lstatSync(join(dir, name)).isDirectory()) walk(join(dir, name), `${prefix}${name}/`); // unpacked layers hold absolute symlinks
    }
  };
  walk(root, '');
  return found.sort();
}

describe.skipIf(!isRoot)('pull through the bearer-token flow (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost();
  let tokens: TokenServer;
  let registry: TestRegistry;
  let image: TestImage;
  let data = '';
  let home = '';
  const env = () => ({ MINICTR_DATA_ROOT: data, DOCKER_CONFIG: join(home, '.docker') });
  const minictr = (...args: string[]) => scratch.host.minictr(args, { env: env() });

  /** A pull that must fail, leaving the store exactly as it was; its stderr. */
  async function failedPull(...args: string[]): Promise<string> {
    const before = tree(data);
    const result = await minictr('pull', ...args);
    expect(result.exitCode, result.stderr).toBe(125);
    expect(tree(data)).toEqual(before);
    return result.stderr;
  }

  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'minictr-data-'));
    home = mkdtempSync(join(tmpdir(), 'minictr-home-'));
    tokens = await TokenServer.start(scratch.host, { publicRepositories: ['demo/public'], users: { demo: { password: 's3cret', repositories: ['demo/public', 'demo/private'] }, guest: { password: 'guest', repositories: [] } } });
    registry = await TestRegistry.start(scratch.host, { tokenAuth: tokens.registryAuth() });
    image = await TestImage.build('v1', BUSYBOX_ROOTFS, ['--config.cmd', '/bin/sh']);
    await image.push(scratch.host, 'v1', 'demo/public', { creds: 'demo:s3cret' });
    await image.push(scratch.host, 'v1', 'demo/private', { creds: 'demo:s3cret' });
    tokens.takeRequests();
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
    image?.remove();
    rmSync(data, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it("pulls a public repository anonymously, with a token asked for the registry's service and the pull scope", async () => {
    const result = await minictr('pull', `${REGISTRY}/demo/public:v1`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe(`Digest: ${image.descriptor('v1').digest}`);
    // One token, kept for the manifest, the config and the layer.
    expect(tokens.takeRequests()).toEqual([{ path: '/token', service: TOKEN_SERVICE, scopes: ['repository:demo/public:pull'], user: null, authorization: null }]);
  });

  it('refuses a private repository without login, pulls it after minictr login, and refuses it again after logout', async () => {
    const ref = `${REGISTRY}/demo/private:v1`;
    const denied = `minictr: manifest demo/private:v1 from ${REGISTRY}: access denied anonymously (HTTP 401); for a private image, run minictr login ${REGISTRY}`;
    expect(await failedPull(ref)).toBe(denied);
    expect(tokens.takeRequests()).toContainEqual({ path: '/token', service: TOKEN_SERVICE, scopes: ['repository:demo/private:pull'], user: null, authorization: null });

    const wrong = await scratch.host.minictr(['login', '-u', 'demo', '--password-stdin', REGISTRY], { env: env(), input: 'nope\n' });
    expect(wrong.exitCode).toBe(125);
    expect(wrong.stderr).toBe(`minictr: log in to ${REGISTRY}: the token service ${tokens.origin} refused the credentials of demo (HTTP 401)`);
    expect(existsSync(join(home, '.docker/config.json'))).toBe(false);
    const login = await scratch.host.minictr(['login', '-u', 'demo', '--password-stdin', REGISTRY], { env: env(), input: 's3cret\n' });
    expect(login.exitCode, login.stderr).toBe(0);
    expect(login.stdout).toBe('Login Succeeded');
    expect(tokens.takeRequests()).toEqual([
      { path: '/token', service: TOKEN_SERVICE, scopes: [], user: null, authorization: 'Basic' },
      { path: '/token', service: TOKEN_SERVICE, scopes: [], user: 'demo', authorization: 'Basic' },
    ]);

    const pulled = await minictr('pull', ref);
    expect(pulled.exitCode, pulled.stderr).toBe(0);
    expect(tokens.takeRequests()).toEqual([{ path: '/token', service: TOKEN_SERVICE, scopes: ['repository:demo/private:pull'], user: 'demo', authorization: 'Basic' }]);

    const logout = await minictr('logout', REGISTRY);
    expect(logout.exitCode, logout.stderr).toBe(0);
    expect(await failedPull(ref)).toBe(denied);
  });

  it('says access is denied, not that the credentials were refused, to a user the token server knows but gives no access', async () => {
    const guest = mkdtempSync(join(tmpdir(), 'minictr-home-'));
    const guestEnv = { ...env(), DOCKER_CONFIG: join(guest, '.docker') };
    try {
      const login = await scratch.host.minictr(['login', '-u', 'guest', '--password-stdin', REGISTRY], { env: guestEnv, input: 'guest\n' });
      expect(login.exitCode, login.stderr).toBe(0);
      const before = tree(data);
      const denied = await scratch.host.minictr(['pull', `${REGISTRY}/demo/private:v1`], { env: guestEnv });
      expect(denied.exitCode).toBe(125);
      expect(denied.stderr).toBe(`minictr: manifest demo/private:v1 from ${REGISTRY}: access denied to guest (HTTP 401)`);
      expect(tree(data)).toEqual(before);
      expect(tokens.takeRequests().at(-1)).toEqual({ path: '/token', service: TOKEN_SERVICE, scopes: ['repository:demo/private:pull'], user: 'guest', authorization: 'Basic' });
    } finally {
      rmSync(guest, { recursive: true, force: true });
    }
  });

  it('names the token server when it fails: HTTP 500, a body that is not JSON, no token, a token the registry refuses', async () => {
    const ref = `${REGISTRY}/demo/private:v1`;
    try {
      await tokens.setMode('500');
      expect(await failedPull(ref)).toBe(`minictr: manifest demo/private:v1 from ${REGISTRY}: the token service ${tokens.origin} answered HTTP 500`);
      await tokens.setMode('garbage');
      expect(await failedPull(ref)).toMatch(new RegExp(`^minictr: manifest demo/private:v1 from ${REGISTRY}: the token service ${tokens.origin} sent no token \\(its answer is not JSON: .+\\)$`));
      await tokens.setMode('notoken');
      expect(await failedPull(ref)).toBe(`minictr: manifest demo/private:v1 from ${REGISTRY}: the token service ${tokens.origin} sent no token`);
      await tokens.setMode('forged');
      const forged = `minictr: manifest demo/public:v1 from ${REGISTRY}: the registry refused the token of the token service ${tokens.origin} (invalid_token)`;
      expect(await failedPull(`${REGISTRY}/demo/public:v1`)).toBe(forged);
    } finally {
      await tokens.setMode('ok');
    }
  });

  it("says what is wrong with a registry's token realm: not a URL, plain HTTP to another host, nothing listening", async () => {
    const address = '127.0.0.1:5002';
    const what = `manifest demo/public:v1 from ${address}`;
    const cases = [
      { realm: 'token-service', error: `minictr: ${what}: the registry's token realm "token-service" is not a URL` },
      // A documentation address (RFC 5737): the scratch host has no route to it, so nothing would leave anyway.
      { realm: 'http://192.0.2.1:5100/token', error: `minictr: ${what}: the token service http://192.0.2.1:5100 is not https` },
      { realm: 'http://127.0.0.1:5199/token', error: `minictr: token for ${what}: cannot reach 127.0.0.1:5199: connect ECONNREFUSED 127.0.0.1:5199` },
    ];
    for (const { realm, error } of cases) {
      const misconfigured = await TestRegistry.start(scratch.host, { address, tokenAuth: { ...tokens.registryAuth(), realm } });
      try {
        expect(await failedPull(`${address}/demo/public:v1`)).toBe(error);
      } finally {
        await misconfigured.stop();
      }
    }
  });

  it('takes tokens over plain HTTP from an --insecure-registry only on its own host', async () => {
    // Two addresses that are not loopback ones, on the scratch host's lo: nothing leaves the scratch host.
    await scratch.host.must(['ip', 'address', 'add', '10.99.0.1/32', 'dev', 'lo']);
    await scratch.host.must(['ip', 'address', 'add', '10.99.0.2/32', 'dev', 'lo']);
    const address = '10.99.0.1:5004';
    const cases = [
      { realm: 'http://10.99.0.1:5100/token', error: null },
      { realm: 'http://10.99.0.2:5100/token', error: `minictr: manifest demo/public:v1 from ${address}: the token service http://10.99.0.2:5100 is not https` },
    ];
    const local = await TokenServer.start(scratch.host, { address: '10.99.0.1:5100', publicRepositories: ['demo/public'], users: { demo: { password: 's3cret', repositories: ['demo/public'] } } });
    try {
      for (const { realm, error } of cases) {
        const insecure = await TestRegistry.start(scratch.host, { address, tokenAuth: { ...local.registryAuth(), realm } });
        try {
          if (error === null) {
            await image.push(scratch.host, 'v1', 'demo/public', { registry: address, creds: 'demo:s3cret' });
            const pulled = await minictr('pull', '--insecure-registry', address, `${address}/demo/public:v1`);
            expect(pulled.exitCode, pulled.stderr).toBe(0);
          } else {
            expect(await failedPull('--insecure-registry', address, `${address}/demo/public:v1`)).toBe(error);
          }
        } finally {
          await insecure.stop();
        }
      }
    } finally {
      await local.stop();
    }
  });

  it('sends no token to the host a registry redirects blob downloads to', async () => {
    const address = '127.0.0.1:5001';
    const target = '127.0.0.2:5200';
    const redirecting = await TestRegistry.start(scratch.host, { address, tokenAuth: tokens.registryAuth(), redirectBlobsTo: `http://${target}/` });
    const blobs = await RedirectTarget.start(scratch.host, target, join(redirecting.dir, 'data'));
    const fresh = mkdtempSync(join(tmpdir(), 'minictr-data-'));
    try {
      await image.push(scratch.host, 'v1', 'demo/public', { registry: address, creds: 'demo:s3cret' });
      const before = blobs.requests().length;
      const result = await scratch.host.minictr(['pull', `${address}/demo/public:v1`], { env: { ...env(), MINICTR_DATA_ROOT: fresh } });
      expect(result.exitCode, result.stderr).toBe(0);
      const downloads = blobs.requests().slice(before);
      expect(downloads.filter((request) => request.method === 'GET').length).toBe(2); // config and layer
      expect(downloads.map((request) => request.authorization)).toEqual(downloads.map(() => null));
    } finally {
      await blobs.stop();
      await redirecting.stop();
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('refuses a redirect of a blob download to plain HTTP on a host that is not loopback', async () => {
    // 192.0.2.1 (TEST-NET-1) is unreachable from the scratch host: nothing is ever sent there.
    const address = '127.0.0.1:5002';
    const redirecting = await TestRegistry.start(scratch.host, { address, tokenAuth: tokens.registryAuth(), redirectBlobsTo: 'http://192.0.2.1:5200/' });
    const fresh = mkdtempSync(join(tmpdir(), 'minictr-data-')); // an empty store: every blob is downloaded
    try {
      await image.push(scratch.host, 'v1', 'demo/public', { registry: address, creds: 'demo:s3cret' });
      const before = tree(fresh);
      const result = await scratch.host.minictr(['pull', `${address}/demo/public:v1`], { env: { ...env(), MINICTR_DATA_ROOT: fresh } });
      expect(result.exitCode).toBe(125);
      expect(result.stderr).toMatch(new RegExp(`^minictr: blob sha256:[0-9a-f]{64} of demo/public from ${address}: redirected to http://192\\.0\\.2\\.1:5200, which is not https$`));
      expect(tree(fresh)).toEqual(before);
    } finally {
      await redirecting.stop();
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
