import { describe, expect, it } from 'vitest';
import { chooseManifest, parseImageConfig, parseManifest, parsePlatform } from '../../src/image/manifest.js';
import { parseChallenge } from '../../src/image/registry.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const entry = (c: string, platform: Record<string, string>) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: digest(c),
  size: 100,
  platform,
});

describe('chooseManifest', () => {
  const index = json({
    schemaVersion: 2,
    manifests: [
      entry('a', { os: 'linux', architecture: 'amd64' }),
      entry('b', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
      entry('c', { os: 'linux', architecture: 'arm', variant: 'v6' }),
      entry('d', { os: 'linux', architecture: 'arm', variant: 'v7' }),
      entry('e', { os: 'unknown', architecture: 'unknown' }),
    ],
  });

  it('matches os, architecture and, when both name one, the variant', () => {
    expect(chooseManifest(index, { os: 'linux', architecture: 'amd64' }, 'x').digest).toBe(digest('a'));
    expect(chooseManifest(index, { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'x').digest).toBe(digest('b'));
    expect(chooseManifest(index, { os: 'linux', architecture: 'arm64' }, 'x').digest).toBe(digest('b'));
    expect(chooseManifest(index, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x').digest).toBe(digest('d'));
  });

  it('lists what the image offers when nothing matches, attestations left out', () => {
    expect(() => chooseManifest(index, { os: 'linux', architecture: 's390x' }, 'index of x')).toThrow(
      'index of x: no manifest for linux/s390x; the image is for linux/amd64, linux/arm64/v8, linux/arm/v6, linux/arm/v7 (choose one with --platform)',
    );
  });

  it('refuses a digest that is not sha256 hex before it can become a path', () => {
    const evil = json({ manifests: [{ ...entry('a', { os: 'linux', architecture: 'amd64' }), digest: 'sha256:../../etc/passwd' }] });
    expect(() => chooseManifest(evil, { os: 'linux', architecture: 'amd64' }, 'x')).toThrow(/is not a sha256 digest/);
  });
});

describe('parseManifest and parseImageConfig', () => {
  const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest('1'), size: 10 };
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('2'), size: 5 };

  it('reads config and layers in order', () => {
    expect(parseManifest(json({ schemaVersion: 2, config, layers: [layer, { ...layer, digest: digest('3') }] }), 'm')).toEqual({
      config,
      layers: [layer, { ...layer, digest: digest('3') }],
    });
  });

  it('refuses what it cannot use', () => {
    expect(() => parseManifest(json({ schemaVersion: 1 }), 'm')).toThrow('only schema version 2');
    expect(() => parseManifest(json({ schemaVersion: 2, config, layers: [{ ...layer, size: -1 }] }), 'm')).toThrow('a descriptor needs');
    expect(() => parseManifest(json({ schemaVersion: 2, config, layers: [{ ...layer, mediaType: 'text/plain' }] }), 'm')).toThrow('layers of type text/plain cannot be unpacked');
    expect(() => parseManifest(Buffer.from('{'), 'm')).toThrow('m: not JSON');
  });

  it('needs one diff id per layer', () => {
    const good = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [digest('4')] } };
    expect(parseImageConfig(json(good), 1, 'c').rootfs.diff_ids).toEqual([digest('4')]);
    expect(() => parseImageConfig(json(good), 2, 'c')).toThrow('1 diff ids for 2 layers');
    expect(() => parseImageConfig(json({ ...good, rootfs: { type: 'layers', diff_ids: ['md5:1'] } }), 1, 'c')).toThrow('is not a sha256 digest');
  });

  it("refuses run fields of the wrong type, as a hostile image would write them", () => {
    const base = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digest('4')] } };
    expect(parseImageConfig(json({ ...base, config: { Cmd: null, Entrypoint: ['/x'], Env: ['A=1'], User: '0' } }), 1, 'c').config.Entrypoint).toEqual(['/x']);
    for (const [config, field] of [
      [{ Cmd: 'rm -rf /' }, 'config.Cmd'],
      [{ Entrypoint: [1] }, 'config.Entrypoint'],
      [{ Env: [{ A: 1 }] }, 'config.Env'],
      [{ WorkingDir: ['/'] }, 'config.WorkingDir'],
      [{ User: 0 }, 'config.User'],
      [{ ExposedPorts: 'all' }, 'config.ExposedPorts'],
    ] as const) {
      expect(() => parseImageConfig(json({ ...base, config }), 1, 'c'), field).toThrow(field);
    }
  });
});

describe('parsePlatform and parseChallenge', () => {
  it('parses --platform', () => {
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    for (const bad of ['linux', 'linux/', 'a/b/c/d', 'linux/../x']) expect(() => parsePlatform(bad), bad).toThrow('invalid --platform');
  });

  it('parses WWW-Authenticate challenges, quoted commas included', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/a:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/a:pull,push' },
    });
    expect(parseChallenge('Basic realm=registry')).toEqual({ scheme: 'basic', params: { realm: 'registry' } });
  });
});
