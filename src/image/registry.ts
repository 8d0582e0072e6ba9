// A client for the OCI distribution protocol (the registry's /v2/ API), over http-get.ts: what `minictr pull` speaks.
//
// Authentication follows the registry's challenge. A request answered 401 with `WWW-Authenticate: Bearer
// realm=…,service=…,scope=…` is retried with a token from the realm (anonymous, or with the user's credentials as
// basic auth, as Docker does); `Basic realm=…` is answered with the credentials themselves. Tokens are kept per
// scope for the client's life. Plain HTTP is used only for loopback registries (as Docker treats 127.0.0.0/8) and
// those the user names with --insecure-registry; a token realm over plain HTTP only on a loopback address or such a
// registry's own host, since the user's password goes there.
//
// Nothing a registry sends is trusted: manifests and configs are size-capped and checked against the digest asked
// for, a layer's bytes go to layer-intake.ts, which keeps nothing unless digest and size match its descriptor, and
// a layer's foreign `urls` are never followed (the blob is asked of the registry by digest, as of any other layer).

import { MinictrError } from '../errors.js';
import { HttpConnectError, HttpRedirectError, httpGet, type HttpResponse } from './http-get.js';
import type { LayerBytes } from './layer-intake.js';
import { checkDigest, MAX_MANIFEST_BYTES, MEDIA_TYPES, sha256, type Descriptor } from './manifest.js';
import { DIGEST, apiHost, isLoopbackRegistry } from './reference.js';

const MANIFEST_ACCEPT = Object.values(MEDIA_TYPES).join(', ');

/** Why a pull failed, for the message and the hint that go with it. */
export type RegistryFailure = 'network' | 'auth' | 'not-found' | 'protocol';

export class RegistryError extends MinictrError {
  readonly reason: RegistryFailure;

  constructor(reason: RegistryFailure, message: string, cause?: unknown) {
    super(message, 'failure', cause);
    this.name = 'RegistryError';
    this.reason = reason;
  }
}

export interface Credentials {
  username: string;
  password: string;
}

