import { log } from '../../base/log.ts';
import { operationLabel } from './known-operations.ts';
import type { Metrics, Result, Transport } from './metrics.ts';
import { isInternal, type Refusal, refusalsIn } from './refusals.ts';

type ErrorLike = { message?: string; extensions?: Record<string, unknown> | null };

/** What one operation (an HTTP request, a WebSocket operation) did, gathered as it goes. */
export class Outcome {
  readonly startedAt = performance.now();
  transport: Transport;
  /** As the client named it, sanitised (operationForLog). */
  operation: string | undefined;
  role: string | undefined;
  subject: string | undefined;
  /** A GraphQL operation was asked for (not GraphiQL's page, not a probe). */
  graphql = false;
  stream = false;
  /** Called when its answer turns out to be a stream (a subscription), so it can be counted while open. */
  onStreamStart: (() => void) | undefined;
  readonly refusals: Refusal[] = [];
  errors = 0;
  internal = false;

  constructor(
    readonly requestId: string,
    transport: Transport,
  ) {
    this.transport = transport;
  }

  /** Who is asking, from the request's context: the token's role and subject, never the token. */
  viewer(viewer: { id: string; role: string } | null | undefined): void {
    this.role = viewer?.role ?? 'anonymous';
    this.subject = viewer ? viewer.id.slice(0, 100) : undefined;
  }

  /** Notes a result's errors; refusals are counted once per kind per operation. */
  errorsOf(errors: readonly ErrorLike[] | undefined): void {
    if (!errors?.length) return;
    this.errors += errors.length;
    if (errors.some(isInternal)) this.internal = true;
    for (const refusal of refusalsIn(errors)) {
      if (!this.refusals.some((r) => r.limit === refusal.limit && r.code === refusal.code)) {
        this.refusals.push(refusal);
      }
    }
  }

  result(status: number): Result {
    if (this.internal || status >= 500) return this.refusals.length ? 'refused' : 'error';
    if (this.refusals.length) return 'refused';
    if (this.errors > 0 || status >= 400) return 'client_error';
    return 'ok';
  }

  elapsedMs(): number {
    return Math.round(performance.now() - this.startedAt);
  }

  /** Counts it in the metrics; returns the fields of its log line. */
  finish(metrics: Metrics | undefined, status?: number): Record<string, unknown> {
    const result = this.result(status ?? 200);
    const ms = this.elapsedMs();
    if (metrics) {
      for (const r of this.refusals) metrics.refusals.inc({ limit: r.limit, code: r.code });
      if (this.graphql || this.refusals.length > 0) {
        const labels = { operation: operationLabel(this.operation), result, transport: this.transport };
        metrics.requests.inc(labels);
        metrics.duration.observe(labels, ms / 1000);
      }
    }
    return {
      requestId: this.requestId,
      transport: this.transport,
      operation: this.operation,
      role: this.role,
      subject: this.subject,
      ...(status === undefined ? {} : { status }),
      result,
      ms,
      ...(this.refusals.length ? { refused: this.refusals.map((r) => r.limit).join(',') } : {}),
    };
  }
}

/** One line per finished operation: info for the API, debug for probes. */
export function logOutcome(message: string, fields: Record<string, unknown>, quiet = false): void {
  (quiet ? log.debug : log.info)(message, fields);
}
