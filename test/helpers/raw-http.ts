import { connect as connectTcp, type Socket } from 'node:net';

/** What came back on a hand-written connection, and whether it ended cleanly or was reset. */
export interface RawExchange {
  text: string;
  ended: 'end' | 'reset';
  ms: number;
}

/** Writes raw bytes on a fresh connection to the service; resolves with all it read once it closes. */
export function rawExchange(port: number, write: (socket: Socket) => void): Promise<RawExchange> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1', () => write(socket));
    let text = '';
    let ended: RawExchange['ended'] = 'end';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => {
      ended = 'reset';
    });
    socket.on('close', () => resolve({ text, ended, ms: Date.now() - started }));
  });
}
