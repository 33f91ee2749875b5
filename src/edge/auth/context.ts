import { GraphQLError } from 'graphql';
import type { Writer } from '../../db/transaction.ts';
import type { HeldInputs } from '../../read/held-inputs.ts';
import { OperationWork } from '../../read/operation-work.ts';
import { Readers } from '../../read/readers.ts';
import type { Context } from '../../schema/context-type.ts';
import { AuthenticationError, type Authenticator } from './tokens.ts';

/**
 * What the reads of an operation already answered reject with. Located (it has a path), so graphql passes
 * it up as it is instead of building an error per field: its answer is decided, and nothing reads them.
 */
const ANSWERED = new GraphQLError('The operation has already been answered: this read was not started', {
  path: [],
});

/**
 * The one place that wires concrete things into a request's context. It starts from the credential alone,
 * so a header over HTTP and connectionParams over WebSocket get the very same treatment.
 */
export function createContextFactory(deps: {
  auth: Authenticator;
  writer: Writer;
  /** The inputs held in memory, read through by every request's readers. */
  held?: HeldInputs;
  live: Context['live'];
  webhookUrls?: Context['webhookUrls'];
  alerts?: Context['alerts'];
  maxPerCustomerDefault?: Context['maxPerCustomerDefault'];
}) {
  return async (authorization: string | undefined | null): Promise<Context> => {
    let session: Awaited<ReturnType<Authenticator['verify']>>;
    try {
      session = await deps.auth.verify(authorization);
    } catch (err) {
      if (err instanceof AuthenticationError) {
        throw new GraphQLError(err.message, {
          extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
        });
      }
      throw err;
    }
    const work = new OperationWork(ANSWERED);
    return {
      viewer: session?.actor ?? null,
      ...(session ? { credentialExpiresAt: session.expiresAt } : {}),
      work,
      readers: new Readers(deps.writer.db, work, deps.held),
      writer: deps.writer,
      live: deps.live,
      ...(deps.webhookUrls ? { webhookUrls: deps.webhookUrls } : {}),
      ...(deps.alerts ? { alerts: deps.alerts } : {}),
      ...(deps.maxPerCustomerDefault !== undefined
        ? { maxPerCustomerDefault: deps.maxPerCustomerDefault }
        : {}),
    };
  };
}
