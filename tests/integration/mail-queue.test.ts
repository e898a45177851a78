/**
 * The mail queue over real services: its Lua scripts on a real Redis behind the Upstash bridge, Resend's batch
 * endpoint on the local outbox (with Resend's per-second limit and daily quota), and the webhook draining after its
 * answer as it does on Netlify (context.waitUntil).
 */
import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRedisClient, upstashLedger, upstashMailQueue } from "../../src/adapters/upstash.ts";
import { services } from "../../src/app/services.ts";
import { webhookFromEnv } from "../../src/app/webhook.ts";
import { readConfig } from "../../src/config.ts";
import { drainMail } from "../../src/fulfilment/mail.ts";
import type { MailJob } from "../../src/fulfilment/ports.ts";
import { emptyRecord } from "../../src/order/ledger.ts";
import { type LocalServices, startLocalServices } from "../../dev/local-services.ts";
import { redisBackend } from "../support/redis.ts";
import { webhookRequest } from "../support/stripe-payloads.ts";
import { emulatorClient, paidSession } from "../support/stripe-emulator.ts";

const secret = "whsec_mail_queue";
let local: LocalServices;
let stripe: Stripe;

beforeAll(async () => {
  local = await startLocalServices({
    redisBackend,
    stripe: { asyncPaymentDelayMs: 5 },
    env: { STRIPE_WEBHOOK_SECRET: secret, MERCHANT_EMAIL: "owner@shop.example" },
  });
  stripe = emulatorClient(local.stripe.url);
});

afterAll(() => local?.stop());

beforeEach(async () => {
  await local.outbox.clear();
  local.outbox.setLimits({});
});

const job = (id: string, queuedAt = Date.now()): MailJob => ({
  id,
  email: { to: "jenny@example.com", subject: `Email ${id}`, html: `<p>${id}</p>`, text: id },
  queuedAt,
});

/** A queue and ledger under a prefix of their own, so each test starts from an empty queue. */
function fresh() {
  const redis = createRedisClient(local.bridge.url, local.bridge.token);
  const prefix = `${local.prefix}${crypto.randomUUID().slice(0, 8)}:`;
  return { queue: upstashMailQueue(redis, prefix), ledger: upstashLedger(redis, prefix), prefix };
}

/** A paid one-mug order and its checkout.session.completed as Stripe delivers it. */
async function order(email: string): Promise<{ sessionId: string; body: string }> {
  const sessionId = await paidSession(stripe, local.stripe.url, [{ name: "Mug", unitAmount: 1500 }], {
    email,
  });
  for await (const event of stripe.events.list({ type: "checkout.session.completed", limit: 100 })) {
    if ((event.data.object as { id?: string }).id === sessionId)
      return { sessionId, body: JSON.stringify(event) };
  }
  throw new Error(`no event for ${sessionId}`);
}

