/**
 * Reconciliation and the merchant commands over real HTTP: the Stripe SDK against the local Stripe emulator (which
 * delivers no webhook here: every order is one whose webhook never arrived), @upstash/redis against the Upstash
 * bridge in front of a real Redis, and Resend against the local outbox.
 */
import { randomUUID } from "node:crypto";
import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { upstashLedger } from "../../src/adapters/upstash.ts";
import type { LedgerRecord } from "../../src/order/ledger.ts";
import { type LocalServices, startLocalServices } from "../../dev/local-services.ts";
import { orderNumber } from "../../src/order/number.ts";
import { runOrders } from "../../src/commands/orders.ts";
import { runReconcile } from "../../src/commands/reconcile.ts";
import { redisBackend } from "../support/redis.ts";
import { emulatorClient, paidSession } from "../support/stripe-emulator.ts";

let local: LocalServices;
let env: LocalServices["env"];
let stripe: Stripe;

beforeAll(async () => {
  local = await startLocalServices({ redisBackend, env: { MERCHANT_EMAIL: "owner@shop.example" } });
  env = local.env;
  stripe = emulatorClient(local.stripe.url);
});

afterAll(() => local?.stop());

beforeEach(async () => {
  await local.outbox.clear();
});

/** A one-mug session created through the SDK and paid on the emulator's hosted page; no webhook is delivered. */
const paid = (metadata: Record<string, string> = { linkshop_id: "mug" }, email = "jenny@example.com") =>
  paidSession(stripe, local.stripe.url, [{ name: "Mug", unitAmount: 1500 }], { metadata, email });

function collect() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } };
}

const sentTo = (sessionId: string) =>
  local.outbox
    .emails()
    .filter((email) => email.text?.includes(sessionId))
    .map((email) => email.to.join(","));

describe("npm run reconcile over the emulator", () => {
  it("finds paid sessions whose webhook never arrived and fulfils each exactly once", async () => {
    const missed = [await paid(), await paid()];
    const foreign = await paid({});
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
    const count = local.outbox.emails().length;
    const second = collect();
    expect(await runReconcile(["--json"], env, second.io)).toBe(0);
    expect(JSON.parse(second.out.join("\n"))).toMatchObject({ fulfilled: 0 });
    expect(local.outbox.emails()).toHaveLength(count);
  });

  it("in a dry run names what it would fulfil and sends nothing", async () => {
    const missed = await paid();
    const run = collect();
    expect(await runReconcile(["--dry-run", "--since", "1h"], env, run.io)).toBe(0);
    expect(run.out).toContain(`  ${missed}`);
    expect(local.outbox.emails()).toHaveLength(0);
  });

  it("rejects a malformed --since", async () => {
    const run = collect();
    expect(await runReconcile(["--since", "yesterday"], env, run.io)).toBe(2);
  });
});

describe("npm run orders over the emulator", () => {
  it("lists, shows, resends on purpose and never re-sends through retry", async () => {
    const sessionId = await paid();
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
    // A second resend soon after is refused as a likely repeat, unless forced.
    expect(await runOrders(["resend", sessionId], env, collect().io)).toBe(1);
    expect(await runOrders(["resend", sessionId, "--force"], env, collect().io)).toBe(0);
    // Two deliberate resends: two new receipts, each with its own key.
    const receipts = local.outbox
      .emails()
      .filter((e) => e.text?.includes(sessionId) && e.to.includes("jenny@example.com"));
    expect(receipts).toHaveLength(3);
    expect(new Set(receipts.map((e) => e.idempotencyKey)).size).toBe(3);
    const ledger = upstashLedger(local.redis, local.prefix);
    expect((await ledger.get(sessionId))?.emails.resent).toHaveLength(2);
  });

  it("keeps a failed order failed while its cause remains, and says why", async () => {
    const sessionId = await paid({ linkshop_id: "mug" }, "jenny<x>@example.com");
    await runReconcile(["--since", "1h"], env, collect().io);
    const ledger = upstashLedger(local.redis, local.prefix);
    expect(await ledger.get(sessionId)).toMatchObject({ state: "failed", reason: "invalid_customer_email" });
    // Only the merchant's alert went out: nothing to an address that is not one.
    expect(sentTo(sessionId)).toEqual(["owner@shop.example"]);
    // Retrying without a fix fails again, and says so.
    const retry = collect();
    expect(await runOrders(["retry", sessionId], env, retry.io)).toBe(1);
    expect(retry.out.join("\n")).toContain("failed (invalid_customer_email)");
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
  ])("npm run %s names every missing variable and exits 2, printing nothing else", async (_, run) => {
    none = collect();
    expect(await run()).toBe(2);
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
    const ledger = upstashLedger(local.redis, `${local.prefix}cas:`);
    const key = `cs_test_${randomUUID().replaceAll("-", "")}`;
    const wins = await Promise.all(
      Array.from({ length: 20 }, () => ledger.put(key, "absent", record("fulfilling"))),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await ledger.put(key, "fulfilling", record("fulfilled"))).toBe(true);
    expect(await ledger.put(key, "fulfilled", record("failed"))).toBe(false);
    expect(await ledger.put(key, "fulfilled", record("fulfilling"))).toBe(false);
    expect((await ledger.get(key))?.state).toBe("fulfilled");
    expect(await local.redis.ttl(`${local.prefix}cas:ledger:${key}`)).toBe(-1);
    expect((await ledger.list({ limit: 10 })).map((row) => row.key)).toEqual([key]);
  });
});
