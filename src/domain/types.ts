/** Who is acting: the JWT's `sub` and `role`. Recorded on every ledger row. */
export interface Actor {
  id: string;
  role: 'customer' | 'staff';
}
