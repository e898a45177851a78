/** The few named failures of a delivery. Each maps to one HTTP status in src/webhook/respond.ts. */

/** Redis (through Upstash) could not answer: fail closed, Stripe retries (503). */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
  readonly reason = "store_unavailable";
}

/**
 * Stripe or Resend failed. `reason` is a short, log-safe code such as `resend:429:rate_limit_exceeded`;
 * the upstream message stays in `cause`, which is never logged (it can quote an email address).
 */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  constructor(
    readonly service: "stripe" | "resend",
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${service} request failed (${reason})`, options);
  }
}

/** Another delivery holds the claim for this work right now; answering non-2xx keeps Stripe retrying (409). */
export class InProgressError extends Error {
  override readonly name = "InProgressError";
  readonly reason = "in_progress";
}
