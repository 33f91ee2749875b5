import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';

export type NodeTypeName = 'Product' | 'Order' | 'Backorder' | 'InboundShipment';

export function toGlobalId(type: NodeTypeName, id: number): string {
  return encodeGlobalID(type, id);
}

/** The local id behind a global id of the expected type; null for anything else (malformed, other type). */
export function fromGlobalId(globalId: string, type: NodeTypeName): number | null {
  try {
    const decoded = decodeGlobalID(globalId);
    if (decoded.typename !== type) return null;
    const id = Number(decoded.id);
    return Number.isSafeInteger(id) && id > 0 && String(id) === decoded.id ? id : null;
  } catch {
    return null;
  }
}
