/** Exactly-once execution over a ClaimStore: claim, work, then mark done or release. */
import { InProgressError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ClaimStore } from "./ports.ts";

/** A claim outlives the longest run of a function (Netlify stops synchronous functions well before this). Seconds. */
export const CLAIM_TTL_SECONDS = 5 * 60;
/** "Done" outlives Stripe's retry window of three days by a wide margin. Seconds. */
export const DONE_TTL_SECONDS = 35 * 24 * 60 * 60;

export type OnceResult<T> = { status: "done"; value: T } | { status: "duplicate" };

/**
 * Runs `work` unless `key` is already done. Throws InProgressError when another attempt holds the claim.
 * If `work` throws, the claim is released (compare-and-delete) and the error rethrown, so a retry does the work.
 */
export async function once<T>(
  store: ClaimStore,
  key: string,
  work: () => Promise<T>,
  log: Logger,
): Promise<OnceResult<T>> {
  const claim = await store.claim(key, CLAIM_TTL_SECONDS);
  if (claim.state === "done") return { status: "duplicate" };
  if (claim.state === "busy") throw new InProgressError(`${key} is being processed`);
  let value: T;
  try {
    value = await work();
  } catch (error) {
    await releaseQuietly(store, key, claim.token, log);
    throw error;
  }
  if (!(await store.complete(key, claim.token, DONE_TTL_SECONDS))) {
    // Our claim expired mid-work and may have been taken over; the provider-side idempotency key keeps the
    // email single, so this is worth a log line, not a failure.
    log("claim.lost", { key });
  }
  return { status: "done", value };
}

async function releaseQuietly(store: ClaimStore, key: string, token: string, log: Logger): Promise<void> {
  try {
    await store.release(key, token);
  } catch {
    // The store is failing too; the claim expires after CLAIM_TTL_SECONDS and Stripe's retry does the work then.
    log("claim.release_failed", { key });
  }
}
