// `npm run trigger` against a real Stripe emulator that delivers to a local receiver checking every signature.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Stripe from "stripe";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type StripeEmulator, startStripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { type TriggerTiming, triggerCommand } from "../../dev/trigger.ts";
import { stripeLineItems } from "../../src/adapters/stripe.ts";
import { runCatalogSync } from "../../src/commands/catalog-sync/command.ts";
import { runCommand } from "../../src/commands/kit.ts";
import { HANDLED_EVENTS } from "../../src/order/events.ts";
import { toOrder } from "../../src/order/model.ts";
import { loadCatalog } from "../../src/shop/catalog.ts";
import { writeStackRecord } from "../../src/commands/stack-record.ts";
import { freePort } from "../../dev/ports.ts";
import {
  type Answer,
  emulatorClient,
  paidSession,
  type ReceivedEvent,
  type Receiver,
  startReceiver,
} from "../support/stripe-emulator.ts";

const SECRET = "whsec_trigger_tests";
// Ceilings for the command's own polling, never reached when things work; the emulator settles delayed payments
// after 20 ms here.
const TIMING: Partial<TriggerTiming> = {
  eventTimeoutMs: 60_000,
  deliveryTimeoutMs: 60_000,
  pollIntervalMs: 10,
};

interface Run {
  code: number;
  out: string;
  err: string;
}

// A project folder of its own: no .env or npm start record of the checkout leaks into these runs. Its catalog is the
// sample one, which --product reads.
const project = mkdtempSync(join(tmpdir(), "linkshop-trigger-"));
const CATALOG = join(import.meta.dirname, "../../catalog.json");
copyFileSync(CATALOG, join(project, "catalog.json"));
afterAll(() => rmSync(project, { recursive: true, force: true }));

