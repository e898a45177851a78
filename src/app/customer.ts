/**
 * The customer function's composition, built once per cold start: Upstash for the index, the ledger, the mail queue
 * and the budgets, Stripe over `fetch` (no Stripe SDK), and the mail queue's drain after each response that queued.
 */
import { upstashClientLimiter } from "../adapters/ratelimit.ts";
import { stripeRest } from "../adapters/stripe-rest.ts";
import { createRedisClient, upstashCustomerOrders } from "../adapters/upstash.ts";
import { upstashAddressLimiter, upstashSignInQueue } from "../adapters/upstash-customers.ts";
import { type Config, ConfigError } from "../config.ts";
import { createCustomerHandler, type CustomerContext, type CustomerDeps } from "../customer/handler.ts";
import { type DrainDeps, drainMail } from "../fulfilment/mail.ts";
import { jsonLogger, type Logger } from "../lib/log.ts";
import type { Catalog } from "../shop/catalog.ts";
import { deployedCatalog } from "./catalog.ts";
import { fulfilmentCore } from "./core.ts";
import { configured, type Env } from "./environment.ts";
import { mailDrain } from "./mail.ts";

/** The budgets of the customer's pages, per hour. */
export const CUSTOMER_BUDGETS = {
  /** Sign-in requests per client address. */
  client: { requests: 10, windowSeconds: 3600 },
  /** Sign-in requests (and so emails) per email address. */
  address: { requests: 3, windowSeconds: 3600 },
  /** Views of the orders page and receipt requests per client address. */
  pages: { requests: 120, windowSeconds: 3600 },
};

/** How long a response's drain may send after it. Milliseconds (as the webhook's). */
export const CUSTOMER_DRAIN_MS = 20_000;

/** The customer handler for this environment; a configuration problem becomes a 500 with the reason in the log. */
export function customerFromEnv(
  env: Env,
  log: Logger = jsonLogger,
): (req: Request, context?: CustomerContext) => Promise<Response> {
  const result = configured(env);
  if (!("config" in result)) return createCustomerHandler({ deps: result.error, log });
  const { config } = result;
  if (!config.downloadSecret)
    return createCustomerHandler({ deps: new ConfigError(["LINKSHOP_DOWNLOAD_SECRET"], new Map()), log });
  const { deps, drain } = customerDeps(config, config.downloadSecret, log);
  return createCustomerHandler({ deps, log, drain: () => drainMail(drain, CUSTOMER_DRAIN_MS) });
}

/** The pages' services for `config`, wired to real clients, and what draining the mail queue takes. */
export function customerDeps(
  config: Config,
  downloadSecret: string,
  log: Logger,
  catalog: Catalog = deployedCatalog(),
): { deps: CustomerDeps; drain: DrainDeps } {
  const redis = createRedisClient(config.upstashUrl, config.upstashToken);
  const stripe = stripeRest({ secretKey: config.stripeSecretKey, apiBase: config.stripeApiBase });
  const prefix = config.redisPrefix;
  const core = fulfilmentCore(config, log, { redis, readers: stripe, catalog });
  // Client addresses are named by a keyed hash; anyone who could reverse it would need the shop's secret.
  const clientBudget = (name: string, budget: { requests: number; windowSeconds: number }) =>
    upstashClientLimiter(redis, { ...budget, name, secret: downloadSecret, prefix });
  const deps: CustomerDeps = {
    ...core,
    downloadSecret,
    customers: upstashCustomerOrders(redis, prefix),
    signIns: upstashSignInQueue(redis, prefix),
    limits: {
      client: clientBudget("sign-in-client", CUSTOMER_BUDGETS.client),
      address: upstashAddressLimiter(redis, { ...CUSTOMER_BUDGETS.address, name: "sign-in-address", prefix }),
      pages: clientBudget("customer-pages", CUSTOMER_BUDGETS.pages),
    },
    checkout: stripe,
  };
  const drain = mailDrain(config, {
    queue: core.queue,
    ledger: core.ledger,
    sessions: stripe.sessions,
    shop: core.shop,
    log,
  });
  return { deps, drain };
}
