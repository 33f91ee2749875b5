import { isIP } from 'node:net';
import { addressKind } from './webhook-addresses.ts';

/** The longest endpoint URL accepted. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

export interface WebhookUrlPolicy {
  /** `http://` to a loopback host (a receiver on this machine); never in production. */
  allowLoopbackHttp: boolean;
}

/** The host of a URL without IPv6 brackets. */
export const bareHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && addressKind(host) === 'loopback';
}

/**
 * Why a URL cannot be an endpoint, or null when it can. Where it resolves to is checked again on every
 * send (a name can point elsewhere tomorrow); this refuses what is wrong however it resolves.
 */
export function webhookUrlProblem(raw: string, policy: WebhookUrlPolicy): string | null {
  if ([...raw].length > MAX_WEBHOOK_URL_LENGTH) {
    return `The URL is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'Not an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'Only https URLs are accepted';
  if (url.username || url.password) return 'The URL must not carry credentials';
  const host = bareHost(url);
  if (!host) return 'The URL has no host';
  if (url.protocol === 'https:') return null;
  if (!isLoopbackHost(host)) return 'Only https URLs are accepted';
  return policy.allowLoopbackHttp ? null : 'http is accepted only to loopback, and only when allowed';
}
