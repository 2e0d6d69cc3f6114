/**
 * The fast path of `deltabox signature | delta | patch`: parse the plain forms strictly (argv.ts) and run them
 * without commander, the scanner or the server. bin/deltabox.js loads this module as one bundle
 * (scripts/bundle-commands.mjs), so such a command starts about as fast as `node` itself; main.ts calls
 * it too, so the tests that run the CLI from its sources take the same path.
 */
import { parseCoreInvocation } from './argv.js';
import { writeDelta, writePatched, writeSignature } from './actions.js';
import { reportError } from '../exit-codes.js';

/** Runs a plain core command and resolves to its exit code; undefined (nothing done) when commander must parse it. */
export async function runCoreCommand(argv: readonly string[]): Promise<number | undefined> {
  const call = parseCoreInvocation(argv);
  if (!call) return undefined;
  try {
    if (call.command === 'signature') await writeSignature(...call.operands, call.flags);
    else if (call.command === 'delta') await writeDelta(...call.operands, call.flags);
    else await writePatched(...call.operands);
    return 0;
  } catch (err) {
    return reportError(err);
  }
}
