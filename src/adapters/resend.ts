/** Mailer over Resend: one request per email, idempotent, with a short retry on rate limiting. */
import { Resend } from "resend";
import { PermanentError, UpstreamError } from "../lib/errors.ts";
import type { Mailer } from "../fulfilment/ports.ts";

export interface ResendMailerOptions {
  apiKey: string;
  /** Sender, e.g. `Shop <orders@shop.example>`. */
  from: string;
  /** Longest single wait on a 429 we accept before failing to Stripe's retry instead. Milliseconds. */
  maxRetryWaitMs?: number;
  /** Retries after a 429 (Resend allows a few requests per second per team). */
  maxRetries?: number;
  /** Waits `ms`; injectable so tests can observe the delay instead of sleeping. */
  wait?: (ms: number) => Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resend reads RESEND_BASE_URL itself, which points it at a local outbox. */
export function resendMailer(options: ResendMailerOptions): Mailer {
  const resend = new Resend(options.apiKey);
  const { maxRetryWaitMs = 2_000, maxRetries = 2, wait = sleep } = options;
  return {
    async send(email, idempotencyKey) {
      for (let attempt = 0; ; attempt++) {
        // The SDK never throws; failures come back as { error } with the HTTP status and headers.
        const { data, error, headers } = await resend.emails.send(
          { from: options.from, ...email },
          { idempotencyKey },
        );
        if (!error) return { id: data?.id };
        const status = error.statusCode;
        // "A request with this key was already accepted" (with another body, e.g. after a product rename): sent.
        if (status === 409 && error.name === "invalid_idempotent_request") return { id: undefined };
        const reason = `resend:${status ?? "network"}:${error.name}`;
        // Other 4xx (403 unverified domain, 422 bad address): no retry can fix them.
        if (status !== null && status >= 400 && status < 500 && status !== 409 && status !== 429)
          throw new PermanentError(reason, { cause: error });
        const delayMs = status === 429 ? retryAfterMs(headers) : undefined;
        if (delayMs === undefined || delayMs > maxRetryWaitMs || attempt >= maxRetries) {
          throw new UpstreamError("resend", reason, { cause: error });
        }
        await wait(delayMs);
      }
    },
  };
}

/** `retry-after` in seconds (Resend's form) to milliseconds; 1 s when the header is absent or unreadable. */
function retryAfterMs(headers: Record<string, string> | null): number {
  const seconds = Number(headers?.["retry-after"]);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000;
}
