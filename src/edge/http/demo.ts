import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The tokens a run with a generated JWT secret hands to the demo page; never in any other case. */
export interface DemoTokens {
  customer: string;
  staff: string;
}

export interface DemoSite {
  /** The built storefront example (examples/storefront/dist, built by npm install). */
  dir: string;
  tokens: DemoTokens | undefined;
}

export const DEMO_PATH = '/demo';
export const DEMO_DIR = fileURLToPath(new URL('../../../examples/storefront/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

// The page may talk to another instance (its Settings page), so connections may go anywhere; everything
// else comes from here only.
const PAGE_POLICY =
  "default-src 'self'; connect-src 'self' http: https: ws: wss:; img-src 'self' data:; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export function isDemoRequest(req: IncomingMessage): boolean {
  const pathname = (req.url ?? '/').split('?')[0]!;
  return pathname === DEMO_PATH || pathname.startsWith(`${DEMO_PATH}/`);
}

/** Signs the demo tokens a run with a generated secret offers (the same ones `npm start` prints). */
export async function signDemoTokens(
  sign: (actor: { id: string; role: 'customer' | 'staff' }) => Promise<string>,
) {
  return {
    customer: await sign({ id: 'customer-dev', role: 'customer' }),
    staff: await sign({ id: 'staff-dev', role: 'staff' }),
  } satisfies DemoTokens;
}

function answer(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** The page, with the demo tokens written in as data (a JSON script element, never executed). */
function withSetup(html: string, tokens: DemoTokens | undefined): string {
  if (!tokens) return html;
  // `<` escaped, so that nothing in the data can close the element.
  const data = JSON.stringify({ tokens }).replace(/</g, '\\u003c');
  return html.replace('</head>', `<script type="application/json" id="demo-setup">${data}</script></head>`);
}

/**
 * The storefront example, static and read-only: GET and HEAD under /demo/, files of the built folder only.
 * Hashed assets are cached for good; the page itself never (it may carry this run's tokens).
 */
export async function serveDemo(site: DemoSite, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    answer(res, 405, 'The storefront example is read-only: GET or HEAD.', { allow: 'GET, HEAD' });
    return;
  }
  const [pathname = '', query] = (req.url ?? '').split('?');
  if (pathname === DEMO_PATH) {
    // Its assets are relative to the folder, so the folder's own address is the page's.
    answer(res, 308, 'See /demo/', { location: `${DEMO_PATH}/${query === undefined ? '' : `?${query}`}` });
    return;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(pathname.slice(DEMO_PATH.length + 1)) || 'index.html';
  } catch {
    answer(res, 400, 'Malformed path.');
    return;
  }
  const file = path.resolve(site.dir, relative);
  if (relative.includes('\0') || !file.startsWith(path.resolve(site.dir) + path.sep)) {
    answer(res, 404, 'Not found.');
    return;
  }
  const found = await stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!found) {
    const built = await stat(path.join(site.dir, 'index.html')).then(
      () => true,
      () => false,
    );
    answer(res, 404, built ? 'Not found.' : 'The storefront example is not built yet: run npm install.');
    return;
  }
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  const page = type.startsWith('text/html');
  const body = page
    ? Buffer.from(withSetup(await readFile(file, 'utf8'), site.tokens))
    : await readFile(file);
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-store',
    ...(page ? { 'content-security-policy': PAGE_POLICY } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
