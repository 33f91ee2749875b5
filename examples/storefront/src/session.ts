/**
 * Where the API is and who is asking. A service started without JWT_SECRET writes its demo tokens into
 * the page it serves (a JSON script element, never an endpoint); everywhere else the tokens are pasted
 * on the Settings page and kept in this browser's localStorage.
 */
export type Role = 'customer' | 'staff';

export interface Settings {
  /** The GraphQL endpoint: relative to the page, or absolute for another instance. */
  apiUrl: string;
  tokens: Record<Role, string>;
}

interface DemoSetup {
  tokens?: Partial<Record<Role, string>>;
}

const STORAGE_KEY = 'backorder-storefront';

function demoSetup(): DemoSetup {
  const element = document.getElementById('demo-setup');
  if (!element?.textContent) return {};
  try {
    return JSON.parse(element.textContent) as DemoSetup;
  } catch {
    return {};
  }
}

function stored(): Partial<Settings> {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as Partial<Settings>;
  } catch {
    return {};
  }
}

/** The demo tokens the serving instance offered, if it made its secret for this run. */
export const demoTokens: Partial<Record<Role, string>> = demoSetup().tokens ?? {};

export function loadSettings(): Settings {
  const saved = stored();
  return {
    apiUrl: saved.apiUrl || '../graphql',
    // A pasted token wins over the demo one; an empty field falls back to it.
    tokens: {
      customer: saved.tokens?.customer || demoTokens.customer || '',
      staff: saved.tokens?.staff || demoTokens.staff || '',
    },
  };
}

export function saveSettings(settings: { apiUrl: string; tokens: Record<Role, string> }): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
}

/** The endpoint as an absolute URL, and its WebSocket twin. */
export function endpoints(settings: Settings): { http: string; ws: string } {
  const http = new URL(settings.apiUrl, location.href);
  const ws = new URL(http);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http: http.href, ws: ws.href };
}
