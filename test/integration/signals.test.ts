// Ctrl-C on a foreground run or exec (src/container/signal-escape.ts): signals are forwarded; a PID 1 that ignores
// one gets a hint on stderr, and the third SIGINT/SIGTERM within 5 s kills it (exit 137, host restored). A PID 1
// with a handler, or minictr-init (--init), ends on the first one without a hint.

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, containerPidOf, isRoot, useScratchHost } from '../helpers/scratch-host.js';

const HINT = /^minictr: PID 1 \(sleep\) ignores SIGINT \(PID 1 gets no default action\): press Ctrl-C twice more within 5 s to kill it, or run with --init; `minictr stop` from another terminal$/m;

/** Resolves once `text` has appeared on the stream (what came so far included). */
function seen(stream: NodeJS.ReadableStream | null | undefined, text: string): Promise<void> {
  let got = '';
  return new Promise<void>((resolve) => {
    stream?.on('data', (data: Buffer) => {
      got += data.toString();
      if (got.includes(text)) resolve();
    });
  });
}

/** The container-side process minictr holds, once it runs `comm` (so the shell before it has exec'd it). */
async function heldProcess(minictr: ResultPromise, comm: string): Promise<number> {
  const pid = await containerPidOf(minictr.pid!);
  for (let i = 0; i < 200 && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== comm; i++) await sleep(25);
  return pid;
}

/**
 * Sends `signal` to minictr and waits until it has taken it: the kernel merges a standard signal sent while the
 * same one is still pending, so three quick kill() calls could count as two.
 */
async function press(minictr: ResultPromise, signal: 'SIGINT' | 'SIGTERM'): Promise<void> {
  const pid = minictr.pid!;
  minictr.kill(signal);
  const pending = () => {
    try {
      return /^(?:SigPnd|ShdPnd):\s*0*[1-9a-f]/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return false; // it has exited
    }
  };
  for (let i = 0; i < 200 && pending(); i++) await sleep(10);
}

function isAlive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

describe.skipIf(!isRoot)('Ctrl-C on a foreground container (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  afterEach(() => scratch.host.removeAllContainers());

  it('a PID 1 without handlers: the first SIGINT prints a hint, the third kills the container (137)', async () => {
    const run = scratch.host.start(['run', '--rm', '/bin/sh', '-c', 'exec sleep 1000']);
    const pid = await heldProcess(run, 'sleep');
    const hinted = seen(run.stderr, '\n');
    await press(run, 'SIGINT');
    await hinted;
    await sleep(200);
    expect(isAlive(pid)).toBe(true);
    await press(run, 'SIGINT');
    await press(run, 'SIGINT');
    const result = await run;
    expect(result.exitCode, String(result.stderr)).toBe(137);
    expect(String(result.stderr)).toMatch(HINT);
    expect(String(result.stderr)).toMatch(/^minictr: got 3 SIGINT: killing the container$/m);
    expect(String(result.stderr).split('\n').filter(Boolean)).toHaveLength(2);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('SIGTERM counts as well, and the hint is printed once', async () => {
    const run = scratch.host.start(['run', '--rm', '/bin/sh', '-c', 'exec sleep 1000']);
    await heldProcess(run, 'sleep');
    const hinted = seen(run.stderr, '\n');
    await press(run, 'SIGTERM');
    await hinted;
    await press(run, 'SIGINT');
    await press(run, 'SIGTERM');
    const result = await run;
    expect(result.exitCode).toBe(137);
    expect(String(result.stderr)).toMatch(/^minictr: PID 1 \(sleep\) ignores SIGTERM .*twice more/m);
    expect(String(result.stderr)).toMatch(/^minictr: got 3 SIGTERM\/SIGINT: killing the container$/m);
    expect(String(result.stderr).split('\n').filter(Boolean)).toHaveLength(2);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('a PID 1 with a handler, or --init, ends on the first SIGINT without a hint', async () => {
    const trapped = scratch.host.start(['run', '--rm', '/bin/sh', '-c', 'trap "exit 7" INT; echo ready; while :; do sleep 0.1; done']);
    await seen(trapped.stdout, 'ready');
    await press(trapped, 'SIGINT');
    const handled = await trapped;
    expect(handled.exitCode, String(handled.stderr)).toBe(7);
    expect(String(handled.stderr)).toBe('');

    const init = scratch.host.start(['run', '--rm', '--init', '/bin/sh', '-c', 'exec sleep 1000']);
    const pid = await containerPidOf(init.pid!);
    for (let i = 0; i < 200 && !readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim(); i++) await sleep(25);
    await sleep(100); // the shell execs sleep
    await press(init, 'SIGINT');
    const forwarded = await init;
    expect(forwarded.exitCode, String(forwarded.stderr)).toBe(130);
    expect(String(forwarded.stderr)).toBe('');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('with -it, Ctrl-C goes through the terminal to the container: no hint, no escape', async () => {
    // script(1) gives minictr a terminal; each \x03 typed there reaches PID 1's handler through the container's pty.
    const count = `n=0; trap 'n=$((n+1)); echo got INT $n; [ $n = 3 ] && exit 5' INT; echo ready; while :; do sleep 0.2; done`;
    const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;
    const command = `stty rows 24 cols 80; exec ${[process.execPath, CLI, 'run', '--rm', '-it', '/bin/sh', '-c', count].map(quote).join(' ')}`;
    const terminal = scratch.host.exec(['script', '-qfec', command, '/dev/null'], { stdin: 'pipe' });
    await seen(terminal.stdout, 'ready');
    for (const n of [1, 2, 3]) {
      const got = seen(terminal.stdout, `got INT ${n}`);
      terminal.stdin?.write('\x03');
      await got;
    }
    const result = await terminal;
    expect(result.exitCode, String(result.stdout)).toBe(5);
    expect(String(result.stdout)).not.toContain('minictr:');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it("exec: a process that ignores SIGINT gets the hint, and the third kills it; one that does not just ends", async () => {
    expect((await scratch.host.minictr(['run', '-d', '--name', 'box', '/bin/sleep', '1000'])).exitCode).toBe(0);
    const exec = scratch.host.start(['exec', 'box', '/bin/sh', '-c', 'trap "" INT; exec sleep 1000']);
    const pid = await heldProcess(exec, 'sleep');
    const hinted = seen(exec.stderr, '\n');
    await press(exec, 'SIGINT');
    await hinted;
    await sleep(200);
    expect(isAlive(pid)).toBe(true);
    await press(exec, 'SIGINT');
    await press(exec, 'SIGINT');
    const killed = await exec;
    expect(killed.exitCode).toBe(137);
    expect(String(killed.stderr)).toMatch(new RegExp(`^minictr: process ${pid} \\(sleep\\) ignores SIGINT: press Ctrl-C twice more within 5 s to kill it$`, 'm'));
    expect(String(killed.stderr)).toMatch(/^minictr: got 3 SIGINT: killing the exec'd process$/m);

    const plain = scratch.host.start(['exec', 'box', '/bin/sh', '-c', 'exec sleep 1000']);
    await heldProcess(plain, 'sleep');
    await press(plain, 'SIGINT');
    const ended = await plain;
    expect(ended.exitCode).toBe(130);
    expect(String(ended.stderr)).toBe('');
  });
});
