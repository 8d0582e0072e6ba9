// The record of the verified nftables base (/run/minictr/nft-base, network/firewall.ts): a bridged run whose ruleset
// is where the record says takes the fast path (no listing), comparing the base by its text, which the record holds
// beside its SHA-256 marker; a record an older minictr wrote (the marker alone) still takes it, compared by the
// marker, and is given the text; a record of another base is listed and replaced. `--debug` logs each libnftables
// command, so a listing shows as `nft -t "list table ip minictr`. The record also keeps, for the running kernel,
// whether unpublished elements expire, which the first -p teardown asks of an element of its own with a `get element`
// and later ones read.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, ScratchHost, type Result, type Snapshot } from '../helpers/scratch-host.js';

const RECORD = '/run/minictr/nft-base';
const LISTING = 'list table ip minictr';
const EXPIRY_CHECK = 'get element ip minictr published_addr';

interface Record {
  netns: string;
  generation: number;
  marker: string;
  base?: string;
  expiry?: { kernel: string; works: boolean };
}

describe.skipIf(!isRoot)('the verified base record (needs root: skipped otherwise)', () => {
  let host: ScratchHost;
  let before: Snapshot;

  beforeAll(async () => {
    host = await ScratchHost.create();
    expect((await host.minictr(['run', '--rm', '/bin/true'])).exitCode).toBe(0);
    before = await host.settle(await host.snapshot());
  });

  afterAll(async () => {
    await host?.dispose();
  });

  const record = async (): Promise<Record> => JSON.parse(await host.must(['cat', RECORD])) as Record;
  const write = async (value: Record) => {
    expect((await host.exec(['tee', RECORD], { input: JSON.stringify(value) })).exitCode).toBe(0);
  };
  const debugRun = async (...flags: string[]): Promise<Result> => {
    const result = await host.minictr(['--debug', 'run', '--rm', ...flags, '/bin/true']);
    expect(result.exitCode, result.stderr).toBe(0);
    return result;
  };

  it('holds the base text beside the marker, and a run where it says takes the fast path', async () => {
    const current = await record();
    expect(current.marker).toMatch(/^minictr-base-[0-9a-f]{12}$/);
    expect(current.base).toContain('add table ip minictr');
    expect((await debugRun()).stderr).not.toContain(LISTING);
    expect(await record()).toEqual(current);
  });

  it("takes an older minictr's record (the marker alone) by its marker, and gives it the text", async () => {
    const { base, ...older } = await record();
    await write(older);
    expect((await debugRun()).stderr).not.toContain(LISTING);
    expect(await record()).toEqual({ ...older, base });
  });

  it('lists and records again when the record names another base', async () => {
    const current = await record();
    await write({ ...current, base: `${current.base}\nadd rule ip minictr forward drop` });
    expect((await debugRun()).stderr).toContain(LISTING);
    expect(await record()).toEqual(current);
    await write({ netns: current.netns, generation: current.generation, marker: 'minictr-base-000000000000' });
    expect((await debugRun()).stderr).toContain(LISTING);
    expect(await record()).toEqual(current);
    expect(await host.settle(before)).toEqual(before);
  });

  it('asks whether elements expire at the first -p teardown on a kernel only, and keeps the answer in the record', async () => {
    const kernel = (await host.must(['uname', '-r'])).trim();
    // Asked of an element of its own (port 0 on a 127/8 address), never of the container's: a concurrent teardown
    // deleting that one would pass for an expiry. Nothing of it is left in the map.
    expect((await debugRun('-p', '8080:80')).stderr).toMatch(/get element ip minictr published_addr \{ 127\.\d+\.\d+\.\d+ \. tcp \. 0 \}/);
    expect(await host.must(['nft', 'list', 'map', 'ip', 'minictr', 'published_addr'])).not.toContain('elements');
    const { expiry } = await record();
    expect(expiry?.kernel).toBe(kernel);
    expect((await debugRun('-p', '8080:80')).stderr).not.toContain(EXPIRY_CHECK);
    expect((await record()).expiry).toEqual(expiry);
    // An answer recorded for another kernel is not this one's: ask again.
    await write({ ...(await record()), expiry: { kernel: `${kernel}-other`, works: !expiry!.works } });
    expect((await debugRun('-p', '8080:80')).stderr).toContain(EXPIRY_CHECK);
    expect((await record()).expiry).toEqual(expiry);
    expect(await host.settle(before)).toEqual(before);
  });
});
