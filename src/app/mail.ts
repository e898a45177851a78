/** What draining the mail queue takes, over the real Resend client: one recipe for every function that sends. */
import { resendBatchSender } from "../adapters/resend.ts";
import type { Config } from "../config.ts";
import type { DrainDeps } from "../fulfilment/mail.ts";
import type { Ledger, MailQueue, SessionSource } from "../fulfilment/ports.ts";
import type { Logger } from "../lib/log.ts";
import type { ShopInfo } from "../shop/info.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The drain's services for `config`: Resend's batch endpoint, paced to LINKSHOP_EMAIL_RATE. */
export function mailDrain(
  config: Config,
  parts: {
    queue: MailQueue;
    ledger: Pick<Ledger, "get" | "put">;
    sessions: Pick<SessionSource, "markFulfilled">;
    shop: ShopInfo;
    log: Logger;
  },
): DrainDeps {
  return {
    ...parts,
    sender: resendBatchSender({ apiKey: config.resendApiKey, from: config.emailFrom }),
    merchantEmail: config.merchantEmail,
    spacingMs: Math.ceil(1000 / config.emailRequestsPerSecond),
    now: Date.now,
    wait: sleep,
  };
}
