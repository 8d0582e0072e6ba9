import { describe, expect, it } from 'vitest';
import { apiHost, familiarName, formatReference, isLoopbackRegistry, parseReference } from '../../src/image/reference.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseReference', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['bitnami/redis', 'docker.io/bitnami/redis:latest'],
    ['docker.io/library/redis', 'docker.io/library/redis:latest'],
    ['index.docker.io/library/redis:7', 'docker.io/library/redis:7'],
    [`docker.io/library/redis@${DIGEST}`, `docker.io/library/redis@${DIGEST}`],
    [`redis:7@${DIGEST}`, `docker.io/library/redis:7@${DIGEST}`],
    ['127.0.0.1:5000/demo/web:1', '127.0.0.1:5000/demo/web:1'],
    ['localhost/web', 'localhost/web:latest'],
    ['localhost:5000/web', 'localhost:5000/web:latest'],
    ['[::1]:5000/a/b:c', '[::1]:5000/a/b:c'],
    ['ghcr.io/owner/app.name_x__y-z:v1.0-rc_1', 'ghcr.io/owner/app.name_x__y-z:v1.0-rc_1'],
  ])('normalises %s as Docker does', (text, full) => {
    expect(formatReference(parseReference(text))).toBe(full);
  });

  it('keeps the parts apart', () => {
    expect(parseReference('127.0.0.1:5000/demo/web:1')).toEqual({ registry: '127.0.0.1:5000', repository: 'demo/web', tag: '1', digest: null });
    expect(parseReference(`alpine@${DIGEST}`)).toEqual({ registry: 'docker.io', repository: 'library/alpine', tag: null, digest: DIGEST });
  });

  it.each([
    ['', /repository name/],
    ['Nginx', /repository name/],
    ['nginx:', /a tag is/],
    ['nginx:-x', /a tag is/],
    [`nginx:${'a'.repeat(129)}`, /a tag is/],
    ['nginx@sha256:abc', /a digest is/],
    [`nginx@sha512:${'a'.repeat(128)}`, /a digest is/],
    [`nginx@sha256:${'A'.repeat(64)}`, /a digest is/],
    ['a//b', /repository name/],
    ['a/b/', /repository name/],
    ['../etc/passwd', /not a registry/],
    ['a/../../b', /repository name/],
    ['my_registry.com:5000/x', /not a registry/],
    ['host.com:99999/x', /not a registry/],
    ['-bad.com/x', /not a registry/],
    ['a b', /repository name/],
    ['nginx\n', /a tag is|repository name/],
    [`x/${'a'.repeat(260)}`, /at most 255/],
  ])('refuses %j', (text, why) => {
    expect(() => parseReference(text)).toThrow(why);
  });
});

describe('names and hosts', () => {
  it("prints Docker Hub's official images by their short name", () => {
    expect(familiarName(parseReference('nginx:1'))).toBe('nginx');
    expect(familiarName(parseReference('bitnami/redis'))).toBe('bitnami/redis');
    expect(familiarName(parseReference('127.0.0.1:5000/demo/web'))).toBe('127.0.0.1:5000/demo/web');
  });

  it("talks to Docker Hub's API host, and to any other registry by its name", () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });

  it('knows loopback registries, which are spoken to over plain HTTP', () => {
    for (const registry of ['127.0.0.1:5000', '127.1.2.3', 'localhost:5000', '[::1]:5000']) expect(isLoopbackRegistry(registry), registry).toBe(true);
    for (const registry of ['docker.io', '10.0.0.1:5000', '127.0.0.1.example.com', 'localhost.example.com']) expect(isLoopbackRegistry(registry), registry).toBe(false);
  });
});
