/**
 * A minimal `node:http` server that answers what the storefront's ProductAvailability asks with the very
 * statements the service sends for it (product by sku, its stock row, its open inbound shipments: three
 * round trips, one after the other), and the service's own availability rules, as plain JSON: the floor
 * that bench:read sets the GraphQL layer against.
 *
 * Driven over IPC (see ChildProcessRpc in common.ts). Requests, each with a `seq` that the reply repeats:
 * - { cmd: 'start', databaseUrl, poolMax } -> { url, statements }: listens on 127.0.0.1 (a free port);
 *   `statements` is the SQL it sends per request, in order, so that the benchmark can set it against the
 *   service's;
 * - { cmd: 'stats' } -> { statements: count sent so far };
 * - { cmd: 'stop' }: closes the server and the pool, and exits.
 * HTTP: GET /?sku=… or POST / with {"sku": "…"}.
 */
import http from 'node:http';
import pg from 'pg';
import {
  availabilityStatus,
  availableUnits,
  canBackorder,
  estimateAvailableAt,
} from '../../src/domain/availability.ts';
import { toOpenInbound } from '../../src/domain/rules/eta.ts';

/** The SQL of findProductsBySkus, findStockByProductIds and listOpenInbound (src/db/repos), as Kysely sends it. */
const PRODUCT_BY_SKU =
  'select "id", "sku", "name", "backorder_policy" as "backorderPolicy", "backorder_limit" as "backorderLimit", ' +
  '"low_stock_threshold" as "lowStockThreshold", "restock_lead_time_days" as "restockLeadTimeDays", ' +
  '"max_per_customer" as "maxPerCustomer", "created_at" as "createdAt" from "product" where "sku" = any($1)';
const STOCK_BY_PRODUCT =
  'select "product_id" as "productId", "on_hand" as "onHand", "allocated", "queue_length" as "queueLength", ' +
  '"units_on_backorder" as "unitsOnBackorder" from "stock" where "product_id" = any($1)';
const OPEN_INBOUND =
  'select "id", "product_id" as "productId", "quantity", "quantity_received" as "quantityReceived", ' +
  '"expected_at" as "expectedAt", "status", "created_at" as "createdAt" from "inbound_shipment" ' +
  'where "product_id" = any($1) and "status" = $2 order by "product_id", "expected_at", "id"';

interface Request {
  seq: number;
  cmd: 'start' | 'stats' | 'stop';
  databaseUrl?: string;
  poolMax?: number;
}

interface ProductRow {
  id: number;
  sku: string;
  name: string;
  backorderPolicy: 'ALLOW' | 'DENY';
  backorderLimit: number | null;
  lowStockThreshold: number | null;
  restockLeadTimeDays: number | null;
}

interface StockRow {
  productId: number;
  onHand: number;
  allocated: number;
  queueLength: number;
  unitsOnBackorder: number;
}

interface InboundRow {
  quantity: number;
  quantityReceived: number;
  expectedAt: Date;
}

// int8 as a JS number, as the service's pool reads it.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

let server: http.Server | undefined;
let pool: pg.Pool | undefined;
let sent = 0;

async function availability(db: pg.Pool, sku: string): Promise<unknown> {
  sent++;
  const product = (await db.query<ProductRow>(PRODUCT_BY_SKU, [[sku]])).rows[0];
  if (!product) return { product: null };
  sent++;
  const stock = (await db.query<StockRow>(STOCK_BY_PRODUCT, [[product.id]])).rows[0];
  if (!stock) throw new Error(`product ${product.id} has no stock row`);
  sent++;
  const inbound = (await db.query<InboundRow>(OPEN_INBOUND, [[product.id], 'OPEN'])).rows;
  const now = new Date();
  return {
    product: {
      id: product.id,
      sku: product.sku,
      name: product.name,
      availability: {
        status: availabilityStatus(product, stock),
        quantityAvailable: availableUnits(stock),
        backorderable: canBackorder(product, stock, 1),
        queueLength: stock.queueLength,
        unitsOnBackorder: stock.unitsOnBackorder,
        nextRestockAt: inbound[0]?.expectedAt ?? null,
        estimatedAvailableAt: estimateAvailableAt(product, stock, inbound.map(toOpenInbound), 1, now),
      },
    },
  };
}

function skuOf(req: http.IncomingMessage, body: string): string | null {
  if (req.method === 'GET') return new URL(req.url ?? '/', 'http://x').searchParams.get('sku');
  const parsed = JSON.parse(body) as { sku?: unknown };
  return typeof parsed.sku === 'string' ? parsed.sku : null;
}

function answer(res: http.ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function handleHttp(db: pg.Pool, req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let sku: string | null;
    try {
      sku = skuOf(req, Buffer.concat(chunks).toString('utf8'));
    } catch {
      answer(res, 400, { error: 'body is not JSON' });
      return;
    }
    if (!sku) {
      answer(res, 400, { error: 'give a sku' });
      return;
    }
    availability(db, sku).then(
      (data) => answer(res, 200, data),
      (err: Error) => answer(res, 500, { error: err.message }),
    );
  });
}

async function handle(request: Request): Promise<Record<string, unknown>> {
  switch (request.cmd) {
    case 'start': {
      const db = new pg.Pool({
        connectionString: request.databaseUrl!,
        max: request.poolMax!,
        idleTimeoutMillis: 30_000,
        application_name: 'bench-read-sql',
        types,
      });
      db.on('error', () => {});
      pool = db;
      const s = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => handleHttp(db, req, res));
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
      server = s;
      const { port } = s.address() as { port: number };
      return {
        url: `http://127.0.0.1:${port}/`,
        statements: [PRODUCT_BY_SKU, STOCK_BY_PRODUCT, OPEN_INBOUND],
      };
    }
    case 'stats':
      return { statements: sent };
    case 'stop':
      process.send?.({ seq: request.seq, ok: true });
      return stop();
  }
}

async function stop(): Promise<never> {
  server?.closeAllConnections();
  server?.close();
  await pool?.end().catch(() => {});
  process.disconnect?.();
  process.exit(0);
}

process.on('SIGINT', () => {});
process.on('SIGTERM', () => void stop());
process.on('disconnect', () => void stop());
process.on('uncaughtException', (err) => {
  if ((err as { code?: unknown }).code !== '57P01') console.error(err);
  process.exit(1);
});
process.on('message', (request: Request) => {
  handle(request).then(
    (reply) => process.send?.({ ...reply, seq: request.seq, ok: true }),
    (err: Error) => process.send?.({ seq: request.seq, ok: false, error: err.stack ?? err.message }),
  );
});
process.send?.({ ready: true });
