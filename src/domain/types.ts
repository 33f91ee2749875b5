import type { BackorderPolicyValue } from '../db/types.ts';

/** Who is acting: the JWT's `sub` and `role`. Recorded on every ledger row. */
export interface Actor {
  id: string;
  role: 'customer' | 'staff';
}

export interface ProductView {
  id: number;
  sku: string;
  name: string;
  backorderPolicy: BackorderPolicyValue;
  backorderLimit: number | null;
  lowStockThreshold: number | null;
  restockLeadTimeDays: number | null;
  createdAt: Date;
}

export interface StockView {
  productId: number;
  onHand: number;
  allocated: number;
  queueLength: number;
  unitsOnBackorder: number;
}
