// Process identity (src/sys/proc.ts over native/src/proc.cc and wait.cc) on real processes: a recorded process is
// signalled and waited for through a pidfd, never mistaken for another one, and a wait that times out leaves no
// watch behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeAddon } from '../../src/native/index.js';
import { isAlive, sendSignal, startTimeOf, waitGone, type ProcessRef } from '../../src/sys/proc.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** This process's open pidfds. */
function pidfds(): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[pidfd]';
    } catch {
      return false; // the directory's own fd, closed by now
    }
  });
}

function sleeper(): { child: ChildProcess; ref: ProcessRef } {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  const startTime = startTimeOf(child.pid!);
  if (startTime === null) throw new Error('sleep did not start');
  return { child, ref: { pid: child.pid!, startTime } };
}

describe('a recorded process (pid, start time)', () => {
  it('is signalled and waited for; waitGone wakes on its exit, not on a timer', async () => {
    const { child, ref } = sleeper();
    expect(isAlive(ref)).toBe(true);
    const started = performance.now();
    const gone = waitGone(ref, 10_000);
    expect(sendSignal(ref, 'SIGTERM')).toBe(true);
    expect(await gone).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
    await new Promise((resolve) => child.once('exit', resolve));
    expect(isAlive(ref)).toBe(false);
    expect(sendSignal(ref, 'SIGTERM')).toBe(false);
    expect(await waitGone(ref, 10_000)).toBe(true);
  });

  it('with another start time is another process: neither opened, signalled nor waited for', async () => {
    const { ref } = sleeper();
    const impostor = { pid: ref.pid, startTime: ref.startTime + 1 };
    expect(nativeAddon().openProcess(impostor.pid, impostor.startTime)).toBeNull();
    expect(sendSignal(impostor, 'SIGKILL')).toBe(false);
    expect(await waitGone(impostor, 10_000)).toBe(true);
    expect(isAlive(ref)).toBe(true);
  });

  it('still running at the deadline: waitGone says so and lets go of its pidfd', async () => {
    const { ref } = sleeper();
    // libuv closes a finished watch (and only then its pidfd) at the end of a loop turn: let one pass first.
    const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
    await settle();
    const before = pidfds();
    expect(await waitGone(ref, 50)).toBe(false);
    await settle();
    expect(pidfds()).toEqual(before);
    expect(isAlive(ref)).toBe(true);
  });
});
