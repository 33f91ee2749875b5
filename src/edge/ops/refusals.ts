/** What a refusal is counted as: the limit that refused, and the code or HTTP status that said so. */
export interface Refusal {
  limit: string;
  code: string;
}

/** Codes that are a refusal on their own, and the limit they stand for when none is named. */
const REFUSAL_CODES: Record<string, string> = {
  RATE_LIMITED: 'rate',
  OVERLOADED: 'overload',
  FORBIDDEN: 'forbidden',
  UNAUTHENTICATED: 'unauthenticated',
  SHUTTING_DOWN: 'shutdown',
};

/** HTTP statuses that are a refusal when no GraphQL error says more. */
const REFUSAL_STATUSES: Record<number, string> = {
  408: 'request_timeout',
  413: 'body_size',
  415: 'content_type',
  429: 'rate',
  503: 'unavailable',
};

/** Limit names are the service's own; anything else (or too many distinct ones) is `other`. */
const LIMIT_NAME = /^[a-z][A-Za-z0-9_-]{0,39}$/;
const MAX_DISTINCT_LIMITS = 64;
const seen = new Set<string>();

function limitLabel(value: unknown, fallback: string): string {
  if (typeof value !== 'string' || !LIMIT_NAME.test(value)) return fallback;
  if (!seen.has(value)) {
    if (seen.size >= MAX_DISTINCT_LIMITS) return 'other';
    seen.add(value);
  }
  return value;
}

type ErrorLike = { extensions?: Record<string, unknown> | null };

/** The refusals among an answer's errors: BAD_USER_INPUT naming a limit, and the refusal codes. */
export function refusalsIn(errors: readonly ErrorLike[] | undefined): Refusal[] {
  const found: Refusal[] = [];
  for (const error of errors ?? []) {
    const code = error.extensions?.code;
    const limit = error.extensions?.limit;
    if (code === 'BAD_USER_INPUT' && limit !== undefined) {
      found.push({ limit: limitLabel(limit, 'other'), code });
    } else if (typeof code === 'string' && code in REFUSAL_CODES) {
      found.push({ limit: limitLabel(limit, REFUSAL_CODES[code]!), code });
    }
  }
  return found;
}

/** A refusal told by the HTTP status alone (the answer carried no GraphQL error saying which limit). */
export function refusalOfStatus(status: number): Refusal | undefined {
  const limit = REFUSAL_STATUSES[status];
  return limit ? { limit, code: `HTTP_${status}` } : undefined;
}

/** Whether an error is a fault of the service (masked), rather than something the caller did. */
export function isInternal(error: ErrorLike & { message?: string }): boolean {
  const code = error.extensions?.code;
  return code === 'INTERNAL_SERVER_ERROR' || (code === undefined && error.message === 'Unexpected error.');
}
