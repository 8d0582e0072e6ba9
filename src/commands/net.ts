// `minictr net`: minictr's network as it is now, as a text diagram, JSON or a Graphviz graph, on stdout.

import { UsageError } from '../errors.js';
import { renderDot, renderText } from '../network/render.js';
import { collectNetworkView } from '../network/view.js';

export async function net(flags: { format?: string }): Promise<number> {
  const format = flags.format ?? 'text';
  if (!['text', 'json', 'dot'].includes(format)) throw new UsageError(`invalid --format "${format}": text, json or dot`);
  const view = await collectNetworkView();
  const render = { text: renderText, dot: renderDot, json: (v: typeof view) => `${JSON.stringify(v, null, 2)}\n` }[format]!;
  process.stdout.write(render(view));
  return 0;
}
