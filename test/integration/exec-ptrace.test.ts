// `minictr exec` against a container that keeps CAP_SYS_PTRACE, which "not dumpable" does not stop: whatever of
// exec's process becomes visible in the container must never be a copy of the host's Node (its /proc/PID/exe would
// hand the container the host's binary, to overwrite once it is no longer running: CVE-2019-5736) and must never
// carry minictr's environment (/proc/PID/environ) or command line (/proc/PID/cmdline, which holds -e values).
//
// minictr runs from a private copy of Node here, so that once an exec has ended nothing executes that copy and a
// handle on it could really be reopened for writing; the host's own node stays busy running the tests.

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';

// PID 1: for every new process whose parent is outside the container (PPid 0: exec'd processes), hold its
// executable open (a sleeping child's stdin) for the check below, and record whether its environment holds
// minictr's marker or its argv an -e value (the command's environment must never travel in argv).
const WATCHER = `
seen=" "
while [ ! -e /tmp/stop ]; do
  for d in /proc/[0-9]*; do
    p=\${d#/proc/}
    case "$seen" in *" $p "*) continue;; esac
    seen="$seen$p "
    ppid=
    while read -r key value; do [ "$key" = PPid: ] && { ppid=$value; break; }; done 2>/dev/null < $d/status
    [ "$ppid" = 0 ] && [ "$p" != 1 ] || continue
    { sleep 120 <&3 & } 2>/dev/null 3< $d/exe && echo "held $!" >> /tmp/log
    grep -q MINICTR_TEST_SECRET $d/environ 2>/dev/null && echo "environ $p" >> /tmp/log
    grep -q exec-only-value $d/cmdline 2>/dev/null && echo "cmdline $p" >> /tmp/log
  done
done
touch /tmp/stopped
exec sleep 120
`;

// After the execs: what each held executable is. A file of the container's own tree is fine; a memfd must be sealed
// (a one-byte write fails); anything else is a host file, and opening it for writing must not work either.
const CHECK = `
touch /tmp/stop
while [ ! -e /tmp/stopped ]; do sleep 0.1; done
grep -E "^(environ|cmdline)" /tmp/log
for h in $(sed -n 's/^held //p' /tmp/log); do
  t=$(readlink /proc/$h/fd/0)
  if [ /proc/$h/fd/0 -ef "$t" ]; then echo "container $t"
  elif [ "\${t#/memfd:}" != "$t" ]; then (printf x >> /proc/$h/fd/0) 2>/dev/null && echo "memfd-written $t" || echo "memfd $t"
  else (: >> /proc/$h/fd/0) 2>/dev/null && echo "host-writable $t" || echo "host $t"
  fi
done
`;

describe.skipIf(!isRoot)('exec into a container with CAP_SYS_PTRACE (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });

  it('never shows the container a host binary or minictr\'s environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'minictr-node-'));
    const node = join(dir, 'node');
    copyFileSync(process.execPath, node);
    try {
      const run = await scratch.host.minictr(['run', '-d', '--name', 'watcher', '--cap-add', 'SYS_PTRACE', '/bin/sh', '-c', WATCHER]);
      expect(run.exitCode, run.stderr).toBe(0);
      const env = { MINICTR_TEST_SECRET: 'host-only-value' };
      const exec = async () => {
        const argv = [node, CLI, 'exec', '-e', 'EXEC_VALUE=exec-only-value', 'watcher', '/bin/true'];
        const result = await scratch.host.exec(argv, { env, timeout: 20_000 });
        expect(result.exitCode, String(result.stderr)).toBe(0);
      };
      for (let i = 0; i < 30; i++) await Promise.all([exec(), exec()]); // 60 execs, two at a time

      const check = await scratch.host.minictr(['exec', 'watcher', '/bin/sh', '-c', CHECK]);
      expect(check.exitCode, check.stderr).toBe(0);
      const lines = check.stdout.split('\n').filter(Boolean);
      // The watcher works: it caught exec'd processes.
      expect(lines.length, check.stdout).toBeGreaterThan(0);
      expect(lines.filter((line) => !/^(container|memfd) /.test(line)), check.stdout).toEqual([]);
    } finally {
      await scratch.host.minictr(['rm', '-f', 'watcher']);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  }, 60_000);
});
