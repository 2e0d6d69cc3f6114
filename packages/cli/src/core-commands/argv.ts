/**
 * A strict parser for the plain forms of `deltabox signature | delta | patch`, so they can run without loading
 * commander (most of a small command's start-up cost). It accepts only what it fully understands: the right
 * number of operands, known flags as `--flag VALUE`, `--flag=VALUE` or `-b VALUE` with valid values, and `-` as
 * an operand. Anything else (help, `--`, unknown or bundled flags, a bad value, a missing operand) gives
 * undefined, and the caller hands the whole command line to commander, which answers or explains as always.
 */
import { parseBlockSize, parseSumSize, type DeltaFlags, type SignatureFlags } from './actions.js';

export type CoreInvocation =
  | { command: 'signature'; operands: [string, string]; flags: SignatureFlags }
  | { command: 'delta'; operands: [string, string, string]; flags: DeltaFlags }
  | { command: 'patch'; operands: [string, string, string] };

/** A flag of one command: its spellings, the property it sets and how its value is read (none: a switch). */
interface FlagSpec {
  names: readonly string[];
  key: string;
  value?: (text: string) => unknown;
  /** The value a switch sets. */
  set?: unknown;
}

const SPECS: Record<CoreInvocation['command'], { operands: number; flags: readonly FlagSpec[]; defaults: object }> = {
  signature: {
    operands: 2,
    flags: [
      { names: ['-b', '--block-size'], key: 'blockSize', value: parseBlockSize },
      { names: ['-S', '--sum-size'], key: 'sumSize', value: parseSumSize },
    ],
    defaults: {},
  },
  delta: {
    operands: 3,
    flags: [
      { names: ['--basis'], key: 'basis', value: (text) => text },
      { names: ['--no-compress'], key: 'compress', set: false },
    ],
    defaults: { compress: true },
  },
  patch: { operands: 3, flags: [], defaults: {} },
};

/** The value of a flag, or undefined when it is not one this parser takes on trust. */
function flagValue(spec: FlagSpec, text: string | undefined): unknown {
  if (text === undefined || (text.startsWith('-') && text !== '-') || !spec.value) return undefined;
  try {
    return spec.value(text);
  } catch {
    return undefined; // commander will report it, word for word as usual
  }
}

/** `argv` as from process.argv (node, script, command, ...), parsed; undefined when commander must decide. */
export function parseCoreInvocation(argv: readonly string[]): CoreInvocation | undefined {
  const command = argv[2];
  if (command !== 'signature' && command !== 'delta' && command !== 'patch') return undefined;
  const spec = SPECS[command];
  const operands: string[] = [];
  const flags: Record<string, unknown> = { ...spec.defaults };
  for (let i = 3; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '-' || !word.startsWith('-')) {
      operands.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const name = eq > 0 && word.startsWith('--') ? word.slice(0, eq) : word;
    const flag = spec.flags.find((f) => f.names.includes(name));
    if (!flag) return undefined;
    if (flag.set !== undefined) {
      if (name !== word) return undefined;
      flags[flag.key] = flag.set;
      continue;
    }
    const value = flagValue(flag, name === word ? argv[++i] : word.slice(eq + 1));
    if (value === undefined) return undefined;
    flags[flag.key] = value;
  }
  if (operands.length !== spec.operands) return undefined;
  // SPECS fixes the operand count and the flags of each command, which is what the union spells out.
  return { command, operands, flags } as unknown as CoreInvocation;
}
