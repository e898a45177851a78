/**
 * `npm run orders` through the command kit, over in-memory fakes: live-mode confirmation (refused without a
 * terminal before any request, asked on one), the resend window, the retry's scope check, usage and configuration.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ordersCommand, RESEND_WINDOW_MS } from "../../src/commands/orders.ts";
import { fulfilOrder } from "../../src/fulfilment/fulfil.ts";
import type { LineItemPayload, SessionPayload } from "../../src/order/model.ts";
import { orderNumber } from "../../src/order/number.ts";
import { customerHash } from "../../src/order/customers.ts";
import { emptyRecord } from "../../src/order/ledger.ts";
import type { Services } from "../../src/app/services.ts";
import { fakeDeps, fakeServices } from "../support/fakes.ts";
import { filesShop, TRAIL_MAPS, trailMapsSession } from "../support/trail-maps.ts";
import { checkoutSession, lineItem } from "../support/stripe-payloads.ts";
import { runScripted } from "../support/io.ts";

const LIVE = { STRIPE_SECRET_KEY: "sk_live_orders_command" };
const TEST = { STRIPE_SECRET_KEY: "sk_test_orders_command" };

// An empty project folder: no .env and no npm start record can leak into these runs.
let project: string;
beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), "linkshop-orders-"));
});
afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

function setup(scope: Services["scope"] = "shop") {
  const fakes = fakeDeps({ scope });
  const deps: Services = fakeServices(fakes);
  let builds = 0;
  /** A paid live-mode session of this shop (unless overridden), known to Stripe. */
  const add = (overrides: Record<string, unknown> = {}): SessionPayload => {
    const id = `cs_live_${randomBytes(12).toString("hex")}`;
    const session = checkoutSession({ id, livemode: true, ...overrides }) as unknown as SessionPayload;
    fakes.sessions.sessions.set(id, session);
    fakes.lineItems.items[id] = [
      lineItem({ name: "Ceramic mug", unitAmount: 1500, quantity: 2 }),
    ] as unknown as LineItemPayload[];
    return session;
  };
  const fulfilled = async () => {
    const session = add();
    await fulfilOrder(session, deps, { by: "webhook", fresh: true });
    await fakes.drain();
    return session;
  };
  const receipts = (id: string) =>
    fakes.mailer.sent.filter((email) => email.to === "jenny@example.com" && email.text.includes(id));
  const services = () => {
    builds++;
    return deps;
  };
  const orders = (argv: string[], env: Record<string, string> = TEST, answers?: boolean[]) =>
    runScripted(ordersCommand, { argv, env, answers, cwd: project, connect: { services } });
  return { ...fakes, deps, add, fulfilled, receipts, orders, builds: () => builds };
}