/** A manifest or index as fetched: its bytes (hashed to `digest`) and media type. */
export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas). */
export function parseChallenge(header: string): Challenge | null {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (match === null) return null;
  const params: Record<string, string> = {};
  for (const param of match[2]!.matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[param[1]!.toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : param[3]!;
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

export class RegistryClient {
  private readonly base: string;
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly registry: string,
    private readonly options: { insecure: boolean; credentials: Credentials | null },
  ) {
    const scheme = options.insecure || isLoopbackRegistry(registry) ? 'http' : 'https';
    this.base = `${scheme}://${apiHost(registry)}`;
  }

  /** Checks that the registry answers /v2/ with these credentials (what `minictr login` does). */
  async check(): Promise<void> {
    const response = await this.get(null, '/v2/', 'application/json', `log in to ${this.registry}`);
    response.discard();
  }

  /** The manifest or index that `reference` (a tag or a digest) names in `repository`, verified. */
  async manifest(repository: string, reference: string): Promise<FetchedManifest> {
    const what = `manifest ${repository}:${reference} from ${this.registry}`;
    const response = await this.get(`repository:${repository}:pull`, `/v2/${repository}/manifests/${reference}`, MANIFEST_ACCEPT, what);
    const bytes = await readCapped(response, MAX_MANIFEST_BYTES, what);
    const digest = sha256(bytes);
    if (DIGEST.test(reference) && digest !== reference) {
      throw new RegistryError('protocol', `${what}: the registry sent content whose digest is ${digest}`);
    }
    const mediaType = (response.header('content-type') ?? '').split(';')[0]!.trim();
    return { digest, mediaType, bytes };
  }

  /**
   * The blob `descriptor` names, as the registry sends it. Its bytes are checked by whoever reads them
   * (layer-intake.ts hashes them against the descriptor); a failure while they arrive is a network error naming it.
   */
  async blobBytes(repository: string, descriptor: Descriptor): Promise<LayerBytes> {
    const { response, what } = await this.blobResponse(repository, descriptor);
    return { chunks: bodyChunks(response, `download ${what}`), what, discard: () => response.body.destroy() };
  }

  /** A small blob (a config) whole, refusing more than `limit` bytes, checked against its descriptor. */
  async smallBlob(repository: string, descriptor: Descriptor, limit: number): Promise<Buffer> {
    const { response, what } = await this.blobResponse(repository, descriptor);
    const bytes = await readCapped(response, Math.min(limit, descriptor.size), what);
    const actual = sha256(bytes);
    if (bytes.length !== descriptor.size || actual !== descriptor.digest) {
      throw new RegistryError('protocol', `${what}: received ${bytes.length} bytes with digest ${actual}, expected ${descriptor.size} bytes with ${descriptor.digest}`);
    }
    return bytes;
  }

  private async blobResponse(repository: string, descriptor: Descriptor): Promise<{ response: HttpResponse; what: string }> {
    const digest = checkDigest(descriptor.digest, `blob of ${repository}`);
    const what = `blob ${digest} of ${repository} from ${this.registry}`;
    return { response: await this.get(`repository:${repository}:pull`, `/v2/${repository}/blobs/${digest}`, '*/*', what), what };
  }

  /** GET with the registry's authentication dance; any answer but 200 becomes a RegistryError. */
  private async get(scope: string | null, path: string, accept: string, what: string): Promise<HttpResponse> {
    const send = (authorization: string | null) =>
      this.fetch(`${this.base}${path}`, { accept, ...(authorization !== null ? { authorization } : {}) }, what);
    const cached = this.tokens.get(scope ?? '');
    let authorization = cached !== undefined ? `Bearer ${cached}` : null;
    let response = await send(authorization);
    let realm: string | undefined;
    if (response.status === 401) {
      response.discard();
      const challenge = parseChallenge(response.header('www-authenticate') ?? '');
      realm = challenge?.params.realm;
      authorization = await this.authorize(challenge, scope, what);
      response = await send(authorization);
    }
    if (response.status === 200) return response;
    response.discard();
    throw this.refusal(response, authorization?.startsWith('Bearer ') === true ? realm : undefined, what);
  }

  /** Why the registry answered `response` (not 200) to a request sent with a token from `tokenRealm`, or without one. */
  private refusal(response: HttpResponse, tokenRealm: string | undefined, what: string): RegistryError {
    const { status } = response;
    const user = this.options.credentials?.username;
    if (status === 401 && tokenRealm !== undefined) {
      // A fresh token refused: one the registry cannot verify (it and its token service disagree on keys, issuer or
      // service), or one granting no access to the repository (below: the token service did accept the credentials).
      if (parseChallenge(response.header('www-authenticate') ?? '')?.params.error === 'invalid_token') {
        return new RegistryError('auth', `${what}: the registry refused the token of the token service ${new URL(tokenRealm).origin} (invalid_token)`);
      }
    } else if (status === 401 && user !== undefined) {
      return new RegistryError('auth', `${what}: the registry refused the credentials of ${user} (HTTP 401)`);
    }
    if (status === 401 || status === 403) {
      const hint = user === undefined ? `; for a private image, run minictr login ${this.registry}` : '';
      return new RegistryError('auth', `${what}: access denied ${user === undefined ? 'anonymously' : `to ${user}`} (HTTP ${status})${hint}`);
    }
    if (status === 404) return new RegistryError('not-found', `${what}: not found (HTTP 404)`);
    return new RegistryError('protocol', `${what}: HTTP ${status}`);
  }

  /** The Authorization header that answers a 401's challenge (a token for `scope`, or none for a login check). */
  private async authorize(challenge: Challenge | null, scope: string | null, what: string): Promise<string> {
    const credentials = this.options.credentials;
    const basic = credentials === null ? null : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    if (challenge?.scheme === 'basic' && basic !== null) return basic;
    const realm = challenge?.scheme === 'bearer' ? challenge.params.realm : undefined;
    if (realm === undefined) {
      throw new RegistryError('auth', `${what}: the registry asks for credentials${credentials === null ? `; run minictr login ${this.registry}` : ` and refused those of ${credentials.username}`}`);
    }
    let url: URL;
    try {
      url = new URL(realm);
    } catch (cause) {
      throw new RegistryError('auth', `${what}: the registry's token realm "${realm}" is not a URL`, cause);
    }
    const service = `the token service ${url.origin}`;
    // Credentials go to the realm: over plain HTTP only to a loopback address or the (insecure) registry's own host.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.plainAllowed(url))) {
      throw new RegistryError('auth', `${what}: ${service} is not https`);
    }
    if (challenge!.params.service !== undefined) url.searchParams.set('service', challenge!.params.service);
    const wanted = challenge!.params.scope ?? scope;
    if (wanted !== null) url.searchParams.set('scope', wanted);
    const response = await this.fetch(url.href, basic !== null ? { authorization: basic } : {}, `token for ${what}`);
    if (response.status !== 200) {
      response.discard();
      if ((response.status === 401 || response.status === 403) && credentials !== null) {
        throw new RegistryError('auth', `${what}: ${service} refused the credentials of ${credentials.username} (HTTP ${response.status})`);
      }
      throw new RegistryError('auth', `${what}: ${service} answered HTTP ${response.status}`);
    }
    const text = (await readCapped(response, 64 * 1024, `token for ${what}`)).toString('utf8');
    let body: { token?: unknown; access_token?: unknown } | null;
    try {
      body = JSON.parse(text) as typeof body;
    } catch (cause) {
      throw new RegistryError('auth', `${what}: ${service} sent no token (its answer is not JSON: ${(cause as Error).message})`, cause);
    }
    const token = typeof body?.token === 'string' ? body.token : body?.access_token;
    if (typeof token !== 'string' || token === '') throw new RegistryError('auth', `${what}: ${service} sent no token`);
    this.tokens.set(scope ?? '', token);
    return `Bearer ${token}`;
  }

  /** Plain HTTP (a token realm, a redirect) only to a loopback address or the (insecure) registry's own host. */
  private plainAllowed(url: URL): boolean {
    return isLoopbackRegistry(url.host) || (this.base.startsWith('http:') && url.hostname === new URL(this.base).hostname);
  }

  private async fetch(url: string, headers: Record<string, string>, what: string): Promise<HttpResponse> {
    try {
      return await httpGet(new URL(url), headers, (target) => this.plainAllowed(target));
    } catch (cause) {
      if (cause instanceof HttpRedirectError) throw new RegistryError('protocol', `${what}: ${cause.message}`, cause);
      const host = cause instanceof HttpConnectError ? cause.host : new URL(url).host;
      throw new RegistryError('network', `${what}: cannot reach ${host}: ${(cause as Error).message}`, cause);
    }
  }
}

/**
 * A response's body, chunk by chunk as they arrive; an error while they arrive is a network error naming `what`.
 * A reader that stops early closes the connection.
 */
async function* bodyChunks(response: HttpResponse, what: string): AsyncGenerator<Buffer> {
  const body = response.body;
  try {
    for await (const chunk of body) yield chunk as Buffer;
  } catch (cause) {
    throw new RegistryError('network', `${what}: ${(cause as Error).message}`, cause);
  } finally {
    if (!body.complete) body.destroy();
  }
}

/** The whole body, refusing more than `limit` bytes. */
async function readCapped(response: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(response.header('content-length') ?? 0);
  if (declared > limit) throw new RegistryError('protocol', `${what}: ${declared} bytes, more than the ${limit} allowed`);
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of bodyChunks(response, what)) {
    length += chunk.length;
    if (length > limit) throw new RegistryError('protocol', `${what}: more than the ${limit} bytes allowed`);
    parts.push(chunk);
  }
  return Buffer.concat(parts, length);
}
