import { type ApiError, request, subscribe } from '../api.ts';
import { formatDate, verdict } from '../availability.ts';
import { h, show } from '../dom.ts';
import {
  ShopPlaceOrderDocument,
  type ShopPlaceOrderMutation,
  ShopProductDocument,
  type ShopProductQuery,
  ShopWatchProductDocument,
} from '../generated/graphql.ts';
import { loadSettings } from '../session.ts';

type Product = NonNullable<ShopProductQuery['product']>;

/**
 * One product: what the customer can expect for the quantity chosen, and a checkout that orders a
 * backorder only with the customer's explicit consent. The verdict follows stock changes live.
 */
export function productPage(root: HTMLElement, sku = ''): () => void {
  const title = h('h1', {}, sku);
  const said = h('p', { class: 'verdict', 'data-test': 'verdict' }, 'Loading…');
  const facts = h('p', { class: 'note' });
  const quantity = h('input', { type: 'number', min: 1, max: 100000, value: 1, id: 'quantity' });
  const consent = h('input', { type: 'checkbox', id: 'consent' });
  const consentText = h('span');
  const consentBox = h('label', { class: 'consent', hidden: true }, consent, consentText);
  const order = h('button', { type: 'submit', disabled: true }, 'Place order');
  const outcome = h('div', { class: 'outcome', 'aria-live': 'polite' });
  const form = h('form', { class: 'checkout' }, h('label', {}, 'Quantity ', quantity), consentBox, order);
  root.append(h('p', {}, h('a', { href: '#/' }, '← All products')), title, said, facts, form, outcome);

  let product: Product | null = null;
  // One key per checkout: a retry after a lost answer returns the same order instead of a second one.
  let idempotencyKey = crypto.randomUUID();
  let stopWatching: () => void = () => {};

  const wanted = () => Math.max(1, Math.floor(Number(quantity.value) || 1));

  function render(): void {
    if (!product) return;
    const v = verdict(product.availability, wanted());
    said.className = `verdict ${v.kind}`;
    show(said, v.text);
    const a = product.availability;
    show(
      facts,
      `${a.quantityAvailable} in stock`,
      a.queueLength ? ` · ${a.queueLength} customers waiting for ${a.unitsOnBackorder} units` : '',
      product.customerLimit ? ` · at most ${product.customerLimit} per customer` : '',
    );
    consentBox.hidden = v.kind !== 'backorder';
    if (v.kind === 'backorder') {
      const when = v.eta ? `they are expected around ${formatDate(v.eta)}` : 'there is no delivery date yet';
      show(
        consentText,
        ` ${v.missing} of the ${wanted()} units are not in stock: ${when}. I agree to wait for them in line ` +
          '(first come, first served; I can cancel while waiting).',
      );
    } else consent.checked = false;
    const signedIn = Boolean(loadSettings().tokens.customer);
    order.disabled = !signedIn || v.kind === 'sold-out' || (v.kind === 'backorder' && !consent.checked);
    order.title = signedIn ? '' : 'Paste a customer token on the Settings page to order';
  }

  async function load(): Promise<void> {
    try {
      const data = await request(ShopProductDocument, { sku, quantity: wanted() }, 'customer');
      if (!data.product) {
        show(said, 'No such product.');
        return;
      }
      const first = product === null;
      product = data.product;
      show(title, product.name);
      render();
      if (first) {
        stopWatching = subscribe(
          ShopWatchProductDocument,
          { productId: product.id },
          null,
          () => void load(),
        );
      }
    } catch (error) {
      show(said, (error as ApiError).message);
    }
  }

  quantity.addEventListener('change', () => void load());
  consent.addEventListener('change', render);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!product) return;
    order.disabled = true;
    const needsConsent = !consentBox.hidden;
    request(
      ShopPlaceOrderDocument,
      {
        input: {
          idempotencyKey,
          lines: [{ productId: product.id, quantity: wanted() }],
          acceptBackorder: needsConsent && consent.checked,
        },
      },
      'customer',
    )
      .then(({ placeOrder }) => {
        show(outcome, ...placed(placeOrder));
        if (placeOrder.__typename === 'PlaceOrderSuccess') {
          idempotencyKey = crypto.randomUUID();
          consent.checked = false;
        }
      })
      .catch((error: ApiError) => show(outcome, h('p', { class: 'error' }, error.message)))
      .finally(() => void load());
  });

  void load();
  return () => stopWatching();
}

function placed(result: ShopPlaceOrderMutation['placeOrder']): Node[] {
  if (result.__typename !== 'PlaceOrderSuccess') {
    return [h('p', { class: 'error' }, 'message' in result ? result.message : 'The order was refused.')];
  }
  const waiting = result.order.lines.flatMap((line) => (line.backorder ? [line.backorder] : []));
  return [
    h('p', { class: 'ok' }, 'Order placed.'),
    ...waiting.map((b) =>
      h(
        'p',
        { class: 'position', 'data-test': 'position' },
        `You are number ${b.queuePosition} in line, with ${b.unitsAhead} units ahead of you`,
        b.estimatedAvailableAt ? `; expected around ${formatDate(b.estimatedAvailableAt)}.` : '.',
      ),
    ),
    h('p', {}, h('a', { href: '#/orders' }, 'Follow it live in My orders →')),
  ];
}
