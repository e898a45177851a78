/** The contracts the fulfilment core depends on; adapters in src/adapters implement them over real services. */
import type { LineItemPayload, SessionPayload } from "./order.ts";

/** Result of trying to claim a unit of work. */
export type Claim = { state: "claimed"; token: string } | { state: "done" } | { state: "busy" };

/**
 * Two-phase claims on keys, backed by Redis. Implementations throw StoreUnavailableError on any store failure,
 * so an error is never mistaken for "done" or "busy".
 */
export interface ClaimStore {
  /** SET NX of a fresh token with a TTL (seconds); otherwise reports whether the key is done or being worked on. */
  claim(key: string, ttlSeconds: number): Promise<Claim>;
  /** Turns our claim into "done" for `ttlSeconds`, only if we still hold it. Returns false if we did not. */
  complete(key: string, token: string, ttlSeconds: number): Promise<boolean>;
  /** Deletes the claim only if we still hold it (compare-and-delete), so a retry can do the work. */
  release(key: string, token: string): Promise<void>;
}

/** Lists every line item of a Checkout Session, product expanded. Throws UpstreamError on failure. */
export interface LineItemSource {
  listLineItems(sessionId: string): Promise<LineItemPayload[]>;
}

/** Retrieves a Checkout Session; undefined when Stripe does not know the id. Throws UpstreamError on failure. */
export interface SessionSource {
  retrieve(sessionId: string): Promise<SessionPayload | undefined>;
}

/** An email ready to send. */
export interface OutgoingEmail {
  to: string;
  subject: string;
  html: string;
  text: string;
}

/**
 * Sends emails in one request. The idempotency key makes a repeated call (after a crash) send nothing new.
 * Resolves once the provider accepted them; throws UpstreamError otherwise.
 */
export interface Mailer {
  send(emails: OutgoingEmail[], idempotencyKey: string): Promise<void>;
}
