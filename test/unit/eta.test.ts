import { describe, expect, it } from 'vitest';
import { ceilToHour, estimateCoverage } from '../../src/domain/rules/eta.ts';

const now = new Date('2026-01-10T10:15:00.000Z');
const at = (iso: string) => new Date(iso);

describe('estimateCoverage', () => {
  const inbound = [
    { remaining: 5, expectedAt: at('2026-01-12T00:00:00Z') },
    { remaining: 10, expectedAt: at('2026-01-20T00:00:00Z') },
  ];

  it('takes the shipment at which the cumulative supply covers the units', () => {
    expect(estimateCoverage(1, inbound, 7, now)).toEqual(at('2026-01-12T00:00:00Z'));
    expect(estimateCoverage(5, inbound, 7, now)).toEqual(at('2026-01-12T00:00:00Z'));
    expect(estimateCoverage(6, inbound, 7, now)).toEqual(at('2026-01-20T00:00:00Z'));
    expect(estimateCoverage(15, inbound, 7, now)).toEqual(at('2026-01-20T00:00:00Z'));
  });

  it('falls back to now plus lead time, rounded up to the next full hour', () => {
    expect(estimateCoverage(16, inbound, 7, now)).toEqual(at('2026-01-17T11:00:00Z'));
  });

  it('has no estimate past the planned supply without a lead time', () => {
    expect(estimateCoverage(16, inbound, null, now)).toBeNull();
    expect(estimateCoverage(1, [], null, now)).toBeNull();
  });

  it('keeps an exact hour as it is', () => {
    expect(ceilToHour(at('2026-01-10T10:00:00Z'))).toEqual(at('2026-01-10T10:00:00Z'));
  });
});
