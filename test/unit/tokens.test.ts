import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthenticationError, createAuthenticator } from '../../src/edge/auth/tokens.ts';

const SECRET = 'unit-secret-that-is-long-enough-for-hs256!';
const key = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

const token = (claims: { sub: string; role: string; exp: number }, secret = key) =>
  new SignJWT({ role: claims.role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(claims.exp)
    .sign(secret);

describe('a verified token is remembered until it expires', () => {
  it('answers a token sent again from memory: the same session', async () => {
    const auth = createAuthenticator(SECRET);
    const jwt = await token({ sub: 'c-1', role: 'customer', exp: now() + 600 });
    const first = await auth.verify(`Bearer ${jwt}`);
    expect(first?.actor).toEqual({ id: 'c-1', role: 'customer' });
    expect(await auth.verify(`Bearer ${jwt}`)).toBe(first);
  });

  it('refuses a remembered token once its exp has passed', async () => {
    const auth = createAuthenticator(SECRET);
    const jwt = await token({ sub: 'c-2', role: 'customer', exp: now() + 1 });
    expect((await auth.verify(`Bearer ${jwt}`))?.actor.id).toBe('c-2');
    await new Promise((resolve) => setTimeout(resolve, (now() + 1) * 1000 - Date.now() + 50));
    await expect(auth.verify(`Bearer ${jwt}`)).rejects.toThrow('Token has expired');
  });

  it('remembers no refusal: a bad token is checked, and refused, every time', async () => {
    const auth = createAuthenticator(SECRET);
    const forged = await token(
      { sub: 'c-3', role: 'staff', exp: now() + 600 },
      new TextEncoder().encode('x'.repeat(40)),
    );
    for (let i = 0; i < 2; i++) {
      await expect(auth.verify(`Bearer ${forged}`)).rejects.toBeInstanceOf(AuthenticationError);
    }
  });
});
