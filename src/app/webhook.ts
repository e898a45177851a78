/** The stripe-webhook function's composition: the handler over the shop's services, built once per cold start. */
import { drainMail } from "../fulfilment/mail.ts";
import { jsonLogger, type Logger } from "../lib/log.ts";
import { createWebhookHandler, type RequestContext } from "../webhook/handler.ts";
import { configured, type Env } from "./environment.ts";
import { services } from "./services.ts";

/**
 * How long a delivery's drain may send after the response. Netlify stops a synchronous function at 60 s; what is left
 * waits for the next delivery's drain or the scheduled one (netlify/functions/email-drain.ts). Milliseconds.
 */
export const WEBHOOK_DRAIN_MS = 20_000;

/** The webhook handler for this environment; a configuration problem becomes a 500 with the reason in the log. */
export function webhookFromEnv(
  env: Env,
  log: Logger = jsonLogger,
): (req: Request, context?: RequestContext) => Promise<Response> {
  const result = configured(env);
  if ("config" in result) {
    const { config } = result;
    const deps = services(config, log);
    return createWebhookHandler({
      webhookSecret: config.stripeWebhookSecret,
      deps,
      log,
      drain: () => drainMail(deps.drain, WEBHOOK_DRAIN_MS),
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
