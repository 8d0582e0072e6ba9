// `minictr pull` over HTTPS from a registry whose certificate only NODE_EXTRA_CA_CERTS makes trusted: a test CA
// (openssl) signs the certificate of a docker-registry on 10.99.1.1, an address on the scratch host's own lo (no
// loopback address, so minictr speaks HTTPS to it; nothing leaves the scratch host). The bin defers reading that
// file from Node's start-up to the first TLS connection (src/extra-ca-certs.ts), so these run the bin itself, as
// a user does, not `node dist/cli.js`: with the variable the pull succeeds, without it the certificate is refused,
// and a file that cannot be read is warned about and ignored, as Node does. The file's certificates are added to
// the roots Node trusts by default, whichever they are: OpenSSL's store too (--use-openssl-ca, SSL_CERT_FILE).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, TestImage, TestRegistry } from '../helpers/registry.js';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';

const ADDRESS = '10.99.1.1:5443';

/** A CA, and a server certificate it signed for ADDRESS's IP (PEM files in dir). */
async function makeCertificates(dir: string): Promise<{ ca: string; certificate: string; key: string }> {
  const file = (name: string) => join(dir, name);
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=minictr test CA', '-keyout', file('ca.key'), '-out', file('ca.pem')]);
  await execa('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=minictr test registry', '-keyout', file('key.pem'), '-out', file('req.pem')]);
  writeFileSync(file('ext.cnf'), `subjectAltName=IP:${ADDRESS.split(':')[0]}\nextendedKeyUsage=serverAuth\n`);
  await execa('openssl', ['x509', '-req', '-in', file('req.pem'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', file('ext.cnf'), '-out', file('cert.pem')]);
  return { ca: file('ca.pem'), certificate: file('cert.pem'), key: file('key.pem') };
}

describe.skipIf(!isRoot)('pull over HTTPS with NODE_EXTRA_CA_CERTS (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost();
  let dir = '';
  let ca = '';
  let registry: TestRegistry;
  let image: TestImage;

  /** The bin, run as a program inside the scratch host, with NODE_EXTRA_CA_CERTS as given (undefined: unset). */
  async function pull(extraCaCerts: string | undefined, env: Record<string, string> = {}, repository = 'demo/app'): Promise<{ exitCode: number; stderr: string }> {
    const result = await scratch.host.exec([CLI, 'pull', `${ADDRESS}/${repository}:v1`], { env: { ...env, NODE_EXTRA_CA_CERTS: extraCaCerts } });
    return { exitCode: result.exitCode ?? -1, stderr: String(result.stderr) };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'minictr-tls-'));
    const certificates = await makeCertificates(dir);
    ca = certificates.ca;
    await scratch.host.must(['ip', 'address', 'add', `${ADDRESS.split(':')[0]}/32`, 'dev', 'lo']);
    registry = await TestRegistry.start(scratch.host, { address: ADDRESS, tls: certificates });
    image = await TestImage.build('v1', BUSYBOX_ROOTFS, ['--config.cmd', '/bin/sh']);
    await image.push(scratch.host, 'v1', 'demo/app', { registry: ADDRESS });
    await image.push(scratch.host, 'v1', 'demo/openssl-store', { registry: ADDRESS });
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
    image?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the certificate when nothing makes its CA trusted', async () => {
    const result = await pull(undefined);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toMatch(/certificate/);
  });

  it('warns about a NODE_EXTRA_CA_CERTS file it cannot read, and ignores it', async () => {
    const result = await pull(join(dir, 'missing.pem'));
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain(`minictr: warning: ignoring extra certificates from ${join(dir, 'missing.pem')} (NODE_EXTRA_CA_CERTS)`);
    expect(result.stderr).toMatch(/certificate/);
  });

  it('keeps the roots Node trusts by default (OpenSSL\'s store, --use-openssl-ca) besides the file\'s', async () => {
    const other = join(dir, 'other-ca.pem');
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=minictr other CA', '-keyout', join(dir, 'other-ca.key'), '-out', other]);
    const result = await pull(other, { NODE_OPTIONS: '--use-openssl-ca', SSL_CERT_FILE: ca }, 'demo/openssl-store');
    expect(result.stderr).not.toContain('warning');
    expect(result.exitCode, result.stderr).toBe(0);
  });

  it('trusts the CA NODE_EXTRA_CA_CERTS names', async () => {
    const result = await pull(ca);
    expect(result.stderr).not.toContain('warning');
    expect(result.exitCode).toBe(0);
    expect((await scratch.host.minictr(['images'])).stdout).toContain(`${ADDRESS}/demo/app`);
  });
});
