import { readFileSync } from 'node:fs';
import type { GraphiQLOptions } from 'graphql-yoga';

/** What GraphiQL opens with: the storefront's first question, against the demo catalogue. */
export const GRAPHIQL_DEFAULT_QUERY = `# backorder-api: products, stock, fair backorder queues, live.
# Try it on the demo catalogue (skus DEMO-MUG, DEMO-TEE, DEMO-LAMP, DEMO-POSTER).
# Staff and customer tokens are printed by \`npm start\`; put one in the Headers tab:
#   { "Authorization": "Bearer <token>" }

query ProductAvailability {
  product(sku: "DEMO-LAMP") {
    id
    sku
    name
    availability {
      status
      quantityAvailable
      backorderable
      queueLength
      unitsOnBackorder
      nextRestockAt
      estimatedAvailableAt(quantity: 1)
    }
  }
}
`;

/** The tokens a run with a generated JWT secret offers; never in any other case. */
export interface TourTokens {
  customer: string;
  staff: string;
}

interface Stop {
  file: 'storefront' | 'customer' | 'staff';
  intro: string;
  role: keyof TourTokens | null;
  variables: Record<string, unknown>;
}

// The contract's client operations, one tab per role, in the order a visitor meets them.
const STOPS: readonly Stop[] = [
  {
    file: 'storefront',
    intro:
      'The storefront: product, catalogue, live availability. No token needed.\n' +
      'Pick an operation with the run button; for WatchAvailability put the id ProductAvailability\n' +
      'returned into the variables as productId.',
    role: null,
    variables: { sku: 'DEMO-LAMP', first: 10, productId: '' },
  },
  {
    file: 'customer',
    intro:
      'A customer: order DEMO-LAMP (sold out) with acceptBackorder, then MyBackorders shows the place in\n' +
      'line; WatchBackorder (id from PlaceOrder) follows it live while staff receive stock in another tab.',
    role: 'customer',
    variables: {
      input: {
        idempotencyKey: 'tour-1',
        acceptBackorder: true,
        lines: [{ productId: '<id from ProductAvailability>', quantity: 2 }],
      },
      first: 10,
      id: '<backorder id from PlaceOrder>',
    },
  },
  {
    file: 'staff',
    intro:
      'Staff: ProductQueue shows the queue of DEMO-LAMP; ReceiveStock with its productId serves it in\n' +
      'order, and the customer tab sees the change.',
    role: 'staff',
    variables: {
      sku: 'DEMO-LAMP',
      first: 20,
      input: { productId: '<id from ProductQueue>', quantity: 5 },
    },
  },
];

const OPERATIONS_DIR = new URL('../../../test/operations/', import.meta.url);

function tab(stop: Stop, tokens: TourTokens | undefined) {
  let document: string;
  try {
    document = readFileSync(new URL(`${stop.file}.graphql`, OPERATIONS_DIR), 'utf8');
  } catch {
    return null;
  }
  const token = stop.role && tokens ? tokens[stop.role] : undefined;
  const how = stop.role
    ? token
      ? `The Headers tab holds this run's demo ${stop.role} token.`
      : `Put a ${stop.role} token in the Headers tab: { "authorization": "Bearer <token>" }.`
    : '';
  const intro = [stop.intro, how]
    .filter(Boolean)
    .join('\n')
    .split('\n')
    .map((line) => `# ${line}`)
    .join('\n');
  return {
    query: `${intro}\n\n${document}`,
    variables: JSON.stringify(stop.variables, null, 2),
    headers: token ? JSON.stringify({ authorization: `Bearer ${token}` }, null, 2) : '{}',
  };
}

/**
 * GraphiQL as a guided tour: the opening query, then the contract's storefront, customer and staff
 * operations as tabs. With a secret made for this run, each tab carries the token of its role.
 */
export function graphiqlTour(tokens: TourTokens | undefined) {
  const tabs = STOPS.map((stop) => tab(stop, tokens)).filter((t) => t !== null);
  const welcome =
    '# Guided tour: the next tabs hold what storefronts, customers and staff send (the public contract).\n' +
    (tokens ? "# Each tab's Headers already carry this run's demo token for its role.\n" : '') +
    GRAPHIQL_DEFAULT_QUERY;
  return {
    title: 'backorder-api',
    defaultQuery: GRAPHIQL_DEFAULT_QUERY,
    subscriptionsProtocol: 'WS' as const,
    defaultTabs: [{ query: welcome }, ...tabs],
  };
}

/**
 * GraphiQL's page, from a package that holds its whole 9 MB bundle as a string: loaded when GraphiQL is
 * first asked for, never otherwise. Imported with the server, it stayed in the heap of every instance
 * (about 27 MB with its source), production ones included, and V8 lets the heap grow to a multiple of
 * what stays live.
 */
export async function renderGraphiQLOnDemand(options: GraphiQLOptions): Promise<string> {
  const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
  return renderGraphiQL(options);
}
