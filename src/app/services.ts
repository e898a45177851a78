/** The composition root's wiring: configuration in, the shop's services out, over the real clients. */
import { createStripeClient, stripeLineItems, stripeSessions } from "../adapters/stripe.ts";
import {
  createRedisClient,
  upstashCustomerOrders,
  upstashDownloadCounter,
  upstashValues,
} from "../adapters/upstash.ts";
import type { Config } from "../config.ts";
import type { FulfilmentDeps } from "../fulfilment/fulfil.ts";
import type { DrainDeps } from "../fulfilment/mail.ts";
import type { CustomerOrders, DownloadCounter, MailQueue, ValueStore } from "../fulfilment/ports.ts";
import type { Logger } from "../lib/log.ts";
import { deployedCatalog } from "./catalog.ts";
import { fulfilmentCore } from "./core.ts";
import { mailDrain } from "./mail.ts";
import type { Catalog } from "../shop/catalog.ts";

/** Every service of the shop: what the endpoints, reconciliation and the merchant commands run on. */
export interface Services extends FulfilmentDeps {
  /** Small values with a TTL (the reconciliation cursor). */
  values: ValueStore;
  /** How often each file of an order was downloaded (the merchant's view and reset). */
  downloads: DownloadCounter;
  /** Where every email waits until the drain sends it. */
  queue: MailQueue;
  /** Each customer's orders, under the keyed hash of their email. */
  customers: CustomerOrders;
  /** What sending the queued emails takes. */
  drain: DrainDeps;
}

/** The services for `config`, wired to real clients. */
export function services(config: Config, log: Logger, catalog: Catalog = deployedCatalog()): Services {
  const stripe = createStripeClient(config.stripeSecretKey, config.stripeApiBase);
  const redis = createRedisClient(config.upstashUrl, config.upstashToken);
  const sessions = stripeSessions(stripe);
  const core = fulfilmentCore(config, log, {
    redis,
    readers: { sessions, lineItems: stripeLineItems(stripe) },
    catalog,
  });
  return {
    ...core,
    values: upstashValues(redis, config.redisPrefix),
    downloads: upstashDownloadCounter(redis, config.redisPrefix),
    customers: upstashCustomerOrders(redis, config.redisPrefix),
    drain: mailDrain(config, { queue: core.queue, ledger: core.ledger, sessions, shop: core.shop, log }),
  };
}
