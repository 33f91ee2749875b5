import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { settingsTable } from '../settings/settings.ts';

/**
 * npm run settings:table [print|write|check]: the README's configuration table, printed from the list of
 * settings (src/edge/settings/settings.ts). `write` puts it between the README's markers; `check` fails
 * when the README's table is not the printed one.
 */
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));
const START = '<!-- settings:start -->';
const END = '<!-- settings:end -->';

/** The README with its table replaced by `table`; throws when the markers are missing. */
export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} … ${END} block`);
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2] ?? 'print';
  const table = settingsTable();
  if (mode === 'print') console.log(table);
  else if (mode === 'write' || mode === 'check') {
    const readme = readFileSync(README, 'utf8');
    const wanted = withTable(readme, table);
    if (mode === 'write') writeFileSync(README, wanted);
    else if (wanted !== readme) {
      console.error(
        'README.md: the configuration table differs from the settings: run npm run settings:table write',
      );
      process.exitCode = 1;
    }
  } else {
    console.error('usage: npm run settings:table [print|write|check]');
    process.exitCode = 2;
  }
}
