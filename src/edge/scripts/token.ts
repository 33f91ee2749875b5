import { parseArgs } from 'node:util';
import { createAuthenticator } from '../auth/tokens.ts';
import { ConfigError, loadConfig } from '../settings/config.ts';

/**
 * npm run token -- --role staff --sub alice [--expires 7d]: prints a JWT signed with JWT_SECRET, with the
 * issuer and audience the server expects and (by default) the longest lifetime it accepts.
 */
const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'customer' },
    sub: { type: 'string' },
    expires: { type: 'string' },
  },
});
if (values.role !== 'customer' && values.role !== 'staff') {
  console.error('--role must be customer or staff');
  process.exit(2);
}
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`configuration: ${err.message}`);
  process.exit(2);
}
// Without JWT_SECRET the configuration makes one for the run, which no server knows.
if (config.jwtSecretGenerated) {
  console.error('Set JWT_SECRET (at least 32 characters) to the secret the server uses.');
  process.exit(2);
}
const sub = values.sub ?? (values.role === 'staff' ? 'staff' : 'customer');
try {
  console.log(
    await createAuthenticator(config.jwtSecret, config.tokens).sign(
      { id: sub, role: values.role },
      values.expires,
    ),
  );
} catch (err) {
  // A bad --expires (jose's TypeError) or one past the maximum lifetime (RangeError): say so, no stack.
  if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
  console.error(`--expires: ${err.message}`);
  process.exit(2);
}
