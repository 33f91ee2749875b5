import { describe, expect, it } from 'vitest';
import type { LockedStock } from '../../src/db/repos/stock.ts';
import { BackorderLimitError, BackorderNotAllowedError, NotFoundError } from '../../src/domain/errors.ts';
import { planOrder } from '../../src/domain/order-plan.ts';

function product(
  id: number,
  stock: { onHand?: number; allocated?: number; queueLength?: number; unitsOnBackorder?: number },
  policy: { backorderPolicy?: 'ALLOW' | 'DENY'; backorderLimit?: number | null } = {},
): [number, LockedStock] {
  return [
    id,
    {
      product: {
        id,
        sku: `P-${id}`,
        name: `Product ${id}`,
        backorderPolicy: policy.backorderPolicy ?? 'ALLOW',
        backorderLimit: policy.backorderLimit ?? null,
        lowStockThreshold: null,
        restockLeadTimeDays: null,
        maxPerCustomer: null,
        createdAt: new Date(0),
      },
      stock: { productId: id, onHand: 0, allocated: 0, queueLength: 0, unitsOnBackorder: 0, ...stock },
    },
  ];
}

const locked = (...entries: [number, LockedStock][]) => new Map(entries);

describe('planOrder', () => {
  it('takes what is available and backorders the rest', () => {
    const plan = planOrder([{ productId: 1, quantity: 5 }], true, locked(product(1, { onHand: 3 })));
    expect(plan).toEqual({ lines: [{ position: 0, productId: 1, quantity: 5, taken: 3, rest: 2 }] });
  });

  it('takes nothing while a queue waits: no queue jumping', () => {
    const plan = planOrder(
      [{ productId: 1, quantity: 2 }],
      true,
      locked(product(1, { onHand: 10, queueLength: 1, unitsOnBackorder: 1 })),
    );
    expect(plan).toEqual({ lines: [{ position: 0, productId: 1, quantity: 2, taken: 0, rest: 2 }] });
  });

  it('refuses without consent, with what there is and what is missing', () => {
    const plan = planOrder(
      [{ productId: 1, quantity: 5 }],
      false,
      locked(product(1, { onHand: 4, allocated: 1 })),
    );
    expect(plan).toMatchObject({ refusal: { kind: 'insufficient', productId: 1, available: 3, missing: 2 } });
  });

  it('refuses a backorder under DENY and past the cap, naming the capacity left', () => {
    const deny = planOrder(
      [{ productId: 1, quantity: 1 }],
      true,
      locked(product(1, {}, { backorderPolicy: 'DENY' })),
    );
    expect(deny).toMatchObject({ refusal: { kind: 'error', error: expect.any(BackorderNotAllowedError) } });
    const capped = planOrder(
      [{ productId: 1, quantity: 4 }],
      true,
      locked(product(1, { unitsOnBackorder: 7, queueLength: 2 }, { backorderLimit: 10 })),
    );
    expect(capped).toMatchObject({ refusal: { kind: 'error', error: expect.any(BackorderLimitError) } });
    expect((capped as { refusal: { error: BackorderLimitError } }).refusal.error.remainingCapacity).toBe(3);
    const fits = planOrder(
      [{ productId: 1, quantity: 3 }],
      true,
      locked(product(1, { unitsOnBackorder: 7, queueLength: 2 }, { backorderLimit: 10 })),
    );
    expect(fits).toHaveProperty('lines');
  });

  it('lets the first line in input order that cannot be served decide', () => {
    const plan = planOrder(
      [
        { productId: 2, quantity: 1 },
        { productId: 1, quantity: 1 },
      ],
      true,
      locked(product(1, {}, { backorderPolicy: 'DENY' }), product(2, {}, { backorderLimit: 0 })),
    );
    expect(plan).toMatchObject({ refusal: { error: expect.any(BackorderLimitError) } });
  });

  it('serves a product on several lines in turn: each line sees what the earlier ones left', () => {
    const plan = planOrder(
      [
        { productId: 1, quantity: 2 },
        { productId: 1, quantity: 2 },
        { productId: 1, quantity: 1 },
      ],
      true,
      locked(product(1, { onHand: 3 }, { backorderLimit: 2 })),
    );
    expect(plan).toEqual({
      lines: [
        { position: 0, productId: 1, quantity: 2, taken: 2, rest: 0 },
        { position: 1, productId: 1, quantity: 2, taken: 1, rest: 1 },
        // The second line queued: the third takes nothing, and counts against the cap after it.
        { position: 2, productId: 1, quantity: 1, taken: 0, rest: 1 },
      ],
    });
    const over = planOrder(
      [
        { productId: 1, quantity: 4 },
        { productId: 1, quantity: 2 },
      ],
      true,
      locked(product(1, { onHand: 3 }, { backorderLimit: 2 })),
    );
    expect(over).toMatchObject({ refusal: { error: expect.any(BackorderLimitError) } });
  });

  it('answers a product it was not given as not found', () => {
    const plan = planOrder([{ productId: 9, quantity: 1 }], true, locked());
    expect(plan).toMatchObject({ refusal: { kind: 'error', error: expect.any(NotFoundError) } });
  });
});
