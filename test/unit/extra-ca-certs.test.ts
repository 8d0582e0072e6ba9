// NODE_EXTRA_CA_CERTS as the bin defers it (src/extra-ca-certs.ts): the variable goes back into the environment
// for minictr's own children, and the HTTPS client's roots are Node's bundled ones plus each certificate of the
// file that parses; one that does not is skipped with a warning, as Node skips it.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEFERRED_VARIABLE, extraCaCertificates, restoreExtraCaCerts } from '../../src/extra-ca-certs.js';

describe('NODE_EXTRA_CA_CERTS, deferred', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minictr-ca-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uses Node’s default roots when the bin deferred nothing', () => {
    const env: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '/somewhere.pem' };
    restoreExtraCaCerts(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '/somewhere.pem' });
    expect(extraCaCertificates()).toBeUndefined();
  });

  it('gives the variable back and adds the file’s certificates that parse to the bundled roots', () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=minictr unit CA', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.pem')], { stdio: 'ignore' });
    const good = readFileSync(join(dir, 'ca.pem'), 'utf8').trim();
    const broken = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----';
    writeFileSync(join(dir, 'bundle.pem'), `${broken}\n${good}\n`);
    const env: NodeJS.ProcessEnv = { [DEFERRED_VARIABLE]: join(dir, 'bundle.pem') };
    restoreExtraCaCerts(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: join(dir, 'bundle.pem') });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(extraCaCertificates()).toEqual([...rootCertificates, good]);
      expect(stderr).toHaveBeenCalledTimes(1);
      expect(String(stderr.mock.calls[0]![0])).toContain(`minictr: warning: ignoring a certificate in ${join(dir, 'bundle.pem')} (NODE_EXTRA_CA_CERTS)`);
    } finally {
      stderr.mockRestore();
    }
  });
});
