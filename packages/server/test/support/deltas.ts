/** Builds deltas with the real core engine, the way a client would. */
import { computeSignature, encodeDelta } from '@deltabox/core';

export async function makeDelta(basis: Buffer, target: Buffer): Promise<Buffer> {
  const signature = await computeSignature([basis], { basisLength: basis.length });
  const chunks: Uint8Array[] = [];
  const gen = encodeDelta(signature, [target]);
  for (;;) {
    const next = await gen.next();
    if (next.done) break;
    chunks.push(next.value);
  }
  return Buffer.concat(chunks);
}
