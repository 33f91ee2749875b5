/** How back-in-stock requests are bounded. Every field is a setting (src/edge/settings/settings.ts). */
export interface AlertSettings {
  /** Open requests one customer may have at once (MAX_ALERTS_PER_CUSTOMER). */
  maxPerCustomer: number;
  /** Withdrawn and fired requests are deleted this long after they closed (ALERT_RETENTION_DAYS). */
  retentionMs: number;
}

export const ALERT_DEFAULTS: AlertSettings = { maxPerCustomer: 100, retentionMs: 30 * 86_400_000 };
