// `minictr system reset`: remove everything minictr created on this host (bridge, nftables table, leases, state,
// the ip_forward change). Refuses while containers run.

import { resetSystem } from '../container/reset.js';

export async function reset(): Promise<number> {
  await resetSystem();
  return 0;
}
