/** The stripe-webhook function's composition: the handler over the shop's services, built once per cold start. */
import { jsonLogger, type Logger } from "../lib/log.ts";
import { createWebhookHandler } from "../webhook/handler.ts";
import { configured, type Env } from "./environment.ts";
import { services } from "./services.ts";

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
