// `minictr run --step`, through a real terminal (script(1)): a prompt before each step, on /dev/tty, with commands
// that show the step's work from another terminal, the container's real pid filled in (run here, they see the
// container's network namespace); Enter goes on and the container runs with the run's stdout; Ctrl-C at a prompt
// tears everything down. Without a terminal, and with --dry-run or --timings, --step is refused (125), leaving nothing.

import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../src/sys/shell-quote.js';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';

const PROMPT = 'Enter: go on; Ctrl-C: stop here and tear everything down';

/** Collects what the terminal shows; `prompt(n)` resolves with the text of the n-th prompt (from 1) once it is shown. */
function screen(stdout: Readable) {
  let text = '';
  const waiters: (() => void)[] = [];
  stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    get text() {
      return text;
    },
    async prompt(n: number): Promise<string> {
      while (text.split(PROMPT).length <= n) await new Promise<void>((resolve) => waiters.push(resolve));
      return text.split(PROMPT)[n - 1]!;
    },
  };
}

describe.skipIf(!isRoot)('minictr run --step (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });

  /** minictr run ARGS in script(1)'s terminal, whose keyboard is the returned process's stdin. */
  const inTerminal = (args: string[]) => {
    const command = [process.execPath, CLI, 'run', ...args].map(shellQuote).join(' ');
    const terminal = scratch.host.exec(['script', '-qfec', `stty rows 24 cols 200; exec ${command}`, '/dev/null'], { stdin: 'pipe', timeout: 30_000 });
    return { terminal, screen: screen(terminal.stdout!) };
  };

  it('stops before each step with commands that look at the real container, and goes on with Enter', async () => {
    const { terminal, screen } = inTerminal(['--rm', '--step', '-m', '64m', '/bin/sh', '-c', 'echo in the container; exit 3']);
    const steps = ['state', 'address', 'clone', 'veth', 'go→exec'];
    for (const [i, step] of steps.entries()) {
      const prompt = await screen.prompt(i + 1);
      expect(prompt).toContain(`minictr --step: next, ${step}: `);
      expect(screen.text).not.toContain('in the container');
      const pid = /nsenter -t (\d+) -n ip link/.exec(prompt)?.[1];
      if (step === 'veth') expect(prompt).toContain(`ls -l /proc/${pid}/ns`);
      if (step === 'veth') expect(prompt).toContain(`cat /proc/${pid}/cgroup`);
      if (step === 'veth' || step === 'go→exec') {
        // The printed command, run: the container's namespace, with eth0 once the veth step has made it.
        const links = await scratch.host.must(['nsenter', '-t', pid!, '-n', 'ip', '-o', 'link']);
        expect(links).toContain('lo:');
        expect(links.includes('eth0@'), links).toBe(step === 'go→exec');
      }
      if (step === 'go→exec') expect(prompt).toContain('nft list table ip minictr');
      terminal.stdin!.write('\r');
    }
    const result = await terminal;
    expect(result.exitCode, screen.text).toBe(3);
    expect(screen.text).toContain('in the container');
    expect(screen.text.split(PROMPT)).toHaveLength(steps.length + 1);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('with -it, hands the terminal to the container after the last prompt', async () => {
    const { terminal, screen } = inTerminal(['--rm', '--step', '-it', '--network', 'none', '/bin/sh', '-c', 'read line; echo "got $line"']);
    for (const n of [1, 2, 3, 4]) {
      await screen.prompt(n);
      terminal.stdin!.write('\r');
    }
    await new Promise((resolve) => setTimeout(resolve, 500)); // the shell reads its terminal
    terminal.stdin!.write('typed\r');
    const result = await terminal;
    expect(result.exitCode, screen.text).toBe(0);
    expect(screen.text).toContain('got typed');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('tears everything down on Ctrl-C at a prompt', async () => {
    const { terminal, screen } = inTerminal(['--rm', '--step', '--name', 'stepped', '-p', '8091:80', '-m', '64m', '/bin/true']);
    for (const n of [1, 2, 3, 4]) {
      await screen.prompt(n);
      terminal.stdin!.write('\r');
    }
    await screen.prompt(5); // before go→exec: the state, lease, port, cgroup, PID 1, veth and rules all exist
    expect(await scratch.host.snapshot()).not.toEqual(scratch.before);
    terminal.stdin!.write('\x03');
    const result = await terminal;
    expect(result.exitCode, screen.text).toBe(130);
    expect(screen.text).toContain('interrupted by SIGINT before the container started');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it.each([
    [['setsid', '-w', process.execPath, CLI, 'run', '--rm', '--step', '/bin/true'], /--step needs a terminal: it waits for Enter on \/dev\/tty/],
    [[process.execPath, CLI, 'run', '--step', '--dry-run', '/bin/true'], /--step runs the container, --dry-run does not/],
    [[process.execPath, CLI, 'run', '--step', '--timings', 'json', '/bin/true'], /--timings cannot be used with --step/],
  ])('refuses %j with 125, leaving nothing', async (argv, message) => {
    const result = await scratch.host.exec(argv);
    expect(result.exitCode).toBe(125);
    expect(String(result.stderr)).toMatch(message);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });
});
