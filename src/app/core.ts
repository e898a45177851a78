/**
 * The fulfilment core every function that acts on orders runs on: the ledger, claims, the mail queue (as the mailer)
 * and the stock count over Upstash, the shop's facts, and the Stripe readers the function brings (the SDK, or the
 * small fetch reader of the functions that must not load it).
 */
import type { Redis } from "@upstash/redis";
import { upstashClaimStore, upstashLedger, upstashMailQueue } from "../adapters/upstash.ts";
import type { Config } from "../config.ts";
import type { FulfilmentDeps } from "../fulfilment/fulfil.ts";
import { queueMailer } from "../fulfilment/mail.ts";
import type { MailQueue } from "../fulfilment/ports.ts";
import type { Logger } from "../lib/log.ts";
import type { Catalog } from "../shop/catalog.ts";
import { shopInfo } from "../shop/info.ts";
import { stockCount } from "./catalog.ts";

/** The core for `config` over `redis`, and the mail queue its mailer fills. */
export function fulfilmentCore(
  config: Config,
  log: Logger,
  parts: { redis: Redis; readers: Pick<FulfilmentDeps, "sessions" | "lineItems">; catalog: Catalog },
): FulfilmentDeps & { queue: MailQueue } {
  const { redis, readers, catalog } = parts;
  const queue = upstashMailQueue(redis, config.redisPrefix);
  return {
    ...readers,
    claims: upstashClaimStore(redis, config.redisPrefix),
    ledger: upstashLedger(redis, config.redisPrefix),
    queue,
    // Every path that sends puts its email in the queue; the drain sends it.
    mailer: queueMailer(queue, Date.now),
    shop: shopInfo(catalog, config.siteUrl),
    merchantEmail: config.merchantEmail,
    scope: config.sessionScope,
    downloadSecret: config.downloadSecret,
    now: Date.now,
    log,
    ...stockCount(catalog, redis, config.redisPrefix),
  };
}
