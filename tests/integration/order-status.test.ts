/**
 * GET /api/order-status over real HTTP, as composed for the function (src/app/order-status.ts), on the Upstash bridge
 * over Redis and the Stripe emulator: the client budget, remembered answers, and what each kind of request costs in
 * store commands and Stripe calls.
 */
import { createServer } from "node:http";
import { getRequestListener } from "@hono/node-server";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServices, startLocalServices } from "../../dev/local-services.ts";
import {
  ORDER_STATUS_BUDGET,
  ORDER_STATUS_SHOP_BUDGET,
  orderStatusFromEnv,
} from "../../src/app/order-status.ts";
import { type LocalServer, listenLocally } from "../support/http.ts";
import { redisBackend } from "../support/redis.ts";
import {
  type CountingProxy,
  emulatorClient,
  paidSession,
  startCountingProxy,
} from "../support/stripe-emulator.ts";

let local: LocalServices;
let proxy: CountingProxy;
let stripe: Stripe;
let site: LocalServer;
/** The same function with budgets of its own (keys under another prefix), for the tests that spend them whole. */
let apart: LocalServer;

/**
 * The function as Netlify runs it: the client's address comes from the platform (here, the header Netlify's own
 * proxy sets), and Stripe is reached through a proxy that counts the calls.
 */
function serve(env: Record<string, string>): Promise<LocalServer> {
  const handle = orderStatusFromEnv({ ...env, STRIPE_API_BASE: proxy.url }, () => {});
  const listener = getRequestListener((req) =>
    handle(req, { ip: req.headers.get("x-nf-client-connection-ip") ?? undefined }),
  );
  return listenLocally(createServer(listener));
}

beforeAll(async () => {
  local = await startLocalServices({ redisBackend });
  proxy = await startCountingProxy(local.stripe.url);
  stripe = emulatorClient(local.stripe.url);
  site = await serve(local.env);
});

afterAll(async () => {
  await site?.close();
  await apart?.close();
  await proxy?.close();
  await local?.stop();
});

let clients = 0;
/** A new client address, with a budget of its own. */
const newClient = () => `203.0.113.${++clients}`;
const unknownId = () => `cs_test_${crypto.randomUUID().replaceAll("-", "")}`;

async function ask(sessionId: string, ip: string, server: LocalServer = site) {
  const res = await fetch(`${server.url}/api/order-status?session_id=${sessionId}`, {
    headers: { "x-nf-client-connection-ip": ip },
  });
  return {
    status: res.status,
    retryAfter: res.headers.get("retry-after"),
    body: (await res.json()) as Record<string, unknown>,
  };
}

/** What `work` cost: store commands run by the bridge and calls that reached Stripe. */
async function cost<T>(work: () => Promise<T>): Promise<{ result: T; commands: number; stripe: number }> {
  const commands = local.bridge.commands();
  const calls = proxy.requests.length;
  const result = await work();
  return { result, commands: local.bridge.commands() - commands, stripe: proxy.requests.length - calls };
}

