// Small text formats shared by the listing commands (ps, images): Docker's rounded durations and its table layout.

/** How long ago an ISO time was, in Docker's words. */
export function duration(since: string): string {
  return humanDuration(Date.now() - Date.parse(since));
}

/** Docker's wording of a duration (go-units HumanDuration): "Less than a second", "About a minute", "3 hours". */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.floor(Math.max(0, milliseconds) / 1000);
  const minutes = Math.floor(seconds / 60);
  const hours = Math.round(seconds / 3600);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(seconds / 3600 / 24 / 365)} years`;
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
