/** Checks on a signed but untrusted Checkout Session: its key, its fitness for fulfilment, and whether it is ours. */
import * as v from "valibot";
import { sha256 } from "../lib/hash.ts";
import { isKnownCurrency } from "../lib/money.ts";
import { FULFILLED_MARKER, SHOP_MARKER } from "./metadata.ts";
import { customerEmailOf, type Order, type SessionPayload } from "./model.ts";

/** Stripe's Checkout Session ids: `cs_test_` or `cs_live_` and a base62 tail (about 60 characters today). */
export const SESSION_ID = /^cs_(test|live)_[A-Za-z0-9]{1,250}$/;

/** Stripe's PaymentIntent ids, which refunds and disputes name: `pi_` and a base62 tail. */
export const PAYMENT_INTENT_ID = /^pi_[A-Za-z0-9]{1,250}$/;

/** Which Checkout Sessions of the Stripe account this shop fulfils. */
export type SessionScope = "shop" | "payment_links" | "all";

/**
 * The name of an order in Redis keys and idempotency keys: the session id when it has Stripe's format,
 * otherwise its sha256 (never a raw, possibly hostile, string).
 */
export function sessionKey(sessionId: unknown): string {
  if (typeof sessionId === "string" && SESSION_ID.test(sessionId)) return sessionId;
  return sha256(`session:${typeof sessionId === "string" ? sessionId : JSON.stringify(sessionId ?? null)}`);
}

/**
 * A Resend idempotency key for one email of an order: ASCII, at most 152 characters (Resend allows 256).
 * Long keys are hashed, so any session id is safe.
 */
export function emailKey(kind: string, key: string): string {
  const tail = key.length <= 128 ? key : sha256(key);
  return `linkshop-${kind}-${tail}`;
}

/**
 * One plain address the mailer may send to: `local@domain` and nothing else. valibot's `rfcEmail` (RFC 5322's
 * dot-atom characters before the `@`, LDH labels of at most 63 characters after it), plus RFC 5321's limits (at most
 * 254 characters in all, 64 before the `@`) and a dot in the domain. So whitespace and control characters (a CR/LF
 * `Bcc:` line), `<>` and quotes (markup, display names), `,` and `;` (a second recipient), comments, IP literals and
 * non-ASCII addresses are all refused.
 */
const CUSTOMER_EMAIL = v.pipe(
  v.string(),
  v.maxLength(254),
  v.rfcEmail(),
  v.check((address) => {
    const at = address.lastIndexOf("@");
    return at <= 64 && address.slice(at + 1).includes(".");
  }),
);

/** Whether `value` is one deliverable address by the rule above (a signed payload can carry anything there). */
export function isCustomerEmail(value: unknown): value is string {
  return v.is(CUSTOMER_EMAIL, value);
}

/** Why a session can never be fulfilled as sent, or undefined when it can. Reason codes are log-safe. */
export function sessionProblem(session: SessionPayload): string | undefined {
  if (typeof session.id !== "string" || !SESSION_ID.test(session.id)) return "invalid_session_id";
  const currency = session.currency;
  if (currency !== undefined && currency !== null) {
    if (typeof currency !== "string" || !/^[a-zA-Z]{3}$/.test(currency) || !isKnownCurrency(currency))
      return "invalid_currency";
  }
  for (const amount of [session.amount_total, session.amount_subtotal]) {
    if (amount !== undefined && amount !== null && !isMinorAmount(amount)) return "invalid_amount";
  }
  // No address at all is fine (the merchant is told no receipt went out); one we cannot trust is not.
  const email = customerEmailOf(session);
  if (email !== undefined && !isCustomerEmail(email)) return "invalid_customer_email";
  return undefined;
}

/** Why a mapped order cannot be rendered or sent (line items are input too), or undefined. */
export function orderProblem(order: Order): string | undefined {
  if (!/^[a-z]{3}$/.test(order.currency) || !isKnownCurrency(order.currency)) return "invalid_currency";
  const amounts = [order.subtotal, order.discount, order.shipping, order.tax, order.total];
  for (const item of order.items) amounts.push(item.amount, item.unitAmount, item.quantity);
  if (!amounts.every(isMinorAmount)) return "invalid_amount";
  if (order.customerEmail !== undefined && !isCustomerEmail(order.customerEmail))
    return "invalid_customer_email";
  return undefined;
}

function isMinorAmount(value: unknown): boolean {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Whether this shop fulfils the session under `scope` (see README, "Which sessions are fulfilled"). */
export function inScope(session: SessionPayload, scope: SessionScope): boolean {
  if (scope === "all") return true;
  if (scope === "payment_links") return Boolean(session.payment_link);
  return typeof session.metadata?.[SHOP_MARKER] === "string" && session.metadata[SHOP_MARKER] !== "";
}

/** When Stripe's copy of the session says it was fulfilled (ms since epoch), if it does. */
export function fulfilledOnStripe(session: SessionPayload): number | undefined {
  const value = session.metadata?.[FULFILLED_MARKER];
  if (!value) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : at;
}

/** `jenny@example.com` -> `j***@example.com`: enough for the customer to recognise, useless to anyone else. */
export function maskEmail(email: string | undefined): string | null {
  if (!email) return null;
  const at = email.lastIndexOf("@");
  if (at < 1) return null;
  return `${email[0]}***${email.slice(at)}`;
}
