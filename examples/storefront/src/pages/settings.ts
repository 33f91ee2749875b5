import { resetSockets } from '../api.ts';
import { h } from '../dom.ts';
import { restartFeed } from '../feed.ts';
import { demoTokens, endpoints, loadSettings, saveSettings } from '../session.ts';

/** The API to talk to and the tokens to use: how the example runs against any instance. */
export function settingsPage(root: HTMLElement): () => void {
  const current = loadSettings();
  const apiUrl = h('input', { type: 'text', id: 'api-url', value: current.apiUrl, size: 50 });
  const customer = h('textarea', { id: 'customer-token', rows: 3, cols: 60 }, current.tokens.customer);
  const staff = h('textarea', { id: 'staff-token', rows: 3, cols: 60 }, current.tokens.staff);
  const saved = h('p', { 'aria-live': 'polite' });
  const offered = demoTokens.customer || demoTokens.staff;
  root.append(
    h('h1', {}, 'Settings'),
    h(
      'p',
      { class: 'note' },
      offered
        ? 'This instance made its token secret for this run and filled in its demo tokens. Paste others to act as someone else.'
        : 'Paste a bearer token for each role (npm run token -- --role customer --sub <id>). They stay in this browser only.',
    ),
    h(
      'form',
      {
        class: 'settings',
        onsubmit: (event: Event) => {
          event.preventDefault();
          saveSettings({
            apiUrl: apiUrl.value.trim() || '../graphql',
            tokens: { customer: strip(customer.value), staff: strip(staff.value) },
          });
          resetSockets();
          restartFeed();
          saved.textContent = `Saved. Talking to ${endpoints(loadSettings()).http}`;
        },
      },
      h('label', {}, 'GraphQL endpoint ', apiUrl),
      h(
        'p',
        { class: 'note' },
        `Now: ${endpoints(current).http}. Another origin must list this page's origin in its CORS_ORIGINS.`,
      ),
      h('label', {}, 'Customer token', customer),
      h('label', {}, 'Staff token', staff),
      h('button', { type: 'submit' }, 'Save'),
    ),
    saved,
  );
  return () => {};
}

/** Accepts a token pasted with or without its "Bearer " prefix. */
function strip(value: string): string {
  return value.trim().replace(/^Bearer\s+/i, '');
}
