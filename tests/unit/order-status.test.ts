import { describe, expect, it } from "vitest";
import { StoreUnavailableError, UpstreamError } from "../../src/lib/errors.ts";
import { blankRecord } from "../../src/order/ledger.ts";
import type { LineItemPayload, SessionPayload } from "../../src/order/model.ts";
import {
  type OrderStatusDeps,
  PAGE_FULFIL_WINDOW_MS,
  REMEMBER_SECONDS,
} from "../../src/order-status/handler.ts";
import type { FulfilmentDeps } from "../../src/fulfilment/fulfil.ts";
import { createOrderStatusHandler } from "../../src/order-status/handler.ts";
import { maskEmail } from "../../src/order/session.ts";
import { verifyDownload } from "../../src/order/downloads.ts";
import { filesShop, TRAIL_MAPS, trailMapsSession } from "../support/trail-maps.ts";
import { createWebhookHandler } from "../../src/webhook/handler.ts";
import { orderNumber } from "../../src/order/number.ts";
import { fakeDeps, testShop } from "../support/fakes.ts";
import { MemoryLimiter, MemoryStatusStore, pageDeps } from "../support/order-status.ts";
import { withSharedBudget } from "../../src/adapters/ratelimit.ts";
import { checkoutSession, lineItem, stripeEvent, webhookRequest } from "../support/stripe-payloads.ts";

function setup() {
  const fakes = fakeDeps();
  const sessions = fakes.sessions.sessions;
  const deps: FulfilmentDeps = fakes.deps;
  const handle = createOrderStatusHandler({ deps: pageDeps(deps), log: fakes.deps.log });
  const ask = async (sessionId: string) => {
    const res = await handle(
      new Request(`http://localhost/api/order-status?session_id=${encodeURIComponent(sessionId)}`),
    );
    return { status: res.status, cache: res.headers.get("cache-control"), body: await res.json() };
  };
  const add = (overrides: Record<string, unknown> = {}) => {
    const session = checkoutSession({
      id: `cs_test_${crypto.randomUUID().replaceAll("-", "")}`,
      ...overrides,
    });
    sessions.set(session.id, session as unknown as SessionPayload);
    fakes.lineItems.items[session.id] = [
      lineItem({ name: "Ceramic mug", unitAmount: 1500, quantity: 2 }),
    ] as unknown as LineItemPayload[];
    return session;
  };
  return { ...fakes, deps, handle, ask, add };
}