async function trigger(
  args: string[],
  env: Record<string, string | undefined>,
  timing: Partial<TriggerTiming> = TIMING,
): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCommand(triggerCommand(timing), {
    argv: args,
    env,
    io: { out: (line) => out.push(line), err: (line) => err.push(line) },
    cwd: project,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("npm run trigger on the Stripe emulator", () => {
  let emulator: StripeEmulator;
  let receiver: Receiver;
  let stripe: Stripe;
  const env = () => ({ STRIPE_API_BASE: emulator.url });

  beforeEach(async () => {
    receiver = await startReceiver({ secret: SECRET });
    emulator = await startStripeEmulator({
      port: 0,
      webhook: { url: receiver.url, secret: SECRET },
      asyncPaymentDelayMs: 20,
      retryDelaysMs: [10, 10],
    });
    stripe = emulatorClient(emulator.url);
  });

  afterEach(async () => {
    await emulator.close();
    await receiver.close();
  });

  it.each([
    { event: "checkout.session.completed", args: ["--items", "12"], items: 12, currency: "usd" },
    {
      event: "checkout.session.async_payment_succeeded",
      args: ["--currency", "JPY", "--email", "buyer@shop.example"],
      items: 1,
      currency: "jpy",
    },
    { event: "checkout.session.async_payment_failed", args: ["--items", "2"], items: 2, currency: "usd" },
    {
      event: "checkout.session.expired",
      args: ["--items", "3", "--currency", "eur"],
      items: 3,
      currency: "eur",
    },
  ])("$event arrives signed, for a session of $items line item(s) x 2 in $currency", async (spec) => {
    const run = await trigger([spec.event, ...spec.args], env());

    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    const delivered = receiver.events.filter((event) => event.type === spec.event);
    expect(delivered).toHaveLength(1);
    const [{ id: eventId, object: session }] = delivered as [ReceivedEvent];
    expect(receiver.rejected).toBe(0);
    expect(session.object).toBe("checkout.session");
    expect(session.mode).toBe("payment");
    expect(session.currency).toBe(spec.currency);
    // 1500 minor units a unit, as the Stripe CLI's price: $15.00, ¥1,500, €15.00.
    expect(session.amount_total).toBe(spec.items * 2 * 1500);

    // The SDK's default page is 10 items: 12 only come back by following the cursor.
    const items = await stripe.checkout.sessions.listLineItems(session.id).autoPagingToArray({ limit: 1000 });
    expect(items).toHaveLength(spec.items);
    for (const item of items) {
      expect(item.quantity).toBe(2);
      expect(item.price?.currency).toBe(spec.currency);
    }

    expect(run.out).toContain(`Checkout Session ${session.id}`);
    expect(run.out).toContain(`Event ${eventId} (${spec.event})`);
    expect(run.out).toMatch(/attempt 1: 200 {2}http:\/\/127\.0\.0\.1:\d+\/api\/stripe-webhook/);
  });

  it("pays as the given customer, after an unpaid checkout.session.completed for delayed methods", async () => {
    const run = await trigger(
      ["checkout.session.async_payment_succeeded", "--email", "buyer@shop.example"],
      env(),
    );

    expect(run.code).toBe(0);
    const checkout = receiver.events.filter((event) => event.type.startsWith("checkout.session."));
    expect(checkout.map((event) => [event.type, event.object.payment_status])).toEqual([
      ["checkout.session.completed", "unpaid"],
      ["checkout.session.async_payment_succeeded", "paid"],
    ]);
    expect(checkout.map((event) => event.object.customer_details?.email)).toEqual([
      "buyer@shop.example",
      "buyer@shop.example",
    ]);
    expect(run.out).toContain("receipt to buyer@shop.example");
    expect(run.out).toContain("http://127.0.0.1:8025");
  });

  it("names the outbox of the running shop, on whatever port it listens", async () => {
    const run = await trigger(["checkout.session.completed"], {
      ...env(),
      RESEND_API_KEY: "re_local_key",
      RESEND_BASE_URL: "http://127.0.0.1:41234",
    });
    expect(run.code).toBe(0);
    expect(run.out).toContain("in the outbox, http://127.0.0.1:41234");
  });

  it("--duplicate 5 --concurrent delivers the same event 6 times in all", async () => {
    const run = await trigger(["checkout.session.completed", "--duplicate", "5", "--concurrent"], env());

    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    const completed = receiver.events.filter((event) => event.type === "checkout.session.completed");
    expect(completed).toHaveLength(6);
    expect(new Set(completed.map((event) => event.id)).size).toBe(1);
    expect(run.out).toContain("5 redeliveries: 5 x 200");
  });

  it("--duplicate without --concurrent redelivers one after another", async () => {
    const run = await trigger(
      ["checkout.session.expired", "--duplicate", "2", "--stripe-url", emulator.url],
      {},
    );

    expect(run.code).toBe(0);
    const expired = receiver.events.filter((event) => event.type === "checkout.session.expired");
    expect(expired).toHaveLength(3);
    expect(new Set(expired.map((event) => event.id)).size).toBe(1);
    expect(run.out).toContain("one after another");
    expect(run.out).toContain("2 redeliveries: 2 x 200");
  });

  /** The one event of `type` the receiver got, and the object it carries. */
  const receivedOne = <T>(type: string): T => {
    const found = receiver.events.filter((event) => event.type === type);
    expect(found, type).toHaveLength(1);
    return (found[0] as ReceivedEvent).object as unknown as T;
  };

  /** A session paid by card on the emulator: its id and PaymentIntent. */
  async function paidOrder(): Promise<{ sessionId: string; intent: string }> {
    const sessionId = await paidSession(stripe, emulator.url);
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    return { sessionId, intent: String(session.payment_intent) };
  }

  it("charge.refunded --session --amount refunds part of the session's payment, then the rest, then refuses", async () => {
    const { sessionId, intent } = await paidOrder();

    const part = await trigger(["charge.refunded", "--session", sessionId, "--amount", "500"], env());

    expect(part.err).toBe("");
    expect(part.code).toBe(0);
    expect(receivedOne<Stripe.Charge>("charge.refunded")).toMatchObject({
      payment_intent: intent,
      amount: 1500,
      amount_refunded: 500,
      refunded: false,
    });
    expect(part.out).toMatch(
      new RegExp(`Refund re_\\w+: \\$5\\.00 of the payment ${intent} \\(\\$15\\.00\\) of ${sessionId}`),
    );
    expect(part.out).toMatch(/attempt 1: 200 /);
    expect(part.out).toContain("refund notice");

    const rest = await trigger(["charge.refunded", "--session", sessionId], env());
    expect(rest.code).toBe(0);
    const charges = receiver.events.filter((event) => event.type === "charge.refunded");
    expect(charges.at(-1)?.object).toMatchObject({ amount_refunded: 1500, refunded: true });

    const again = await trigger(["charge.refunded", "--session", sessionId], env());
    expect(again.code).toBe(1);
    expect(again.err).toMatch(
      /^Stripe refused the request \(HTTP 400\): Charge ch_\w+ has already been refunded\.$/,
    );
  });

  it.each([
    { flag: "--won", status: "won" },
    { flag: "--lost", status: "lost" },
  ])(
    "charge.dispute.created, then charge.dispute.closed $flag, for a session's payment",
    async ({ flag, status }) => {
      const { sessionId, intent } = await paidOrder();

      const created = await trigger(["charge.dispute.created", "--session", sessionId], env());

      expect(created.err).toBe("");
      expect(created.code).toBe(0);
      const dispute = receivedOne<Stripe.Dispute>("charge.dispute.created");
      const charge = await stripe.paymentIntents.retrieve(intent).then((pi) => pi.latest_charge);
      expect(dispute).toMatchObject({
        object: "dispute",
        payment_intent: intent,
        charge,
        amount: 1500,
        reason: "fraudulent",
        status: "needs_response",
      });
      expect((dispute.evidence_details.due_by ?? 0) * 1000).toBeGreaterThan(Date.now());
      expect(created.out).toContain(`Dispute ${dispute.id} (fraudulent, needs_response, evidence due `);
      expect(created.out).toMatch(/attempt 1: 200 /);

      const closed = await trigger(["charge.dispute.closed", "--session", sessionId, flag], env());

      expect(closed.code).toBe(0);
      expect(receivedOne<Stripe.Dispute>("charge.dispute.closed")).toMatchObject({ id: dispute.id, status });
      expect(closed.out).toContain(`Dispute ${dispute.id} closed: ${status}`);
      const none = await trigger(["charge.dispute.closed", "--session", sessionId, "--won"], env());
      expect(none.code).toBe(1);
      expect(none.err).toBe(
        `The payment of ${sessionId} has no open dispute. Open one first: npm run trigger -- charge.dispute.created --session ${sessionId}`,
      );
    },
  );

  it("refunds and disputes need a session the emulator knows, with a payment", async () => {
    const unknown = await trigger(["charge.refunded", "--session", "cs_test_unknown"], env());
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe(
      `The Stripe emulator at ${emulator.url} has no Checkout Session cs_test_unknown.`,
    );

    const open = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [
        { price_data: { currency: "usd", unit_amount: 100, product_data: { name: "x" } }, quantity: 1 },
      ],
    });
    const unpaid = await trigger(["charge.dispute.created", "--session", open.id], env());
    expect(unpaid.code).toBe(1);
    expect(unpaid.err).toContain(
      `Checkout Session ${open.id} has no payment to dispute (status open, unpaid)`,
    );
  });

  describe("--product, with the catalog synced into the emulator as npm start does", () => {
    beforeEach(async () => {
      const sync = await runCatalogSync(
        ["--catalog", CATALOG, "--out", join(project, "links.json"), "--site-url", "http://localhost:8888"],
        { STRIPE_SECRET_KEY: "sk_test_trigger_sync", STRIPE_API_BASE: emulator.url },
        { out: () => {}, err: () => {} },
        project,
      );
      expect(sync).toBe(0);
    });

    it.each([
      { product: "trail-maps", total: 900, shipping: null },
      { product: "camp-mug", total: 2400, shipping: "US" },
    ])(
      "buys $product through its Payment Link: a real order of the shop",
      async ({ product, total, shipping }) => {
        const run = await trigger(["checkout.session.completed", "--product", product], env());

        expect(run.err).toBe("");
        expect(run.code).toBe(0);
        const session = receivedOne<Stripe.Checkout.Session>("checkout.session.completed");
        expect(session).toMatchObject({
          metadata: { linkshop_id: product },
          payment_link: expect.stringMatching(/^plink_/),
          payment_status: "paid",
          amount_total: total,
          customer_details: { email: "stripe@example.com" },
        });
        expect(session.collected_information?.shipping_details?.address?.country ?? null).toBe(shipping);
        expect(run.out).toContain(`Checkout Session ${session.id} from the Payment Link of ${product}`);
        // The shop reads it as an order of the catalog product, whose files the receipt then links.
        const items = await stripeLineItems(stripe).listLineItems(session.id);
        const order = toOrder(session, items);
        expect(order.items.map((item) => item.productId)).toEqual([product]);
        const { products } = await loadCatalog(CATALOG);
        const files = products.find((one) => one.id === product)?.files ?? [];
        expect(files).toEqual(product === "trail-maps" ? ["trail-maps.pdf"] : []);
      },
    );
  });

  describe("--product of a product with stock", () => {
    /** Syncs the sample catalog with `stock` on the trail maps into the emulator, as npm start does. */
    async function syncStock(stock: number | undefined, amount?: number): Promise<Stripe.PaymentLink> {
      const catalog = JSON.parse(readFileSync(CATALOG, "utf8")) as { products: Record<string, unknown>[] };
      for (const product of catalog.products) {
        if (product.id !== "trail-maps") continue;
        product.stock = stock;
        if (amount !== undefined) product.price = { ...(product.price as object), amount };
      }
      // Beside the sample pictures, which the sync checks: the project folder borrows public/.
      if (!existsSync(join(project, "public")))
        symlinkSync(join(CATALOG, "..", "public"), join(project, "public"));
      const path = join(project, "catalog-stock.json");
      writeFileSync(path, JSON.stringify(catalog));
      const sync = await runCatalogSync(
        ["--catalog", path, "--out", join(project, "links.json"), "--site-url", "http://localhost:8888"],
        { STRIPE_SECRET_KEY: "sk_test_trigger_sync", STRIPE_API_BASE: emulator.url },
        { out: () => {}, err: () => {} },
        project,
      );
      expect(sync).toBe(0);
      const links = await stripe.paymentLinks.list({ limit: 100 });
      const link = links.data.find((candidate) => candidate.metadata.linkshop_id === "trail-maps");
      if (!link) throw new Error("no link for trail-maps");
      return link;
    }
    const buy = () => trigger(["checkout.session.completed", "--product", "trail-maps"], env());
    const checkouts = () => receiver.events.filter((event) => event.type === "checkout.session.completed");

    it("counts every purchase against the link's limit, then fails clearly and buys nothing once it is sold", async () => {
      const link = await syncStock(2);
      expect(link.restrictions).toEqual({ completed_sessions: { count: 0, limit: 2 } });
      expect(link.inactive_message).toBe(
        "Sold out: every one of these has found a home. Thank you for your interest.",
      );
      expect((await buy()).code).toBe(0);
      expect((await buy()).code).toBe(0);
      const sold = await stripe.paymentLinks.retrieve(link.id);
      expect([sold.active, sold.restrictions?.completed_sessions]).toEqual([false, { count: 2, limit: 2 }]);

      const third = await buy();
      expect(third.code).toBe(1);
      expect(third.err).toContain(
        `The Payment Link of "trail-maps" (${link.id}) is no longer active: sold out: 2 of 2 checkouts completed (the catalog's stock). Nothing was bought.`,
      );
      expect(checkouts()).toHaveLength(2);
      const page = await fetch(link.url);
      expect(page.status).toBe(410);
      expect(await page.text()).toContain("Sold out: every one of these has found a home.");
    });

    it("buys through the product's newest link only: an older price's link that is still active is not used", async () => {
      const older = await syncStock(5);
      const newer = await syncStock(1, 1234);
      expect(newer.id).not.toBe(older.id);
      expect((await buy()).code).toBe(0);
      expect((await stripe.paymentLinks.retrieve(newer.id)).active).toBe(false);
      expect((await stripe.paymentLinks.retrieve(older.id)).active).toBe(true);
      const again = await buy();
      expect(again.code).toBe(1);
      expect(again.err).toContain(`The Payment Link of "trail-maps" (${newer.id}) is no longer active`);
    });

    it("catalog:sync raises the limit and reopens a sold-out link, and removes the limit with the stock", async () => {
      const link = await syncStock(1);
      expect((await buy()).code).toBe(0);
      expect((await stripe.paymentLinks.retrieve(link.id)).active).toBe(false);

      const restocked = await syncStock(3);
      expect(restocked.id).toBe(link.id);
      expect([restocked.active, restocked.restrictions]).toEqual([
        true,
        { completed_sessions: { count: 1, limit: 3 } },
      ]);
      expect((await buy()).code).toBe(0);

      const unlimited = await syncStock(undefined);
      expect([unlimited.active, unlimited.restrictions, unlimited.inactive_message]).toEqual([
        true,
        null,
        null,
      ]);
      expect((await buy()).code).toBe(0);
      expect(checkouts()).toHaveLength(3);
    });
  });

  it("--product of a catalog product the emulator has no Payment Link for is an error, exit 1", async () => {
    const run = await trigger(["checkout.session.completed", "--product", "trail-maps"], env());

    expect(run.code).toBe(1);
    expect(run.err).toContain(
      `The Stripe emulator at ${emulator.url} has no active Payment Link for "trail-maps"`,
    );
    expect(receiver.events.filter((event) => event.type.startsWith("checkout."))).toEqual([]);
  });

  /** Replaces the receiver (and the emulator delivering to it) with one that answers as `answer` says. */
  async function restartWith(answer: Answer): Promise<void> {
    await emulator.close();
    await receiver.close();
    receiver = await startReceiver({ secret: SECRET, answer });
    emulator = await startStripeEmulator({
      webhook: { url: receiver.url, secret: SECRET },
      retryDelaysMs: [5, 5],
    });
  }

  it("waits through the emulator's retries until the webhook accepts the event", async () => {
    await restartWith((event, earlier) =>
      event.type === "checkout.session.completed" && earlier === 0 ? 503 : 200,
    );

    const run = await trigger(["checkout.session.completed"], env());

    expect(run.code).toBe(0);
    expect(run.out).toMatch(/attempt 1: 503 .*\n {2}attempt 2: 200 /);
  });

  it("fails, listing every attempt, once the emulator gives up on a webhook that never accepts the event", async () => {
    await restartWith((event) => (event.type === "checkout.session.completed" ? 500 : 200));

    const run = await trigger(["checkout.session.completed"], env());

    expect(run.code).toBe(1);
    expect(run.out.split("\n").filter((line) => /attempt \d: 500/.test(line))).toHaveLength(3);
    expect(run.err).toMatch(
      /^The webhook refused evt_\w+ on all 3 attempts, and the emulator has stopped retrying\./,
    );
  });

  it("stops waiting after its ceiling when the webhook never answers, saying the emulator keeps trying", async () => {
    // A receiver that takes every request and never answers: the only way out is the command's own ceiling.
    const silent = createServer(() => {});
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    await emulator.close();
    emulator = await startStripeEmulator({
      webhook: { url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, secret: SECRET },
    });
    try {
      const run = await trigger(["checkout.session.completed"], env(), { ...TIMING, deliveryTimeoutMs: 300 });

      expect(run.code).toBe(1);
      expect(run.out.split("\n").filter((line) => line.includes("attempt"))).toEqual([]);
      expect(run.err).toMatch(
        /The webhook has not accepted evt_\w+ within 0\.3 s; the emulator keeps retrying/,
      );
    } finally {
      await emulator.close();
      silent.closeAllConnections();
      await new Promise<void>((done) => silent.close(() => done()));
    }
  });
});

