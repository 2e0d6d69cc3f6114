/**
 * Which journal records a request made (protocol `x-deltabox-recorded`): every route handler runs inside an
 * AsyncLocalStorage scope holding a list, and Mirror.record adds the revisions it appended once their
 * transaction committed. Writes answer with the list, so a device tells its own records from another
 * device's exactly: a write the server already held is answered with the revision of the record that made
 * it so (maybe another device's), and no record of this request at all.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance } from 'fastify';
import { formatRevisionRanges, headers } from '@deltabox/protocol';

const scope = new AsyncLocalStorage<number[]>();

/** Adds revisions the current request recorded (no-op outside a request: the verification pass). */
export function noteRecorded(revisions: readonly number[]): void {
  const list = scope.getStore();
  if (list !== undefined) list.push(...revisions);
}

declare module 'fastify' {
  interface FastifyRequest {
    recorded?: number[];
  }
}

/** Runs every handler of routes registered after this in a scope, and answers writes with what they recorded. */
export function trackRecorded(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.config?.write !== true) return;
    const handler = route.handler;
    route.handler = function (this: unknown, request, reply) {
      const list: number[] = [];
      request.recorded = list;
      return scope.run(list, () => handler.call(this as never, request, reply));
    };
  });
  app.addHook('onSend', async (request, reply) => {
    if (request.recorded !== undefined) reply.header(headers.recorded, formatRevisionRanges(request.recorded));
  });
}
