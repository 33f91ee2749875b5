import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTable } from '../../src/edge/scripts/settings-table.ts';
import { loadConfig } from '../../src/edge/settings/config.ts';
import { readSettings, SETTINGS, settingsTable } from '../../src/edge/settings/settings.ts';
import { readTree } from '../helpers/layers.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SECRET = 'x'.repeat(32);

describe('the list of settings', () => {
  it("is the README's configuration table", () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(withTable(readme, settingsTable())).toBe(readme);
  });

  it('has every default within its own bounds, in development and in production', () => {
    for (const env of [{}, { NODE_ENV: 'production', JWT_SECRET: SECRET }]) {
      const settings = readSettings(env) as Record<string, unknown>;
      for (const [name, setting] of Object.entries(SETTINGS)) {
        const range = 'range' in setting ? setting.range : undefined;
        const value = settings[name];
        if (!range || value === undefined) continue;
        expect(value, name).toBeGreaterThanOrEqual(range[0]);
        expect(value, name).toBeLessThanOrEqual(range[1]);
      }
    }
  });

  it('reads each variable it lists, and the configuration takes the value read', () => {
    const config = loadConfig({ WEBHOOK_POLL_MS: '777', MAX_DEPTH: '7', ALERT_RETENTION_DAYS: '2' });
    expect(config.webhooks.pollMs).toBe(777);
    expect(config.documentLimits.depth).toBe(7);
    expect(config.alerts.retentionMs).toBe(2 * 86_400_000);
    expect(() => readSettings({ OUTBOX_POLL_MS: '10' })).toThrow(
      'OUTBOX_POLL_MS must be a whole number from 50 to 60000, got "10"',
    );
  });

  it('is read by one reader: no other file of src reads the environment', () => {
    const readers = [...readTree(path.join(ROOT, 'src'))]
      .filter(([, text]) => /process\.env\b/.test(text))
      .map(([file, text]) => [path.relative(path.join(ROOT, 'src'), file), text] as const);
    expect(readers.map(([file]) => file).sort()).toEqual([
      path.join('base', 'log.ts'),
      path.join('edge', 'settings', 'config.ts'),
      path.join('edge', 'settings', 'settings.ts'),
    ]);
    // The logger only asks whether a test runner started it, before the settings are applied.
    const log = readers.find(([file]) => file === path.join('base', 'log.ts'))![1];
    expect(log.match(/process\.env\.\w+/g)).toEqual(['process.env.VITEST']);
  });
});
