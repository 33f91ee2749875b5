import { type ApiError, request, subscribe } from './api.ts';
import { h, show } from './dom.ts';
import {
  ShopFeedDocument,
  ShopMarkNotificationsReadDocument,
  ShopNotificationAddedDocument,
  type ShopNotificationFragment,
} from './generated/graphql.ts';
import { loadSettings } from './session.ts';

/**
 * The customer's notification feed and its unread badge: the newest notifications, then each new one as
 * notificationAdded delivers it. One store for the badge (always in the header) and the feed (on My orders).
 */
const SHOWN = 10;
const feed = { unread: 0, total: 0, items: [] as ShopNotificationFragment[], error: '' };
const listeners = new Set<() => void>();
let stop: (() => void) | null = null;

function changed(): void {
  for (const listener of listeners) listener();
}

function start(): void {
  if (stop || !loadSettings().tokens.customer) return;
  // Subscribe first, so that nothing added between the read and the subscription is lost.
  const ids = new Set<string>();
  const add = (item: ShopNotificationFragment) => {
    if (ids.has(item.id)) return;
    ids.add(item.id);
    feed.items = [item, ...feed.items].slice(0, SHOWN);
    if (!item.read) feed.unread += 1;
    feed.total += 1;
    changed();
  };
  stop = subscribe(ShopNotificationAddedDocument, {}, 'customer', (data) => add(data.notificationAdded));
  request(ShopFeedDocument, { first: SHOWN }, 'customer')
    .then(({ viewer }) => {
      const page = viewer?.notifications;
      if (!page) return;
      const fresh = feed.items.filter((item) => !page.edges.some((e) => e.node.id === item.id));
      for (const e of page.edges) ids.add(e.node.id);
      feed.items = [...fresh, ...page.edges.map((e) => e.node)].slice(0, SHOWN);
      feed.unread = page.unreadCount + fresh.filter((item) => !item.read).length;
      feed.total = page.totalCount + fresh.length;
      changed();
    })
    .catch((error: ApiError) => {
      feed.error = error.message;
      changed();
    });
}

/** After the settings changed: read the feed again with the new token. */
export function restartFeed(): void {
  stop?.();
  stop = null;
  Object.assign(feed, { unread: 0, total: 0, items: [], error: '' });
  start();
  changed();
}

function markAllRead(): void {
  request(ShopMarkNotificationsReadDocument, { input: { all: true } }, 'customer')
    .then(({ markNotificationsRead: result }) => {
      feed.unread = result.unreadCount;
      feed.items = feed.items.map((item) => ({ ...item, read: true }));
      changed();
    })
    .catch((error: ApiError) => alert(error.message));
}

/** The unread count beside "My orders" in the header. */
export function mountFeedBadge(badge: HTMLElement): void {
  const draw = () => {
    badge.textContent = feed.unread > 0 ? String(feed.unread) : '';
    badge.title = feed.unread > 0 ? `${feed.unread} unread notifications` : '';
  };
  listeners.add(draw);
  start();
  draw();
}

/** The feed itself; returns what stops drawing it. */
export function mountNotificationFeed(container: HTMLElement): () => void {
  const list = h('ol', { class: 'notifications' });
  const mark = h('button', { type: 'button', onclick: markAllRead }, 'Mark all read');
  const heading = h('h2', {}, 'Notifications');
  container.append(heading, mark, list);
  const draw = () => {
    show(heading, 'Notifications', feed.unread ? ` (${feed.unread} unread)` : '');
    mark.disabled = feed.unread === 0;
    if (feed.error) return show(list, h('li', { class: 'error' }, feed.error));
    if (!feed.items.length) return show(list, h('li', { class: 'note' }, 'Nothing yet.'));
    show(
      list,
      ...feed.items.map((item) =>
        h(
          'li',
          { class: item.read ? 'read' : 'unread', 'data-type': item.type },
          h('span', {}, item.message),
          h('time', { datetime: item.createdAt }, new Date(item.createdAt).toLocaleString('en-GB')),
        ),
      ),
      feed.total > feed.items.length
        ? h('li', { class: 'note' }, `and ${feed.total - feed.items.length} older`)
        : null,
    );
  };
  listeners.add(draw);
  start();
  draw();
  return () => listeners.delete(draw);
}
