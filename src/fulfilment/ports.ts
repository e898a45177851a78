/** The contracts the fulfilment core depends on; adapters in src/adapters implement them over real services. */
import type { LedgerRecord, OrderState } from "../order/ledger.ts";
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

/** What a ledger write may do besides the record, in the same atomic step. */
export interface LedgerExtras {
  /** Emails to queue (the order's receipt and notice). */
  jobs?: MailJob[];
  /** The customer's index key (src/order/customers.ts): the order is listed under it, scored by creation time. */
  customer?: string;
}

/** The orders of each customer, under the keyed hash of their email (src/order/customers.ts); no expiry. */
export interface CustomerOrders {
  /** Ledger keys of the customer's orders, newest first, at most `limit`. */
  list(customer: string, limit: number): Promise<string[]>;
  /** Lists an order under the customer (the merchant's `npm run orders -- index`). */
  add(customer: string, key: string, createdAt: number): Promise<void>;
}

/** The durable order records: one per Checkout Session, no expiry, indexed by creation time. */
export interface Ledger {
  get(key: string): Promise<LedgerRecord | undefined>;
  /**
   * Compare-and-set: writes `record` only while the stored state is `expected` ("absent": no record yet) and the
   * move is one of TRANSITIONS (src/order/ledger.ts), and in the same atomic step queues `extra.jobs` and indexes
   * the order under `extra.customer` (nothing happens when it does not write). Returns whether it wrote.
   */
  put(
    key: string,
    expected: OrderState | "absent",
    record: LedgerRecord,
    extra?: LedgerExtras,
  ): Promise<boolean>;
  /** Records newest first, created at or before `before` (ms) when given. */
  list(options: { limit: number; before?: number }): Promise<{ key: string; record: LedgerRecord }[]>;
  /** The key of the order paid by this PaymentIntent, when a record named it (`paymentIntent`). */
  findByPaymentIntent(paymentIntent: string): Promise<string | undefined>;
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
  /** The session paid by this PaymentIntent (one list call), or undefined when none was. */
  findByPaymentIntent(paymentIntent: string): Promise<SessionPayload | undefined>;
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

/** The shop's files (Netlify Blobs). Throws StoreUnavailableError when the store cannot answer. */
export interface FileStore {
  /** The file's bytes as a stream and its size in bytes (when recorded), or undefined when no such file is stored. */
  open(key: string): Promise<{ body: ReadableStream<Uint8Array>; size: number | undefined } | undefined>;
  /** The file's size in bytes, or undefined when no such file is stored. */
  size(key: string): Promise<number | undefined>;
}

/** How often each file of an order was downloaded; kept without expiry. Throws StoreUnavailableError. */
export interface DownloadCounter {
  /** Transfers so far. */
  used(orderKey: string, fileId: string): Promise<number>;
  /** Counts one transfer atomically unless `limit` transfers were already counted; `used` is the count after. */
  take(orderKey: string, fileId: string, limit: number): Promise<{ taken: boolean; used: number }>;
  /** Every file's count of an order (for the merchant). */
  all(orderKey: string): Promise<Record<string, number>>;
  /** Forgets an order's counts (the merchant's reset). */
  reset(orderKey: string): Promise<void>;
}

/**
 * An email waiting in the mail queue. Its id names it once and for all: queueing an id that is already waiting, or
 * was sent in the last 24 hours, adds nothing.
 */
export interface MailJob {
  id: string;
  email: OutgoingEmail;
  /** The order the email belongs to and its slot (`receipt`, `notice`): accepted slots are recorded on the order. */
  order?: { key: string; slot: string };
  /** When it was queued. Milliseconds since the epoch. */
  queuedAt: number;
}

/** What a drainer gets when it asks the queue for work. Times in milliseconds since the epoch. */
export type MailTake =
  | { kind: "empty" }
  /** Another drainer holds the batch in flight until `until`. */
  | { kind: "busy"; until: number }
  /** Sending stopped (the provider's daily quota is spent) until `until`. */
  | { kind: "paused"; until: number }
  /** The shared request budget allows the next request at `until`. */
  | { kind: "wait"; until: number }
  | {
      kind: "batch";
      /** Also the batch's idempotency key: a batch sent again is the same request. */
      id: string;
      /** When the batch was first taken. */
      since: number;
      /**
       * When a request of this batch first ended without an answer (it may have been accepted), or null when every
       * answer so far was a refusal: the provider keeps idempotency keys for 24 hours, so only from then on does
       * sending it again risk a second email.
       */
      uncertainSince: number | null;
      /** Times it was taken, this one included. */
      attempts: number;
      jobs: MailJob[];
      /** The current ledger record of each order in the batch, by ledger key. */
      records: Record<string, LedgerRecord>;
    };

/**
 * The mail queue: every email the shop sends waits here and leaves in batches, one drainer at a time, with requests
 * spaced by a budget shared by every invocation. Throws StoreUnavailableError on store failures.
 */
export interface MailQueue {
  /** Queues `jobs` (ids already waiting or recently sent are skipped). */
  enqueue(jobs: MailJob[]): Promise<void>;
  /**
   * Takes the batch in flight again if its lease ran out, else up to `max` waiting emails as a new batch `batchId`,
   * leased for `leaseMs` and spending one request of the budget (one request per `spacingMs`).
   */
  take(options: {
    now: number;
    leaseMs: number;
    max: number;
    spacingMs: number;
    batchId: string;
  }): Promise<MailTake>;
  /**
   * Ends batch `id` (sent, or refused for good): forgets its emails (remembered as sent for 24 hours, except the
   * `refused` ids), writes each record whose stored state is still `expected`, and queues `then`. Returns which
   * writes happened, or undefined when the batch is no longer this drainer's (its lease ran out and another drainer
   * took it again: that one settles it).
   */
  finish(
    id: string,
    writes: { key: string; expected: OrderState; record: LedgerRecord }[],
    then: MailJob[],
    now: number,
    refused?: string[],
  ): Promise<boolean[] | undefined>;
  /**
   * Keeps batch `id` for another attempt at `notBefore` or later; with `pause`, all sending stops until then.
   * `uncertainAt` (ms) records that the last request ended without an answer, when the batch has no such time yet.
   */
  retryLater(
    id: string,
    notBefore: number,
    options?: { pause?: boolean; uncertainAt?: number },
  ): Promise<void>;
  /** What waits, for the merchant's view. */
  status(): Promise<MailQueueStatus>;
}

/** The mail queue as the merchant sees it. Times in milliseconds since the epoch. */
export interface MailQueueStatus {
  /** Emails waiting, in flight included. */
  waiting: number;
  /** When the oldest waiting email was queued, or null. */
  oldestQueuedAt: number | null;
  /** Sending is stopped until then (daily quota), or null. */
  pausedUntil: number | null;
  /** The batch in flight: its attempts and when the next may run. */
  inFlight: { attempts: number; since: number; notBefore: number } | null;
}

/** How one batch request ended. */
export type BatchOutcome =
  /** Accepted: an id per email (undefined when unknown), and the indexes the provider refused one by one. */
  | { kind: "sent"; ids: (string | undefined)[]; refused: { index: number; reason: string }[] }
  /** Too many requests: try the same batch again after `retryAfterMs`. */
  | { kind: "rate_limited"; retryAfterMs: number }
  /** The day's quota is spent: nothing is sent until it resets (`retryAfterMs` when the provider says). */
  | { kind: "quota"; retryAfterMs: number | undefined }
  /** A failure a later attempt may fix (5xx, network). */
  | { kind: "failed"; reason: string }
  /** Refused as a whole for good (bad key, unverified domain): no attempt can fix it. */
  | { kind: "refused"; reason: string };

/**
 * Sends up to 100 emails in one request under one idempotency key (each email comes with its queue id, which names
 * it in logs and tests). Never throws.
 */
export interface BatchSender {
  sendBatch(emails: { id: string; email: OutgoingEmail }[], idempotencyKey: string): Promise<BatchOutcome>;
}