describe("orders resend and retry with a live key", () => {
  it.each(["resend", "retry"])(
    "%s without a terminal and without --live: exit 2 before any request",
    async (action) => {
      const shop = setup();
      const session = await shop.fulfilled();
      const before = {
        mails: shop.mailer.requests,
        stripe: shop.sessions.calls,
        record: structuredClone(shop.ledger.records.get(session.id)),
      };
      const run = await shop.orders([action, session.id], LIVE);
      expect(run.code).toBe(2);
      expect(run.err.join("\n")).toContain(`Refusing to ${action} an order without a confirmation`);
      expect(run.err.join("\n")).toContain("the Stripe key is LIVE: this emails a real customer");
      expect(run.err.join("\n")).toContain("Pass --live to confirm");
      expect(run.err.join("\n")).not.toContain(LIVE.STRIPE_SECRET_KEY);
      // Not even the services were built: no Redis command, no Stripe call, no email.
      expect(shop.builds()).toBe(0);
      expect(shop.mailer.requests).toBe(before.mails);
      expect(shop.sessions.calls).toBe(before.stripe);
      expect(shop.ledger.records.get(session.id)).toEqual(before.record);
    },
  );

  it("on a terminal shows the order number and the masked customer, and resends on yes", async () => {
    const shop = setup();
    const session = await shop.fulfilled();
    const run = await shop.orders(["resend", session.id], LIVE, [true]);
    expect(run.code, run.text()).toBe(0);
    expect(run.questions).toEqual(["Go ahead?"]);
    expect(run.err).toContain(
      `Resend the receipt of order ${orderNumber(session.id)} (${session.id}) to j***@example.com.`,
    );
    expect(run.text()).not.toContain("jenny@example.com");
    expect(shop.receipts(session.id)).toHaveLength(2);
    expect(run.out).toEqual([`resend ${session.id}: fulfilled (receipt_resent); 1 email sent`]);
  });

  it("a retry shows every masked recipient of what it would send", async () => {
    const shop = setup();
    const session = shop.add();
    const run = await shop.orders(["retry", session.id], LIVE, [true]);
    expect(run.code, run.text()).toBe(0);
    expect(run.err).toEqual(
      expect.arrayContaining(["  receipt to j***@example.com", "  notice to o***@shop.example"]),
    );
    expect(shop.receipts(session.id)).toHaveLength(1);
  });

  it("a retry of a failed order names only what was not accepted; of a fulfilled one, asks nothing", async () => {
    const shop = setup();
    const session = shop.add();
    // The notice went out, the receipt was refused: a retry sends the receipt only.
    shop.mailer.refuseNext = [{ index: 0, reason: "resend:422:validation_error" }];
    await fulfilOrder(session, shop.deps, { by: "webhook", fresh: true });
    await shop.drain();
    expect(shop.ledger.records.get(session.id)).toMatchObject({ state: "failed" });
    const run = await shop.orders(["retry", session.id], LIVE, [true]);
    expect(run.code, run.text()).toBe(0);
    expect(run.err.filter((line) => line.startsWith("  "))).toEqual(["  receipt to j***@example.com"]);

    const again = await shop.orders(["retry", session.id], LIVE, []);
    expect(again.code).toBe(0);
    expect(again.out).toEqual([`retry ${session.id}: duplicate (already_fulfilled)`]);
  });

  it("answering no sends nothing and exits 1", async () => {
    const shop = setup();
    const session = await shop.fulfilled();
    const requests = shop.mailer.requests;
    const run = await shop.orders(["resend", session.id], LIVE, [false]);
    expect(run.code).toBe(1);
    expect(run.err.at(-1)).toBe("Answered no: nothing was done.");
    expect(shop.mailer.requests).toBe(requests);
    expect(shop.ledger.records.get(session.id)?.lastResentAt).toBeUndefined();
  });

  it("--live goes ahead without asking, and a test key never asks", async () => {
    const shop = setup();
    const live = await shop.fulfilled();
    expect((await shop.orders(["resend", live.id, "--live"], LIVE, [])).code).toBe(0);
    const test = await shop.fulfilled();
    expect((await shop.orders(["resend", test.id], TEST, [])).code).toBe(0);
    expect(shop.receipts(live.id)).toHaveLength(2);
    expect(shop.receipts(test.id)).toHaveLength(2);
  });

  it("show and list read the ledger without asking, live key or not", async () => {
    const shop = setup();
    const session = await shop.fulfilled();
    expect((await shop.orders(["show", orderNumber(session.id)], LIVE)).code).toBe(0);
    expect((await shop.orders([], LIVE)).code).toBe(0);
  });
});

describe("orders resend twice in a row", () => {
  it(`is refused within ${RESEND_WINDOW_MS / 60_000} minutes, says when it last went out, and --force overrides`, async () => {
    const shop = setup();
    const session = await shop.fulfilled();
    const first = await shop.orders(["resend", session.id]);
    expect(first.code).toBe(0);
    const resentAt = shop.clock.now;
    expect(shop.ledger.records.get(session.id)?.lastResentAt).toBe(resentAt);
    expect(shop.receipts(session.id)).toHaveLength(2);

    shop.clock.advance(9 * 60_000);
    const again = await shop.orders(["resend", orderNumber(session.id)]);
    expect(again.code).toBe(1);
    const at = new Date(resentAt).toISOString().slice(0, 16).replace("T", " ");
    expect(again.err).toEqual([
      `The receipt of order ${orderNumber(session.id)} was last resent at ${at} UTC (9 min ago), so it was not ` +
        "sent again. Pass --force to send another copy anyway.",
    ]);
    expect(shop.receipts(session.id)).toHaveLength(2);

    const forced = await shop.orders(["resend", session.id, "--force"]);
    expect(forced.code).toBe(0);
    expect(shop.receipts(session.id)).toHaveLength(3);
    expect(shop.ledger.records.get(session.id)?.lastResentAt).toBe(shop.clock.now);
  });

  it("goes out again once the window has passed, with a new idempotency key", async () => {
    const shop = setup();
    const session = await shop.fulfilled();
    expect((await shop.orders(["resend", session.id])).code).toBe(0);
    shop.clock.advance(RESEND_WINDOW_MS);
    expect((await shop.orders(["resend", session.id])).code).toBe(0);
    const keys = shop.receipts(session.id).map((email) => email.idempotencyKey);
    expect(new Set(keys).size).toBe(3);
    const shown = await shop.orders(["show", session.id]);
    expect(shown.out.join("\n")).toContain(`Resent     ${new Date(shop.clock.now).toISOString()}`);
  });
});

