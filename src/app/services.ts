/** The composition root's wiring: configuration in, the shop's services out, over the real clients. */
import { resendMailer } from "../adapters/resend.ts";
import { createStripeClient, stripeLineItems, stripeSessions } from "../adapters/stripe.ts";
import {
  createRedisClient,
  upstashClaimStore,
  upstashDownloadCounter,
  upstashLedger,
  upstashValues,
} from "../adapters/upstash.ts";
import type { Config } from "../config.ts";
import type { FulfilmentDeps } from "../fulfilment/fulfil.ts";
import type { DownloadCounter, ValueStore } from "../fulfilment/ports.ts";
import type { Logger } from "../lib/log.ts";
import { deployedCatalog } from "./catalog.ts";
import type { Catalog } from "../shop/catalog.ts";
import { shopInfo } from "../shop/info.ts";

/** Every service of the shop: what the endpoints, reconciliation and the merchant commands run on. */
export interface Services extends FulfilmentDeps {
  /** Small values with a TTL (the reconciliation cursor). */
  values: ValueStore;
  /** How often each file of an order was downloaded (the merchant's view and reset). */
  downloads: DownloadCounter;
}

/** The services for `config`, wired to real clients. */
export function services(config: Config, log: Logger, catalog: Catalog = deployedCatalog()): Services {
  const stripe = createStripeClient(config.stripeSecretKey, config.stripeApiBase);
  const redis = createRedisClient(config.upstashUrl, config.upstashToken);
  return {
    claims: upstashClaimStore(redis, config.redisPrefix),
    ledger: upstashLedger(redis, config.redisPrefix),
    values: upstashValues(redis, config.redisPrefix),
    downloads: upstashDownloadCounter(redis, config.redisPrefix),
    lineItems: stripeLineItems(stripe),
    sessions: stripeSessions(stripe),
    mailer: resendMailer({ apiKey: config.resendApiKey, from: config.emailFrom }),
    shop: shopInfo(catalog, config.siteUrl),
    merchantEmail: config.merchantEmail,
    scope: config.sessionScope,
    downloadSecret: config.downloadSecret,
    now: Date.now,
    log,
  };
}
