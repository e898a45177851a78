/** Builds the functions' services from the environment, once per cold start. */
import { resendMailer } from "./adapters/resend.ts";
import { createStripeClient, stripeLineItems, stripeSessions } from "./adapters/stripe.ts";
import { createRedisClient, upstashClaimStore, upstashLedger, upstashValues } from "./adapters/upstash.ts";
import catalogFile from "../catalog.json" with { type: "json" };
import { type Catalog, parseCatalog } from "./catalog/schema.ts";
import { type Config, ConfigError, readConfig } from "./config.ts";
import { reasonOf } from "./errors.ts";
import { jsonLogger, type Logger } from "./log.ts";
import { createOrderStatusHandler } from "./order-status/handler.ts";
import { type ReconcileDeps, type ReconcileSummary, reconcile } from "./reconcile/reconcile.ts";
import { shopInfo } from "./shop.ts";
import { createWebhookHandler } from "./webhook/handler.ts";

type Env = Record<string, string | undefined>;

let bundledCatalog: Catalog | undefined;
/**
 * The shop's catalog as deployed with the functions (bundled at build time; the site build has already refused an
 * invalid one). The one source of the shop's name, support address, language and look.
 */
export function deployedCatalog(): Catalog {
  bundledCatalog ??= parseCatalog(catalogFile);
  return bundledCatalog;
}

/** Every service the functions and commands use, wired to real clients. */
export function services(config: Config, log: Logger, catalog: Catalog = deployedCatalog()): ReconcileDeps {
  const stripe = createStripeClient(config.stripeSecretKey, config.stripeApiBase);
  const redis = createRedisClient(config.upstashUrl, config.upstashToken);
  return {
    claims: upstashClaimStore(redis, config.redisPrefix),
    ledger: upstashLedger(redis, config.redisPrefix),
    values: upstashValues(redis, config.redisPrefix),
    lineItems: stripeLineItems(stripe),
    sessions: stripeSessions(stripe),
    mailer: resendMailer({ apiKey: config.resendApiKey, from: config.emailFrom }),
    shop: shopInfo(catalog, config.siteUrl),
    merchantEmail: config.merchantEmail,
    scope: config.sessionScope,
    now: Date.now,
    log,
  };
}

function configured(env: Env): { config: Config } | { error: ConfigError } {
  try {
    return { config: readConfig(env) };
  } catch (error) {
    if (error instanceof ConfigError) return { error };
    throw error;
  }
}

/** The webhook handler for this environment; a configuration problem becomes a 500 with the reason in the log. */
export function webhookFromEnv(env: Env, log: Logger = jsonLogger): (req: Request) => Promise<Response> {
  const result = configured(env);
  if ("config" in result) {
    const { config } = result;
    return createWebhookHandler({
      webhookSecret: config.stripeWebhookSecret,
      deps: services(config, log),
      log,
    });
  }
  // Signatures can still be checked when the secret itself is fine, so bad requests keep getting 400.
  const { error } = result;
  const secretOk =
    !error.missing.includes("STRIPE_WEBHOOK_SECRET") && !error.malformed.has("STRIPE_WEBHOOK_SECRET");
  return createWebhookHandler({
    webhookSecret: secretOk ? env.STRIPE_WEBHOOK_SECRET?.trim() : undefined,
    deps: error,
    log,
  });
}

/** The order-status handler for this environment. */
export function orderStatusFromEnv(env: Env, log: Logger = jsonLogger): (req: Request) => Promise<Response> {
  const result = configured(env);
  return createOrderStatusHandler({
    deps: "config" in result ? services(result.config, log) : result.error,
    log,
  });
}

/**
 * The scheduled reconciliation for this environment: one bounded run per call. A configuration problem is logged
 * and the run skipped (a scheduled function has no caller to answer).
 */
export function reconcileFromEnv(
  env: Env,
  log: Logger = jsonLogger,
): () => Promise<ReconcileSummary | undefined> {
  const result = configured(env);
  if ("error" in result) {
    return async () => {
      log("config.invalid", { message: result.error.message });
      return undefined;
    };
  }
  const deps = services(result.config, log);
  return async () => {
    try {
      return await reconcile(deps);
    } catch (error) {
      log("reconcile.failed", {
        level: "error",
        reason: reasonOf(error, "internal_error"),
      });
      return undefined;
    }
  };
}
