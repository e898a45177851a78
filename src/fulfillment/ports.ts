/** The contracts the fulfilment core depends on; adapters in src/adapters implement them over real services. */
import type { LineItemPayload, SessionPayload } from "../order/model.ts";

/** Result of trying to claim a unit of work. */
export type Claim = { state: "claimed"; token: string } | { state: "busy" };

/**
 * Short-lived claims on keys: the concurrency guard, never the record of what is done (that is the Ledger).
 * Implementations throw StoreUnavailableError on any store failure, so an error is never mistaken for "busy".
 */
export interface ClaimStore {
  /** SET NX of a fresh token with a TTL (seconds); "busy" when another attempt holds the key. */
  claim(key: string, ttlSeconds: number): Promise<Claim>;
  /** Deletes the claim only if we still hold it (compare-and-delete), so a retry can do the work. */
  release(key: string, token: string): Promise<void>;
}

/** Where an order stands. `fulfilled` is final; `failed` waits for the merchant (`npm run orders -- retry`). */
export type OrderState = "awaiting_payment" | "fulfilling" | "fulfilled" | "payment_failed" | "failed";

/** Which path wrote a record. */
export type Actor = "webhook" | "page" | "reconcile" | "merchant";

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
  amount: number | null;
  currency: string | null;
  livemode: boolean;
  /** What the thank-you page shows. */
  items: { name: string; quantity: number }[];
  maskedEmail: string | null;
}

/** The durable order records: one per Checkout Session, no expiry, indexed by creation time. */
export interface Ledger {
  get(key: string): Promise<LedgerRecord | undefined>;
  /**
   * Compare-and-set: writes `record` only while the stored state is `expected` ("absent": no record yet), and
   * never turns `fulfilled` into another state. Returns whether it wrote.
   */
  put(key: string, expected: OrderState | "absent", record: LedgerRecord): Promise<boolean>;
  /** Records newest first, created at or before `before` (ms) when given. */
  list(options: { limit: number; before?: number }): Promise<{ key: string; record: LedgerRecord }[]>;
}

/**
 * Lists every line item of a Checkout Session, product expanded. Throws PermanentError when Stripe does not know
 * the session, UpstreamError on other failures.
 */
export interface LineItemSource {
  listLineItems(sessionId: string): Promise<LineItemPayload[]>;
}

/** One page of sessions, newest first, and the cursor for the next (older) page. */
export interface SessionPage {
  sessions: SessionPayload[];
  nextCursor: string | undefined;
}

/** Checkout Sessions on Stripe. Every method throws UpstreamError on failure. */
export interface SessionSource {
  /** The session, or undefined when Stripe does not know the id. */
  retrieve(sessionId: string): Promise<SessionPayload | undefined>;
  /** Writes metadata `linkshop_fulfilled_at` (ISO time) on the session: Stripe's copy of "fulfilled". */
  markFulfilled(sessionId: string, at: Date): Promise<void>;
  /** Complete sessions created at or after `since` (unix seconds), newest first, a page at a time. */
  listComplete(since: number, cursor: string | undefined): Promise<SessionPage>;
}

/** An email ready to send. */
export interface OutgoingEmail {
  to: string;
  /** Where the customer's replies go (the shop's support address); absent for the merchant's own emails. */
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
}

/**
 * Sends one email. The idempotency key makes a repeated call send nothing new; a key Resend already accepted
 * counts as sent (`id` undefined when the provider did not say which email it was).
 * Throws PermanentError for what no retry can fix, UpstreamError for what a retry may.
 */
export interface Mailer {
  send(email: OutgoingEmail, idempotencyKey: string): Promise<{ id: string | undefined }>;
}

/** A small string value with a TTL (the reconciliation cursor). Throws StoreUnavailableError on failure. */
export interface ValueStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}
