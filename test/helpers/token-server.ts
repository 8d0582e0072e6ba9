// A real token server for the image tests (test/fixtures/token-server.mjs, run with Node inside a scratch host) and
// what a registry needs to trust it: an RSA key and a self-signed certificate made with `openssl req -x509`, the
// issuer and the service name. TestRegistry.start({ tokenAuth: server.registryAuth() }) starts a docker-registry that
// answers 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` and accepts only the tokens this server
// signs. The server tells the test each request it got (service, scopes, the user of its basic credentials), so a
// test can check what the client asked for; its mode makes it fail (HTTP 500, a body that is not JSON, no token, a
// token the registry cannot verify).
//
// Also here: a plain file server on another loopback address, the target of a registry that redirects blob
// downloads (distribution's `redirect` storage middleware), which records the Authorization header of each request:
// a token must never reach it.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import type { ScratchHost } from './scratch-host.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/token-server.mjs', import.meta.url));

export const TOKEN_SERVICE = 'minictr-test-registry';
const ISSUER = 'minictr-test-token-issuer';

/** One request as the token server saw it. */
export interface TokenRequest {
  path: string;
  service: string | null;
  scopes: string[];
  /** The user whose basic credentials were right; null when anonymous (or wrong: see `authorization`). */
  user: string | null;
  /** The scheme of the Authorization header sent, null when none. */
  authorization: string | null;
}

export type TokenMode = 'ok' | '500' | 'garbage' | 'notoken' | 'forged';

/** What TestRegistry.start needs for `auth: token`. */
export interface TokenAuth {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

/** Collects a server's stdout as lines and lets a caller wait for a line that satisfies a test. */
class LineReader {
  readonly lines: string[] = [];
  private exited: Error | null = null;
  private waiters: { test: (line: string) => boolean; resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(process: ResultPromise, what: string) {
    let partial = '';
    process.stdout?.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        const ready = this.waiters.filter((waiter) => waiter.test(line));
        this.waiters = this.waiters.filter((waiter) => !ready.includes(waiter));
        for (const waiter of ready) waiter.resolve();
      }
    });
    void process.then((result) => {
      this.exited = new Error(`${what} exited: ${String(result.stderr)}`);
      for (const waiter of this.waiters) waiter.reject(this.exited);
      this.waiters = [];
    });
  }

  /** Resolves once a line (already read or still to come) satisfies `test`. */
  async waitFor(test: (line: string) => boolean, from = 0): Promise<void> {
    if (this.lines.slice(from).some(test)) return;
    if (this.exited !== null) throw this.exited;
    await new Promise<void>((resolve, reject) => this.waiters.push({ test, resolve, reject }));
  }
}

export class TokenServer {
  private constructor(
    private readonly dir: string,
    private readonly address: string,
    private readonly server: ResultPromise,
    private readonly output: LineReader,
    private seen: number,
  ) {}

  /**
   * Starts a token server on address (127.0.0.1:5100 by default) inside `host`. Anyone may pull `publicRepositories`;
   * each of `users` (by name) may pull and push its `repositories`.
   */
  static async start(
    host: ScratchHost,
    options: { address?: string; publicRepositories: string[]; users: Record<string, { password: string; repositories: string[] }> },
  ): Promise<TokenServer> {
    const address = options.address ?? '127.0.0.1:5100';
    const dir = mkdtempSync(join(tmpdir(), 'minictr-token-'));
    const subject = ['-subj', '/CN=minictr test token issuer'];
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', ...subject, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    const [hostname, port] = address.split(':');
    const config = { address: hostname, port: Number(port), key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem'), issuer: ISSUER, service: TOKEN_SERVICE, public: options.publicRepositories, users: options.users };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const server = host.exec([process.execPath, FIXTURE, join(dir, 'config.json')]);
    const output = new LineReader(server, `token server on ${address}`);
    await output.waitFor((line) => line === 'listening');
    return new TokenServer(dir, address, server, output, output.lines.length);
  }

  registryAuth(): TokenAuth {
    return { realm: `http://${this.address}/token`, service: TOKEN_SERVICE, issuer: ISSUER, rootCertBundle: join(this.dir, 'cert.pem') };
  }

  get origin(): string {
    return `http://${this.address}`;
  }

  /** The requests received since the last call (or since the server started). */
  takeRequests(): TokenRequest[] {
    const lines = this.output.lines.slice(this.seen);
    this.seen = this.output.lines.length;
    return lines.map((line) => JSON.parse(line) as TokenRequest | { mode: string }).filter((entry): entry is TokenRequest => 'path' in entry);
  }

  async setMode(mode: TokenMode): Promise<void> {
    const from = this.output.lines.length;
    this.server.stdin!.write(`mode ${mode}\n`);
    await this.output.waitFor((line) => line === JSON.stringify({ mode }), from);
  }

  async stop(): Promise<void> {
    this.server.kill('SIGKILL');
    await this.server;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One request a redirect target got: its method, path and the scheme of its Authorization header (null: none). */
export interface RedirectedRequest {
  method: string;
  path: string;
  authorization: string | null;
}

/**
 * A file server on `address` (another loopback address than the registry's) serving `root` (the registry's
 * storage root: the redirect middleware sends clients to baseurl + storage path) and recording each request.
 */
export class RedirectTarget {
  private constructor(
    private readonly server: ResultPromise,
    private readonly output: LineReader,
  ) {}

  static async start(host: ScratchHost, address: string, root: string): Promise<RedirectTarget> {
    const [hostname, port] = address.split(':');
    const script =
      "const fs=require('fs'),path=require('path');" +
      'require("http").createServer((q,s)=>{' +
      'console.log(JSON.stringify({method:q.method,path:q.url,authorization:q.headers.authorization?.split(" ")[0]??null}));' +
      `const file=path.join(${JSON.stringify(root)},path.normalize(decodeURIComponent(new URL(q.url,"http://x").pathname)));` +
      'fs.stat(file,(e,st)=>{if(e||!st.isFile()){s.writeHead(404).end();return}' +
      's.writeHead(200,{"content-length":st.size,"content-type":"application/octet-stream"});' +
      'if(q.method==="HEAD")s.end();else fs.createReadStream(file).pipe(s)})' +
      `}).listen(${Number(port)},${JSON.stringify(hostname)},()=>console.log('listening'))`;
    const server = host.exec([process.execPath, '-e', script]);
    const output = new LineReader(server, `redirect target on ${address}`);
    await output.waitFor((line) => line === 'listening');
    return new RedirectTarget(server, output);
  }

  requests(): RedirectedRequest[] {
    return this.output.lines.filter((line) => line !== 'listening').map((line) => JSON.parse(line) as RedirectedRequest);
  }

  async stop(): Promise<void> {
    this.server.kill('SIGKILL');
    await this.server;
  }
}
