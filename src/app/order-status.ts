/**
 * The order-status function's composition, built once per cold start: Upstash for the ledger, the mail queue, the
 * remembered answers and the budgets (each client's, and the whole shop's), and Stripe over `fetch`. It loads
 * neither the Stripe nor the Resend SDK.
 */
import { upstashClientLimiter, withSharedBudget } from "../adapters/ratelimit.ts";
import { stripeRest } from "../adapters/stripe-rest.ts";
import { createRedisClient } from "../adapters/upstash.ts";
import { upstashStatusStore } from "../adapters/upstash-status.ts";
import type { Config } from "../config.ts";
import { jsonLogger, type Logger } from "../lib/log.ts";
import { isLiveKey } from "../lib/stripe-keys.ts";
import { createOrderStatusHandler, type Caller, type OrderStatusDeps } from "../order-status/handler.ts";
import type { Catalog } from "../shop/catalog.ts";
import { deployedCatalog } from "./catalog.ts";
import { fulfilmentCore } from "./core.ts";
import { configured, type Env } from "./environment.ts";

/**
 * Requests that reach Stripe, per client address and minute. A customer's page costs one per order; a household or
 * an office behind one address buying in the same minute stays well within it.
 */
export const ORDER_STATUS_BUDGET = { requests: 20, windowSeconds: 60 };

/**
 * Requests that reach Stripe from every client together, per 10 seconds: 5 a second on average, a fifth of Stripe's
 * test-mode rate limit (25 a second; live mode allows 100), so however many addresses a script uses, the webhook
 * keeps most of the account's budget. A launch day's thank-you pages rarely need Stripe at all (the ledger answers
 * once the webhook has queued the order).
 */
export const ORDER_STATUS_SHOP_BUDGET = { requests: 50, windowSeconds: 10 };

/** The order-status handler for this environment. */
export function orderStatusFromEnv(
  env: Env,
  log: Logger = jsonLogger,
): (req: Request, caller?: Caller) => Promise<Response> {
  const result = configured(env);
  return createOrderStatusHandler({
    deps: "config" in result ? orderStatusDeps(result.config, log) : result.error,
    log,
  });
}

/** The endpoint's services for `config`, wired to real clients. */
export function orderStatusDeps(
  config: Config,
  log: Logger,
  catalog: Catalog = deployedCatalog(),
): OrderStatusDeps {
  const redis = createRedisClient(config.upstashUrl, config.upstashToken);
  const stripe = stripeRest({ secretKey: config.stripeSecretKey, apiBase: config.stripeApiBase });
  return {
    // The page fulfils an order the webhook has not reached yet by queueing its emails; the drain sends them.
    ...fulfilmentCore(config, log, { redis, readers: stripe, catalog }),
    status: upstashStatusStore(redis, config.redisPrefix),
    limiter: withSharedBudget(
      upstashClientLimiter(redis, {
        ...ORDER_STATUS_BUDGET,
        name: "order-status",
        // Keys the hash of client addresses; anyone who could reverse it would need the shop's Stripe key.
        secret: config.stripeSecretKey,
        prefix: config.redisPrefix,
      }),
      upstashClientLimiter(redis, {
        ...ORDER_STATUS_SHOP_BUDGET,
        name: "order-status-shop",
        secret: config.stripeSecretKey,
        prefix: config.redisPrefix,
      }),
    ),
    checkout: stripe,
    livemode: isLiveKey(config.stripeSecretKey),
  };
}
