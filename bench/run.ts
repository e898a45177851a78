/**
 * `npm run bench`: the webhook's speed and memory against its targets. Timings vary by machine, so they are
 * checked here and never asserted in tests. Exit code 1 when a target is missed.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { randomUUID } from "node:crypto";
import Stripe from "stripe";
import { createStripeClient, stripeLineItems } from "../src/adapters/stripe.ts";
import { webhookFromEnv } from "../src/app/webhook.ts";
import { startLocalServices } from "../dev/local-services.ts";

/** Targets. Sizes in bytes, times in milliseconds, memory in MiB. */
const TARGETS = {
  bundleBytes: 1.5 * 1024 * 1024,
  coldStartMs: 120,
  deliveryP50Ms: 25,
  deliveryP95Ms: 60,
  hundredItemOrderStripeCalls: 1,
  // Includes the emulator's and outbox's own records of every session and email, which live in this process.
  heapGrowthMiBPer1000: 16,
};

const results: { name: string; value: number; target: number; unit: string }[] = [];
const record = (name: string, value: number, target: number, unit: string) => {
  results.push({ name, value, target, unit });
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

// 1. What Netlify deploys: the function bundled the way its esbuild bundler does it.
const work = await mkdtemp(join(tmpdir(), "linkshop-bench-"));
const bundle = join(work, "stripe-webhook.mjs");
await build({
  entryPoints: ["netlify/functions/stripe-webhook.ts"],
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  outfile: bundle,
  minify: false,
  logLevel: "error",
  // The bundle is ESM; a few CommonJS dependencies still call require().
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
});
record("function bundle", (await stat(bundle)).size, TARGETS.bundleBytes, "bytes");

// 2. Cold start: loading the bundle and building the clients in a fresh process, median of 15.
const coldStarts: number[] = [];
for (let i = 0; i < 15; i++) {
  const out = execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const t = performance.now(); await import(${JSON.stringify(bundle)}); console.log(performance.now() - t);`,
    ],
    { env: { PATH: process.env.PATH ?? "" }, encoding: "utf8" },
  );
  coldStarts.push(Number(out.trim().split("\n").at(-1)));
}
record("cold start (import + clients, median)", percentile(coldStarts, 50), TARGETS.coldStartMs, "ms");

// 3. Deliveries over real local HTTP: Stripe emulator, Upstash bridge over Redis, outbox.
const local = await startLocalServices({
  env: {
    STRIPE_SECRET_KEY: "sk_test_bench",
    STRIPE_WEBHOOK_SECRET: "whsec_bench",
    RESEND_API_KEY: "re_bench",
    EMAIL_FROM: "Bench <orders@shop.example>",
    MERCHANT_EMAIL: "owner@shop.example",
    // Ledger records never expire: keep this run's apart; stop() deletes them.
    LINKSHOP_REDIS_PREFIX: `bench:${randomUUID()}:`,
  },
});
const { stripe: emulator, env } = local;
const secret = env.STRIPE_WEBHOOK_SECRET;
const handle = webhookFromEnv(env, () => {});
const stripe = createStripeClient(env.STRIPE_SECRET_KEY, new URL(emulator.url));
const product = await stripe.products.create({ name: "Bench mug" });
const price = await stripe.prices.create({ product: product.id, unit_amount: 1500, currency: "usd" });

async function paidEvent(lineItems: { price: string; quantity: number }[]): Promise<string> {
  const session = await stripe.checkout.sessions.create({
    mode: "payment",
    line_items: lineItems,
    success_url: "http://localhost/thanks",
    // What a catalog Payment Link copies onto its sessions; the webhook fulfils only these by default.
    metadata: { linkshop_id: "bench-mug" },
  });
  emulator.completeSession(session.id, { email: "jenny@example.com", payment: "card" });
  const event = emulator.events().find((e) => (e.data.object as { id?: string }).id === session.id);
  return JSON.stringify(event);
}

async function deliver(body: string): Promise<number> {
  const started = performance.now();
  const res = await handle(
    new Request("http://localhost/api/stripe-webhook", {
      method: "POST",
      headers: { "stripe-signature": Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) },
      body,
    }),
  );
  if (res.status !== 200) throw new Error(`delivery answered ${res.status}`);
  return performance.now() - started;
}

const bodies = [];
for (let i = 0; i < 1000; i++) bodies.push(await paidEvent([{ price: price.id, quantity: 2 }]));
for (const body of bodies.slice(0, 50)) await deliver(body); // warm-up
global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const latencies: number[] = [];
for (const body of bodies.slice(50)) latencies.push(await deliver(body));
global.gc?.();
const heapGrowth = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
record("delivery p50 (3 local HTTP services)", percentile(latencies, 50), TARGETS.deliveryP50Ms, "ms");
record("delivery p95", percentile(latencies, 95), TARGETS.deliveryP95Ms, "ms");
record("heap growth over 950 deliveries", heapGrowth, TARGETS.heapGrowthMiBPer1000, "MiB");

// 4. One Stripe call for an order of 100 items.
const items = [];
for (let i = 0; i < 100; i++) {
  const p = await stripe.prices.create({ product: product.id, unit_amount: 100 + i, currency: "usd" });
  items.push({ price: p.id, quantity: 1 });
}
const big = await paidEvent(items);
let lineItemCalls = 0;
const counting = createStripeClient(env.STRIPE_SECRET_KEY, new URL(emulator.url));
counting.on("request", () => lineItemCalls++);
const listed = await stripeLineItems(counting).listLineItems(JSON.parse(big).data.object.id);
if (listed.length !== 100) throw new Error(`listed ${listed.length} items`);
record("Stripe calls for a 100-item order", lineItemCalls, TARGETS.hundredItemOrderStripeCalls, "calls");
await deliver(big);

await local.stop();
await rm(work, { recursive: true, force: true });

let failed = false;
console.log(`\nLinkshop benchmarks (Node ${process.version}, Redis backend: ${local.bridge.backend})\n`);
for (const { name, value, target, unit } of results) {
  const ok = value <= target;
  failed ||= !ok;
  const shown =
    unit === "bytes"
      ? `${(value / 1024).toFixed(0)} KiB`
      : `${value.toFixed(unit === "calls" ? 0 : 1)} ${unit}`;
  const goal = unit === "bytes" ? `${(target / 1024).toFixed(0)} KiB` : `${target} ${unit}`;
  console.log(`${ok ? "ok  " : "MISS"}  ${name.padEnd(40)} ${shown.padStart(12)}   target <= ${goal}`);
}
process.exitCode = failed ? 1 : 0;
