import { describe, expect, it } from 'vitest';
import { EscapeCounter, ESCAPE_WINDOW_MS, ignoresSignal, signalMask } from '../../src/container/signal-escape.js';

// SigCgt: SIGINT (2) and SIGCHLD (17) caught; SigIgn: SIGPIPE (13) ignored.
const STATUS = 'Name:\tsh\nSigQ:\t0/63413\nSigPnd:\t0000000000000000\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000001000\nSigCgt:\t0000000000010002\n';

describe('signal escape', () => {
  it('counts SIGINT and SIGTERM within the window only, and names them', () => {
    const counter = new EscapeCounter();
    expect(counter.record('SIGINT', 0)).toBe(1);
    expect(counter.record('SIGQUIT', 10)).toBe(0);
    expect(counter.record('SIGTERM', 1000)).toBe(2);
    expect(counter.record('SIGINT', ESCAPE_WINDOW_MS + 500)).toBe(2); // the first is out of the window
    expect(counter.record('SIGINT', ESCAPE_WINDOW_MS + 600)).toBe(3);
    expect(counter.names).toBe('SIGINT/SIGTERM');
  });

  it('reads the masks of /proc/PID/status', () => {
    expect(signalMask(STATUS, 'SigCgt')).toBe(0x10002n);
    expect(signalMask(STATUS, 'SigIgn')).toBe(0x1000n);
    expect(signalMask('Name:\tx\n', 'SigCgt')).toBeNull();
  });

  it('a PID 1 ignores what it does not catch; another process only what it ignores', () => {
    const view = (status: string, wchan = 'do_nanosleep') => ({ status, wchan });
    expect(ignoresSignal(view(STATUS), 'SIGINT', true)).toBe(false);
    expect(ignoresSignal(view(STATUS), 'SIGTERM', true)).toBe(true);
    expect(ignoresSignal(view(STATUS), 'SIGPIPE', true)).toBe(true);
    expect(ignoresSignal(view(STATUS), 'SIGTERM', false)).toBe(false);
    expect(ignoresSignal(view(STATUS), 'SIGPIPE', false)).toBe(true);
    expect(ignoresSignal(view(''), 'SIGTERM', true)).toBe(false);
    // Blocked: pending until taken (minictr-init's sigwaitinfo), never ignored.
    expect(ignoresSignal(view(STATUS.replace('SigBlk:\t0000000000000000', 'SigBlk:\tfffffffe7ffbfeff')), 'SIGTERM', true)).toBe(false);
    // Asleep in sigwaitinfo: the kernel shows the waited-for signals unblocked meanwhile.
    expect(ignoresSignal(view(STATUS, 'do_sigtimedwait.isra.0'), 'SIGTERM', true)).toBe(false);
  });
});