describe("orders retry and resend check the shop's scope", () => {
  it.each(["retry", "resend"])(
    "%s of another shop's session is refused and sends nothing",
    async (action) => {
      const shop = setup("shop");
      const foreign = shop.add({ metadata: {}, payment_link: null });
      const run = await shop.orders([action, foreign.id, "--live"], LIVE);
      expect(run.code).toBe(1);
      expect(run.err).toEqual([
        `${foreign.id} is not one of this shop's orders (LINKSHOP_FULFIL_SESSIONS=shop): nothing was sent. ` +
          'See "Which sessions are fulfilled" in the README.',
      ]);
      expect(shop.mailer.requests).toBe(0);
      expect(shop.ledger.records.has(foreign.id)).toBe(false);
    },
  );

  it("a wider scope lets the same retry through", async () => {
    const shop = setup("all");
    const foreign = shop.add({ metadata: {}, payment_link: null });
    expect((await shop.orders(["retry", foreign.id])).code).toBe(0);
    expect(shop.receipts(foreign.id)).toHaveLength(1);
  });
});

describe("orders usage and configuration", () => {
  it.each([
    [["bogus"], 'Unknown command "bogus".'],
    [["resend"], "resend needs an order number"],
    [["show", "cs_test_<b>"], "show needs an order number"],
    [["list", "7KQ4-M9PX"], "list takes no order."],
    [["--limit", "0"], "--limit must be 1 to 1000."],
    [["retry", "7KQ4-M9PX", "extra"], "Unexpected arguments: extra"],
    [["--force=yes"], "Option '--force' does not take an argument"],
  ])("%j: exit 2 with the usage, nothing built", async (argv, message) => {
    const shop = setup();
    const run = await shop.orders(argv, LIVE);
    expect(run.code).toBe(2);
    expect(run.err.join("\n")).toContain(message);
    expect(run.err.join("\n")).toContain("Usage: npm run orders");
    expect(shop.builds()).toBe(0);
  });

  it("without configuration names every missing variable and exits 2", async () => {
    const { code, ...recorded } = await runScripted(ordersCommand, { argv: ["list"], env: {}, cwd: project });
    expect(code).toBe(2);
    expect(recorded.out).toEqual([]);
    expect(recorded.err).toEqual([
      "Missing STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, RESEND_API_KEY, EMAIL_FROM (see .env.example)",
    ]);
  });

  it("an unknown order is a failure, not a usage error", async () => {
    const shop = setup();
    const run = await shop.orders(["show", "ZZZZ-ZZZZ"]);
    expect(run).toMatchObject({ code: 1, err: ["No order ZZZZ-ZZZZ in the ledger."] });
  });
});

