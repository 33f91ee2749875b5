import { type ApiError, request, subscribe } from '../api.ts';
import { formatDate } from '../availability.ts';
import { h, show } from '../dom.ts';
import { mountNotificationFeed } from '../feed.ts';
import {
  type ShopBackorderFragment,
  ShopCancelBackorderDocument,
  ShopMyOrdersDocument,
  ShopWatchBackorderDocument,
} from '../generated/graphql.ts';
import { loadSettings } from '../session.ts';

const OPEN = new Set(['WAITING', 'PARTIALLY_ALLOCATED']);

/**
 * The customer's orders, newest first. Each line waiting in a queue shows its place in line, the units
 * ahead and its ETA, and follows them live: one backorderUpdated subscription per waiting backorder.
 */
export function ordersPage(root: HTMLElement): () => void {
  const list = h('div', { class: 'orders' }, 'Loading…');
  const feed = h('aside', { class: 'feed' });
  root.append(h('h1', {}, 'My orders'), h('div', { class: 'columns' }, list, feed));
  const stops: (() => void)[] = [mountNotificationFeed(feed)];
  const leave = () => {
    for (const stop of stops) stop();
  };

  if (!loadSettings().tokens.customer) {
    show(
      list,
      h('p', {}, 'Paste a customer token on the ', h('a', { href: '#/settings' }, 'Settings'), ' page.'),
    );
    return leave;
  }

  request(ShopMyOrdersDocument, { last: 20 }, 'customer')
    .then(({ viewer }) => {
      const orders = [...(viewer?.orders.edges ?? [])].reverse();
      if (!orders.length) {
        show(list, h('p', {}, 'No orders yet. ', h('a', { href: '#/' }, 'Browse the products.')));
        return;
      }
      show(
        list,
        ...orders.map(({ node: order }) =>
          h(
            'section',
            { class: 'order' },
            h('h2', {}, `Order of ${new Date(order.createdAt).toLocaleString('en-GB')}`),
            ...order.lines.map((line) => {
              const row = h('div', { class: 'line' });
              const head = h('p', {}, `${line.quantity} × ${line.product.name} (${line.product.sku})`);
              if (!line.backorder) {
                show(row, head, h('p', { class: 'ok' }, 'In stock: allocated to you.'));
                return row;
              }
              const state = h('div', { class: 'backorder', 'data-backorder': line.backorder.id });
              show(row, head, state);
              drawBackorder(state, line.backorder, false);
              if (OPEN.has(line.backorder.status)) {
                stops.push(
                  subscribe(
                    ShopWatchBackorderDocument,
                    { id: line.backorder.id },
                    'customer',
                    (data) => data.backorderUpdated && drawBackorder(state, data.backorderUpdated, true),
                  ),
                );
              }
              return row;
            }),
          ),
        ),
      );
    })
    .catch((error: ApiError) => show(list, h('p', { class: 'error' }, error.message)));

  return leave;
}

/** One backorder's state in words; `live` marks a change that just arrived. */
function drawBackorder(element: HTMLElement, b: ShopBackorderFragment, live: boolean): void {
  element.dataset.status = b.status;
  const missing = b.quantity - b.quantityAllocated;
  const parts: Node[] = [];
  if (b.status === 'ALLOCATED') {
    parts.push(
      h('p', { class: 'ok', 'data-test': 'allocated' }, `All ${b.quantity} units are yours: ready to ship.`),
    );
  } else if (b.status === 'SHIPPED') {
    parts.push(h('p', { class: 'ok' }, 'Shipped.'));
  } else if (b.status === 'CANCELLED') {
    parts.push(h('p', { class: 'note' }, 'Backorder cancelled.'));
  } else {
    parts.push(
      h(
        'dl',
        { class: 'queue' },
        h('dt', {}, 'Place in line'),
        h('dd', { 'data-test': 'queue-position' }, `#${b.queuePosition}`),
        h('dt', {}, 'Units ahead of you'),
        h('dd', { 'data-test': 'units-ahead' }, b.unitsAhead ?? 0),
        h('dt', {}, 'Expected'),
        h(
          'dd',
          { 'data-test': 'eta' },
          b.estimatedAvailableAt ? formatDate(b.estimatedAvailableAt) : 'no date yet',
        ),
        h('dt', {}, 'Waiting for'),
        h('dd', {}, `${missing} of ${b.quantity} units`),
      ),
      h('button', { type: 'button', onclick: () => cancel(element, b) }, 'Cancel backorder'),
    );
  }
  show(element, ...parts);
  // The subscription starts with the current state: only a real change is highlighted.
  const seen = element.dataset.seen;
  element.dataset.seen = JSON.stringify(b);
  if (live && seen !== element.dataset.seen) {
    element.classList.remove('changed');
    void element.offsetWidth; // restart the highlight
    element.classList.add('changed');
  }
}

function cancel(element: HTMLElement, b: ShopBackorderFragment): void {
  if (!confirm('Leave the queue? Your place in line is given up.')) return;
  request(ShopCancelBackorderDocument, { id: b.id }, 'customer')
    .then(({ cancelBackorder }) => {
      if (cancelBackorder.__typename === 'CancelBackorderSuccess')
        drawBackorder(element, cancelBackorder.backorder, true);
      else if ('message' in cancelBackorder) alert(cancelBackorder.message);
    })
    .catch((error: ApiError) => alert(error.message));
}
