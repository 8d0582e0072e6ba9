import { describe, expect, it } from 'vitest';
import { imageRun, mergeEnv } from '../../src/image/image-config.js';

const nginx = {
  Entrypoint: ['/docker-entrypoint.sh'],
  Cmd: ['nginx', '-g', 'daemon off;'],
  Env: ['PATH=/usr/local/sbin:/usr/bin', 'NGINX_VERSION=1.27'],
  WorkingDir: '',
  ExposedPorts: { '80/tcp': {} },
  StopSignal: 'SIGQUIT',
};

describe('imageRun', () => {
  it("runs the image's Entrypoint and Cmd, with its environment and stop signal", () => {
    expect(imageRun('nginx', nginx, { args: [], env: [] })).toEqual({
      argv: ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'],
      env: ['PATH=/usr/local/sbin:/usr/bin', 'NGINX_VERSION=1.27'],
      workdir: '/',
      user: null,
      stopSignal: 'SIGQUIT',
      exposedPorts: ['80/tcp'],
    });
  });

  it('arguments replace the Cmd; --entrypoint replaces the Entrypoint and drops the Cmd', () => {
    expect(imageRun('nginx', nginx, { args: ['nginx', '-t'], env: [] }).argv).toEqual(['/docker-entrypoint.sh', 'nginx', '-t']);
    expect(imageRun('nginx', nginx, { args: [], entrypoint: '/bin/sh', env: [] }).argv).toEqual(['/bin/sh']);
    expect(imageRun('nginx', nginx, { args: ['-c', 'id'], entrypoint: '/bin/sh', env: [] }).argv).toEqual(['/bin/sh', '-c', 'id']);
    expect(imageRun('nginx', nginx, { args: ['/bin/true'], entrypoint: '', env: [] }).argv).toEqual(['/bin/true']);
    expect(() => imageRun('scratch-app', {}, { args: [], env: [] })).toThrow('no command given, and image scratch-app has neither Entrypoint nor Cmd');
  });

  it('-e wins over the image Env; -w and -u over WorkingDir and User', () => {
    const run = imageRun('app', { Cmd: ['app'], Env: ['A=1', 'B=2'], WorkingDir: '/srv', User: 'www' }, { args: [], env: ['B=3', 'C=4'], workdir: '/tmp', user: '0' });
    expect(run.env).toEqual(['A=1', 'B=3', 'C=4']);
    expect(run.workdir).toBe('/tmp');
    expect(run.user).toBe('0');
    expect(imageRun('app', { Cmd: ['app'], WorkingDir: '/srv', User: 'www' }, { args: [], env: [] })).toMatchObject({ workdir: '/srv', user: 'www' });
  });

  it('reads ExposedPorts with and without a protocol, and refuses junk', () => {
    expect(imageRun('x', { Cmd: ['x'], ExposedPorts: { '8080': {}, '53/udp': {}, '53/tcp': {} } }, { args: [], env: [] }).exposedPorts).toEqual(['53/tcp', '53/udp', '8080/tcp']);
    expect(() => imageRun('x', { Cmd: ['x'], ExposedPorts: { '80/tcp; rm -rf /': {} } }, { args: [], env: [] })).toThrow('invalid ExposedPorts entry');
    for (const port of ['0/tcp', '99999/tcp', '65536']) {
      expect(() => imageRun('x', { Cmd: ['x'], ExposedPorts: { [port]: {} } }, { args: [], env: [] })).toThrow(`invalid ExposedPorts entry "${port}"`);
    }
  });
});

describe('mergeEnv', () => {
  it('keeps the first position of a key and the last value', () => {
    expect(mergeEnv(['A=1', 'B=2'], ['A=3'], ['C'])).toEqual(['A=3', 'B=2', 'C']);
  });
});
