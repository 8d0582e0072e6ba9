// Docker's small conventions of the command line: help succeeds, and ps lists newest first.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe('help', () => {
  const cli = (args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false });

  it('minictr alone and minictr help print the help on stdout and exit 0; an unknown verb is 125', async () => {
    for (const args of [[], ['help'], ['--help']]) {
      const result = await cli(args);
      expect(result.exitCode, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/^Usage: minictr \[options\] \[command\]/);
      expect(result.stdout).toMatch(/^ {2}run \[options\]/m);
    }
    const verb = await cli(['help', 'run']);
    expect(verb.exitCode).toBe(0);
    expect(verb.stdout).toMatch(/^Usage: minictr run /);
    const unknown = await cli(['frobnicate']);
    expect(unknown.exitCode).toBe(125);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});

describe.skipIf(!isRoot)('ps (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });

  it('lists the newest container first', async () => {
    for (const name of ['first', 'second', 'third']) {
      const result = await scratch.host.minictr(['run', '--name', name, '--network', 'none', '/bin/true']);
      expect(result.exitCode, result.stderr).toBe(0);
    }
    const listed = await scratch.host.minictr(['ps', '-a', '--format', 'json']);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((c) => c.name)).toEqual(['third', 'second', 'first']);
    await scratch.host.minictr(['rm', 'first', 'second', 'third']);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });
});
