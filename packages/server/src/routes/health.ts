/** GET /v1/health: liveness without a token. */
import type { FastifyInstance } from 'fastify';
import { routes, type HealthResponse } from '@deltabox/protocol';
import type { Journal } from '../state/journal.js';
import { SERVER_VERSION } from '../version.js';

export async function healthRoutes(app: FastifyInstance, { journal }: { journal: Journal }): Promise<void> {
  app.get(routes.health, { config: { public: true } }, async (): Promise<HealthResponse> => ({
    ok: true,
    version: SERVER_VERSION,
    revision: journal.latest(),
  }));
}
