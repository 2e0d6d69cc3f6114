/**
 * HTTP authentication: reads `Authorization: Bearer <token>` on every route not marked public, refuses
 * writes with a read-only token, and rate limits failed attempts per address (@fastify/rate-limit counts
 * only requests whose token failed: valid traffic is on its allow list).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { ApiError } from '../api-error.js';
import type { ServerLimits } from '../limits.js';
import type { TokenCheck, TokenStore } from './token-store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No token needed (health). */
    public?: boolean;
    /** The route changes the mirror: a read-only token gets 403. */
    write?: boolean;
  }
  interface FastifyRequest {
    auth: TokenCheck | null;
  }
}

function bearerOf(request: FastifyRequest): string | undefined {
  const value = request.headers.authorization;
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match ? match[1] : '';
}

const reasons: Record<Exclude<TokenCheck, { ok: true }>['reason'], string> = {
  missing: 'missing bearer token',
  malformed: 'malformed bearer token',
  unknown: 'unknown token',
  revoked: 'token revoked',
  expired: 'token expired',
};

/** Installs authentication on `app` (call before registering routes). */
export async function registerAuth(app: FastifyInstance, tokens: TokenStore, limits: ServerLimits): Promise<void> {
  app.decorateRequest('auth', null);
  const isPublic = (request: FastifyRequest): boolean => request.routeOptions.config?.public === true;

  // 1. Decide (no reply yet, so the rate limiter below can see the outcome).
  app.addHook('onRequest', async (request) => {
    if (!isPublic(request)) request.auth = tokens.check(bearerOf(request));
  });

  // 2. Count failures only.
  await app.register(rateLimit, {
    max: limits.authFailureMax,
    timeWindow: limits.authFailureWindowMs,
    allowList: (request) => isPublic(request) || request.auth?.ok === true,
    errorResponseBuilder: (_request, context) =>
      new ApiError('RATE_LIMITED', `too many failed authentications; retry in ${context.after}`),
  });

  // 3. Enforce, before any body is parsed.
  app.addHook('preParsing', async (request) => {
    if (isPublic(request)) return;
    const auth = request.auth;
    if (!auth?.ok) throw new ApiError('UNAUTHORIZED', auth ? reasons[auth.reason] : reasons.missing);
    if (auth.readOnly && request.routeOptions.config?.write === true) {
      throw new ApiError('FORBIDDEN', `token '${auth.name}' is read-only`);
    }
  });
}
