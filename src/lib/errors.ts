/** The few named failures, and the one mapping from failures to HTTP statuses used by every endpoint. */

/** Redis (through Upstash) could not answer: fail closed, the caller retries (503). */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
  readonly reason = "store_unavailable";
}

/**
 * Stripe or Resend failed in a way a retry may fix (5xx, 429, network). `reason` is a short, log-safe code such as
 * `resend:429:rate_limit_exceeded`; the upstream message stays in `cause`, which is never logged (it can quote an
 * email address).
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

/** A request that no retry can fix (Resend 403 for an unverified domain, 422 for a bad address). */
export class PermanentError extends Error {
  override readonly name = "PermanentError";
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`permanent failure (${reason})`, options);
  }
}

/** Another attempt holds the claim for this work right now; answering non-2xx keeps Stripe retrying (409). */
export class InProgressError extends Error {
  override readonly name = "InProgressError";
  readonly reason = "in_progress";
}

/** The short, log-safe reason code of one of our errors (they all carry `reason`), else `fallback`. */
export function reasonOf(error: unknown, fallback: string): string {
  return error instanceof Error && "reason" in error ? String(error.reason) : fallback;
}

/** A failure as an endpoint answers it. */
export interface FailureReply {
  status: number;
  outcome: "in_progress" | "failed";
  reason: string;
}

/**
 * The one place where failures become statuses. Every one is non-2xx, so Stripe retries the delivery and a page
 * asks again: 409 while another attempt holds the order, 503 when Redis is unavailable, 502 when Stripe or Resend
 * fail, 500 for anything unexpected (answered as JSON, never as a stack trace). Permanent failures of fulfilment
 * never get here: they are recorded and acknowledged with 200 where they happen.
 */
export function failureReply(error: unknown): FailureReply {
  if (error instanceof InProgressError) return { status: 409, outcome: "in_progress", reason: error.reason };
  if (error instanceof StoreUnavailableError) return { status: 503, outcome: "failed", reason: error.reason };
  if (error instanceof UpstreamError) return { status: 502, outcome: "failed", reason: error.reason };
  // Reaches here only from a read that is not recorded (the thank-you page asking about an unusable session).
  if (error instanceof PermanentError) return { status: 422, outcome: "failed", reason: error.reason };
  return { status: 500, outcome: "failed", reason: "internal_error" };
}
