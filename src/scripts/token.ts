import { parseArgs } from 'node:util';
import { createAuthenticator } from '../auth.ts';

/** npm run token -- --role staff --sub alice [--expires 7d]: prints a JWT signed with JWT_SECRET. */
const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'customer' },
    sub: { type: 'string' },
    expires: { type: 'string', default: '30d' },
  },
});
const secret = process.env.JWT_SECRET ?? '';
if (secret.length < 32) {
  console.error('Set JWT_SECRET (at least 32 characters) to the secret the server uses.');
  process.exit(2);
}
if (values.role !== 'customer' && values.role !== 'staff') {
  console.error('--role must be customer or staff');
  process.exit(2);
}
const sub = values.sub ?? (values.role === 'staff' ? 'staff' : 'customer');
console.log(await createAuthenticator(secret).sign({ id: sub, role: values.role }, values.expires));
