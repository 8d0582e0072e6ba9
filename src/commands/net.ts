// `minictr net`: minictr's network as it is now, as a text diagram, JSON or a Graphviz graph, on stdout.

import { renderDot, renderText } from '../network/render.js';
import { listContainers } from '../container/lookup.js';
import { collectNetworkView } from '../network/view.js';

export async function net(flags: { format: 'text' | 'json' | 'dot' }): Promise<number> {
  const view = await collectNetworkView(listContainers());
  const render = { text: renderText, dot: renderDot, json: (v: typeof view) => `${JSON.stringify(v, null, 2)}\n` }[flags.format];
  process.stdout.write(render(view));
  return 0;
}
