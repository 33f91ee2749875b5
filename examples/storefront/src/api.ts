import { type Client, createClient } from 'graphql-ws/client';
import type { TypedDocumentString } from './generated/graphql.ts';
import { endpoints, loadSettings, type Role } from './session.ts';

/** What the API refused or could not answer, in words for the page. */
export class ApiError extends Error {}

interface Response<R> {
  data?: R | null;
  errors?: { message: string }[];
}

function bearer(role: Role | null): string {
  const token = role ? loadSettings().tokens[role] : '';
  return token ? `Bearer ${token}` : '';
}

/** Queries and mutations: plain fetch, one POST each. */
export async function request<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V,
  role: Role | null,
): Promise<R> {
  const authorization = bearer(role);
  let res: globalThis.Response;
  try {
    res = await fetch(endpoints(loadSettings()).http, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(authorization ? { authorization } : {}),
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new ApiError('The API cannot be reached: check its URL on the Settings page.');
  }
  const body = (await res.json().catch(() => null)) as Response<R> | null;
  if (body?.errors?.length) throw new ApiError(body.errors.map((e) => e.message).join('; '));
  if (!body?.data) throw new ApiError(`The API answered ${res.status} without data.`);
  return body.data;
}

// One WebSocket per role, opened on the first subscription and closed when the last one ends.
const clients = new Map<Role | null, Client>();

function clientFor(role: Role | null): Client {
  let client = clients.get(role);
  if (!client) {
    client = createClient({
      url: endpoints(loadSettings()).ws,
      connectionParams: () => ({ authorization: bearer(role) }),
      lazy: true,
      retryAttempts: Number.POSITIVE_INFINITY,
    });
    clients.set(role, client);
  }
  return client;
}

/** Forget the sockets, e.g. after the settings changed; the next subscription opens a new one. */
export function resetSockets(): void {
  for (const client of clients.values()) void client.dispose();
  clients.clear();
}

/** A live subscription over graphql-ws; returns what stops it. */
export function subscribe<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V,
  role: Role | null,
  onData: (data: R) => void,
  onError: (error: ApiError) => void = () => {},
): () => void {
  return clientFor(role).subscribe<R>(
    { query: document.toString(), variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        if (result.errors?.length) onError(new ApiError(result.errors.map((e) => e.message).join('; ')));
        else if (result.data) onData(result.data as R);
      },
      error: () => onError(new ApiError('The live connection was refused: check the token.')),
      complete: () => {},
    },
  );
}
