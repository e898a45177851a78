/**
 * Reconciliation and the merchant commands over real HTTP: the Stripe SDK against the local Stripe emulator (which
 * delivers no webhook here: every order is one whose webhook never arrived), @upstash/redis against the Upstash
 * bridge in front of a real Redis, and Resend against the local outbox.
 */
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createStripeClient } from "../../src/adapters/stripe.ts";
import { upstashLedger } from "../../src/adapters/upstash.ts";
import type { LedgerRecord } from "../../src/order/ledger.ts";
import { type Outbox, startOutbox } from "../../dev/outbox.ts";
import { type StripeEmulator, startStripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { startUpstashBridge, type UpstashBridge } from "../../dev/upstash-bridge.ts";
import { orderNumber } from "../../src/order/number.ts";
import { runOrders } from "../../src/commands/orders.ts";
import { runReconcile } from "../../src/commands/reconcile.ts";
import { redisBackend } from "../support/redis.ts";

const apiKey = "sk_test_reconcile";
const prefix = `test:${randomUUID()}:`;
const outboxDir = join(tmpdir(), `linkshop-outbox-${randomUUID()}`);
let emulator: StripeEmulator;
let outbox: Outbox;
let bridge: UpstashBridge;
let stripe: Stripe;
let redis: Redis;
let env: Record<string, string>;

beforeAll(async () => {
  [emulator, outbox, bridge] = await Promise.all([
    startStripeEmulator({ port: 0 }),
    startOutbox({ port: 0, dir: outboxDir }),
    startUpstashBridge({ token: "bridge-token", port: 0, backend: redisBackend, onWarning: () => {} }),
  ]);
  stripe = createStripeClient(apiKey, new URL(emulator.url));
  redis = new Redis({ url: bridge.url, token: bridge.token, automaticDeserialization: false });
  process.env.RESEND_BASE_URL = outbox.url;
  env = {
    STRIPE_SECRET_KEY: apiKey,
    STRIPE_WEBHOOK_SECRET: "whsec_reconcile",
    STRIPE_API_BASE: emulator.url,
    UPSTASH_REDIS_REST_URL: bridge.url,
    UPSTASH_REDIS_REST_TOKEN: bridge.token,
    RESEND_API_KEY: "re_reconcile",
    EMAIL_FROM: "Fern & Fig <orders@shop.example>",
    MERCHANT_EMAIL: "owner@shop.example",
    LINKSHOP_REDIS_PREFIX: prefix,
  };
});

afterAll(async () => {
  delete process.env.RESEND_BASE_URL;
  const keys = redis ? await redis.keys(`${prefix}*`) : [];
  if (keys.length > 0) await redis.del(...keys);
  await Promise.all([
    emulator?.close(),
    outbox?.close().then(() => rm(outboxDir, { recursive: true, force: true })),
    bridge?.close(),
  ]);
});

beforeEach(async () => {
  await outbox.clear();
});

/** A session created through the SDK and paid on the emulator's hosted page; no webhook is delivered. */
async function paidSession(
  metadata: Record<string, string> = { linkshop_id: "mug" },
  email = "jenny@example.com",
) {
  const product = await stripe.products.create({ name: "Mug" });
  const price = await stripe.prices.create({ product: product.id, unit_amount: 1500, currency: "usd" });
  const session = await stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "http://localhost:8888/thanks?session_id={CHECKOUT_SESSION_ID}",
    metadata,
  });
  const res = await fetch(`${emulator.url}/_emulator/checkout/sessions/${session.id}/complete`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, name: "Jenny Rosen", payment: "card" }),
  });
  expect(res.ok).toBe(true);
  return session.id;
}

function collect() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } };
}

const sentTo = (sessionId: string) =>
  outbox
    .emails()
    .filter((email) => email.text?.includes(sessionId))
    .map((email) => email.to.join(","));

describe("npm run reconcile over the emulator", () => {
  it("finds paid sessions whose webhook never arrived and fulfils each exactly once", async () => {
    const missed = [await paidSession(), await paidSession()];
    const foreign = await paidSession({});
    const first = collect();
    expect(await runReconcile(["--json"], env, first.io)).toBe(0);
    const summary = JSON.parse(first.out.join("\n")) as Record<string, number>;
    expect(summary.fulfilled).toBeGreaterThanOrEqual(2);
    for (const id of missed) expect(sentTo(id).sort()).toEqual(["jenny@example.com", "owner@shop.example"]);
    expect(sentTo(foreign)).toEqual([]);
    expect(first.err.filter((line) => line.includes('"reconcile.run"'))).toHaveLength(1);
    // Stripe now carries the fulfilled marker: the next pass sends nothing.
    const session = await stripe.checkout.sessions.retrieve(missed[0] as string);
    expect(session.metadata?.linkshop_fulfilled_at).toEqual(expect.any(String));
    const count = outbox.emails().length;
    const second = collect();
    expect(await runReconcile(["--json"], env, second.io)).toBe(0);
    expect(JSON.parse(second.out.join("\n"))).toMatchObject({ fulfilled: 0 });
    expect(outbox.emails()).toHaveLength(count);
  });

  it("in a dry run names what it would fulfil and sends nothing", async () => {
    const missed = await paidSession();
    const run = collect();
    expect(await runReconcile(["--dry-run", "--since", "1h"], env, run.io)).toBe(0);
    expect(run.out).toContain(`  ${missed}`);
    expect(outbox.emails()).toHaveLength(0);
  });

  it("rejects a malformed --since", async () => {
    const run = collect();
    expect(await runReconcile(["--since", "yesterday"], env, run.io)).toBe(2);
  });
});

