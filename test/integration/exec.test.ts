// minictr exec: a process in a running container's namespaces, root and cgroup, with its environment and security
// profile, overridable by -e, -w and -u; exit codes as Docker's.

import { afterEach, describe, expect, it } from 'vitest';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('minictr exec (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  // A failed test must not leave its container (and its name) to the next one.
  afterEach(() => scratch.host.removeAllContainers());

  it("sees the container's hostname, PID namespace, eth0, cgroup and capabilities", async () => {
    const run = await scratch.host.minictr([
      'run', '-d', '--name', 'box', '--hostname', 'boxy', '--ip', '10.0.0.40', '-m', '64m', '-e', 'FROM_RUN=yes',
      '/bin/sh', '-c', 'while :; do sleep 1; done',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const script = 'hostname; cat /proc/1/cmdline | tr "\\0" " "; echo; ip -4 -o addr show eth0; echo $$; grep memory /proc/self/cgroup; grep CapEff /proc/self/status; echo $FROM_RUN';
    const seen = await scratch.host.minictr(['exec', 'box', '/bin/sh', '-c', script]);
    expect(seen.exitCode, seen.stderr).toBe(0);
    const [hostname, pid1, eth0, pid, cgroup, caps, env] = seen.stdout.split('\n');
    expect(hostname).toBe('boxy');
    expect(pid1).toBe('/bin/sh -c while :; do sleep 1; done ');
    expect(eth0).toContain('inet 10.0.0.40/24');
    expect(Number(pid)).toBeGreaterThan(1);
    expect(Number(pid)).toBeLessThan(100); // a pid of the container's namespace, not the host's
    expect(cgroup).toContain(`/minictr/${id}`);
    expect(caps).toBe('CapEff:\t00000000a80425fb');
    expect(env).toBe('yes');

    const overridden = await scratch.host.minictr(['exec', '-e', 'FOO=bar', '-w', '/tmp', '-u', 'nobody', 'box', '/bin/sh', '-c', 'echo $FOO; pwd; id -u; echo $HOME']);
    expect(overridden.stdout).toBe('bar\n/tmp\n65534\n/nonexistent');
    expect((await scratch.host.minictr(['exec', 'box', '/bin/sh', '-c', 'exit 7'])).exitCode).toBe(7);
    const terminal = await scratch.host.minictr(['exec', '-t', '-u', 'nobody', 'box', '/bin/sh', '-c', 'tty && stty size && stat -c %U $(tty)']);
    expect(terminal.stdout).toMatch(/^\/dev\/pts\/0\r?\n24 80\r?\nnobody\r?$/);
    const interactive = await scratch.host.minictr(['exec', '-i', '-t', 'box', '/bin/sh', '-c', 'read line; echo "got $line"; exit 3'], { input: 'typed\n' });
    expect(interactive.exitCode, interactive.stderr).toBe(3);
    expect(interactive.stdout).toMatch(/^typed\r?\ngot typed\r?$/);
    const piped = await scratch.host.minictr(['exec', 'box', '/bin/sh', '-c', 'read line; echo got $line'], { input: 'hello\n' });
    expect(piped.stdout).toBe('got hello');
    expect((await scratch.host.minictr(['rm', '-f', 'box'])).exitCode).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('answers a missing or unexecutable command with 127 or 126, and bad input with 125, changing nothing', async () => {
    expect((await scratch.host.minictr(['run', '-d', '--name', 'box', '/bin/sleep', '100'])).exitCode).toBe(0);
    const snapshot = await scratch.host.snapshot();
    const cases: [string[], number, RegExp][] = [
      [['exec', 'box', 'nope'], 127, /executable file not found in \$PATH/],
      [['exec', 'box', '/etc/passwd'], 126, /permission denied/],
      [['exec', '-w', '/nonexistent', 'box', '/bin/true'], 125, /enter working directory \/nonexistent in container/],
      [['exec', '-u', 'ghost', 'box', '/bin/true'], 125, /ghost/],
      [['exec', '-w', 'relative', 'box', '/bin/true'], 125, /invalid --workdir/],
      [['exec', 'box'], 125, /no command given/],
      [['exec', 'nope', '/bin/true'], 1, /No such container: nope/],
    ];
    for (const [args, code, message] of cases) {
      const result = await scratch.host.minictr(args);
      expect(result.exitCode, args.join(' ')).toBe(code);
      expect(result.stderr).toMatch(message);
    }
    expect(await scratch.host.snapshot()).toEqual(snapshot);
    expect((await scratch.host.minictr(['rm', '-f', 'box'])).exitCode).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });
});
