// What a run tells about itself on stderr: with --explain, one line per step as it completes (what was done, with
// which command or system call, and why); with --timings, when the container has exited, how long each step took,
// as text or JSON. Both come from the same marks, made by lifecycle.ts at the end of each step.

import { info } from '../log.js';
import { now } from '../startup.js';
import type { RunStep } from './steps.js';

export type TimingsFormat = 'text' | 'json';

export interface StepTiming {
  step: string;
  ms: number;
}

export class RunReport {
  private readonly explain: boolean;
  private readonly startup: number;
  private readonly created = now();
  private last = this.created;
  readonly steps: StepTiming[] = [];

  /** `startup`: ms from process start until minictr's first module ran (Node's own start-up, cli.ts's imports). */
  constructor(options: { explain: boolean; startup: number }) {
    this.explain = options.explain;
    this.startup = options.startup;
  }

  /**
   * Marks the end of `step`, timing it from the previous mark, and explains it when asked to. Steps that ran side by
   * side are marked in order once all are done, each at the moment it ended (`at`) or, if it ended before the one
   * marked just before it, at that one's end: the times then add up to the critical path.
   */
  step(step: RunStep, explanation: string, at = now()): void {
    const end = Math.max(at, this.last);
    this.steps.push({ step, ms: end - this.last });
    this.last = end;
    if (this.explain) info(`${step}: ${explanation}`);
  }

  /** With --explain, what a step also set up, indented under it; not timed. */
  detail(lines: readonly [string, string][]): void {
    if (this.explain) for (const [label, explanation] of lines) info(`  ${label}: ${explanation}`);
  }

  render(format: TimingsFormat): string {
    const rows = [
      { step: 'start-up (node)', ms: this.startup },
      { step: 'load (commander, run modules)', ms: this.created - this.startup },
      ...this.steps,
    ];
    const total = rows.reduce((sum, row) => sum + row.ms, 0);
    if (format === 'json') {
      const round = (ms: number) => Math.round(ms * 1000) / 1000;
      return `${JSON.stringify({ steps: rows.map((r) => ({ step: r.step, ms: round(r.ms) })), total_ms: round(total) })}\n`;
    }
    const width = Math.max(...rows.map((r) => r.step.length), 'total'.length);
    const line = (step: string, ms: number) => `${step.padEnd(width)}  ${ms.toFixed(1).padStart(8)} ms`;
    return `${[...rows.map((r) => line(r.step, r.ms)), line('total', total)].join('\n')}\n`;
  }
}