describe("the queue's scripts on Redis", () => {
  it("queues an id once, hands one batch to one drainer, spaces requests and forgets only what was sent", async () => {
    const { queue } = fresh();
    const now = Date.now();
    await queue.enqueue([job("a", now), job("b", now + 1)]);
    await queue.enqueue([job("a", now)]);
    expect((await queue.status()).waiting).toBe(2);

    const options = { now, leaseMs: 30_000, max: 100, spacingMs: 500 };
    const taken = await queue.take({ ...options, batchId: "batch-1" });
    expect(taken).toMatchObject({ kind: "batch", id: "batch-1", attempts: 1 });
    expect(taken.kind === "batch" && taken.jobs.map((j) => j.id)).toEqual(["a", "b"]);
    // A second drainer meanwhile: the batch is leased, and a new email does not start a second batch.
    await queue.enqueue([job("c", now + 2)]);
    expect(await queue.take({ ...options, batchId: "batch-2" })).toEqual({
      kind: "busy",
      until: now + 30_000,
    });

    // "b" was refused for good: "a" is remembered as sent, "b" may be queued again (a merchant's retry).
    expect(await queue.finish("batch-1", [], [], now + 10, ["b"])).toEqual([]);
    await queue.enqueue([job("a", now + 20), job("b", now + 20)]);
    expect((await queue.status()).waiting).toBe(2);

    // One request per 500 ms, whoever asks.
    expect(await queue.take({ ...options, now: now + 100, batchId: "batch-3" })).toEqual({
      kind: "wait",
      until: now + 500,
    });
    const next = await queue.take({ ...options, now: now + 500, batchId: "batch-3" });
    expect(next.kind === "batch" && next.jobs.map((j) => j.id)).toEqual(["c", "b"]);
  });

  it("keeps a failed batch for a later attempt, pauses everything for a spent quota, and writes records by compare-and-set", async () => {
    const { queue, ledger } = fresh();
    const now = Date.now();
    const record = { ...emptyRecord("cs_test_queue1", now), queued: ["receipt"] };
    expect(
      await ledger.put("cs_test_queue1", "absent", record, {
        jobs: [{ ...job("r1", now), order: { key: "cs_test_queue1", slot: "receipt" } }],
      }),
    ).toBe(true);
    const options = { leaseMs: 30_000, max: 100, spacingMs: 0 };
    const first = await queue.take({ ...options, now, batchId: "b1" });
    expect(first.kind === "batch" && first.records["cs_test_queue1"]?.state).toBe("fulfilling");

    await queue.retryLater("b1", now + 5_000);
    expect(await queue.take({ ...options, now: now + 1_000, batchId: "b2" })).toEqual({
      kind: "wait",
      until: now + 5_000,
    });
    await queue.retryLater("b1", now + 3_600_000, { pause: true });
    expect(await queue.status()).toMatchObject({ waiting: 1, pausedUntil: now + 3_600_000 });
    expect(await queue.take({ ...options, now: now + 10_000, batchId: "b2" })).toEqual({
      kind: "paused",
      until: now + 3_600_000,
    });
    // After the pause, the same batch (same id, hence the same idempotency key) comes back; refusals leave its
    // outcome certain (nothing sent), a request without an answer does not.
    const again = await queue.take({ ...options, now: now + 3_600_001, batchId: "b2" });
    expect(again).toMatchObject({ kind: "batch", id: "b1", attempts: 2, uncertainSince: null });
    await queue.retryLater("b1", now + 3_600_002, { uncertainAt: now + 3_600_001 });
    await queue.retryLater("b1", now + 3_600_003, { uncertainAt: now + 3_600_002 });
    const uncertain = await queue.take({ ...options, now: now + 3_600_003, batchId: "b3" });
    expect(uncertain).toMatchObject({
      kind: "batch",
      id: "b1",
      attempts: 3,
      uncertainSince: now + 3_600_001,
    });

    // A drainer cut off during its request (no retry, no finish): once its lease has run out, the batch is taken
    // again as one that may have been sent when that attempt started, not as a fresh one.
    const { queue: other } = fresh();
    await other.enqueue([job("x", now)]);
    expect(await other.take({ ...options, now, batchId: "cut" })).toMatchObject({ uncertainSince: null });
    expect(await other.take({ ...options, now: now + 30_001, batchId: "next" })).toMatchObject({
      kind: "batch",
      id: "cut",
      attempts: 2,
      uncertainSince: now,
    });

    const done = { ...record, state: "fulfilled" as const, queued: [], fulfilledAt: now };
    // A record that moved on meanwhile is not overwritten.
    expect(
      await queue.finish("b1", [{ key: "cs_test_queue1", expected: "failed", record: done }], [], now),
    ).toEqual([false]);
    expect((await ledger.get("cs_test_queue1"))?.state).toBe("fulfilling");
  });
});

