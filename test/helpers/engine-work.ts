// The work directory of a test that runs a container engine of its own (Podman, containerd) with its storage root
// in `work/root`: removed together with whatever the engine left mounted there.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export function removeEngineWork(work: string): void {
  try {
    execFileSync('umount', ['-R', join(work, 'root')], { stdio: 'ignore' });
  } catch {
    // nothing mounted
  }
  rmSync(work, { recursive: true, force: true });
}
