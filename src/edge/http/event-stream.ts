import type { IncomingMessage } from 'node:http';

/** Whether a request asks for an event stream (Server-Sent Events): a subscription over HTTP. */
export function asksForEventStream(req: IncomingMessage): boolean {
  return String(req.headers.accept ?? '').includes('text/event-stream');
}
