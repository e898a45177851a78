/**
 * Sign-in links of the customer's pages: a token naming the customer (the keyed hash of their address, never the
 * address) and when it expires, signed with a key of its own derived from the shop's secret. Nothing else is in it:
 * no cookie, no device, so the link works wherever it is opened, until it expires.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { shopKey } from "./customers.ts";

/** How long a sign-in link works. Minutes. */
export const SIGN_IN_MINUTES = 30;

/** What a valid link grants: the customer's pages until `expiresAt` (unix seconds). */
export interface SignInGrant {
  /** The customer's index key (customerHash in src/order/customers.ts): 64 hex characters. */
  customer: string;
  expiresAt: number;
}

const CUSTOMER = /^[0-9a-f]{64}$/;
const EXPIRES = /^\d{1,12}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/** A token's shape, for routes that only need to tell a token from anything else. */
export const SIGN_IN_TOKEN = /^[0-9a-f]{64}\.\d{1,12}\.[A-Za-z0-9_-]{43}$/;

function signature(grant: SignInGrant, secret: string): string {
  return createHmac("sha256", shopKey(secret, "sign-in"))
    .update(`sign-in:v1:${grant.customer}:${grant.expiresAt}`)
    .digest("base64url");
}

/** A grant for `customer` from `nowMs` on, valid SIGN_IN_MINUTES. */
export function signInGrant(customer: string, nowMs: number): SignInGrant {
  return { customer, expiresAt: Math.floor(nowMs / 1000) + SIGN_IN_MINUTES * 60 };
}

/** The link token for a grant: `<customer>.<expires>.<signature>`, URL-safe. */
export function signSignIn(grant: SignInGrant, secret: string): string {
  return `${grant.customer}.${grant.expiresAt}.${signature(grant, secret)}`;
}

/**
 * Checks a token in constant time against the secret: `invalid` when malformed or signed otherwise (any changed
 * character), `expired` when genuine but past its time.
 */
export function verifySignIn(
  token: string,
  secret: string,
  nowMs: number,
): { grant: SignInGrant } | { problem: "invalid" | "expired" } {
  const [customer = "", expires = "", given = "", ...rest] = token.split(".");
  if (rest.length > 0 || !CUSTOMER.test(customer) || !EXPIRES.test(expires) || !SIGNATURE.test(given))
    return { problem: "invalid" };
  const grant: SignInGrant = { customer, expiresAt: Number(expires) };
  // Compared as text: two base64url strings can decode to the same bytes (the last character's spare bits).
  if (!timingSafeEqual(Buffer.from(given), Buffer.from(signature(grant, secret))))
    return { problem: "invalid" };
  if (grant.expiresAt * 1000 <= nowMs) return { problem: "expired" };
  return { grant };
}
