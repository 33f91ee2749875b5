import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, type DocumentNode, Kind, parse, validate } from 'graphql';

/**
 * Validates every operation of a folder's .graphql files, each on its own, against schema/schema.graphql.
 * Usage: contract-check <dir> [--only Op1,Op2]. Exits 1 naming each failing operation and why.
 */
const args = process.argv.slice(2);
const dir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--only');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? new Set((args[onlyIndex + 1] ?? '').split(',').filter(Boolean)) : null;
if (!dir) {
  console.error('usage: npm run contract:check -- <dir> [--only Op1,Op2]');
  process.exit(2);
}
if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
  console.error(`${dir} is not a folder`);
  process.exit(2);
}

const schemaFile = fileURLToPath(new URL('../../../schema/schema.graphql', import.meta.url));
const schema = buildSchema(readFileSync(schemaFile, 'utf8'));
const failures: string[] = [];
const seen = new Set<string>();

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.graphql'))
  .sort()) {
  const source = readFileSync(path.join(dir, file), 'utf8');
  let document: DocumentNode;
  try {
    document = parse(source);
  } catch (err) {
    failures.push(`${file}: does not parse: ${(err as Error).message}`);
    continue;
  }
  const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const name = definition.name?.value ?? '(anonymous)';
    if (only && !only.has(name)) continue;
    seen.add(name);
    if (!schema.getRootType(definition.operation)) {
      failures.push(`${name} (${file}): the schema has no ${definition.operation} type`);
      continue;
    }
    const errors = validate(schema, { kind: Kind.DOCUMENT, definitions: [definition, ...fragments] });
    // An operation may leave a file's shared fragments unused; that alone is no failure.
    const real = errors.filter((e) => !/^Fragment ".*" is never used\.$/.test(e.message));
    for (const error of real) failures.push(`${name} (${file}): ${error.message}`);
  }
}

if (only) for (const name of only) if (!seen.has(name)) failures.push(`${name}: no such operation in ${dir}`);

if (failures.length > 0) {
  console.error(`${failures.length} contract failure(s):`);
  for (const failure of failures) console.error(`  ${failure}`);
  process.exit(1);
}
console.log(`contract: ${seen.size} operation(s) valid against schema/schema.graphql`);