describe("npm run trigger without an emulator", () => {
  it("exits 1 with a clear message when nothing listens at the emulator's port", async () => {
    const port = await freePort();

    const run = await trigger(["checkout.session.completed"], { LINKSHOP_STRIPE_PORT: String(port) });

    expect(run.code).toBe(1);
    expect(run.err).toBe(
      `No Stripe emulator at http://127.0.0.1:${port} — start the shop first with \`npm start\` (or pass --stripe-url).`,
    );
    expect(run.out).toBe("");
  });

  it("prints the Stripe CLI commands instead, without a request, when the shop uses real Stripe", async () => {
    const requests: string[] = [];
    const server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      response.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    try {
      const run = await trigger(
        ["checkout.session.completed", "--currency", "jpy", "--items", "3", "--duplicate", "2"],
        { STRIPE_SECRET_KEY: "sk_test_real_account", LINKSHOP_STRIPE_PORT: String(port) },
      );

      expect(run.code).toBe(0);
      expect(run.out).toContain(
        `stripe listen --events ${HANDLED_EVENTS.join(",")} --forward-to localhost:8888/api/stripe-webhook`,
      );
      expect(run.out).toContain("stripe trigger checkout.session.completed --override price:currency=jpy");
      expect(run.out).toContain("--items 3: the CLI's fixture has one line item");
      expect(run.out).toContain("stripe events resend");
      expect(run.out).not.toContain("sk_test_real_account");
      expect(requests).toEqual([]);
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });

  it("says which options the Stripe CLI cannot mirror for delayed payments", async () => {
    const run = await trigger(
      ["checkout.session.async_payment_failed", "--currency", "usd", "--email", "a@b.example"],
      { STRIPE_SECRET_KEY: "sk_test_real_account", LINKSHOP_PORT: "9999" },
    );

    expect(run.code).toBe(0);
    expect(run.out).toContain(
      `stripe listen --events ${HANDLED_EVENTS.join(",")} --forward-to localhost:9999/api/stripe-webhook`,
    );
    expect(run.out).toContain(
      "stripe trigger checkout.session.async_payment_failed --override payment_method:billing_details.email=a@b.example",
    );
    expect(run.out).toContain(
      "--currency usd: the CLI pays this event by SEPA Direct Debit, which takes eur only",
    );
  });

  it.each([
    [["charge.captured"], 'Unsupported event "charge.captured"'],
    [[], "Which event?"],
    [["checkout.session.completed", "--items", "0"], "--items must be a whole number from 1 to 150"],
    [["checkout.session.completed", "--concurrent"], "--concurrent needs --duplicate <n>"],
    [
      ["checkout.session.completed", "--currency", "dollars"],
      "--currency must be a three-letter currency code",
    ],
    [["checkout.session.completed", "--bogus"], "Unknown option '--bogus'"],
  ])("exits 2 on wrong usage: %j", async (args, message) => {
    const run = await trigger(args, {});

    expect(run.code).toBe(2);
    expect(run.err).toContain(message);
    expect(run.out).toBe("");
  });

  it.each([
    [["charge.refunded"], "charge.refunded needs --session <cs_...>"],
    [
      ["charge.refunded", "--session", "pi_123"],
      '--session must be a Checkout Session id (cs_test_...), got "pi_123"',
    ],
    [
      ["charge.dispute.closed", "--session", "cs_test_a1"],
      "charge.dispute.closed needs one of --won or --lost",
    ],
    [["charge.dispute.closed", "--session", "cs_test_a1", "--won", "--lost"], "needs one of --won or --lost"],
    [
      ["charge.refunded", "--session", "cs_test_a1", "--won"],
      "--won and --lost only go with charge.dispute.closed",
    ],
    [
      ["charge.dispute.created", "--session", "cs_test_a1", "--amount", "5"],
      "--amount only goes with charge.refunded",
    ],
    [
      ["charge.refunded", "--session", "cs_test_a1", "--amount", "0"],
      "--amount must be a whole number from 1",
    ],
    [
      ["charge.refunded", "--session", "cs_test_a1", "--items", "2"],
      "--items only goes with the checkout.session.* events",
    ],
    [["checkout.session.completed", "--session", "cs_test_a1"], "--session only goes with charge.refunded"],
    [
      ["checkout.session.completed", "--product", "trail-maps", "--currency", "eur"],
      "leave out --items and --currency",
    ],
    [["checkout.session.completed", "--product", "tent"], '--product "tent" is not in'],
  ])(
    "refunds, disputes and --product: exits 2 on wrong usage, before any request: %j",
    async (args, message) => {
      const run = await trigger(args, { LINKSHOP_STRIPE_PORT: String(await freePort()) });

      expect(run.code).toBe(2);
      expect(run.err).toContain(message);
      expect(run.out).toBe("");
    },
  );

  it("names the catalog's products when --product is not one of them", async () => {
    const run = await trigger(["checkout.session.completed", "--product", "tent"], {});
    expect(run.err).toBe(
      `--product "tent" is not in ${join(project, "catalog.json")}. Its products: field-notes, trail-maps, camp-mug, studio-tote`,
    );
  });

  it("prints the Stripe CLI's way to refund a session's payment, and says it cannot open a dispute on one", async () => {
    const real = { STRIPE_SECRET_KEY: "sk_test_real_account" };
    const refund = await trigger(["charge.refunded", "--session", "cs_test_a1", "--amount", "500"], real);
    expect(refund.code).toBe(0);
    expect(refund.out).toContain("stripe checkout sessions retrieve cs_test_a1");
    expect(refund.out).toContain("stripe refunds create -d payment_intent=pi_... -d amount=500");

    const dispute = await trigger(["charge.dispute.created", "--session", "cs_test_a1"], real);
    expect(dispute.code).toBe(0);
    expect(dispute.out).toContain("4000 0000 0000 0259");
    const closed = await trigger(["charge.dispute.closed", "--session", "cs_test_a1", "--lost"], real);
    expect(closed.out).toContain(
      'stripe disputes update dp_... -d "evidence[uncategorized_text]=losing_evidence"',
    );
  });

  it("--help prints the usage and exits 0", async () => {
    const run = await trigger(["--help"], {});
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^Usage: npm run trigger -- <event> \[options\]/);
    expect(run.err).toBe("");
  });

  it("exits 2 on a malformed STRIPE_API_BASE, a configuration problem", async () => {
    const run = await trigger(["checkout.session.completed"], { STRIPE_API_BASE: "localhost:12111" });
    expect(run.code).toBe(2);
    expect(run.err).toBe('STRIPE_API_BASE must be an http(s) URL, got "localhost:12111"');
  });

  it("reads a running npm start's configuration, under the environment's", async () => {
    const stackRoot = join(project, "stack");
    mkdirSync(join(stackRoot, ".linkshop"), { recursive: true });
    await writeStackRecord(join(stackRoot, ".linkshop"), {
      pid: process.pid,
      shopUrl: "http://localhost:9999",
      functionEnv: { STRIPE_SECRET_KEY: "sk_test_from_stack", LINKSHOP_PORT: "9999" },
    });
    const run = async (env: Record<string, string>) => {
      const out: string[] = [];
      const code = await runCommand(triggerCommand(TIMING), {
        argv: ["checkout.session.completed"],
        env,
        io: { out: (line) => out.push(line), err: (line) => out.push(line) },
        cwd: stackRoot,
      });
      return { code, out: out.join("\n") };
    };
    // The stack's real-Stripe key: the Stripe CLI advice, for the stack's port.
    const fromStack = await run({});
    expect(fromStack.code).toBe(0);
    expect(fromStack.out).toContain("--forward-to localhost:9999/api/stripe-webhook");
    // The environment wins: an emulator nobody runs at this port.
    const port = await freePort();
    const fromEnv = await run({ STRIPE_API_BASE: `http://127.0.0.1:${port}` });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.out).toContain(`No Stripe emulator at http://127.0.0.1:${port}`);
  });

  it("lists the supported events when the event is unknown", async () => {
    const run = await trigger(["payment_intent.succeeded"], {});

    expect(run.code).toBe(2);
    for (const event of [
      "checkout.session.completed",
      "checkout.session.async_payment_succeeded",
      "checkout.session.async_payment_failed",
      "checkout.session.expired",
      "charge.refunded",
      "charge.dispute.created",
      "charge.dispute.closed",
    ]) {
      expect(run.err).toContain(`  ${event}`);
    }
  });
});