describe("npm run orders over the emulator", () => {
  it("lists, shows, resends on purpose and never re-sends through retry", async () => {
    const sessionId = await paidSession();
    await runReconcile(["--since", "1h"], env, collect().io);
    expect(sentTo(sessionId)).toHaveLength(2);

    const list = collect();
    expect(await runOrders([], env, list.io)).toBe(0);
    expect(list.out[0]).toMatch(/^Created \(UTC\)\s+Order\s+State\s+Total/);
    const number = orderNumber(sessionId);
    expect(
      list.out.some(
        (line) => line.includes(sessionId) && line.includes(number) && line.includes("fulfilled"),
      ),
    ).toBe(true);

    const show = collect();
    expect(await runOrders(["show", sessionId, "--json"], env, show.io)).toBe(0);
    expect(JSON.parse(show.out.join("\n"))).toMatchObject({
      orderNumber: number,
      state: "fulfilled",
      maskedEmail: "j***@example.com",
    });
    // The number a customer quotes finds the same order, typed in any case and without the dash.
    const byNumber = collect();
    expect(await runOrders(["show", number.toLowerCase().replace("-", "")], env, byNumber.io)).toBe(0);
    expect(byNumber.out.join("\n")).toContain(`Session    ${sessionId}`);
    expect(await runOrders(["show", "ZZZZ-ZZZZ"], env, collect().io)).toBe(1);

    expect(await runOrders(["retry", sessionId], env, collect().io)).toBe(0);
    expect(sentTo(sessionId)).toHaveLength(2);

    const resend = collect();
    expect(await runOrders(["resend", sessionId], env, resend.io)).toBe(0);
    expect(await runOrders(["resend", sessionId], env, collect().io)).toBe(0);
    // Two deliberate resends: two new receipts, each with its own key.
    const receipts = outbox
      .emails()
      .filter((e) => e.text?.includes(sessionId) && e.to.includes("jenny@example.com"));
    expect(receipts).toHaveLength(3);
    expect(new Set(receipts.map((e) => e.idempotencyKey)).size).toBe(3);
    const ledger = upstashLedger(redis, prefix);
    expect((await ledger.get(sessionId))?.emails.resent).toHaveLength(2);
  });

  it("retries a failed order once its cause is fixed", async () => {
    const sessionId = await paidSession({ linkshop_id: "mug" }, "jenny<x>@example.com");
    await runReconcile(["--since", "1h"], env, collect().io);
    const ledger = upstashLedger(redis, prefix);
    expect(await ledger.get(sessionId)).toMatchObject({
      state: "failed",
      reason: "receipt:resend:422:validation_error",
    });
    // The merchant notice and the alert went out; the receipt could not.
    expect(sentTo(sessionId)).toEqual(["owner@shop.example", "owner@shop.example"]);
    // Retrying without a fix fails again, and says so.
    const retry = collect();
    expect(await runOrders(["retry", sessionId], env, retry.io)).toBe(1);
    expect(retry.out.join("\n")).toContain("failed (receipt:resend:422:validation_error)");
  });

  it("refuses a malformed session id", async () => {
    const run = collect();
    expect(await runOrders(["show", "cs_test_<b>"], env, run.io)).toBe(2);
  });
});

describe("the merchant commands without configuration", () => {
  let none = collect();
  it.each([
    ["orders", () => runOrders(["list"], {}, none.io)],
    ["reconcile", () => runReconcile(["--dry-run"], {}, none.io)],
  ])("npm run %s names every missing variable and exits 1, printing nothing else", async (_, run) => {
    none = collect();
    expect(await run()).toBe(1);
    expect(none.out).toEqual([]);
    expect(none.err).toEqual([
      "Missing STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, RESEND_API_KEY, EMAIL_FROM (see .env.example)",
    ]);
  });
});

describe("the ledger adapter on real Redis", () => {
  const record = (state: LedgerRecord["state"]): LedgerRecord => ({
    sessionId: "cs_test_ledger",
    state,
    reason: null,
    createdAt: 1,
    updatedAt: 1,
    fulfilledAt: null,
    by: "webhook",
    attempts: 0,
    sendingSince: null,
    emails: {},
    amount: 100,
    currency: "usd",
    livemode: false,
    items: [],
    maskedEmail: null,
  });

  it("lets exactly one of many concurrent creators win, and never turns fulfilled back", async () => {
    const ledger = upstashLedger(redis, `${prefix}cas:`);
    const key = `cs_test_${randomUUID().replaceAll("-", "")}`;
    const wins = await Promise.all(
      Array.from({ length: 20 }, () => ledger.put(key, "absent", record("fulfilling"))),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await ledger.put(key, "fulfilling", record("fulfilled"))).toBe(true);
    expect(await ledger.put(key, "fulfilled", record("failed"))).toBe(false);
    expect(await ledger.put(key, "fulfilled", record("fulfilling"))).toBe(false);
    expect((await ledger.get(key))?.state).toBe("fulfilled");
    expect(await redis.ttl(`${prefix}cas:ledger:${key}`)).toBe(-1);
    expect((await ledger.list({ limit: 10 })).map((row) => row.key)).toEqual([key]);
  });
});
