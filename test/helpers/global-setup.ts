import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { freePort } from './free-port.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A server where each test file creates (and drops) a database of its own. */
    adminUrl: string;
  }
}

/**
 * DATABASE_URL: run the suite against that server (CI: the machine's Postgres 15). Otherwise start the
 * embedded Postgres in a temporary folder for this run and remove it afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    project.provide('adminUrl', process.env.DATABASE_URL);
    return async () => {};
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'backorder-api-test-'));
  const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
  project.provide('adminUrl', server.adminUrl);
  return () => server.stop();
}