describe("GET /api/order-status", () => {
  it("answers only status, order number, item names and quantities, total and a masked email, uncached", async () => {
    const { ask, add } = setup();
    const session = add();
    expect(await ask(session.id)).toEqual({
      status: 200,
      cache: "no-store",
      body: {
        status: "paid",
        orderNumber: orderNumber(session.id),
        items: [{ name: "Ceramic mug", quantity: 2 }],
        total: { amount: 3000, currency: "usd", formatted: "$30.00" },
        email: "j***@example.com",
      },
    });
  });

  it("fulfils a paid order the webhook has not reached yet, once", async () => {
    const { ask, add, mailer, drain } = setup();
    const session = add();
    await ask(session.id);
    await ask(session.id);
    await drain();
    expect(mailer.sent.map((email) => email.to)).toEqual(["jenny@example.com", "owner@shop.example"]);
  });

  it("sends exactly one email when the page and the webhook race for the same order", async () => {
    const { ask, add, mailer, deps, drain } = setup();
    const session = add();
    const webhook = createWebhookHandler({ webhookSecret: "whsec_race", deps, log: () => {} });
    const body = JSON.stringify(stripeEvent("checkout.session.completed", session));
    const [page, hook] = await Promise.all([
      ask(session.id),
      webhook(webhookRequest(body, { secret: "whsec_race" })),
    ]);
    expect(["paid", "processing"]).toContain(page.body.status);
    expect([200, 409]).toContain(hook.status);
    // Whichever lost retries (the page polls, Stripe redelivers): still one receipt.
    await ask(session.id);
    await webhook(webhookRequest(body, { secret: "whsec_race" }));
    await drain();
    await drain();
    expect(mailer.sent.filter((email) => email.to === "jenny@example.com")).toHaveLength(1);
  });

  it("says processing while the receipt cannot be confirmed, so the page asks again", async () => {
    const { ask, add, store } = setup();
    const session = add();
    store.down = true;
    expect((await ask(session.id)).body.status).toBe("processing");
    store.down = false;
    expect((await ask(session.id)).body.status).toBe("paid");
  });

  it("reports a delayed payment as unpaid and sends nothing", async () => {
    const { ask, add, mailer } = setup();
    const session = add({ payment_status: "unpaid" });
    expect((await ask(session.id)).body.status).toBe("unpaid");
    expect(mailer.sent).toHaveLength(0);
  });

  it("reports an open session as processing", async () => {
    const { ask, add } = setup();
    const session = add({ status: "open", payment_status: "unpaid" });
    expect((await ask(session.id)).body.status).toBe("processing");
  });

  it("answers 404 for an unknown or expired session and 400 for a malformed id", async () => {
    const { ask, add } = setup();
    expect(await ask("cs_test_a1b2c3d4e5f6g7h8")).toMatchObject({
      status: 404,
      body: { status: "not_found" },
    });
    const expired = add({ status: "expired", payment_status: "unpaid" });
    expect((await ask(expired.id)).status).toBe(404);
    for (const bad of ["", "pi_123", "cs_test_<script>", "cs_test_short", `cs_test_${"a".repeat(300)}`]) {
      expect(await ask(bad)).toMatchObject({ status: 400, body: { error: "invalid_session_id" } });
    }
  });

  it("answers a fulfilled order from the ledger without calling Stripe", async () => {
    const { ask, add, sessions, lineItems } = setup();
    const session = add();
    const first = await ask(session.id);
    const calls = { stripe: sessions.calls, items: lineItems.calls };
    for (let i = 0; i < 3; i++) expect(await ask(session.id)).toEqual(first);
    expect({ stripe: sessions.calls, items: lineItems.calls }).toEqual(calls);
  });

  it("does not fulfil an old session without a record (a lost database must not resend)", async () => {
    const { ask, add, mailer, clock } = setup();
    const session = add();
    clock.advance(PAGE_FULFIL_WINDOW_MS + 60_000);
    expect((await ask(session.id)).body.status).toBe("paid");
    expect(mailer.sent).toHaveLength(0);
  });

  it("sends nothing when Redis lost the order but Stripe's metadata says fulfilled", async () => {
    const { ask, add, mailer, ledger, drain } = setup();
    const session = add();
    await ask(session.id);
    await drain();
    ledger.records.clear();
    mailer.expireKeys();
    expect((await ask(session.id)).body.status).toBe("paid");
    expect(mailer.sent).toHaveLength(2);
    expect(ledger.records.get(session.id)?.state).toBe("fulfilled");
  });

  it("says failed once the delayed payment failed, as the email does", async () => {
    const { ask, add, deps } = setup();
    const session = add({ payment_status: "unpaid" });
    const webhook = createWebhookHandler({ webhookSecret: "whsec_f", deps, log: () => {} });
    const body = JSON.stringify(stripeEvent("checkout.session.async_payment_failed", session));
    expect((await webhook(webhookRequest(body, { secret: "whsec_f" }))).status).toBe(200);
    expect((await ask(session.id)).body).toMatchObject({ status: "failed", total: { formatted: "$30.00" } });
  });

  it("answers 404 for setup-mode sessions and other integrations' sessions", async () => {
    const { ask, add, mailer } = setup();
    const setupMode = add({ mode: "setup", payment_status: "no_payment_required" });
    const foreign = add({ metadata: {}, payment_link: null });
    expect((await ask(setupMode.id)).status).toBe(404);
    expect((await ask(foreign.id)).status).toBe(404);
    expect(mailer.sent).toHaveLength(0);
  });

  it("answers JSON, never a stack trace, for an unusable currency or a failing Stripe", async () => {
    const { ask, add, sessions } = setup();
    const bad = add({ currency: "dollars" });
    expect(await ask(bad.id)).toMatchObject({ status: 422, body: { error: "unusable_order" } });
    const ok = add();
    sessions.retrieve = async () => {
      throw new UpstreamError("stripe", "stripe:500");
    };
    expect(await ask(ok.id)).toMatchObject({ status: 502, body: { error: "stripe:500" } });
  });

  it("answers 405 to other methods", async () => {
    const { handle } = setup();
    const res = await handle(
      new Request("http://localhost/api/order-status?session_id=x", { method: "POST" }),
    );
    expect(res.status).toBe(405);
  });
});

describe("maskEmail", () => {
  it.each([
    ["jenny@example.com", "j***@example.com"],
    ["a@b.co", "a***@b.co"],
    [undefined, null],
    ["@nope", null],
  ])("%s -> %s", (input, expected) => {
    expect(maskEmail(input)).toBe(expected);
  });
});