describe("orders index", () => {
  it("files every recorded order of this shop under its customer's keyed hash, once, and nothing else", async () => {
    const shop = setup();
    const secret = shop.deps.downloadSecret ?? "";
    // Orders fulfilled before the index existed: a record, no index entry.
    const older = [shop.add({ livemode: false }), shop.add({ livemode: false })];
    older.forEach((session, i) =>
      shop.ledger.write(session.id, "absent", {
        ...emptyRecord(session.id, 1_700_000_000_000 + i),
        state: "fulfilled",
      }),
    );
    // Not indexed: another shop's session, a paid session never recorded, a hostile address.
    shop.add({ metadata: {}, payment_link: null });
    shop.add();
    const hostile = shop.add({ customer_details: { email: "a@x.com, b@y.com", name: "Eve" } });
    shop.ledger.write(hostile.id, "absent", { ...emptyRecord(hostile.id, 1), state: "fulfilled" });

    const run = await shop.orders(["index"]);
    expect(run.code, run.text()).toBe(0);
    expect(run.out.join("\n")).toContain("2 orders findable by their customers' addresses");
    // Newest first.
    expect(await shop.ledger.customerOrders.list(customerHash("JENNY@example.com", secret), 10)).toEqual(
      older.map((session) => session.id).reverse(),
    );
    expect(shop.ledger.customers.size).toBe(1);
    // Again: the same two, filed once.
    expect((await shop.orders(["index"])).code).toBe(0);
    expect(shop.ledger.customers.get(customerHash("jenny@example.com", secret))?.size).toBe(2);
  });

  it("needs the shop's secret, which keys the index", async () => {
    const shop = setup();
    shop.deps.downloadSecret = undefined;
    const run = await shop.orders(["index"]);
    expect(run.code).toBe(1);
    expect(run.text()).toContain("LINKSHOP_DOWNLOAD_SECRET is not set");
  });
});

describe("orders of files", () => {
  /** A fulfilled test-mode order of the trail maps, whose file was downloaded twice. */
  async function withFiles() {
    const shop = setup();
    shop.deps.shop = filesShop();
    const session = trailMapsSession(shop, {
      id: `cs_test_${randomBytes(12).toString("hex")}`,
      livemode: false,
    });
    await fulfilOrder(session, shop.deps, { by: "webhook", fresh: true });
    await shop.drain();
    for (let i = 0; i < 2; i++) await shop.deps.downloads.take(session.id, TRAIL_MAPS.id, 5);
    return { ...shop, session };
  }

  it("list and show say how often each file was downloaded", async () => {
    const shop = await withFiles();
    const listed = await shop.orders(["list"]);
    expect(listed.out.join("\n")).toMatch(/Downloads\s+Session/);
    expect(listed.out.join("\n")).toContain("trail-maps.pdf 2/5");
    const shown = await shop.orders(["show", shop.session.id]);
    expect(shown.out.join("\n")).toContain("Downloads  trail-maps.pdf 2/5");
    const json = JSON.parse((await shop.orders(["show", shop.session.id, "--json"])).out.join("\n"));
    expect(json.downloads).toEqual({ [TRAIL_MAPS.id]: 2 });
  });

  it("reset-downloads gives the customer the whole limit again", async () => {
    const shop = await withFiles();
    const run = await shop.orders(["reset-downloads", orderNumber(shop.session.id)]);
    expect(run.code, run.text()).toBe(0);
    expect(run.out).toEqual([
      `Reset the downloads of order ${orderNumber(shop.session.id)}: trail-maps.pdf 2/5 -> 0 each.`,
    ]);
    expect(await shop.deps.downloads.used(shop.session.id, TRAIL_MAPS.id)).toBe(0);
  });

  it("resend mails fresh download links; a refunded order shows its refund and is neither resent nor reset", async () => {
    const shop = await withFiles();
    const resent = await shop.orders(["resend", shop.session.id]);
    expect(resent.code, resent.text()).toBe(0);
    const receipt = shop.receipts(shop.session.id).at(-1);
    expect(receipt?.text).toMatch(
      /trail-maps\.pdf \(Printable Trail Maps\): https:\/\/shop\.example\/download\/cs_test_/,
    );

    const record = shop.ledger.records.get(shop.session.id);
    shop.ledger.records.set(shop.session.id, {
      ...record!,
      state: "refunded",
      refund: { amountRefunded: 900, amount: 900, full: true, revoked: true },
    });
    expect((await shop.orders(["show", shop.session.id])).out.join("\n")).toContain(
      "Refund     $9.00 of $9.00 (full), downloads cut",
    );
    const again = await shop.orders(["resend", shop.session.id, "--force"]);
    expect(again.code).toBe(1);
    expect(again.out).toEqual([`resend ${shop.session.id}: failed (order_refunded)`]);
    const reset = await shop.orders(["reset-downloads", shop.session.id]);
    expect(reset.code).toBe(1);
    expect(reset.err.join("\n")).toContain("is refunded: its files are not available");
  });
});
