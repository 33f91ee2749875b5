/**
 * A bare `ws` server in a process of its own: the floor for delivering one message to each of many
 * WebSocket connections, which bench:fanout sets the service against.
 *
 * Driven over IPC (see ChildProcessRpc in common.ts). Requests, each with a `seq` that the reply repeats:
 * - { cmd: 'start' } -> { url }: listens on 127.0.0.1, a free port;
 * - { cmd: 'stats', gc } -> { rss, heapUsed, connections } (after a full collection with gc: true);
 * - { cmd: 'send', bytes } -> { sent }: one message of exactly `bytes` bytes, shaped like a graphql-ws
 *   `next` message, to every open connection;
 * - { cmd: 'stop' }: closes every connection and exits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';

interface Request {
  seq: number;
  cmd: 'start' | 'stats' | 'send' | 'stop';
  gc?: boolean;
  bytes?: number;
}

let wss: WebSocketServer | undefined;

/** A graphql-ws `next` message of exactly `bytes` bytes (or the smallest such message, if larger). */
function message(bytes: number): string {
  const shape = (pad: string) =>
    JSON.stringify({ id: '00000000-0000-4000-8000-000000000000', type: 'next', payload: { data: { pad } } });
  return shape('x'.repeat(Math.max(0, bytes - shape('').length)));
}

function stop(): never {
  for (const ws of wss?.clients ?? []) ws.terminate();
  wss?.close();
  process.disconnect?.();
  process.exit(0);
}

async function handle(request: Request): Promise<Record<string, unknown>> {
  switch (request.cmd) {
    case 'start': {
      const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await new Promise<void>((resolve, reject) => {
        server.once('listening', resolve);
        server.once('error', reject);
      });
      wss = server;
      const { port } = server.address() as { port: number };
      return { url: `ws://127.0.0.1:${port}/` };
    }
    case 'stats': {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (request.gc && gc) {
        gc();
        await sleep(50);
        gc();
      }
      const memory = process.memoryUsage();
      return { rss: memory.rss, heapUsed: memory.heapUsed, connections: wss?.clients.size ?? 0 };
    }
    case 'send': {
      const text = message(request.bytes ?? 0);
      let sent = 0;
      for (const ws of wss?.clients ?? []) {
        if (ws.readyState !== WebSocket.OPEN) continue;
        ws.send(text);
        sent++;
      }
      return { sent, bytes: Buffer.byteLength(text) };
    }
    case 'stop':
      process.send?.({ seq: request.seq, ok: true });
      return stop();
  }
}

process.on('SIGINT', () => {});
process.on('SIGTERM', () => stop());
process.on('disconnect', () => stop());
process.on('message', (request: Request) => {
  handle(request).then(
    (reply) => process.send?.({ ...reply, seq: request.seq, ok: true }),
    (err: Error) => process.send?.({ seq: request.seq, ok: false, error: err.stack ?? err.message }),
  );
});
process.send?.({ ready: true });
