/** The composition root of the functions: each endpoint built from the environment, once per cold start. */
import { type Config, ConfigError, readConfig } from "./config.ts";
import { reasonOf } from "./lib/errors.ts";
import { jsonLogger, type Logger } from "./lib/log.ts";
import { createOrderStatusHandler } from "./order-status/handler.ts";
import { type ReconcileSummary, reconcile } from "./reconcile/reconcile.ts";
import { services } from "./services.ts";
import { createWebhookHandler } from "./webhook/handler.ts";

type Env = Record<string, string | undefined>;

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
