/** Resend's batch endpoint: up to 100 emails in one idempotent request, its answers mapped to what a drainer does. */
import { Resend } from "resend";
import type { BatchOutcome, BatchSender } from "../fulfilment/ports.ts";

export interface ResendSenderOptions {
  apiKey: string;
  /** Sender, e.g. `Shop <orders@shop.example>`. */
  from: string;
  /** Default BATCH_REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
}

/**
 * How long a batch request may take before it counts as failed without an answer (and is sent again later under the
 * same key). A batch of 100 takes Resend a second or two; ending the request well inside a function's time limit
 * (the scheduled drain stops taking batches 8 s before Netlify stops it) lets the drain record that it may have been
 * sent. Milliseconds.
 */
export const BATCH_REQUEST_TIMEOUT_MS = 7_000;

/** Resend reads RESEND_BASE_URL itself, which points it at a local outbox. */
export function resendBatchSender(options: ResendSenderOptions): BatchSender {
  const resend = new Resend(options.apiKey);
  return {
    async sendBatch(emails, idempotencyKey): Promise<BatchOutcome> {
      // The SDK never throws; failures come back as { error } with the HTTP status and headers. Permissive: one bad
      // address is refused on its own instead of holding back every other email of the batch.
      const { data, error, headers } = await resend.batch.send(
        emails.map(({ email }) => ({ from: options.from, ...email })),
        {
          idempotencyKey,
          batchValidation: "permissive",
          signal: AbortSignal.timeout(options.timeoutMs ?? BATCH_REQUEST_TIMEOUT_MS),
        },
      );
      if (!error) {
        return {
          kind: "sent",
          ids: emails.map((_, i) => data?.data[i]?.id),
          refused: (data?.errors ?? []).map(({ index }) => ({
            index,
            reason: "resend:422:validation_error",
          })),
        };
      }
      const status = error.statusCode;
      const reason = `resend:${status ?? "network"}:${error.name}`;
      // "This key was already used with another body": the batch went out before.
      if (status === 409 && error.name === "invalid_idempotent_request")
        return { kind: "sent", ids: emails.map(() => undefined), refused: [] };
      if (status === 429) {
        // Any 429 but the per-second limit is a quota (daily, monthly): waiting seconds does not help.
        if (error.name === "rate_limit_exceeded")
          return { kind: "rate_limited", retryAfterMs: retryAfterMs(headers) ?? 1000 };
        return { kind: "quota", retryAfterMs: retryAfterMs(headers) };
      }
      // 403 unverified domain, 401 bad key, 422 a malformed request: no attempt fixes them.
      if (status !== null && status >= 400 && status < 500 && status !== 409)
        return { kind: "refused", reason };
      return { kind: "failed", reason };
    },
  };
}

/** `retry-after` in seconds (Resend's form) to milliseconds; undefined when absent or unreadable. */
function retryAfterMs(headers: Record<string, string> | null): number | undefined {
  const raw = headers?.["retry-after"];
  const seconds = raw === undefined ? Number.NaN : Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
