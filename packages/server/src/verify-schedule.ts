/**
 * Runs the verification pass (reconcile.ts) every `intervalMs` while the app is open: files added, edited
 * or deleted behind the server's back reach the index and the journal without a restart. One pass at a
 * time; closing the app stops the timer and waits for a running pass. Failures are logged, never thrown.
 */
import type { FastifyInstance } from 'fastify';
import type { Mirror } from './mirror.js';
import { reconcile } from './reconcile.js';

/** Starts the periodic pass (nothing when `intervalMs` is 0). */
export function scheduleVerification(app: FastifyInstance, mirror: Mirror, root: string, intervalMs: number): void {
  if (intervalMs <= 0) return;
  let running: Promise<void> | undefined;
  let closing = false;
  const run = (): void => {
    if (running || closing) return;
    const started = performance.now();
    running = reconcile(mirror, root)
      .then((result) => {
        const ms = Math.round(performance.now() - started);
        if (result.changed) app.log.info({ ...result, ms }, 'the folder changed outside the server: index and journal caught up');
        else app.log.debug({ ...result, ms }, 'verification pass: index matches the folder');
      })
      .catch((err: unknown) => {
        // A client folder that appeared inside the served folder (CLIENT_FOLDER_NESTED) lands here too.
        app.log.error({ err }, `verification pass failed: ${(err as Error).message}`);
      })
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  app.addHook('preClose', async () => {
    closing = true;
    clearInterval(timer);
    await running;
  });
}
