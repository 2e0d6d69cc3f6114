/**
 * One pino line per request (Fastify's default is two: incoming and completed); health checks at debug
 * level, so they do not drown the log. Request serializers
 * never include headers, and the authorization header is redacted anyway should a caller add them.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { routes } from '@deltabox/protocol';

export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 10) / 10 };
    if (error || reply.statusCode >= 500) reply.log.error({ ...line, err: error }, 'request failed');
    // Health checks come every few seconds from every client and monitor: visible at debug level only.
    else if (request.routeOptions.url === routes.health && reply.statusCode < 400) reply.log.debug(line, 'request');
    else reply.log.info(line, 'request');
  }
}

/** Pino options for `ServerOptions.logger`: true means info level; redaction is always on. */
export function loggerOptions(logger: boolean | object | undefined): false | object {
  if (!logger) return false;
  const base = logger === true ? { level: 'info' } : logger;
  return { ...base, redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: '[redacted]' } };
}
