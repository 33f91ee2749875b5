import { decodeGlobalID } from '@pothos/plugin-relay';
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
