import { ALERT_DEFAULTS } from '../../domain/alert-settings.ts';
import { MAX_PER_CUSTOMER_DEFAULT } from '../../domain/rules/stock-rules.ts';
import { WEBHOOK_DEFAULTS } from '../../outbox/webhook-settings.ts';
import { HELD_PRODUCTS_DEFAULT } from '../../read/held-inputs.ts';
import type { DemoTokens } from '../http/demo.ts';
import { DEFAULT_ABUSE_LIMITS } from '../settings/abuse-limits.ts';
import type { Config } from '../settings/config.ts';
import { edgeDefaults, OUTBOX_DEFAULTS, TOKEN_DEFAULTS } from '../settings/defaults.ts';
import { DEFAULT_COST_BUDGETS, DEFAULT_DOCUMENT_LIMITS } from '../settings/document-limits.ts';
import { opsDefaults } from '../settings/ops-settings.ts';

/** What buildApp needs: the database and the secret; every other part of the configuration has a default. */
export type AppConfig = Pick<Config, 'jwtSecret' | 'pool' | 'mergeWindowMs' | 'production'> & {
  databaseUrl: string;
  /** Handed to the /demo page and GraphiQL's tabs: only when the JWT secret was made for this run. */
  demoTokens?: DemoTokens;
  /** MAX_PER_CUSTOMER_DEFAULT (unset: its default, 10,000; 0: off). */
  maxPerCustomerDefault?: Config['maxPerCustomerDefault'];
  /** READ_CACHE_PRODUCTS (unset: its default, 10,000; 0: off). */
  readCacheProducts?: Config['readCacheProducts'];
} & Partial<
    Pick<
      Config,
      | 'edge'
      | 'tokens'
      | 'documentLimits'
      | 'costBudgets'
      | 'ops'
      | 'webhooks'
      | 'outbox'
      | 'abuse'
      | 'alerts'
    >
  >;

/** An AppConfig with every part filled in. */
export type FullAppConfig = Required<Omit<AppConfig, 'demoTokens'>> & Pick<AppConfig, 'demoTokens'>;

export function withDefaults(config: AppConfig): FullAppConfig {
  return {
    ...config,
    maxPerCustomerDefault: config.maxPerCustomerDefault ?? MAX_PER_CUSTOMER_DEFAULT,
    readCacheProducts: config.readCacheProducts ?? HELD_PRODUCTS_DEFAULT,
    edge: config.edge ?? edgeDefaults(config.production),
    tokens: config.tokens ?? TOKEN_DEFAULTS,
    documentLimits: config.documentLimits ?? DEFAULT_DOCUMENT_LIMITS,
    costBudgets: config.costBudgets ?? DEFAULT_COST_BUDGETS,
    ops: config.ops ?? opsDefaults(config.production),
    webhooks: config.webhooks ?? WEBHOOK_DEFAULTS,
    outbox: config.outbox ?? OUTBOX_DEFAULTS,
    abuse: config.abuse ?? DEFAULT_ABUSE_LIMITS,
    alerts: config.alerts ?? ALERT_DEFAULTS,
  };
}
