/** Who is acting: the JWT's `sub` and `role`. Recorded on every ledger row. */
export interface Actor {
  id: string;
  role: 'customer' | 'staff';
}

/** A caller's role, anonymous callers included: what budgets and costs are set by. */
export type Role = Actor['role'] | 'anonymous';
