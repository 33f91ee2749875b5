import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator } from '../auth/tokens.ts';
import { readJsonBody, refuse } from '../http/body.ts';
import { applyCors } from '../http/cors.ts';
import { DEMO_DIR, isDemoRequest, serveDemo } from '../http/demo.ts';
import { asksForEventStream } from '../http/event-stream.ts';
import { trackResponse } from '../http/slow-clients.ts';
import type { ConnectionGuard } from '../limits/connection-caps.ts';
import { callerOfRequest, type EdgeGate } from '../limits/edge-gate.ts';
import type { FullAppConfig } from './app-config.ts';
import type { GraphQLHandler } from './graphql-handler.ts';

export const LIMITS = { bodyBytes: 1_000_000 } as const;

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * One HTTP request, in the order it is judged: the storefront's static files, CORS, its address's rate
 * limit, a stream slot for Server-Sent Events, the body (JSON only, bounded, read under admission by
 * size), then GraphQL.
 */
export function createRequestHandler(
  config: Pick<FullAppConfig, 'edge' | 'demoTokens'>,
  parts: { graphql: GraphQLHandler; auth: Authenticator; gate: EdgeGate; connections: ConnectionGuard },
): RequestHandler {
  const { graphql, auth, gate, connections } = parts;
  const { edge } = config;
  return async (req, res) => {
    trackResponse(res);
    // The storefront example: static files, outside the GraphQL edge (no CORS, no JSON bodies).
    if (edge.demo && isDemoRequest(req)) {
      await serveDemo({ dir: DEMO_DIR, tokens: config.demoTokens }, req, res);
      return;
    }
    if (applyCors(edge.corsOrigins, req, res)) return;
    // Every request counts against its address before its token or body is read; 429 past the limit.
    if (!(await gate.admitRequest(req, res))) return;
    if (asksForEventStream(req)) {
      if (!connections.admitStream(req, res, await callerOfRequest(gate, req, auth.authenticate))) return;
    }
    if (req.method !== 'POST') {
      if (Number(req.headers['content-length'] ?? 0) > LIMITS.bodyBytes) {
        refuse(req, res, 413, `Request body is larger than ${LIMITS.bodyBytes} bytes`);
        return;
      }
      await graphql.requestListener(req, res);
      return;
    }
    // POST bodies are read and parsed here: JSON only, a chunked body without a length meets the same
    // limit, and reading and parsing hold admission by size.
    const body = await readJsonBody(req, res, LIMITS.bodyBytes, (bytes) => gate.admitBody(req, bytes));
    if (body === null) return;
    // A parsed body on the request is what the fetch adapter then hands to Yoga instead of the stream.
    (req as IncomingMessage & { body?: object }).body = body;
    await graphql.requestListener(req, res);
  };
}
