import { type ApiError, request } from '../api.ts';
import { badge, formatDate } from '../availability.ts';
import { h, show } from '../dom.ts';
import { ShopCatalogDocument } from '../generated/graphql.ts';

/** Every product with what a customer can expect for one unit. */
export function catalogPage(root: HTMLElement): () => void {
  const list = h('ul', { class: 'products' }, h('li', {}, 'Loading…'));
  root.append(h('h1', {}, 'Products'), list);
  request(ShopCatalogDocument, { first: 50 }, 'customer')
    .then(({ products }) => {
      show(
        list,
        ...products.edges.map(({ node }) => {
          const said = badge(node.availability);
          return h(
            'li',
            { class: `product ${said.kind}` },
            h('a', { href: `#/product/${encodeURIComponent(node.sku)}` }, node.name),
            h('span', { class: 'sku' }, node.sku),
            h('span', { class: `verdict ${said.kind}` }, said.text),
            node.availability.nextRestockAt && said.kind !== 'in-stock'
              ? h(
                  'span',
                  { class: 'note' },
                  `restock expected ${formatDate(node.availability.nextRestockAt)}`,
                )
              : null,
          );
        }),
      );
    })
    .catch((error: ApiError) => show(list, h('li', { class: 'error' }, error.message)));
  return () => {};
}