describe("a burst through the webhook", () => {
  it("sends every receipt exactly once in a few batch requests while Resend allows 2 requests per second", async () => {
    local.outbox.setLimits({ requestsPerSecond: 2 });
    const handle = webhookFromEnv(local.env, () => {});
    const orders = await Promise.all(Array.from({ length: 30 }, (_, i) => order(`burst-${i}@example.com`)));
    const pending: Promise<unknown>[] = [];
    const answers = await Promise.all(
      orders.map(async ({ body }) => {
        const res = await handle(webhookRequest(body, { secret }), { waitUntil: (p) => pending.push(p) });
        return res.status;
      }),
    );
    expect(answers).toEqual(orders.map(() => 200));
    await Promise.all(pending);
    // Whatever the drains after the answers left (one drainer at a time) goes with the next drain.
    await drainMail(services(readConfig(local.env), () => {}).drain, 20_000);
    const emails = local.outbox.emails();
    for (let i = 0; i < 30; i++)
      expect(emails.filter((email) => email.to.includes(`burst-${i}@example.com`))).toHaveLength(1);
    expect(emails.filter((email) => email.to.includes("owner@shop.example"))).toHaveLength(30);
    // 60 emails in batches: far fewer requests than emails, and none refused by the rate limit.
    expect(new Set(emails.map((email) => email.idempotencyKey)).size).toBeLessThan(20);
    expect(local.outbox.refusals().rate_limit_exceeded).toBe(0);
  });

  it("costs at most 6 Upstash commands for a first delivery and 2 for a duplicate", async () => {
    const handle = webhookFromEnv(local.env, () => {});
    const { body } = await order("count@example.com");
    const before = local.bridge.commands();
    expect((await handle(webhookRequest(body, { secret }))).status).toBe(200);
    const first = local.bridge.commands() - before;
    expect(first).toBeLessThanOrEqual(6);
    const again = local.bridge.commands();
    expect((await handle(webhookRequest(body, { secret }))).status).toBe(200);
    expect(local.bridge.commands() - again).toBeLessThanOrEqual(2);
  });
});

describe("Resend's daily quota", () => {
  it("keeps the orders queued and visible while the quota is spent, and sends them once it resets", async () => {
    const handle = webhookFromEnv(local.env, () => {});
    const deps = services(readConfig(local.env), () => {});
    // Room for one order's two emails today.
    local.outbox.setLimits({ dailyQuota: 2 });
    const first = await order("quota-1@example.com");
    const second = await order("quota-2@example.com");
    expect((await handle(webhookRequest(first.body, { secret }))).status).toBe(200);
    expect((await handle(webhookRequest(second.body, { secret }))).status).toBe(200);
    expect(local.outbox.emails().filter((email) => email.to.includes("quota-2@example.com"))).toHaveLength(0);
    const status = await deps.queue.status();
    expect(status.waiting).toBe(2);
    expect(status.pausedUntil).toBeGreaterThan(Date.now());
    expect(await deps.ledger.get(second.sessionId)).toMatchObject({ state: "fulfilling", reason: "queued" });
    // More orders and drains meanwhile make no request at all: nothing retries in a loop.
    const refusals = local.outbox.refusals().daily_quota_exceeded;
    expect(await drainMail(deps.drain, 5_000)).toMatchObject({ requests: 0, stopped: "paused" });
    expect(local.outbox.refusals().daily_quota_exceeded).toBe(refusals);

    // The next day: the quota is back, and the waiting emails go out.
    local.outbox.setLimits({});
    const tomorrow = (status.pausedUntil ?? 0) + 1_000;
    expect(await drainMail({ ...deps.drain, now: () => tomorrow }, 5_000)).toMatchObject({
      sent: 2,
      fulfilled: 1,
    });
    expect(local.outbox.emails().filter((email) => email.to.includes("quota-2@example.com"))).toHaveLength(1);
    expect((await deps.ledger.get(second.sessionId))?.state).toBe("fulfilled");
  });
});
