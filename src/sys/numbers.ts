// Numbers from the command line, parsed strictly. JavaScript's Number() takes "0x10", "1e3", " 5", "+5", "-0",
// "Infinity" and "" (as 0), none of which a user means as --cpus or --pids-limit. Here a number is decimal digits,
// with one point where a fraction makes sense, and nothing else. Each function returns null for anything else; the
// caller checks the range and names its flag and limits in the error.

const WHOLE = /^\d+$/;
const DECIMAL = /^(\d+\.?\d*|\.\d+)$/;
const SIZE = /^(\d+\.?\d*|\.\d+)([bkmg]?)$/i;
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Digits only: "0", "42", "007". */
export function parseWhole(text: string): number | null {
  return WHOLE.test(text) ? Number(text) : null;
}

/** Digits with at most one decimal point: "2", "0.5", ".5", "2.". */
export function parseDecimal(text: string): number | null {
  return DECIMAL.test(text) ? Number(text) : null;
}

/** Bytes: a decimal number with an optional unit b, k, m or g (powers of 1024, either case), rounded down. */
export function parseSize(text: string): number | null {
  const match = SIZE.exec(text);
  return match === null ? null : Math.floor(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
}
