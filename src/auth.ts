import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Actor } from './domain/types.ts';

/** A credential that is present but not acceptable. Never treated as anonymous. */
export class AuthenticationError extends Error {}

const ROLES = new Set(['customer', 'staff']);

export interface Authenticator {
  /** `Bearer <JWT>` from a header or connectionParams; undefined or empty means anonymous. */
  authenticate(authorization: string | undefined | null): Promise<Actor | null>;
  sign(claims: Actor, expiresIn?: string): Promise<string>;
}

export function createAuthenticator(secret: string): Authenticator {
  const key = new TextEncoder().encode(secret);
  return {
    async authenticate(authorization) {
      if (authorization === undefined || authorization === null || authorization === '') return null;
      const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
      if (!match) throw new AuthenticationError('Authorization must be "Bearer <token>"');
      try {
        const { payload } = await jwtVerify(match[1]!, key, { algorithms: ['HS256'] });
        const { sub, role } = payload;
        if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) {
          throw new AuthenticationError('Token has no valid sub claim');
        }
        if (typeof role !== 'string' || !ROLES.has(role))
          throw new AuthenticationError('Token has an unknown role');
        return { id: sub, role: role as Actor['role'] };
      } catch (err) {
        if (err instanceof AuthenticationError) throw err;
        if (err instanceof joseErrors.JWTExpired) throw new AuthenticationError('Token has expired');
        throw new AuthenticationError('Token is not valid');
      }
    },
    async sign(claims, expiresIn = '30d') {
      return new SignJWT({ role: claims.role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(claims.id)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(key);
    },
  };
}
