// HTTP GET for the registry client (registry.ts), on node:http and node:https rather than Node's fetch: fetch's
// WHATWG streams cost about three times the CPU per byte of a layer (a 21 MiB pull spent 172 ms in undici against 51
// ms here), and a response body here is a plain Node stream of Buffers that the layer intake takes as they come.
//
// What fetch did for the client is done here, and no more:
// - redirects (301, 302, 303, 307, 308) are followed, at most MAX_REDIRECTS of them; the Authorization header goes
//   only to the origin it was meant for (a blob store the registry sends downloads to never sees its token), and a
//   redirect to plain HTTP is refused unless the caller allows that URL (loopback, or an --insecure-registry's host)
// - connections are kept alive and reused (one agent per scheme, for the process's life); idle ones do not keep the
//   process running
// - a connection that sends nothing for IDLE_TIMEOUT_MS fails, as undici's body and headers timeouts did
// - the trusted roots include NODE_EXTRA_CA_CERTS's also when the bin deferred reading it (extra-ca-certs.ts)

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { extraCaContext } from '../extra-ca-certs.js';

const MAX_REDIRECTS = 10;
const IDLE_TIMEOUT_MS = 300_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const httpAgent = new HttpAgent({ keepAlive: true });
let httpsAgent: HttpsAgent | undefined;

/** The HTTPS agent, made on the first HTTPS request: its roots may mean reading NODE_EXTRA_CA_CERTS's file. */
function httpsAgentOnce(): HttpsAgent {
  if (httpsAgent === undefined) {
    const secureContext = extraCaContext();
    httpsAgent = new HttpsAgent({ keepAlive: true, ...(secureContext !== undefined ? { secureContext } : {}) });
  }
  return httpsAgent;
}

export interface HttpResponse {
  status: number;
  /** A response header (lower-case name), or null. */
  header(name: string): string | null;
  /** The body, Buffers as they arrive. */
  body: IncomingMessage;
  /** Drops the rest of the body: read to the end when small (the connection is reused), else the connection closed. */
  discard(): void;
}

export class HttpRedirectError extends Error {}

/** A connection that failed, to `host` (the registry's, or one it redirected to). */
export class HttpConnectError extends Error {
  constructor(readonly host: string, cause: Error) {
    super(cause.message, { cause });
  }
}

/**
 * GETs `url` with `headers`, following redirects (see the top of this file); `plainAllowed` says whether a
 * redirect may go to a plain-HTTP URL. Rejects with an HttpConnectError when a connection fails.
 */
export async function httpGet(url: URL, headers: Record<string, string>, plainAllowed: (url: URL) => boolean): Promise<HttpResponse> {
  let current = url;
  let sent = headers;
  for (let redirects = 0; ; redirects++) {
    const response = await getOnce(current, sent).catch((cause: Error) => Promise.reject(new HttpConnectError(current.host, cause)));
    const location = response.headers.location;
    if (!REDIRECTS.has(response.statusCode ?? 0) || location === undefined) return wrap(response);
    response.resume();
    if (redirects === MAX_REDIRECTS) throw new HttpRedirectError(`more than ${MAX_REDIRECTS} redirects from ${url.origin}`);
    const next = new URL(location, current);
    if (next.protocol !== 'https:' && !(next.protocol === 'http:' && plainAllowed(next))) {
      throw new HttpRedirectError(`redirected to ${next.origin}, which is not https`);
    }
    if (next.origin !== current.origin) {
      const { authorization: _dropped, ...rest } = sent;
      sent = rest;
    }
    current = next;
  }
}

function getOnce(url: URL, headers: Record<string, string>): Promise<IncomingMessage> {
  const https = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const request = (https ? httpsRequest : httpRequest)(url, { method: 'GET', headers, agent: https ? httpsAgentOnce() : httpAgent }, resolve);
    request.setTimeout(IDLE_TIMEOUT_MS, () => request.destroy(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000} s`)));
    request.on('error', reject);
    request.end();
  });
}

function wrap(message: IncomingMessage): HttpResponse {
  return {
    status: message.statusCode ?? 0,
    header: (name) => {
      const value = message.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
    body: message,
    discard: () => {
      const length = Number(message.headers['content-length'] ?? Infinity);
      if (length <= 64 * 1024) message.resume();
      else message.destroy();
    },
  };
}
