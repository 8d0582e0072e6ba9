// NODE_EXTRA_CA_CERTS as the bin defers it (src/extra-ca-certs.ts): the variable goes back into the environment
// for minictr's own children, and the HTTPS client's roots are Node's default ones plus each certificate of the
// file that parses (seen by a handshake on loopback with a server that only such a certificate makes trusted); one
// that does not parse is skipped with a warning, as Node skips it.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type SecureContext } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEFERRED_VARIABLE, extraCaContext, restoreExtraCaCerts } from '../../src/extra-ca-certs.js';

/** Whether a client with `secureContext` trusts a server presenting `certificate` (self-signed, key `key`). */
async function trusts(secureContext: SecureContext, certificate: string, key: string): Promise<boolean> {
  const server = createServer({ cert: certificate, key }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<boolean>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, secureContext, rejectUnauthorized: false, checkServerIdentity: () => undefined }, () => {
        resolve(socket.authorized);
        socket.destroy();
      });
      socket.on('error', reject);
    });
  } finally {
    server.close();
  }
}

describe('NODE_EXTRA_CA_CERTS, deferred', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minictr-ca-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uses Node’s default roots when the bin deferred nothing', () => {
    const env: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '/somewhere.pem' };
    restoreExtraCaCerts(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '/somewhere.pem' });
    expect(extraCaContext()).toBeUndefined();
  });

  it('ignores an empty NODE_EXTRA_CA_CERTS without a warning, as Node does, and gives it back', () => {
    const env: NodeJS.ProcessEnv = { [DEFERRED_VARIABLE]: '' };
    restoreExtraCaCerts(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '' });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(extraCaContext()).toBeUndefined();
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
    }
  });

  it('gives the variable back and adds the file’s certificates that parse to the default roots', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=minictr unit CA', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.pem')], { stdio: 'ignore' });
    const good = readFileSync(join(dir, 'ca.pem'), 'utf8').trim();
    const broken = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----';
    writeFileSync(join(dir, 'bundle.pem'), `${broken}\n${good}\n`);
    const env: NodeJS.ProcessEnv = { [DEFERRED_VARIABLE]: join(dir, 'bundle.pem') };
    restoreExtraCaCerts(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: join(dir, 'bundle.pem') });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let context: SecureContext | undefined;
    try {
      context = extraCaContext();
      expect(stderr).toHaveBeenCalledTimes(1);
      expect(String(stderr.mock.calls[0]![0])).toContain(`minictr: warning: ignoring a certificate in ${join(dir, 'bundle.pem')} (NODE_EXTRA_CA_CERTS)`);
    } finally {
      stderr.mockRestore();
    }
    expect(context).toBeDefined();
    expect(await trusts(context!, good, readFileSync(join(dir, 'key.pem'), 'utf8'))).toBe(true);
  });
});
