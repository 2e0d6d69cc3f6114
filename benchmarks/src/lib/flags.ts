/**
 * Validation of the benchmark runners' flags after `node:util` parseArgs (which only knows strings and
 * booleans): whole numbers within bounds, and comma lists from a known set. Each failure is a FlagError naming
 * the flag, what it got and what it takes, so `--seed abc` or `--runs 0` stops the run before anything starts.
 */

/** A flag value the runner cannot use. */
export class FlagError extends Error {
  override name = 'FlagError';
}

/** `value` as an integer in [min, max]; `undefined` stays undefined. */
export function parseIntegerFlag(flag: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new FlagError(`${flag} takes a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n < min || n > max) throw new FlagError(`${flag} must be between ${min} and ${max}, got ${value}`);
  return n;
}

/** A comma-separated `value` whose items must all be in `allowed`; undefined when the flag was not given. */
export function parseListFlag(flag: string, value: string | undefined, allowed: readonly string[]): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new FlagError(`${flag} needs at least one of: ${allowed.join(', ')}`);
  const unknown = items.filter((s) => !allowed.includes(s));
  if (unknown.length > 0) throw new FlagError(`${flag}: unknown ${unknown.join(', ')} (choose from ${allowed.join(', ')})`);
  return items;
}

/**
 * Runs `parse` (parseArgs and the checks above); on a bad flag prints `<runner>: <message>` and exits 2 instead
 * of a stack trace. parseArgs' own errors (unknown option, missing value) are treated the same way.
 */
export function parseFlagsOrExit<T>(runner: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (e instanceof FlagError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`${runner}: ${(e as Error).message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

/** The runner's arguments without the `--` separators a package manager may pass through (`pnpm bench -- --quick`). */
export function runnerArgs(): string[] {
  return process.argv.slice(2).filter((a) => a !== '--');
}
