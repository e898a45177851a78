/**
 * The order ledger's record: where each order stands, what was sent, and which state may follow which. The store's
 * compare-and-set script is generated from TRANSITIONS (src/adapters/upstash.ts), so the rule lives here once.
 */
import type { OrderFile } from "./downloads.ts";
import { customerEmailOf, type Order, type SessionPayload } from "./model.ts";
import { maskEmail } from "./session.ts";

/**
 * Where an order stands. `fulfilled` is never sent again; `refunded` and `disputed` come after it (or instead of it)
 * and cut access to the order's files; `failed` waits for the merchant (`npm run orders -- retry`).
 */
export type OrderState =
  "awaiting_payment" | "fulfilling" | "fulfilled" | "payment_failed" | "failed" | "refunded" | "disputed";

/** Every state, in the order an order usually moves through them. */
export const ORDER_STATES: readonly OrderState[] = [
  "awaiting_payment",
  "fulfilling",
  "fulfilled",
  "payment_failed",
  "failed",
  "refunded",
  "disputed",
];

/**
 * The allowed transitions: from a state (or "absent", no record yet) to the states a write may leave. Rewriting the
 * same state is how a record gains detail (an email id, an alert). Nothing goes back to sending once `fulfilled`,
 * `refunded` or `disputed` is recorded: such an order is never sent again by any path. A refund or a dispute may
 * arrive at any point; a dispute closed in the shop's favour restores `fulfilled`, a refund is final.
 */
export const TRANSITIONS: Readonly<Record<OrderState | "absent", readonly OrderState[]>> = {
  // Before anything is recorded or paid, any state may follow.
  absent: ORDER_STATES,
  awaiting_payment: ORDER_STATES,
  fulfilling: ["fulfilling", "fulfilled", "payment_failed", "failed", "refunded", "disputed"],
  // A failed delayed payment may still be paid another way; the page or reconciliation then fulfils it.
  payment_failed: ["payment_failed", "fulfilling", "fulfilled", "failed", "refunded", "disputed"],
  // The merchant's retry starts over; Stripe's marker may show it was fulfilled after all.
  failed: ["failed", "fulfilling", "fulfilled", "refunded", "disputed"],
  fulfilled: ["fulfilled", "refunded", "disputed"],
  // Won: back to fulfilled, or to failed (the merchant decides) when it never was.
  disputed: ["disputed", "fulfilled", "failed", "refunded"],
  refunded: ["refunded"],
};

/** States after which nothing is ever sent again: the order is done, or its money went back. */
export const SETTLED_STATES: readonly OrderState[] = ["fulfilled", "refunded", "disputed"];

/** Whether a record in state `from` may be written as `to`. */
export function canTransition(from: OrderState | "absent", to: OrderState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Which path wrote a record. */
export type Actor = "webhook" | "page" | "reconcile" | "merchant" | "customer";

/**
 * One order in the ledger. Amounts in minor units. No email address, name or postal address: only a masked email.
 * Times are milliseconds since the epoch.
 */
export interface LedgerRecord {
  /** The Checkout Session id, or null when the payload's id had no valid format (the key is then a hash). */
  sessionId: string | null;
  state: OrderState;
  /** Log-safe reason code for `failed` (e.g. `resend:422:validation_error`) and other notes; null otherwise. */
  reason: string | null;
  createdAt: number;
  updatedAt: number;
  fulfilledAt: number | null;
  /** The path that wrote this version. */
  by: Actor;
  /** Fulfilment attempts that reached the email step. */
  attempts: number;
  /** When the first email request of this order was made: Resend keeps idempotency keys for 24 hours only. */
  sendingSince: number | null;
  /** Resend ids of accepted emails (`accepted` when Resend answered "already accepted" without an id). */
  emails: { receipt?: string; notice?: string; paymentFailed?: string; alert?: string; resent?: string[] };
  /** Slots (`receipt`, `notice`) queued and not accepted by the mailer yet; the order is fulfilled when none is left. */
  queued?: string[];
  /** The order's files, as delivered (absent on orders without files and on records older than downloads). */
  files?: OrderFile[];
  /** Stripe's PaymentIntent of the order (`pi_...`): how a refund or a dispute finds it. */
  paymentIntent?: string | null;
  /** What was refunded so far (minor units) and whether that cut access to the files. */
  refund?: { amountRefunded: number; amount: number; full: boolean; revoked: boolean };
  /** The latest dispute, and the state the order had when it opened (restored when the shop wins). */
  dispute?: { id: string; status: string; reason: string; previous: OrderState };
  /** Refund and dispute notices already accepted by the mailer, by name (e.g. `refund-900`, `dispute-dp_1-opened`). */
  notices?: string[];
  /** When the merchant last re-sent the receipt (ms), so a second `resend` soon after is refused unless forced. */
  lastResentAt?: number;
  amount: number | null;
  currency: string | null;
  livemode: boolean;
  /** What the thank-you page shows. */
  items: { name: string; quantity: number }[];
  maskedEmail: string | null;
}

/** A record with nothing known yet but its session id (null when the id is unusable). */
export function emptyRecord(sessionId: string | null, now: number): LedgerRecord {
  return {
    sessionId,
    state: "fulfilling",
    reason: null,
    createdAt: now,
    updatedAt: now,
    fulfilledAt: null,
    by: "webhook",
    attempts: 0,
    sendingSince: null,
    emails: {},
    amount: null,
    currency: null,
    livemode: false,
    items: [],
    maskedEmail: null,
  };
}

/** A first record from the session alone (line items come later). */
export function blankRecord(session: SessionPayload, now: number): LedgerRecord {
  return {
    ...emptyRecord(session.id, now),
    amount: typeof session.amount_total === "number" ? session.amount_total : null,
    currency: typeof session.currency === "string" ? session.currency.toLowerCase() : null,
    livemode: session.livemode === true,
    maskedEmail: maskEmail(customerEmailOf(session)),
  };
}

/** The parts of an order the ledger keeps: what the thank-you page shows, without personal data. */
export function orderSummary(
  order: Order,
): Pick<LedgerRecord, "amount" | "currency" | "items" | "maskedEmail" | "livemode"> {
  return {
    amount: order.total,
    currency: order.currency,
    livemode: order.livemode,
    items: order.items.map(({ name, quantity }) => ({ name, quantity })),
    maskedEmail: maskEmail(order.customerEmail),
  };
}
