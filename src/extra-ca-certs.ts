// NODE_EXTRA_CA_CERTS, read when a TLS connection needs it instead of at every start.
//
// Node 20 reads and parses the file NODE_EXTRA_CA_CERTS names while it starts, before any JavaScript runs: with a
// system bundle of about 140 certificates (as set on many CI and corporate machines) that is 30 ms of every start,
// more than the rest of Node's start-up. minictr talks TLS only to pull from a remote registry, so its bin (a
// /bin/sh script, scripts/bundle.mjs) moves the variable aside before it execs Node, as DEFERRED_VARIABLE.
// restoreExtraCaCerts() then puts it back for the processes minictr starts, and extraCaContext() gives the HTTPS
// client (image/http-get.ts) the roots Node would have used: the file's certificates added to Node's default roots,
// whichever those are (its bundled ones, or OpenSSL's store with --use-openssl-ca or a Node built to use it), as
// Node adds them; an agent's `ca` would replace them instead. As Node does, a file that cannot be read, or a
// certificate in it that does not parse, is ignored with a warning. `node dist/cli.js` (no shell) leaves the
// variable to Node, which then reads it itself as before.

import { readFileSync } from 'node:fs';
import type { SecureContext } from 'node:tls';
import { warn } from './log.js';
import { crypto, tls } from './sys/builtins.js';

export const DEFERRED_VARIABLE = 'MINICTR_NODE_EXTRA_CA_CERTS';

let deferredFile: string | undefined;

/** Takes the file the bin moved aside and gives the environment back its NODE_EXTRA_CA_CERTS. */
export function restoreExtraCaCerts(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[DEFERRED_VARIABLE];
  if (file === undefined) return;
  delete env[DEFERRED_VARIABLE];
  env.NODE_EXTRA_CA_CERTS = file;
  if (file !== '') deferredFile = file; // Node ignores an empty one, without a warning
}

/** The part of a SecureContext's native handle used here (Node's own `ca` option adds certificates through it). */
interface CaStore {
  addCACert(pem: string): void;
}

/**
 * The TLS context for an HTTPS client when the bin deferred NODE_EXTRA_CA_CERTS: Node's default roots and each
 * certificate of that file that parses. undefined: Node's default context is the right one (nothing deferred).
 */
export function extraCaContext(): SecureContext | undefined {
  if (deferredFile === undefined) return undefined;
  const { X509Certificate } = crypto();
  // Made without `ca`, the context uses Node's default store; its first added certificate goes into a copy of it.
  const context = tls().createSecureContext();
  const store = context.context as CaStore;
  let text: string;
  try {
    text = readFileSync(deferredFile, 'utf8');
  } catch (cause) {
    warn(`ignoring extra certificates from ${deferredFile} (NODE_EXTRA_CA_CERTS): ${(cause as Error).message}`);
    return context;
  }
  let added = 0;
  for (const pem of text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []) {
    try {
      new X509Certificate(pem);
    } catch (cause) {
      warn(`ignoring a certificate in ${deferredFile} (NODE_EXTRA_CA_CERTS): ${(cause as Error).message}`);
      continue;
    }
    store.addCACert(pem);
    added += 1;
  }
  if (added === 0) warn(`ignoring ${deferredFile} (NODE_EXTRA_CA_CERTS): no certificate in it`);
  return context;
}
