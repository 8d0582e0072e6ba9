// `minictr net`: minictr's network as it is now, as a text diagram, JSON, a Graphviz graph or (with Graphviz's
// `dot` installed) that graph drawn as SVG, on stdout.

import { MinictrError } from '../errors.js';
import { renderDot, renderText } from '../network/render.js';
import { listContainers } from '../container/lookup.js';
import { collectNetworkView, type NetworkView } from '../network/view.js';
import { runCommand } from '../sys/command.js';
import { findInPath } from '../sys/preflight.js';

/** The graph drawn by Graphviz's dot (checked to be installed before anything is looked at). */
async function renderSvg(view: NetworkView): Promise<string> {
  return (await runCommand(['dot', '-Tsvg'], renderDot(view))).stdout;
}

export async function net(flags: { format: 'text' | 'json' | 'dot' | 'svg' }): Promise<number> {
  if (flags.format === 'svg' && findInPath('dot') === null) {
    throw new MinictrError("--format svg needs Graphviz's dot, which is not installed (apt-get install graphviz); --format dot prints the graph itself");
  }
  const view = await collectNetworkView(listContainers());
  const renderers = {
    text: renderText,
    dot: renderDot,
    json: (v: NetworkView) => `${JSON.stringify(v, null, 2)}\n`,
    svg: renderSvg,
  };
  process.stdout.write(await renderers[flags.format](view));
  return 0;
}
