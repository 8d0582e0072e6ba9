// Small text formats shared by the listing commands (ps, images): Docker's rounded durations and its table layout.

/** "5 seconds", "3 minutes", "2 hours", "4 days": Docker's rounding, roughly. */
export function duration(since: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
  if (seconds < 60) return `${seconds} seconds`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} minutes`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} hours`;
  return `${Math.round(seconds / 86400)} days`;
}

/** A size as Docker prints one: 12.3kB, 4.5MB, 1.23GB (powers of ten). */
export function byteSize(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)}GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)}MB` : `${(bytes / 1e3).toFixed(1)}kB`;
}

/** Columns padded to their widest cell, three spaces apart, as `docker ps` prints them. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((r) => r[column]!.length)));
  return rows.map((r) => `${r.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd()}\n`).join('');
}
