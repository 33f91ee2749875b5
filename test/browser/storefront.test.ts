import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoCatalogue } from '../../src/edge/app/seed.ts';
import { createAuthenticator } from '../../src/edge/auth/tokens.ts';
import { DEMO_DIR, signDemoTokens } from '../../src/edge/http/demo.ts';
import { TOKEN_DEFAULTS } from '../../src/edge/settings/defaults.ts';
import { startTestApp, TEST_SECRET, type TestApp } from '../helpers/app.ts';
import { type Chromium, launchChromium } from './chromium.ts';

/** How long the customer's page may take to show the allocation after staff press Receive. */
const LIVE_BUDGET_MS = 5_000;

beforeAll(() => {
  if (!existsSync(path.join(DEMO_DIR, 'index.html'))) {
    throw new Error('The storefront example is not built: npm run demo:build (npm install does it)');
  }
});

describe('the storefront example, with the demo tokens of a run whose secret was made for it', () => {
  let t: TestApp;
  let browser: Chromium;
  let demo: string;

  beforeAll(async () => {
    const auth = createAuthenticator(TEST_SECRET, TOKEN_DEFAULTS);
    t = await startTestApp({ demoTokens: await signDemoTokens((actor) => auth.sign(actor)) });
    await seedDemoCatalogue(t.app.writer);
    demo = new URL('/demo/', t.url).href;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('takes a backorder only with consent, and shows the allocation live when staff receive stock', async () => {
    const customer = await browser.page();
    await customer.goto(demo);
    const said = (sku: string) =>
      customer.locator('li.product', { hasText: sku }).locator('.verdict').textContent();
    await expect.poll(() => said('DEMO-MUG')).toBe('In stock');
    expect(await said('DEMO-TEE')).toBe('In stock (only 3 left)');
    expect(await said('DEMO-LAMP')).toMatch(/^Ships around .+ if you order now$/);
    expect(await said('DEMO-POSTER')).toBe('Sold out');
    await browser.shot(customer, '00-products');

    await customer.getByRole('link', { name: 'Brass desk lamp' }).click();
    const verdict = customer.locator('[data-test=verdict]');
    await expect.poll(() => verdict.textContent()).toMatch(/^Ships around .+ if you order now$/);
    await browser.shot(customer, '01-product-sold-out');

    // Two units, none in stock: ordering waits for the customer's explicit consent.
    await customer.fill('#quantity', '2');
    await customer.locator('#quantity').dispatchEvent('change');
    const consent = customer.locator('label.consent');
    await expect.poll(() => consent.textContent()).toContain('2 of the 2 units are not in stock');
    expect(await consent.isVisible()).toBe(true);
    const order = customer.getByRole('button', { name: 'Place order' });
    expect(await order.isDisabled()).toBe(true);
    await customer.check('#consent');
    expect(await order.isEnabled()).toBe(true);
    await browser.shot(customer, '02-backorder-consent');

    await order.click();
    const position = customer.locator('[data-test=position]');
    await position.waitFor();
    expect(await position.textContent()).toMatch(
      /^You are number 1 in line, with 0 units ahead of you; expected around /,
    );
    await browser.shot(customer, '03-order-placed-position');

    await customer.goto(`${demo}#/orders`);
    const line = customer.locator('[data-backorder]');
    await line.locator('[data-test=queue-position]').waitFor();
    expect(await line.locator('[data-test=queue-position]').textContent()).toBe('#1');
    expect(await line.locator('[data-test=units-ahead]').textContent()).toBe('0');
    expect(await line.getAttribute('data-status')).toBe('WAITING');
    await browser.shot(customer, '04-my-orders-waiting');
    // Set in the page: still there afterwards means the page was never reloaded.
    await customer.evaluate(() => Object.assign(window, { stillTheSamePage: true }));

    // Staff, in another page: the queue of DEMO-LAMP, then the receipt.
    const staff = await browser.page();
    await staff.goto(`${demo}#/staff/DEMO-LAMP`);
    const total = staff.locator('[data-test=queue-total]');
    await expect.poll(() => total.textContent()).toBe('1 backorder waiting');
    await staff.fill('#receive-quantity', '2');
    await browser.shot(staff, '05-staff-before-receipt');

    const pressed = performance.now();
    await staff.getByRole('button', { name: 'Receive' }).click();
    await customer
      .locator('[data-backorder][data-status=ALLOCATED] [data-test=allocated]')
      .waitFor({ timeout: LIVE_BUDGET_MS });
    const delayMs = performance.now() - pressed;
    console.log(
      `storefront: Receive pressed -> allocation shown on the customer's page in ${delayMs.toFixed(0)} ms`,
    );
    expect(delayMs).toBeLessThan(LIVE_BUDGET_MS);
    expect(await customer.locator('[data-test=allocated]').textContent()).toBe(
      'All 2 units are yours: ready to ship.',
    );
    expect(await customer.evaluate(() => (window as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(
      true,
    );
    await browser.shot(customer, '06-my-orders-allocated-live');

    // The feed heard of both events, live, with an unread badge; reading them clears it.
    const feed = customer.locator('ol.notifications');
    await feed.locator('li[data-type=BACKORDER_ALLOCATED]').waitFor({ timeout: 10_000 });
    expect(await feed.locator('li[data-type=BACKORDER_CREATED]').count()).toBe(1);
    await expect.poll(() => customer.locator('#feed-badge').textContent()).toBe('2');
    await browser.shot(customer, '06b-notification-feed');
    await customer.getByRole('button', { name: 'Mark all read' }).click();
    await expect.poll(() => customer.locator('#feed-badge').textContent()).toBe('');
    expect(await feed.locator('li.unread').count()).toBe(0);

    // The staff page watched its queue drain, also without reloading.
    await expect.poll(() => total.textContent()).toBe('0 backorders waiting');
    expect(await staff.locator('.outcome').textContent()).toBe(
      'Received 2: 2 went to the queue (1 in line served).',
    );
    await browser.shot(staff, '07-staff-queue-drained');
    expect(browser.errors).toEqual([]);
  });

  it('opens GraphiQL on the guided tour: the opening query, then one tab per role', async () => {
    const page = await browser.page();
    await page.goto(t.url);
    // The opening query, then the storefront, customer and staff operations.
    await expect.poll(() => page.locator('.graphiql-tab').count(), { timeout: 20_000 }).toBe(4);
    await browser.shot(page, '08-graphiql-tour');
    expect(browser.errors).toEqual([]);
  });
});

describe('the storefront example against an instance with its own secret', () => {
  let t: TestApp;
  let browser: Chromium;

  beforeAll(async () => {
    t = await startTestApp();
    await seedDemoCatalogue(t.app.writer);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  async function ordersText(page: Page): Promise<string> {
    await page.goto(new URL('/demo/#/orders', t.url).href);
    await page.locator('.orders').filter({ hasNotText: 'Loading…' }).waitFor();
    return (await page.locator('.orders').textContent()) ?? '';
  }

  it('asks for a pasted token, and works with it', async () => {
    const page = await browser.page();
    expect(await ordersText(page)).toBe('Paste a customer token on the Settings page.');

    await page.goto(new URL('/demo/#/settings', t.url).href);
    await page.fill('#customer-token', `Bearer ${await t.token('customer', 'c-pasted')}`);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    expect(await ordersText(page)).toBe('No orders yet. Browse the products.');
    expect(browser.errors).toEqual([]);
  });
});
