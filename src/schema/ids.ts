import { decodeGlobalID } from '@pothos/plugin-relay';
import { NotFoundError } from '../domain/errors.ts';
import { globalId, type NodeTypeName } from '../read/global-id.ts';

export type { NodeTypeName };
export const toGlobalId = globalId;

/** The local id behind a global id of the expected type; null for anything else (malformed, other type). */
export function fromGlobalId(globalId: string, type: NodeTypeName): number | null {
  try {
    const decoded = decodeGlobalID(globalId);
    return decoded.typename === type ? localId(decoded.id) : null;
  } catch {
    return null;
  }
}

/** The local id behind a global id argument of the expected type; anything else is a NotFoundError. */
export function requireGlobalId(
  globalId: string | number,
  type: NodeTypeName & NotFoundError['what'],
): number {
  const id = fromGlobalId(String(globalId), type);
  if (id === null) throw new NotFoundError(type);
  return id;
}

/** The row id inside a global id: a positive integer written plainly, or null (no row has it). */
export function localId(raw: string): number | null {
  const id = Number(raw);
  return Number.isSafeInteger(id) && id > 0 && String(id) === raw ? id : null;
}

/** Loads each node by its local id; ids no row can have are answered with null, never sent to the database. */
export function loadNodes<T>(ids: string[], load: (id: number) => Promise<T | null> | T | null) {
  return Promise.all(
    ids.map((raw) => {
      const id = localId(raw);
      return id === null ? null : load(id);
    }),
  );
}
