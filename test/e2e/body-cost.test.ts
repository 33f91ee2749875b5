import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abuseLimits } from '../helpers/abuse.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/**
 * A request body costs what parsing it costs, and holds admission by its size while it is read and parsed.
 * Handed on unparsed, a body near 1 MB cost 0.2 to 0.35 s of the event loop whatever it held (the HTTP
 * adapter enumerated its bytes), against about 10 ms to parse it.
 */
let t: TestApp;
// Small caps, no fast lane: a 100 KB body (10,000 units) runs alone, and anything else then waits 300 ms.
let tight: TestApp;

beforeAll(async () => {
  [t, tight] = await Promise.all([
    startTestApp(),
    startTestApp({
      abuse: abuseLimits({
        admission: { enabled: true, costInFlight: 100, costPerCaller: 100, fastLaneCost: 0, maxWaitMs: 300 },
      }),
    }),
  ]);
});
afterAll(() => Promise.all([t?.stop(), tight?.stop()]));

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A POST over a raw connection; `hold` sends all but the last byte, then the rest when it resolves. */
function send(app: TestApp, body: string, hold?: Promise<void>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: app.port,
        path: '/graphql',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    if (!hold) {
      req.end(body);
      return;
    }
    req.write(body.slice(0, -1));
    void hold.then(() => req.end(body.slice(-1)));
  });
}

/** A small valid request padded near `bytes` with an extension nothing reads. */
const padded = (bytes: number) =>
  JSON.stringify({ query: '{ __typename }', extensions: { pad: 'a'.repeat(bytes - 60) } });

describe('a request body costs what parsing it costs', () => {
  it('a body near 1 MB takes the event loop about as long as parsing it', async () => {
    const body = padded(990_000);
    const cpuMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = process.cpuUsage();
      const reply = await send(t, body);
      const used = process.cpuUsage(before);
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toEqual({ data: { __typename: 'Query' } });
      cpuMs.push((used.user + used.system) / 1000);
    }
    // Client and server share this process; the median keeps a stray collection out.
    cpuMs.sort((a, b) => a - b);
    expect(cpuMs[2]).toBeLessThan(100);
  });

  it('a malformed body near 1 MB gets 400, and the answer does not repeat it', async () => {
    const reply = await send(t, `{"query": "${'x'.repeat(900_000)}`);
    expect(reply.status).toBe(400);
    expect(reply.text.length).toBeLessThan(1024);
    expect(JSON.parse(reply.text).errors[0].message).toBe('Request body is not valid JSON');
  });

  it.each([
    ['null', 'null', 400, 'must be a JSON object'],
    ['a string', '"a string"', 400, 'must be a JSON object'],
    ['a number after 500 KB of spaces', `${' '.repeat(500_000)}12`, 400, 'must be a JSON object'],
    ['an empty object', '{}', 200, 'query'],
    ['an empty array', '[]', 400, 'Batching is not supported'],
    [
      'an array of 100,000 numbers',
      JSON.stringify([...Array(100_000).keys()]),
      400,
      'Batching is not supported',
    ],
  ])('a body of %s is refused, and answered at once', async (_name, body, status, message) => {
    const reply = await send(t, body);
    expect(reply.status).toBe(status);
    expect(reply.text.length).toBeLessThan(1024);
    expect(reply.text).toContain(message);
  });
});

describe('a body holds admission by its size while it is read', () => {
  it('others wait behind it, and are refused with 503 OVERLOADED past the longest wait', async () => {
    let finish!: () => void;
    const held = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // 100 KB: 10,000 units against a cap of 100, so it runs alone until it has been read and parsed.
    const large = send(tight, padded(100_000), held);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const waited = await send(tight, JSON.stringify({ query: '{ __typename }' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(waited.status).toBe(503);
    expect(waited.headers['retry-after']).toBe('1');
    expect(JSON.parse(waited.text).errors[0].extensions).toMatchObject({ code: 'OVERLOADED' });
    finish();
    expect((await large).status).toBe(200);
    // Read and parsed, it holds nothing more.
    expect((await send(tight, JSON.stringify({ query: '{ __typename }' }))).status).toBe(200);
  });
});
