// What the command-line tools share about bad usage: the error they exit 2
// with, and the parsing of integer options.

/** Bad usage of a command: its message is printed with the usage, and the exit status is 2. */
export class UsageError extends Error {}

/**
 * The integer value of option `what` (undefined when not given): decimal
 * digits only, from `min` to `max` when they are given, else any (≥ 0).
 */
export function integerOption(
  value: string | undefined,
  what: string,
  min?: number,
  max?: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (min === undefined || max === undefined) {
    if (!/^\d+$/.test(value)) throw new UsageError(`${what} must be a non-negative integer`);
  } else if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${what} must be an integer from ${min} to ${max}`);
  }
  return n;
}
