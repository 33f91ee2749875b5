import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/**
 * The GraphQL over HTTP specification's own audit (graphql-http), run against the real server in both
 * modes: every MUST and SHOULD item passes. MAY items are the service's choice and are not asserted.
 */
const apps: Record<'development' | 'production', TestApp | undefined> = {
  development: undefined,
  production: undefined,
};
let staff = '';

beforeAll(async () => {
  [apps.development, apps.production] = await Promise.all([
    startTestApp(),
    startTestApp({ production: true, edge: { corsOrigins: ['https://shop.example'] } }),
  ]);
  staff = await apps.production!.token('staff');
});
afterAll(() => Promise.all([apps.development?.stop(), apps.production?.stop()]));

/**
 * In production the audit asks as staff: its "map {variables}" items send `__type(name: $name)`, and
 * production answers introspection to staff only (anyone else gets FORBIDDEN there, as the contract wants).
 */
const asStaff: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set('authorization', `Bearer ${staff}`);
  return fetch(input, { ...init, headers });
};

describe.each(['development', 'production'] as const)('GraphQL over HTTP, %s', (mode) => {
  const audits = serverAudits({
    url: () => apps[mode]!.url,
    ...(mode === 'production' ? { fetchFn: asStaff } : {}),
  }).filter((audit) => !audit.name.startsWith('MAY'));

  it.each(audits.map((audit) => [audit.name, audit] as const))('%s', async (_, audit) => {
    const result = await audit.fn();
    const body =
      result.status === 'ok'
        ? ''
        : await result.response
            .clone()
            .text()
            .catch(() => '');
    expect(result.status, result.status === 'ok' ? '' : `${result.reason}: ${body}`).toBe('ok');
  });
});
