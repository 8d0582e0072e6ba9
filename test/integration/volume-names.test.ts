// The names `volume rm` and `volume inspect` are given, in a scratch host: a name is a volume's name (as `volume
// create` and -v check it), never a path. `volume rm ../../../../x` once renamed and deleted whatever host directory
// held a volume.json at the end of that path (a container can write one into any volume or bind it has).

import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('volume rm and inspect take names, not paths (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let dir: string;
  /** A host directory outside the store that looks like a volume: it must survive. */
  let victim: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'minictr-volume-names-'));
    victim = join(dir, 'victim');
    mkdirSync(join(victim, '_data'), { recursive: true });
    writeFileSync(join(victim, 'volume.json'), '{"name":"victim","createdAt":"","anonymous":false,"seeded":true}\n');
    writeFileSync(join(victim, '_data', 'keep'), 'untouched\n');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a name that is a path, for rm, rm -f and inspect, and removes nothing', async () => {
    const traversal = `../../../../../../..${victim}`;
    for (const args of [['volume', 'rm', traversal], ['volume', 'rm', '-f', traversal], ['volume', 'inspect', traversal]]) {
      const result = await scratch.host.minictr(args);
      expect(result.exitCode, result.stderr).toBe(125);
      expect(result.stderr).toMatch(/invalid volume (rm|inspect): volume name ".*victim"/);
      expect(readdirSync(victim).sort()).toEqual(['_data', 'volume.json']);
      expect(readdirSync(join(victim, '_data'))).toEqual(['keep']);
    }
  });
});
