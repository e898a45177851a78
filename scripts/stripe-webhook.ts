/** CLI glue for `npm run stripe:webhook`; the logic lives in src/catalog/webhook-endpoint.ts. */
import { runStripeWebhook } from "../src/commands/stripe-webhook.ts";

process.exitCode = await runStripeWebhook(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
