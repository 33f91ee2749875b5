import { decodeJwt, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Actor } from '../../domain/types.ts';
import { TOKEN_DEFAULTS, type TokenConfig } from '../settings/defaults.ts';

/** A credential that is present but not acceptable. Never treated as anonymous. */
export class AuthenticationError extends Error {}

const ROLES = new Set(['customer', 'staff']);
/** Clocks of the issuer and of this service may disagree by this much, and no more. */
const CLOCK_SKEW_SECONDS = 60;
/** Accepted tokens remembered at once; past it the one remembered longest ago is forgotten. */
const REMEMBERED_TOKENS = 10_000;

/** A caller and the moment its credential stops being valid. */
export interface Session {
  actor: Actor;
  expiresAt: Date;
}

export interface Authenticator {
  /** `Bearer <JWT>` from a header or connectionParams; undefined or empty means anonymous. */
  authenticate(authorization: string | undefined | null): Promise<Actor | null>;
  /** Like authenticate, with the token's expiry: a long-lived connection must end when its token does. */
  verify(authorization: string | undefined | null): Promise<Session | null>;
  /** A token within the policy; `expiresIn` as jose reads it (`7d`, `12h`), by default the longest allowed. */
  sign(claims: Actor, expiresIn?: string): Promise<string>;
}

function refusal(err: unknown): AuthenticationError {
  if (err instanceof AuthenticationError) return err;
  if (err instanceof joseErrors.JWTExpired) return new AuthenticationError('Token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'exp') return new AuthenticationError('Token must have an exp claim');
    if (err.claim === 'iss') return new AuthenticationError('Token has the wrong issuer');
    if (err.claim === 'aud') return new AuthenticationError('Token has the wrong audience');
    if (err.claim === 'nbf') return new AuthenticationError('Token is not valid yet');
  }
  return new AuthenticationError('Token is not valid');
}

/**
 * The subject is stored and compared as Postgres text, which holds neither NUL nor a lone surrogate (no
 * UTF-8 for it): such a subject is a refused credential, not a fault later.
 */
function storable(sub: string): boolean {
  return !sub.includes('\u0000') && !/\p{Cs}/u.test(sub);
}

export function createAuthenticator(secret: string, policy: TokenConfig = TOKEN_DEFAULTS): Authenticator {
  const key = new TextEncoder().encode(secret);
  const maxDays = Math.round((policy.maxLifetimeSeconds / 86_400) * 100) / 100;

  /**
   * Tokens already accepted, until they expire: a client sends the same token with every request, and
   * checking its signature and claims again each time would be the same answer at a cost. Only accepted
   * tokens are kept (a refused one is checked, and counted, every time); nothing about a token can change
   * before its `exp` but the time, and that is checked on every use.
   */
  const accepted = new Map<string, Session>();

  async function verify(authorization: string | undefined | null): Promise<Session | null> {
    if (authorization === undefined || authorization === null || authorization === '') return null;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw new AuthenticationError('Authorization must be "Bearer <token>"');
    const token = match[1]!;
    const known = accepted.get(token);
    if (known) {
      if (Date.now() < known.expiresAt.getTime()) return known;
      accepted.delete(token);
    }
    const session = await verifyToken(token);
    if (accepted.size >= REMEMBERED_TOKENS) accepted.delete(accepted.keys().next().value!);
    accepted.set(token, session);
    return session;
  }

  async function verifyToken(token: string): Promise<Session> {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
        ...(policy.issuer ? { issuer: policy.issuer } : {}),
        ...(policy.audience ? { audience: policy.audience } : {}),
      });
      const { sub, role, iat, exp } = payload as typeof payload & { exp: number };
      if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255 || !storable(sub)) {
        throw new AuthenticationError('Token has no valid sub claim');
      }
      if (typeof role !== 'string' || !ROLES.has(role))
        throw new AuthenticationError('Token has an unknown role');
      const now = Math.floor(Date.now() / 1000);
      // A token "issued" later than now was minted by a wrong clock or to outlive the lifetime check.
      if (iat !== undefined && iat > now + CLOCK_SKEW_SECONDS) {
        throw new AuthenticationError('Token is issued in the future');
      }
      if (exp - (iat ?? now) > policy.maxLifetimeSeconds) {
        throw new AuthenticationError(`Token lives longer than the ${maxDays} days allowed`);
      }
      return { actor: { id: sub, role: role as Actor['role'] }, expiresAt: new Date(exp * 1000) };
    } catch (err) {
      throw refusal(err);
    }
  }

  return {
    verify,
    async authenticate(authorization) {
      return (await verify(authorization))?.actor ?? null;
    },
    async sign(claims, expiresIn) {
      // exp before iat: should the clock tick between the two, the lifetime comes out shorter, never longer.
      let token = new SignJWT({ role: claims.role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(claims.id)
        .setExpirationTime(expiresIn ?? Math.floor(Date.now() / 1000) + policy.maxLifetimeSeconds)
        .setIssuedAt();
      if (policy.issuer) token = token.setIssuer(policy.issuer);
      if (policy.audience) token = token.setAudience(policy.audience);
      const signed = await token.sign(key);
      const { iat, exp } = decodeJwt(signed) as { iat: number; exp: number };
      if (exp - iat > policy.maxLifetimeSeconds) {
        throw new RangeError(`A token may live at most ${maxDays} days (JWT_MAX_LIFETIME_SECONDS)`);
      }
      return signed;
    },
  };
}
