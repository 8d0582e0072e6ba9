#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node --
// minictr-cni, the network agent of `minictr run` as a CNI plugin (docs/cni.md): a runtime executes it with the
// CNI_* environment and the network configuration on stdin; it prints the result (ADD), the version (VERSION) or
// nothing (DEL, CHECK, STATUS, GC) on stdout and exits 0, or prints the spec's error JSON on stdout and exits 1.
//
// Its first line drops NODE_EXTRA_CA_CERTS: Node 20 would parse that file (30 ms for a system bundle) at every
// call, and the plugin makes no TLS connection.

import { readFileSync } from 'node:fs';
import { messageOf } from '../errors.js';
import { add, check, del, gc } from './plugin.js';
import { CniError, ErrorCode, parseRequest, PLUGIN_VERSION, SUPPORTED_VERSIONS } from './protocol.js';

async function serve(stdin: string): Promise<object | null> {
  const request = parseRequest(process.env, stdin);
  switch (request.command) {
    case 'VERSION':
      return { cniVersion: PLUGIN_VERSION, supportedVersions: SUPPORTED_VERSIONS };
    case 'ADD':
      return add(request.network, request.key, request.netns, request.ports);
    case 'DEL':
      await del(request.network, request.key);
      return null;
    case 'CHECK':
      await check(request.network, request.key, request.netns);
      return null;
    case 'GC':
      await gc(request.network, request.valid);
      return null;
    case 'STATUS':
      return null; // ready whenever it can run: it needs no daemon
  }
}

/** The cniVersion to answer an error in: the request's when it can be read. */
function versionOf(stdin: string): string {
  try {
    const version = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return typeof version === 'string' ? version : PLUGIN_VERSION;
  } catch {
    return PLUGIN_VERSION;
  }
}

let stdin = '';
try {
  stdin = readFileSync(0, 'utf8');
  const result = await serve(stdin);
  if (result !== null) process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (cause) {
  const failure = cause instanceof CniError ? cause : new CniError(ErrorCode.failure, messageOf(cause));
  process.stdout.write(`${JSON.stringify(failure.toJSON(versionOf(stdin)))}\n`);
  process.exitCode = 1;
}