describe("GET /api/order-status for a shop in another language", () => {
  it("gives the receipt's order number and the shop's money format, from Stripe and from the ledger alike", async () => {
    const fakes = fakeDeps({ shop: testShop({ locale: "de-DE" }) });
    const handle = createOrderStatusHandler({ deps: pageDeps(fakes.deps), log: fakes.deps.log });
    const session = checkoutSession({ id: "cs_test_de1Germany", currency: "eur", amount_total: 3000 });
    fakes.sessions.sessions.set(session.id, session as unknown as SessionPayload);
    fakes.lineItems.items[session.id] = [
      lineItem({ name: "Becher", unitAmount: 1500, quantity: 2, currency: "eur" }),
    ] as unknown as LineItemPayload[];
    const ask = async () =>
      (await handle(new Request(`http://localhost/api/order-status?session_id=${session.id}`))).json();
    const first = await ask();
    // The second answer comes from the ledger the first one's fulfilment wrote.
    const second = await ask();
    await fakes.drain();
    const receipt = fakes.mailer.sent.find((email) => email.to === "jenny@example.com");
    for (const body of [first, second]) {
      expect(body).toMatchObject({
        status: "paid",
        orderNumber: orderNumber(session.id),
        total: { amount: 3000, currency: "eur", formatted: "30,00\u00a0€" },
      });
      expect(receipt?.subject).toContain(body.orderNumber);
    }
    expect(receipt?.replyTo).toBe("help@shop.example");
  });
});

describe("the order's files on the thank-you page", () => {
  function withFiles() {
    const fakes = fakeDeps({ shop: filesShop() });
    const handle = createOrderStatusHandler({ deps: pageDeps(fakes.deps), log: () => {} });
    const ask = async (sessionId: string) =>
      (await handle(new Request(`http://localhost/api/order-status?session_id=${sessionId}`))).json();
    const session = trailMapsSession(fakes, { id: `cs_test_${crypto.randomUUID().replaceAll("-", "")}` });
    return { ...fakes, ask, session };
  }

  it("offers a download link per file once the order is paid, signed like the receipt's", async () => {
    const { ask, session, deps, sessions } = withFiles();
    const first = await ask(session.id);
    expect(first.status).toBe("paid");
    expect(first.downloads).toEqual([{ name: "trail-maps.pdf", url: expect.any(String) }]);
    const token = new URL(first.downloads[0].url).pathname.replace("/download/", "");
    expect(verifyDownload(token, deps.downloadSecret as string, deps.now())).toMatchObject({
      grant: { sessionId: session.id, fileId: TRAIL_MAPS.id },
    });
    // Asked again, the answer comes from the ledger alone, with the same files.
    const calls = sessions.calls;
    expect((await ask(session.id)).downloads).toEqual([{ name: "trail-maps.pdf", url: expect.any(String) }]);
    expect(sessions.calls).toBe(calls);
  });

  it.each(["refunded", "disputed"] as const)("says %s and offers no downloads", async (state) => {
    const { ask, session, ledger } = withFiles();
    await ask(session.id);
    const record = ledger.records.get(session.id);
    ledger.records.set(session.id, { ...record!, state });
    const answer = await ask(session.id);
    expect(answer.status).toBe(state);
    expect(answer.downloads).toBeUndefined();
  });
});

