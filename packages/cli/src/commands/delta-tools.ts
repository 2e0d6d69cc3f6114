/**
 * `deltabox signature | delta | patch` for commander: flags, arguments and help. The work itself is in
 * core-commands/actions.ts; a plain invocation of these commands never reaches this file, because
 * core-commands/run.ts runs it without commander (see its header), and this is what answers the rest:
 * help, usage errors, unusual flag spellings.
 */
import type { Command } from 'commander';
import {
  MAX_BLOCK_LENGTH, parseBlockSize, parseSumSize, writeDelta, writePatched, writeSignature,
} from '../core-commands/actions.js';

export function registerSignature(program: Command): void {
  program
    .command('signature')
    .description('write the signature of BASIS to SIG (rdiff signature)')
    .argument('<basis>', 'basis file, or - for stdin')
    .argument('<sig>', 'signature output, or - for stdout')
    .option('-b, --block-size <bytes>', `block length, 1..${MAX_BLOCK_LENGTH} (default: square-root rule from the file size)`, parseBlockSize)
    .option('-S, --sum-size <bytes>', 'strong hash bytes per block, 1..8 (default 8)', parseSumSize)
    .action(writeSignature);
}

export function registerDelta(program: Command): void {
  program
    .command('delta')
    .description('write the delta from the basis described by SIG to NEW (rdiff delta)')
    .argument('<sig>', 'signature file, or - for stdin')
    .argument('<new>', 'new file, or - for stdin')
    .argument('<delta>', 'delta output, or - for stdout')
    .option('--basis <file>', 'the basis itself: byte-exact matching, literals shrink to the changed bytes')
    .option('--no-compress', 'do not deflate literal runs')
    .action(writeDelta);
}

export function registerPatch(program: Command): void {
  program
    .command('patch')
    .description('apply DELTA to BASIS, writing OUT (rdiff patch); OUT appears only if the result verifies')
    .argument('<basis>', 'basis file (read at random offsets, so not stdin)')
    .argument('<delta>', 'delta file, or - for stdin')
    .argument('<out>', 'output file, or - for stdout')
    .action(writePatched);
}
