// `minictr run --dry-run` changes nothing, and its script, executed as root in the scratch host, builds an
// equivalent container: hostname, address, default route, the gateway reachable, a published port answering,
// the exit status passed through, and nothing left behind. Arguments written to break out of their shell words
// stay in them, and reach the container byte for byte. The script's container has what a real run of the same flags
// has, seen from inside (capabilities, user, no_new_privs, every mount with its options: masked and read-only kernel
// paths, read-only binds down to their submounts) and from the host (the cgroup limits); only seccomp differs, as
// the script says.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('minictr run --dry-run (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'minictr-dry-run-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a script that, run as root, builds the same container', async () => {
    const command = [
      'hostname',
      'ip -4 -o addr show eth0',
      'ip route',
      'ping -c 1 -W 2 10.0.0.1',
      'httpd -p 80 -h /www',
      'wget -q -O - http://10.0.0.1:8087/',
      'echo "env: $GREETING"',
      'exit 7',
    ].join('; ');
    const args = ['run', '--rm', '--dry-run', '--ip', '10.0.0.9', '-h', 'dry', '-p', '8087:80', '-e', 'GREETING=hi there', '/bin/sh', '-c', command];
    const dry = await scratch.host.minictr(args);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^#!\/bin\/bash\n/);
    expect(dry.stdout).toContain('link add mc');
    expect(dry.stdout).toMatch(/^# {3}tc filter add dev mc[0-9a-f]{12} ingress pref 1 handle 1 bpf direct-action <minictr_veth>$/m);
    expect(dry.stdout).toContain('add element ip minictr published_any { tcp . 8087 : 10.0.0.9 . 80 }');
    expect(await scratch.host.snapshot()).toEqual(scratch.before);

    const script = join(dir, 'run.sh');
    writeFileSync(script, `${dry.stdout}\n`);
    const result = await scratch.host.exec(['bash', script], { timeout: 20_000 });
    const output = String(result.stdout);
    expect(result.exitCode, `${output}\n${String(result.stderr)}`).toBe(7);
    expect(output.split('\n')[0]).toBe('dry');
    expect(output).toMatch(/eth0\s+inet 10\.0\.0\.9\/24/);
    expect(output).toMatch(/^default via 10\.0\.0\.1 dev eth0/m);
    expect(output).toContain('1 packets transmitted, 1 packets received');
    expect(output).toContain('Hello from a minictr container');
    expect(output).toContain('env: hi there');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('keeps every argument in its shell word, comments included, and hands it to the container byte for byte', async () => {
    // Each would run `touch /run/PWNED-N` as root on the host if the script let it out of its word (/run is the
    // scratch host's own tmpfs). The script is first checked without running it: only once no argument has added
    // a line is it run.
    const hostile = [
      'x\ntouch /run/PWNED-1 #',
      'y\nMINICTR_CHILD\ntouch /run/PWNED-2\n',
      '$(touch /run/PWNED-3)',
      '`touch /run/PWNED-4`',
      "'; touch /run/PWNED-5; '",
      '\\"; touch /run/PWNED-6 #\\',
    ];
    const env = 'V=z\ntouch /run/PWNED-7 #';
    const dryRun = async (args: string[]) => {
      // bash appends an argument holding the byte 0xff, which Node's own spawn cannot pass (it encodes UTF-8).
      const wrapper = 'exec "$@" "$(printf \'a\\377b\')"';
      const command = ['/bin/sh', '-c', 'printf "%s\\0" "$V" "$@"', 'sh'];
      const run = [process.execPath, CLI, 'run', '--rm', '--dry-run', '--network', 'none', '-e', env, ...command, ...args];
      const result = await scratch.host.exec(['bash', '-c', wrapper, 'bash', ...run]);
      expect(result.exitCode, String(result.stderr)).toBe(0);
      return String(result.stdout);
    };
    const text = await dryRun(hostile);
    const plain = await dryRun(hostile.map(() => 'plain'));
    expect(text.split('\n')).toHaveLength(plain.split('\n').length);
    const script = join(dir, 'hostile.sh');
    writeFileSync(script, text);
    expect((await scratch.host.exec(['bash', '-n', script])).exitCode).toBe(0);

    const result = await scratch.host.exec(['bash', script], { timeout: 20_000, encoding: 'buffer' });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const expected = [env.slice(2), ...hostile].map((value) => Buffer.from(`${value}\0`));
    expect(Buffer.from(result.stdout as Uint8Array)).toEqual(Buffer.concat([...expected, Buffer.from([0x61, 0xff, 0x62, 0])]));
    for (let n = 1; n <= 7; n++) expect(existsSync(`/proc/${scratch.host.pid}/root/run/PWNED-${n}`)).toBe(false);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('gives its container the cgroup limits, user, capabilities, no_new_privs and mounts of a real run', async () => {
    // A tmpfs under the -v source (in the scratch host's mount namespace): a read-only bind is read-only below too.
    const volume = join(dir, 'volume');
    mkdirSync(join(volume, 'sub'), { recursive: true });
    expect((await scratch.host.exec(['mount', '-t', 'tmpfs', 'tmpfs', join(volume, 'sub')])).exitCode).toBe(0);
    const probe = [
      'grep -E "^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)" /proc/self/status',
      'touch /v/sub/x 2>&1',
      'ls -A /proc/acpi /sys/firmware 2>&1',
      'awk \'{print $5, $6}\' /proc/self/mountinfo | sort',
      'pwd',
      'sleep 1',
    ].join('; ');
    const limitFiles = ['memory.limit_in_bytes', 'pids.max', 'cpu.cfs_quota_us', 'memory.max', 'cpu.max'];
    /** Runs argv; while it runs, reads the limits of the container's cgroup (the only one of the scratch host's). */
    const observe = async (argv: string[]) => {
      const running = scratch.host.exec(argv, { timeout: 20_000 });
      let ended = false;
      void running.finally(() => (ended = true));
      const limits = new Set<string>();
      while (!ended && limits.size < 3) {
        // Once PID 1 has joined, the limits are all written.
        for (const cgroup of scratch.host.containerCgroups().filter((dir) => readFileSync(join(dir, 'cgroup.procs'), 'utf8') !== '')) {
          for (const file of limitFiles) {
            if (existsSync(join(cgroup, file))) limits.add(`${file}=${readFileSync(join(cgroup, file), 'utf8').trim()}`);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const result = await running;
      return { result, output: String(result.stdout), limits: [...limits].sort() };
    };
    for (const flags of [
      ['-m', '64m', '--pids-limit', '20', '--cpus', '0.5'],
      ['-m', '64m', '--pids-limit', '20', '--cpus', '0.5', '-u', '1000:1000', '--cap-drop', 'NET_RAW', '--cap-add', 'SYS_TIME', '--read-only', '-w', '/tmp/w'],
    ]) {
      const args = ['--rm', '--network', 'none', '-v', `${volume}:/v:ro`, ...flags, '/bin/sh', '-c', probe];
      const real = await observe([process.execPath, CLI, 'run', ...args]);
      expect(real.result.exitCode, String(real.result.stderr)).toBe(0);
      const before = await scratch.host.snapshot(); // what the script must leave as it finds it
      const dry = await scratch.host.minictr(['run', '--dry-run', '--name', 'learner', ...args]);
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`# minictr run --dry-run --name learner --rm --network none -v ${volume}:/v:ro ${flags.join(' ')} /bin/sh -c `);
      expect(dry.stdout).toMatch(/^# {3}- seccomp: /m);
      const script = join(dir, 'profile.sh');
      writeFileSync(script, dry.stdout);
      const copy = await observe(['bash', script]);
      expect(copy.result.exitCode, `${copy.output}\n${String(copy.result.stderr)}`).toBe(0);
      const withoutSeccomp = (output: string) => output.split('\n').filter((line) => !line.startsWith('Seccomp'));
      expect(withoutSeccomp(copy.output)).toEqual(withoutSeccomp(real.output));
      expect(copy.limits).toEqual(real.limits);
      expect(real.limits.length).toBe(3);
      expect(real.output).toMatch(/^CapEff:\t0000000/m);
      expect(real.output).toContain('Read-only file system');
      expect(real.output).toMatch(/^Seccomp:\t2$/m);
      expect(copy.output).toMatch(/^Seccomp:\t0$/m);
      expect(await scratch.host.settle(before)).toEqual(before);
    }
    await scratch.host.exec(['umount', join(volume, 'sub')]);
  }, 60_000);
});
