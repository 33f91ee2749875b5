import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DIR } from '../../src/edge/http/demo.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const TOKENS = { customer: 'customer.demo.token', staff: 'staff.demo.token' };

async function get(base: string, pathname: string, init: RequestInit = {}) {
  const res = await fetch(new URL(pathname, base), { redirect: 'manual', ...init });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('the storefront example at /demo', () => {
  let withTokens: TestApp;
  let ownSecret: TestApp;
  let production: TestApp;
  let productionOn: TestApp;

  beforeAll(async () => {
    expect(existsSync(path.join(DEMO_DIR, 'index.html')), 'npm run demo:build (npm install does it)').toBe(
      true,
    );
    [withTokens, ownSecret, production, productionOn] = await Promise.all([
      startTestApp({ demoTokens: TOKENS }),
      startTestApp(),
      startTestApp({ production: true }),
      startTestApp({ production: true, edge: { demo: true } }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([withTokens, ownSecret, production, productionOn].map((t) => t?.stop()));
  });

  it('serves the page with its files under /demo/, with their content types', async () => {
    const moved = await get(withTokens.url, '/demo?x=1');
    expect(moved.status).toBe(308);
    expect(moved.headers.get('location')).toBe('/demo/?x=1');

    const page = await get(withTokens.url, '/demo/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    const style = /href="\.\/(assets\/[^"]+\.css)"/.exec(page.text)?.[1];
    expect(script && style).toBeTruthy();

    const js = await get(withTokens.url, `/demo/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await get(withTokens.url, `/demo/${style}`)).headers.get('content-type')).toBe(
      'text/css; charset=utf-8',
    );
    const head = await fetch(new URL(`/demo/${script}`, withTokens.url), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(Buffer.byteLength(js.text));
  });

  it('writes the demo tokens into the page only when the secret was made for the run', async () => {
    const page = (await get(withTokens.url, '/demo/')).text;
    const setup = /<script type="application\/json" id="demo-setup">(.*?)<\/script>/.exec(page)?.[1];
    expect(JSON.parse(setup ?? 'null')).toEqual({ tokens: TOKENS });

    const other = (await get(ownSecret.url, '/demo/')).text;
    expect(other).not.toContain('demo-setup');
    expect(other).not.toContain('token');
  });

  it('serves nothing outside the built folder, and nothing but GET and HEAD', async () => {
    for (const sneaky of ['/demo/../package.json', '/demo/%2e%2e/package.json', '/demo/..%2fpackage.json']) {
      const res = await get(withTokens.url, sneaky);
      expect(res.status, sneaky).toBe(404);
      expect(res.text).not.toContain('backorder-api');
    }
    expect((await get(withTokens.url, '/demo/%E0%A4%A')).status).toBe(400);
    expect((await get(withTokens.url, '/demo/nothing.js')).status).toBe(404);
    const post = await get(withTokens.url, '/demo/', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    // Every built file is reachable: nothing the page needs is missing.
    for (const file of readdirSync(path.join(DEMO_DIR, 'assets'))) {
      expect((await get(withTokens.url, `/demo/assets/${file}`)).status).toBe(200);
    }
  });

  it('is off in production unless DEMO turns it on, and then without tokens', async () => {
    expect((await get(production.url, '/demo/')).status).toBe(404);
    const on = await get(productionOn.url, '/demo/');
    expect(on.status).toBe(200);
    expect(on.text).not.toContain('demo-setup');
  });

  it('opens GraphiQL on the guided tour: the contract operations as tabs, tokens only for this run', async () => {
    const html = async (t: TestApp) =>
      (await get(t.url, '/graphql', { headers: { accept: 'text/html' } })).text;
    const tour = await html(withTokens);
    for (const operation of [
      'query Catalog',
      'mutation PlaceOrder',
      'subscription WatchBackorder',
      'mutation ReceiveStock',
    ]) {
      expect(tour).toContain(operation);
    }
    expect(tour).toContain(`Bearer ${TOKENS.customer}`);
    expect(tour).toContain(`Bearer ${TOKENS.staff}`);

    const plain = await html(ownSecret);
    expect(plain).toContain('mutation PlaceOrder');
    expect(plain).not.toContain('Bearer customer');
    expect(plain).toContain('Put a customer token in the Headers tab');
  });
});
