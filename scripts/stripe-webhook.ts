/** CLI glue for `npm run stripe:webhook`; the command lives in src/commands/stripe-webhook.ts. */
import { runCommand } from "../src/commands/kit.ts";
import { stripeWebhookCommand } from "../src/commands/stripe-webhook.ts";

process.exitCode = await runCommand(stripeWebhookCommand);
