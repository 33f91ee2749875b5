import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printedSchema } from '../../schema/index.ts';

/** `print` writes schema/schema.graphql from the code; `check` fails when the committed file differs. */
const file = fileURLToPath(new URL('../../../schema/schema.graphql', import.meta.url));
const mode = process.argv[2];
const printed = printedSchema();

if (mode === 'print') {
  writeFileSync(file, printed);
  console.log(`wrote ${file}`);
} else if (mode === 'check') {
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    console.error(`${file} is missing: run npm run schema:print`);
    process.exit(1);
  }
  if (committed !== printed) {
    console.error('schema/schema.graphql differs from the schema the code prints: run npm run schema:print');
    process.exit(1);
  }
  console.log('schema/schema.graphql matches the code');
} else {
  console.error('usage: schema.ts print|check');
  process.exit(2);
}
