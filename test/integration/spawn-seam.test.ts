// The container's first process while it waits for "go": never a copy of Node. The addon's clone shares Node's
// memory (CLONE_VM | CLONE_VFORK) only until it execs minictr-init's sealed copy in child mode, which read its config
// from a memfd and closed it. Seen from the host with `run --step` (a prompt before each step, through script(1)'s
// terminal), before the veth step: the process runs minictr-init, holds a small address space of its own, and no
// descriptor but its stdio and the release and error pipes.

import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../src/sys/shell-quote.js';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';

const PROMPT = 'Enter: go on; Ctrl-C: stop here and tear everything down';

/** The text of the n-th prompt (from 1), once the terminal has shown it. */
function prompts(stdout: Readable): (n: number) => Promise<string> {
  let text = '';
  const waiters: (() => void)[] = [];
  stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  return async (n) => {
    while (text.split(PROMPT).length <= n) await new Promise<void>((resolve) => waiters.push(resolve));
    return text.split(PROMPT)[n - 1]!;
  };
}

describe.skipIf(!isRoot)('the spawn seam (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });

  it('the held container process is minictr-init, not a copy of Node, and holds only its own descriptors', async () => {
    const command = [process.execPath, CLI, 'run', '--rm', '--step', '-m', '64m', '/bin/sh', '-c', 'exit 3'].map(shellQuote).join(' ');
    const terminal = scratch.host.exec(['script', '-qfec', `stty rows 24 cols 200; exec ${command}`, '/dev/null'], { stdin: 'pipe', timeout: 30_000 });
    const prompt = prompts(terminal.stdout!);
    for (const n of [1, 2, 3]) {
      await prompt(n);
      terminal.stdin!.write('\r');
    }
    const veth = await prompt(4);
    expect(veth).toContain('minictr --step: next, veth: ');
    const pid = /nsenter -t (\d+) -n ip link/.exec(veth)?.[1];
    expect(pid).toBeDefined();

    const exe = await scratch.host.must(['readlink', `/proc/${pid}/exe`]);
    expect(exe.trim()).toMatch(/^\/memfd:minictr-init/);
    const status = await scratch.host.must(['cat', `/proc/${pid}/status`]);
    const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    expect(rssKiB, status).toBeLessThan(8 * 1024); // Node's copy: 40 MB and more
    const fds = await scratch.host.must(['ls', `/proc/${pid}/fd`]);
    const targets = await Promise.all(fds.split(/\s+/).filter(Boolean).map((fd) => scratch.host.must(['readlink', `/proc/${pid}/fd/${fd}`])));
    // stdio (the terminal), the release and error pipes: no memfd (config, minictr-init), socket or file of Node's.
    expect(targets.map((target) => target.trim()).filter((target) => !/^(\/dev\/pts\/\d+|pipe:\[\d+\])$/.test(target))).toEqual([]);
    expect(targets.length, targets.join(" ")).toBe(5);

    terminal.stdin!.write('\r');
    await prompt(5);
    terminal.stdin!.write('\r');
    const result = await terminal;
    expect(result.exitCode).toBe(3);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });
});
