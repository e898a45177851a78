// Runs the emulator as a standalone server for offline use: `npx tsx dev/stripe-emulator/cli.ts --help`.
import { parseArgs } from "node:util";
import { startStripeEmulator } from "./index.ts";

const USAGE = `Usage: tsx dev/stripe-emulator/cli.ts [options]

  --port <n>              Port on 127.0.0.1 (default 12111; 0 picks a free one)
  --webhook-url <url>     Where to deliver signed events, e.g. http://localhost:8888/.netlify/functions/stripe-webhook
  --webhook-secret <s>    whsec_... secret to sign them with (default: $STRIPE_WEBHOOK_SECRET)
  --async-delay-ms <n>    Delay before a delayed payment method succeeds or fails (default 5000)
  --help                  Show this text`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function integer(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) fail(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    "webhook-url": { type: "string" },
    "webhook-secret": { type: "string" },
    "async-delay-ms": { type: "string" },
    help: { type: "boolean" },
  },
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const webhookUrl = values["webhook-url"];
const webhookSecret = values["webhook-secret"] ?? process.env.STRIPE_WEBHOOK_SECRET;
if (webhookUrl !== undefined && !webhookSecret?.startsWith("whsec_")) {
  fail("--webhook-url needs a whsec_... secret (--webhook-secret or STRIPE_WEBHOOK_SECRET)");
}

const emulator = await startStripeEmulator({
  port: integer(values.port, "port", 12111),
  asyncPaymentDelayMs: integer(values["async-delay-ms"], "async-delay-ms", 5000),
  ...(webhookUrl && webhookSecret ? { webhook: { url: webhookUrl, secret: webhookSecret } } : {}),
  // Ids, types and statuses only: event bodies carry customer details.
  onDelivery: (delivery) => console.log("stripe-emulator.delivery", JSON.stringify(delivery)),
});

console.log(`Stripe emulator listening on ${emulator.url}`);
console.log(`  STRIPE_API_BASE=${emulator.url}`);
console.log(
  `  Payment links and sessions: ${emulator.url}/   Delivery log: ${emulator.url}/_emulator/deliveries`,
);
if (!webhookUrl) console.log("  No --webhook-url: events are recorded but not delivered.");
console.log(
  `  Stripe CLI, no account: stripe listen --api-base ${emulator.url} --api-key sk_test_local --events <types> --forward-to <url>`,
);
console.log(
  `                          stripe trigger <event> --api-base ${emulator.url} --api-key sk_test_local`,
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void emulator.close().then(() => process.exit(0));
  });
}
