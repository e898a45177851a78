/** Builds the webhook's services from the environment, once per cold start. */

import { resendMailer } from "./adapters/resend.ts";
import { createStripeClient, stripeLineItems } from "./adapters/stripe.ts";
import { createRedisClient, upstashClaimStore } from "./adapters/upstash.ts";
import { ConfigError, readConfig } from "./config.ts";
import { jsonLogger, type Logger } from "./log.ts";
import { createWebhookHandler } from "./webhook/handler.ts";

/** The webhook handler for this environment; a configuration problem becomes a 500 with the reason in the log. */
export function webhookFromEnv(
  env: Record<string, string | undefined>,
  log: Logger = jsonLogger,
): (req: Request) => Promise<Response> {
  try {
    const config = readConfig(env);
    return createWebhookHandler({
      webhookSecret: config.stripeWebhookSecret,
      log,
      deps: {
        store: upstashClaimStore(createRedisClient(config.upstashUrl, config.upstashToken)),
        lineItems: stripeLineItems(createStripeClient(config.stripeSecretKey, config.stripeApiBase)),
        mailer: resendMailer({ apiKey: config.resendApiKey, from: config.emailFrom }),
        shop: { name: config.shopName, siteUrl: config.siteUrl },
        merchantEmail: config.merchantEmail,
        log,
      },
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Signatures can still be checked when the secret itself is fine, so bad requests keep getting 400.
    const secret = env.STRIPE_WEBHOOK_SECRET?.trim();
    const secretOk =
      !error.missing.includes("STRIPE_WEBHOOK_SECRET") && !error.malformed.has("STRIPE_WEBHOOK_SECRET");
    return createWebhookHandler({ webhookSecret: secretOk ? secret : undefined, deps: error, log });
  }
}
