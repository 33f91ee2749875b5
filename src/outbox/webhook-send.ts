import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { type AddressPolicy, refusedAddress } from '../domain/rules/webhook-addresses.ts';
import { bareHost } from '../domain/rules/webhook-urls.ts';

/** One HTTP attempt of a webhook: signed, bounded in time, never following a redirect. */

export interface SendTarget {
  url: string;
  eventId: string;
  body: string;
  /** Every secret that signs: the current one, and the previous one during a rotation's overlap. */
  secrets: string[];
}

export interface SendResult {
  /** The endpoint answered 2xx. */
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
  /** Cut short by the worker stopping: no verdict on the endpoint. */
  aborted: boolean;
}

/** The longest error kept with a delivery. */
const MAX_ERROR = 300;

class RefusedAddressError extends Error {
  readonly code = 'EREFUSEDADDRESS';
}

/**
 * A DNS lookup that drops every address the policy refuses, at connect time: the address checked is the
 * address connected to, so a name that resolves elsewhere a second later (DNS rebinding) gains nothing.
 */
export function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...(options as object), all: true } as LookupAllOptions, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const allowed = (addresses as LookupAddress[]).filter(
        (a) => refusedAddress(a.address, policy) === null,
      );
      if (allowed.length === 0) {
        const first = (addresses as LookupAddress[])[0];
        const why = first ? refusedAddress(first.address, policy) : 'no address';
        return callback(new RefusedAddressError(`${hostname} refused: ${why}`), '', 4);
      }
      if ((options as { all?: boolean }).all) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      } else {
        callback(null, allowed[0]!.address, allowed[0]!.family);
      }
    });
  };
}

const signers = new Map<string, Webhook>();
function signer(secret: string): Webhook {
  let webhook = signers.get(secret);
  if (!webhook) {
    if (signers.size > 1000) signers.clear();
    webhook = new Webhook(secret);
    signers.set(secret, webhook);
  }
  return webhook;
}

/** The Standard Webhooks headers: one `v1,…` signature per secret, space-separated. */
export function signedHeaders(target: SendTarget, at: Date): Record<string, string> {
  return {
    'webhook-id': target.eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': target.secrets.map((s) => signer(s).sign(target.eventId, at, target.body)).join(' '),
  };
}

const describe = (err: Error & { code?: string }): string => {
  const text = err.code && !err.message.includes(err.code) ? `${err.message} (${err.code})` : err.message;
  return text.length > MAX_ERROR ? `${text.slice(0, MAX_ERROR - 1)}…` : text;
};

export interface SendOptions {
  timeoutMs: number;
  policy: AddressPolicy;
  lookup: LookupFunction;
  agents: { http: http.Agent; https: https.Agent };
  signal?: AbortSignal;
}

export function sendWebhook(target: SendTarget, options: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const result = (r: Omit<SendResult, 'durationMs' | 'aborted'>, aborted = false): SendResult => ({
    ...r,
    durationMs: Math.round(performance.now() - started),
    aborted,
  });
  const url = new URL(target.url);
  // An address written in the URL is connected to without a lookup: check it here.
  const host = bareHost(url);
  const literal = isIP(host) ? refusedAddress(host, options.policy) : null;
  if (literal) return Promise.resolve(result({ ok: false, status: null, error: `refused: ${literal}` }));
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') {
    return Promise.resolve(
      result({ ok: false, status: null, error: `unsupported protocol ${url.protocol}` }),
    );
  }

  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(target.body)),
      'user-agent': 'backorder-api-webhooks/1',
      ...signedHeaders(target, new Date()),
    };
    const req = (secure ? https : http).request(url, {
      method: 'POST',
      headers,
      lookup: options.lookup,
      agent: secure ? options.agents.https : options.agents.http,
      signal: options.signal,
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no complete answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      // The body is read and dropped (so the connection can be reused); the status is the answer.
      res.resume();
      res.on('error', () => {});
      const ok = status >= 200 && status < 300;
      const error = ok
        ? null
        : status >= 300 && status < 400
          ? `HTTP ${status}: redirects are not followed`
          : `HTTP ${status}`;
      res.on('end', () => settle(result({ ok, status, error })));
      res.on('close', () => settle(result({ ok, status, error })));
    });
    req.on('error', (err: Error & { code?: string }) => {
      const aborted = options.signal?.aborted === true;
      settle(result({ ok: false, status: null, error: aborted ? 'stopped' : describe(err) }, aborted));
    });
    req.end(target.body);
  });
}
