// The bin, dist/cli.js, as scripts/bundle.mjs writes it: a /bin/sh script and an ES module at once. Run as a
// program, through a symlink as `npm link` installs it, it execs Node on the CommonJS launcher (no ES module
// loaded); run by Node (`node dist/cli.js`, the README's commands) it requires the same launcher; copied elsewhere
// with the files beside it, it runs from the copy. It execs the Node that built it (no search along PATH) while
// that Node exists, and PATH's otherwise. The bundle is ASCII only, as its launcher reads it as latin1, and starts
// without a URL or node:module (its modules' paths are joined, their require is the launcher's). And the end of a
// run: the addon's exitNow, after the 'exit' listeners, with the exit code and the output intact. And
// NODE_EXTRA_CA_CERTS's file is not read at start-up.

import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const ADDON = fileURLToPath(new URL('../../native/build/Release/minictr.node', import.meta.url));
const BIN = join(DIST, 'cli.js');

/** Runs argv; returns its stdout, and the ES modules Node loaded (NODE_DEBUG=esm logs each). */
function run(argv: string[]): { status: number | null; stdout: string; esm: boolean } {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'esm' } });
  return { status: result.status, stdout: result.stdout, esm: /ESM \d+:/.test(result.stderr) };
}

describe('the bin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minictr-bin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is a shell script whose second line is also JavaScript', () => {
    const [shebang, second] = readFileSync(BIN, 'utf8').split('\n');
    expect(shebang).toBe('#!/bin/sh');
    expect(second).toMatch(/^":" \/\/; /);
  });

  it('runs as a program through a symlink without loading an ES module', () => {
    const link = join(dir, 'minictr');
    symlinkSync(BIN, link);
    expect(run([link, '--version'])).toEqual({ status: 0, stdout: '0.1.0\n', esm: false });
  });

  it('execs the Node that built it, whatever PATH holds', () => {
    const result = spawnSync(BIN, ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } });
    expect(result).toMatchObject({ status: 0, stdout: '0.1.0\n' });
  });

  it("execs PATH's node when the Node that built it is gone", () => {
    const copy = mkdtempSync(join(dir, 'moved-node-'));
    for (const file of ['cli.cjs', 'minictr.cjs']) copyFileSync(join(DIST, file), join(copy, file));
    const built = `'${process.execPath}'`;
    const bin = readFileSync(BIN, 'utf8');
    expect(bin.split('\n')[1]).toContain(built);
    writeFileSync(join(copy, 'cli.js'), bin.replaceAll(built, `'${join(copy, 'gone', 'node')}'`));
    chmodSync(join(copy, 'cli.js'), 0o755);
    const path = `${join(process.execPath, '..')}:${process.env.PATH ?? ''}`;
    const result = spawnSync(join(copy, 'cli.js'), ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: path } });
    expect(result).toMatchObject({ status: 0, stdout: '0.1.0\n' });
  });

  it('is a bundle of ASCII only', () => {
    const bundle = readFileSync(join(DIST, 'minictr.cjs'));
    expect(bundle.findIndex((byte) => byte > 0x7f)).toBe(-1);
  });

  it('starts without a URL or node:module', () => {
    const preload = join(dir, 'count-urls.cjs');
    writeFileSync(preload, [
      "const url = require('node:url');",
      'const used = [];',
      "for (const name of ['pathToFileURL', 'fileURLToPath']) {",
      '  const original = url[name];',
      '  url[name] = (...args) => (used.push(name), original(...args));',
      '}',
      "globalThis.URL = class extends URL { constructor(...args) { super(...args); used.push('new URL'); } };",
      "const report = () => ({ used, module: process.moduleLoadList.includes('NativeModule module') });",
      "process.on('exit', () => require('node:fs').writeSync(2, JSON.stringify(report())));",
    ].join('\n'));
    const result = spawnSync(process.execPath, ['-r', preload, join(DIST, 'cli.cjs'), '--version'], { encoding: 'utf8' });
    expect(result.stdout).toBe('0.1.0\n');
    expect(JSON.parse(result.stderr)).toEqual({ used: [], module: false });
  });

  it('runs under node as an ES module', () => {
    expect(run([process.execPath, BIN, '--version'])).toMatchObject({ status: 0, stdout: '0.1.0\n', esm: true });
  });

  it('runs the copy, not the build it was copied from, when copied with its launcher and bundle', () => {
    const copy = mkdtempSync(join(dir, 'copy-'));
    for (const file of ['cli.js', 'cli.cjs', 'minictr.cjs']) copyFileSync(join(DIST, file), join(copy, file));
    const traced = spawnSync(join(copy, 'cli.js'), ['--version'], { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'module' } });
    expect(traced.status).toBe(0);
    expect(traced.stdout).toBe('0.1.0\n');
    expect(traced.stderr).toContain(join(copy, 'cli.cjs'));
    expect(traced.stderr).not.toContain(join(DIST, 'cli.cjs'));
  });

  it("leaves NODE_EXTRA_CA_CERTS's file to the first TLS connection, for minictr-oci and minictr-cni to nobody", () => {
    // Node 20 reads the file at start-up and warns when it cannot: a missing one shows whether it did.
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem') };
    const node = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8', env });
    expect(node.stderr).toContain('Ignoring extra certs');
    for (const bin of [BIN, join(DIST, 'oci/cli.js')]) {
      const result = spawnSync(bin, ['--version'], { encoding: 'utf8', env });
      expect(result.status).toBe(0);
      expect(result.stderr).toBe('');
    }
    const cni = spawnSync(join(DIST, 'cni/main.js'), [], { encoding: 'utf8', env: { ...env, CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.1.0"}' });
    expect(cni.stdout).toContain('supportedVersions');
    expect(cni.stderr).toBe('');
  });

  it("exitNow ends the process after the 'exit' listeners, with their code and everything written", () => {
    const marker = join(dir, 'exit-listener-ran');
    const script = [
      `const addon = require(${JSON.stringify(ADDON)});`,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'yes'));`,
      "process.stdout.write('x'.repeat(100000));",
      "process.exitCode = 5;",
      "process.once('exit', (code) => addon.exitNow(code));",
      'process.exit();',
    ].join('\n');
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 1 << 20 });
    expect(result.status).toBe(5);
    expect(result.stdout).toHaveLength(100000);
    expect(readFileSync(marker, 'utf8')).toBe('yes');
  });
});
