// Docker-like pull progress on a terminal: one line per layer ("3f4a9c1b2d5e: Downloading  12.3MB/45.6MB"),
// rewritten in place with cursor movements as layers progress in parallel. Used only when stderr is a terminal;
// otherwise a pull is silent until it prints the reference.

import type { WriteStream } from 'node:tty';

const REDRAW_INTERVAL_MS = 100;

function megabytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)}MB` : `${(bytes / 1e3).toFixed(1)}kB`;
}

export class PullProgress {
  private readonly lines = new Map<string, string>();
  private readonly drawnAt = new Map<string, number>();

  constructor(private readonly out: NodeJS.WriteStream | WriteStream) {}

  update(digest: string, status: string, done?: number, total?: number): void {
    const id = digest.slice('sha256:'.length, 'sha256:'.length + 12);
    const now = Date.now();
    const final = done === undefined;
    if (!final && now - (this.drawnAt.get(id) ?? 0) < REDRAW_INTERVAL_MS) return;
    this.drawnAt.set(id, now);
    const text = `${id}: ${status}${done !== undefined && total !== undefined ? ` ${megabytes(done)}/${megabytes(total)}` : ''}`;
    const row = [...this.lines.keys()].indexOf(id);
    this.lines.set(id, text);
    if (row < 0) {
      this.out.write(`${text}\n`);
      return;
    }
    const up = this.lines.size - row;
    this.out.write(`\x1b[${up}A\r\x1b[2K${text}\x1b[${up}B\r`);
  }
}