describe("GET /api/order-status over the bridge and Redis", () => {
  it("gives each client a budget of Stripe-bound requests: of 25 at once, 20 are answered and the rest refused", async () => {
    const ip = newClient();
    const { result, stripe: calls } = await cost(() =>
      Promise.all(Array.from({ length: 25 }, () => ask(unknownId(), ip))),
    );
    expect(ORDER_STATUS_BUDGET.requests).toBe(20);
    // Exactly 20 unless the burst straddles two of the sliding window's 60 s windows, which lets one or two more
    // through (a share of the new window's budget for each second into it); the exact arithmetic is tested with a
    // clock of its own (tests/unit/order-status.test.ts).
    const answered = result.filter((r) => r.status === 404).length;
    expect(answered).toBeGreaterThanOrEqual(20);
    const refused = result.filter((r) => r.status === 429);
    expect(answered + refused.length).toBe(25);
    expect(refused.length).toBeGreaterThanOrEqual(3);
    for (const answer of refused) {
      expect(answer.body).toEqual({ error: "rate_limited" });
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(answer.retryAfter)).toBeLessThanOrEqual(ORDER_STATUS_BUDGET.windowSeconds);
    }
    expect(calls).toBe(answered);
    // Refused from the instance's memory now: no store command, no Stripe call.
    const blocked = await cost(() => ask(unknownId(), ip));
    expect(blocked).toMatchObject({ result: { status: 429 }, commands: 0, stripe: 0 });
    // Another client is not affected.
    expect((await ask(unknownId(), newClient())).status).toBe(404);
  });

  it("remembers an unknown id: one Stripe call, then one store command per request", async () => {
    const ip = newClient();
    // The limiter's script is loaded once per Redis (the first EVALSHA falls back to EVAL): not counted below.
    await ask(unknownId(), ip);
    const id = unknownId();
    const first = await cost(() => ask(id, ip));
    expect(first).toMatchObject({ result: { status: 404, body: { status: "not_found" } }, stripe: 1 });
    // The ledger record and the remembered answer in one read, the client's budget, the shop's, and the answer
    // remembered.
    expect(first.commands).toBe(4);
    for (let i = 0; i < 3; i++) {
      expect(await cost(() => ask(id, ip))).toMatchObject({
        result: { status: 404, body: { status: "not_found" } },
        commands: 1,
        stripe: 0,
      });
    }
  });

  it("answers a paid order with one Stripe call in all, then a done order with one store command", async () => {
    const ip = newClient();
    const sessionId = await paidSession(stripe, local.stripe.url, [{ name: "Mug", unitAmount: 1500 }]);
    const first = await cost(() => ask(sessionId, ip));
    expect(first.result).toMatchObject({ status: 200, body: { status: "paid", items: [{ name: "Mug" }] } });
    expect(first.stripe).toBe(1);
    for (let i = 0; i < 3; i++) {
      expect(await cost(() => ask(sessionId, ip))).toMatchObject({
        result: { status: 200, body: { status: "paid" } },
        commands: 1,
        stripe: 0,
      });
    }
    // Once the order is done (here, as the mail drain leaves it), still one command.
    const key = `${local.prefix}ledger:${sessionId}`;
    const record = JSON.parse((await local.redis.hget<string>(key, "record")) ?? "{}") as Record<
      string,
      unknown
    >;
    await local.redis.hset(key, {
      state: "fulfilled",
      record: JSON.stringify({ ...record, state: "fulfilled", queued: [], fulfilledAt: Date.now() }),
    });
    expect(await cost(() => ask(sessionId, ip))).toMatchObject({
      result: { status: 200, body: { status: "paid" } },
      commands: 1,
      stripe: 0,
    });
  });

  it("counts an IPv6 client by its /64: 25 addresses of one network share one budget of 20", async () => {
    apart ??= await serve({
      ...local.env,
      LINKSHOP_REDIS_PREFIX: `${local.prefix}apart-${crypto.randomUUID().slice(0, 8)}:`,
    });
    const network = `2001:db8:${(++clients).toString(16)}:7`;
    const result = await Promise.all(
      Array.from({ length: 25 }, (_, i) => ask(unknownId(), `${network}::${(i + 1).toString(16)}`, apart)),
    );
    expect(result.filter((r) => r.status === 404)).toHaveLength(20);
    expect(result.filter((r) => r.status === 429)).toHaveLength(5);
    // The next network is another client.
    expect((await ask(unknownId(), `2001:db8:${(++clients).toString(16)}:7::1`, apart)).status).toBe(404);
  });

  it("keeps every client together within the shop's budget, so many addresses cannot spend Stripe's rate limit", async () => {
    const server = await serve({
      ...local.env,
      LINKSHOP_REDIS_PREFIX: `${local.prefix}shop-${crypto.randomUUID().slice(0, 8)}:`,
    });
    try {
      const { requests } = ORDER_STATUS_SHOP_BUDGET;
      const { result, stripe: calls } = await cost(() =>
        Promise.all(Array.from({ length: requests + 10 }, () => ask(unknownId(), newClient(), server))),
      );
      // Each client asked once, far within its own budget: only the shop's budget refuses. How many pass depends on
      // where the burst falls in @upstash/ratelimit's sliding window (one straddling two windows lets a few more
      // through), never fewer than the budget nor, for a burst shorter than a window, twice it. The exact
      // arithmetic is tested with a clock of its own (tests/unit/order-status.test.ts).
      const answered = result.filter((r) => r.status === 404).length;
      const refused = result.filter((r) => r.status === 429);
      expect(answered + refused.length).toBe(requests + 10);
      expect(answered).toBeGreaterThanOrEqual(requests);
      expect(answered).toBeLessThan(2 * requests);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]?.body).toEqual({ error: "rate_limited" });
      expect(Number(refused[0]?.retryAfter)).toBeLessThanOrEqual(ORDER_STATUS_SHOP_BUDGET.windowSeconds);
      // Only what was answered reached Stripe.
      expect(calls).toBe(answered);
    } finally {
      await server.close();
    }
  });

  it("refuses an id of the other mode, and a malformed one, without a command or a call", async () => {
    const ip = newClient();
    const live = await cost(() => ask(`cs_live_${"a1B2".repeat(15)}`, ip));
    expect(live).toMatchObject({
      result: { status: 400, body: { error: "session_of_other_mode" } },
      commands: 0,
      stripe: 0,
    });
    expect(await cost(() => ask("cs_test_<script>", ip))).toMatchObject({
      result: { status: 400 },
      commands: 0,
      stripe: 0,
    });
  });
});
