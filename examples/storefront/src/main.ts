import { mountFeedBadge } from './feed.ts';
import { catalogPage } from './pages/catalog.ts';
import { ordersPage } from './pages/orders.ts';
import { productPage } from './pages/product.ts';
import { settingsPage } from './pages/settings.ts';
import { staffPage } from './pages/staff.ts';

/** A page draws itself into the root and returns what to stop (subscriptions) when the reader leaves. */
export type Page = (root: HTMLElement, param: string | undefined) => () => void;

const routes: Record<string, Page> = {
  '': catalogPage,
  product: productPage,
  orders: ordersPage,
  staff: staffPage,
  settings: settingsPage,
};

const root = document.getElementById('app')!;
let leave: () => void = () => {};

// Hash routes (#/product/DEMO-LAMP), so that the built files can be served from any folder.
function route(): void {
  const [name = '', param] = location.hash.replace(/^#\/?/, '').split('/');
  leave();
  root.replaceChildren();
  const page = routes[name] ?? catalogPage;
  leave = page(root, param ? decodeURIComponent(param) : undefined);
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    link.toggleAttribute('aria-current', link.hash === `#/${name}`);
  }
}

window.addEventListener('hashchange', route);
route();
mountFeedBadge(document.getElementById('feed-badge')!);
