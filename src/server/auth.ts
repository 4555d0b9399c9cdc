import { createHmac, timingSafeEqual } from "node:crypto";
import { KalphiteUsageError } from "../core/index.js";

/** Who a connection is, as the authenticator decided. */
export interface Identity {
  userId: string;
  /** The rooms this user may join; absent = any room. */
  rooms?: readonly string[];
}

/** What a client presented in its hello. */
export interface AuthRequest {
  token: string;
  /** The user id the client claims; the authenticator's answer wins. */
  userId: string;
  roomId: string;
}

/**
 * Decides who a connection is. Return (or resolve) an identity, or undefined/throw to refuse.
 * A returned userId that differs from the claimed one is refused as impersonation.
 */
export type Authenticator = (
  request: AuthRequest,
) => Identity | undefined | Promise<Identity | undefined>;

/** The claims of a signed token. */
export interface TokenClaims {
  userId: string;
  /** Rooms the bearer may join. @default any room */
  rooms?: string[];
  /** Expiry, in ms since the epoch. @default never */
  expiresAt?: number;
}

const b64 = (buffer: Buffer | string) => Buffer.from(buffer).toString("base64url");
const hmac = (body: string, secret: string) => createHmac("sha256", secret).update(body).digest();

/**
 * Mints a token the default authenticator accepts: the claims, HMAC-SHA256-signed with the
 * server's secret (env `KALPHITE_SECRET`). Mint tokens on your backend, never in a browser.
 *
 * @example const token = signToken({ userId: "ann", rooms: ["pr-42"] }, process.env.KALPHITE_SECRET!);
 */
export function signToken(claims: TokenClaims, secret: string): string {
  if (!secret)
    throw new KalphiteUsageError(
      "signToken needs a non-empty secret (the server's KALPHITE_SECRET).",
    );
  const body = b64(JSON.stringify(claims));
  return `v1.${body}.${b64(hmac(body, secret))}`;
}

/**
 * Verifies a token from `signToken`; returns its claims, or undefined if it is forged, malformed
 * or expired.
 *
 * @example const claims = verifyToken(token, secret);
 */
export function verifyToken(
  token: string,
  secret: string,
  now = Date.now(),
): TokenClaims | undefined {
  const [version, body, signature] = token.split(".");
  if (version !== "v1" || !body || !signature) return undefined;
  const expected = hmac(body, secret);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as TokenClaims;
    if (typeof claims.userId !== "string" || claims.userId === "") return undefined;
    if (claims.expiresAt !== undefined && claims.expiresAt < now) return undefined;
    return claims;
  } catch {
    return undefined;
  }
}

/**
 * The default authenticator: accepts tokens signed with `secret`.
 *
 * @example createSyncServer({ authenticate: tokenAuthenticator(process.env.KALPHITE_SECRET!) })
 */
export function tokenAuthenticator(secret: string): Authenticator {
  return ({ token }) => {
    const claims = verifyToken(token, secret);
    if (!claims) return undefined;
    return claims.rooms
      ? { userId: claims.userId, rooms: claims.rooms }
      : { userId: claims.userId };
  };
}

/** Development only: believes whatever user id the client claims. */
export const insecureDevAuthenticator: Authenticator = ({ userId }) =>
  userId ? { userId } : undefined;
