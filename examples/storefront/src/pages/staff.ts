import { type ApiError, request, subscribe } from '../api.ts';
import { formatDate } from '../availability.ts';
import { h, show } from '../dom.ts';
import {
  ShopCatalogDocument,
  ShopWatchProductDocument,
  StaffQueueDocument,
  StaffReceiveStockDocument,
} from '../generated/graphql.ts';
import { loadSettings } from '../session.ts';

/**
 * For the merchant's staff: receive stock for a product and watch its queue drain. The queue is read
 * again after every committed change the product's availability subscription reports.
 */
export function staffPage(root: HTMLElement, sku?: string): () => void {
  root.append(h('h1', {}, 'Staff: receive stock'));
  if (!loadSettings().tokens.staff) {
    root.append(
      h('p', {}, 'Paste a staff token on the ', h('a', { href: '#/settings' }, 'Settings'), ' page.'),
    );
    return () => {};
  }
  const picker = h('select', { id: 'staff-product' });
  const stock = h('p', { class: 'stock', 'data-test': 'stock' });
  const inbound = h('ul', { class: 'inbound' });
  const queue = h('tbody');
  const total = h('p', { class: 'note', 'data-test': 'queue-total' });
  const quantity = h('input', { type: 'number', min: 1, max: 1000000, value: 10, id: 'receive-quantity' });
  const against = h('select', { id: 'receive-inbound' });
  const result = h('p', { class: 'outcome', 'aria-live': 'polite' });
  const receive = h('button', { type: 'submit' }, 'Receive');
  root.append(
    h('label', {}, 'Product ', picker),
    stock,
    h('h2', {}, 'Inbound shipments'),
    inbound,
    h(
      'form',
      { class: 'receive', onsubmit: (event: Event) => submit(event) },
      h('label', {}, 'Units received ', quantity),
      h('label', {}, 'Against ', against),
      receive,
    ),
    result,
    h('h2', {}, 'Queue'),
    total,
    h(
      'table',
      { class: 'queue' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, '#'),
          h('th', {}, 'Customer'),
          h('th', {}, 'Units'),
          h('th', {}, 'Allocated'),
          h('th', {}, 'Status'),
        ),
      ),
      queue,
    ),
  );

  let productId = '';
  let stopWatching: () => void = () => {};
  const fail = (error: ApiError) => show(result, h('span', { class: 'error' }, error.message));

  async function load(): Promise<void> {
    const data = await request(StaffQueueDocument, { sku: picker.value, first: 50 }, 'staff');
    const p = data.product;
    if (!p) return;
    productId = p.id;
    show(
      stock,
      `On hand ${p.stock.onHand} · allocated ${p.stock.allocated} · available ${p.stock.available}`,
    );
    show(
      inbound,
      ...(p.inbound.length
        ? p.inbound.map((s) => h('li', {}, `${s.quantity} units expected ${formatDate(s.expectedAt)}`))
        : [h('li', {}, 'None planned.')]),
    );
    const chosen = against.value;
    show(
      against,
      h('option', { value: '' }, 'no shipment'),
      ...p.inbound.map((s) =>
        h(
          'option',
          { value: s.id, selected: s.id === chosen },
          `${s.quantity} expected ${formatDate(s.expectedAt)}`,
        ),
      ),
    );
    show(
      total,
      p.backorders.totalCount === 1 ? '1 backorder waiting' : `${p.backorders.totalCount} backorders waiting`,
    );
    show(
      queue,
      ...p.backorders.edges.map(({ node: b }) =>
        h(
          'tr',
          {},
          h('td', {}, b.queuePosition ?? ''),
          h('td', {}, b.customerId),
          h('td', {}, b.quantity),
          h('td', {}, b.quantityAllocated),
          h('td', {}, b.status),
        ),
      ),
    );
  }

  function watch(): void {
    stopWatching();
    show(result);
    load()
      .then(() => {
        stopWatching = subscribe(
          ShopWatchProductDocument,
          { productId },
          'staff',
          () => void load().catch(fail),
          fail,
        );
      })
      .catch(fail);
    history.replaceState(null, '', `#/staff/${encodeURIComponent(picker.value)}`);
  }

  function submit(event: Event): void {
    event.preventDefault();
    receive.disabled = true;
    const input = {
      productId,
      quantity: Math.floor(Number(quantity.value)),
      inboundId: against.value || null,
    };
    request(StaffReceiveStockDocument, { input }, 'staff')
      .then(({ receiveStock }) => {
        if (receiveStock.__typename !== 'ReceiveStockSuccess') {
          show(
            result,
            h('span', { class: 'error' }, 'message' in receiveStock ? receiveStock.message : 'Refused.'),
          );
          return;
        }
        const served = receiveStock.allocations.reduce((sum, a) => sum + a.quantity, 0);
        show(
          result,
          h(
            'span',
            { class: 'ok' },
            `Received ${input.quantity}: ${served} went to the queue (${receiveStock.allocations.length} in line served).`,
          ),
        );
      })
      .catch(fail)
      .finally(() => {
        receive.disabled = false;
      });
  }

  picker.addEventListener('change', watch);
  request(ShopCatalogDocument, { first: 100 }, 'staff')
    .then(({ products }) => {
      show(
        picker,
        ...products.edges.map(({ node }) =>
          h('option', { value: node.sku, selected: node.sku === sku }, `${node.sku}: ${node.name}`),
        ),
      );
      watch();
    })
    .catch(fail);
  return () => stopWatching();
}