describe("what /api/order-status costs", () => {
  function costed(overrides: Partial<OrderStatusDeps> = {}) {
    const fakes = fakeDeps();
    const status = new MemoryStatusStore(fakes.deps);
    const deps = pageDeps(fakes.deps, { status, ...overrides });
    const handle = createOrderStatusHandler({ deps, log: () => {} });
    const ask = async (sessionId: string, ip = "198.51.100.7") => {
      const res = await handle(new Request(`http://localhost/api/order-status?session_id=${sessionId}`), {
        ip,
      });
      return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
    };
    const add = (overrides: Record<string, unknown> = {}) => {
      const session = checkoutSession({ id: unknownId(), ...overrides });
      fakes.sessions.sessions.set(session.id, session as unknown as SessionPayload);
      fakes.lineItems.items[session.id] = [
        lineItem({ name: "Ceramic mug", unitAmount: 1500, quantity: 2 }),
      ] as unknown as LineItemPayload[];
      return session;
    };
    return { ...fakes, status, deps, ask, add };
  }
  const unknownId = () => `cs_test_${crypto.randomUUID().replaceAll("-", "")}`;

  it.each([
    [true, "cs_test_a1b2c3d4e5f6g7h8"],
    [false, "cs_live_a1b2c3d4e5f6g7h8"],
  ])(
    "refuses an id of the other mode without a store command or a Stripe call (live key: %s)",
    async (livemode, id) => {
      const { ask, sessions, status } = costed({ livemode });
      expect(await ask(id)).toMatchObject({ status: 400, body: { error: "session_of_other_mode" } });
      expect({ stripe: sessions.calls, commands: status.commands }).toEqual({ stripe: 0, commands: 0 });
    },
  );

  it("remembers that Stripe does not know an id, for five minutes", async () => {
    const { ask, sessions, clock } = costed();
    const id = unknownId();
    for (let i = 0; i < 3; i++)
      expect(await ask(id)).toMatchObject({ status: 404, body: { status: "not_found" } });
    expect(sessions.calls).toBe(1);
    clock.advance(REMEMBER_SECONDS.notFound * 1000 + 1);
    expect((await ask(id)).status).toBe(404);
    expect(sessions.calls).toBe(2);
  });

  it("remembers what Stripe said of an open session and of a pending payment while the page polls", async () => {
    const { ask, add, sessions, lineItems, clock } = costed();
    const open = add({ status: "open", payment_status: "unpaid" });
    const pending = add({ payment_status: "unpaid" });
    for (let i = 0; i < 20; i++) {
      expect((await ask(open.id)).body.status).toBe("processing");
      clock.advance(1_000);
    }
    for (let i = 0; i < 15; i++) {
      expect((await ask(pending.id)).body).toMatchObject({
        status: "unpaid",
        items: [{ name: "Ceramic mug" }],
      });
      clock.advance(15_000);
    }
    expect({ sessions: sessions.calls, items: lineItems.calls }).toEqual({ sessions: 2, items: 2 });
  });

  it.each([
    ["fulfilling", [], "processing"],
    ["fulfilling", ["receipt", "notice"], "paid"],
    ["fulfilled", [], "paid"],
    ["awaiting_payment", [], "unpaid"],
    ["payment_failed", [], "failed"],
    ["failed", [], "paid"],
    ["refunded", [], "refunded"],
    ["disputed", [], "disputed"],
  ] as const)(
    "answers a %s record (queued: %j) from the ledger alone: %s",
    async (state, queued, expected) => {
      const { ask, add, ledger, sessions, status, deps } = costed();
      const session = add();
      ledger.records.set(session.id, {
        ...blankRecord(session as unknown as SessionPayload, deps.now()),
        state,
        queued: [...queued],
        items: [{ name: "Ceramic mug", quantity: 2 }],
      });
      expect(await ask(session.id)).toMatchObject({
        status: 200,
        body: {
          status: expected,
          items: [{ name: "Ceramic mug", quantity: 2 }],
          total: { formatted: "$30.00" },
        },
      });
      expect({ stripe: sessions.calls, commands: status.commands }).toEqual({ stripe: 0, commands: 1 });
    },
  );

  it("spends a client's budget only on requests that reach Stripe, and answers 429 with Retry-After past it", async () => {
    const limiter = new MemoryLimiter(Date.now, 2, 60_000);
    const { ask, add, sessions, status } = costed({ limiter });
    const known = add();
    await ask(known.id);
    for (let i = 0; i < 5; i++) expect((await ask(known.id)).body.status).toBe("paid");
    expect(limiter.taken).toHaveLength(1);
    expect((await ask(unknownId())).status).toBe(404);
    const refused = await ask(unknownId());
    expect(refused).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(sessions.calls).toBe(2);
    // Known to be over its budget: refused before any store command.
    const commands = status.commands;
    expect((await ask(known.id)).status).toBe(429);
    expect(status.commands).toBe(commands);
    // Another address has its own budget.
    expect((await ask(unknownId(), "198.51.100.8")).status).toBe(404);
  });

  it("fits every client together within the shop's budget: clients under their own budgets are refused past it", async () => {
    const shop = new MemoryLimiter(Date.now, 3, 10_000);
    const limiter = withSharedBudget(new MemoryLimiter(Date.now, 2, 60_000), shop);
    const { ask, sessions } = costed({ limiter });
    const clients = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"];
    const statuses = [];
    for (const ip of clients) statuses.push((await ask(unknownId(), ip)).status);
    expect(statuses).toEqual([404, 404, 404, 429]);
    expect(sessions.calls).toBe(3);
    // The shop's budget, known to be spent, refuses the next client before any store command.
    expect(limiter.blocked("198.51.100.5")).toMatchObject({ allowed: false });
    // A client over its own budget does not spend the shop's.
    const own = withSharedBudget(
      new MemoryLimiter(Date.now, 1, 60_000),
      new MemoryLimiter(Date.now, 3, 10_000),
    );
    expect((await own.take("198.51.100.9")).allowed).toBe(true);
    expect((await own.take("198.51.100.9")).allowed).toBe(false);
    expect((await own.take("198.51.100.10")).allowed).toBe(true);
    expect((await own.take("198.51.100.11")).allowed).toBe(true);
  });

  it("asks Stripe nothing when the budget cannot be counted (Redis down): 503, and the page asks again", async () => {
    const limiter = new MemoryLimiter(Date.now);
    limiter.take = async () => {
      throw new StoreUnavailableError("store is down");
    };
    const { ask, add, sessions } = costed({ limiter });
    expect(await ask(add().id)).toMatchObject({ status: 503, body: { error: "store_unavailable" } });
    expect(sessions.calls).toBe(0);
  });
});
