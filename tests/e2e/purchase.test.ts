/**
 * A customer's whole purchase in headless Chromium: the shop under `netlify dev`, the emulated Stripe checkout, the
 * webhook, Redis claims and the email outbox, with delayed payments, duplicate storms and an email outage.
 */
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launchBrowser, runAxe, screenshot, skipBrowserTests } from "../support/browser.ts";
import {
  clickBuy,
  type E2eShop,
  emailsAbout,
  eventFor,
  fillCheckout,
  fulfilments,
  functionLogs,
  MERCHANT,
  PAYMENT,
  PAYMENT_FAILED_SUBJECT,
  pay,
  printOutputOnFailure,
  receiptAndNotice,
  recipientsAndSubjects,
  startE2eShop,
  thanksState,
} from "../support/e2e.ts";
import { orderNumber } from "../../src/order/number.ts";
/** Redeliveries of one event sent to netlify dev at the same moment in the storm test. */
const STORM = 20;

let shop: E2eShop;
let browser: Browser;

describe.skipIf(skipBrowserTests)("a purchase end to end (Chromium, netlify dev, emulated services)", () => {
  beforeAll(async () => {
    [shop, browser] = await Promise.all([
      startE2eShop({
        // Patient retries: on a loaded machine an attempt can outlast netlify dev's own 30 s limit.
        retryDelaysMs: [250, 500, 1000, 2000, 4000, 8000, 16000],
        // Delayed payments settle at once unless a test holds them (holdDelayedPayments) to look at the wait.
        asyncPaymentDelayMs: 0,
        // Room for the whole storm at once: it must reach netlify dev truly concurrently.
        maxInFlight: STORM + 5,
      }),
      launchBrowser(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
  });

  // The function logs hold ids, outcomes and statuses only; their tail says what the server side was doing.
  beforeEach(() => printOutputOnFailure(() => shop));

  /** A fresh browser context whose console errors (CSP violations included) are collected. */
  async function open(options: BrowserContextOptions = {}) {
    const context = await browser.newContext(options);
    // Ceilings for a busy machine: every step is usually well under a second, and a stuck one still reports in time.
    context.setDefaultTimeout(60_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("console", (message) => {
      // The emulator's pages have no icon, so Chromium's own /favicon.ico request there is an expected 404.
      if (message.type() !== "error" || message.location().url.endsWith("/favicon.ico")) return;
      errors.push(`${message.text()} (${message.location().url})`);
    });
    return { page, errors, close: () => context.close() };
  }

  const statusRegion = (page: Page) => page.locator("#order-status");

  /** Delivery attempts of one event, as status codes in order (null: not reachable). */
  const statusesOf = (eventId: string) =>
    shop.stripe
      .deliveries()
      .filter((delivery) => delivery.eventId === eventId)
      .map((delivery) => delivery.status);

  /**
   * Waits until the function log holds a line for every webhook delivery about `sessionId` that got an answer, so
   * counting outcomes in it is final (log lines travel through netlify dev's output, a little after the response).
   */
  async function logsSettled(sessionId: string): Promise<void> {
    const events = new Set(
      shop.stripe
        .events()
        .filter((event) => (event.data.object as { id?: unknown }).id === sessionId)
        .map((event) => event.id),
    );
    const answered = shop.stripe
      .deliveries()
      .filter((delivery) => events.has(delivery.eventId) && delivery.status !== null).length;
    await expect
      .poll(() => functionLogs(shop, sessionId).filter((log) => log.event === "webhook.delivery").length, {
        timeout: 60_000,
      })
      .toBeGreaterThanOrEqual(answered);
  }

  it("card: pays on the hosted page, confirms on /thanks, and sends one receipt and one merchant notice", async () => {
    // axe is injected as an inline script, which the site's CSP would block.
    const { page, errors, close } = await open({ bypassCSP: true });
    await page.goto(shop.shopUrl);
    await screenshot(page, "e2e-card-1-shop");

    await clickBuy(page, shop.shopUrl, "Field Notes & Pencil Set");
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Checkout");
    await expect(runAxe(page)).resolves.toEqual([]);
    await page.getByLabel("Quantity of Field Notes & Pencil Set").fill("2");
    await page.getByRole("button", { name: "Update total" }).click();
    await expect(page.locator("#total").textContent()).resolves.toBe("$36.00");
    await screenshot(page, "e2e-card-2-checkout");

    await fillCheckout(page, { email: "sam.rivera@example.com", payment: PAYMENT.card });
    await screenshot(page, "e2e-card-3-checkout-filled");
    const sessionId = await pay(page, shop.shopUrl);

    await thanksState(page, "paid");
    const region = statusRegion(page);
    await expect(region.getByRole("heading", { level: 1 }).textContent()).resolves.toBe(
      "Thank you, your order is confirmed",
    );
    await expect(region.locator("li").allInnerTexts()).resolves.toEqual(["2 × Field Notes & Pencil Set"]);
    await expect(region.textContent()).resolves.toContain("Total: $36.00");
    await expect(region.locator(".order-number").textContent()).resolves.toBe(
      `Order number: ${orderNumber(sessionId)}`,
    );
    await expect(region.textContent()).resolves.toContain("A receipt is on its way to s***@example.com.");
    await screenshot(page, "e2e-card-4-thanks-paid");
    await expect(runAxe(page)).resolves.toEqual([]);

    // Whatever got there first (the webhook or the page's status check), nothing more is on its way.
    await shop.stripe.idle();
    const emails = emailsAbout(shop.outbox, sessionId);
    expect(recipientsAndSubjects(emails)).toEqual(
      expect.arrayContaining(receiptAndNotice(sessionId, "sam.rivera@example.com", "$36.00", "2 items")),
    );
    expect(emails).toHaveLength(2);
    const receipt = emails.find((email) => email.to.includes("sam.rivera@example.com"));
    expect(receipt?.text).toContain("2 × Field Notes & Pencil Set @ $18.00 = $36.00");
    expect(receipt?.text).toContain("12 Pine Street");

    const completed = eventFor(shop.stripe, "checkout.session.completed", sessionId);
    expect(completed).toBeDefined();
    expect(statusesOf(completed ?? "").at(-1)).toBe(200);
    // Exactly one of the webhook and the page's status check did the work; the other saw it done (or busy).
    await logsSettled(sessionId);
    expect(fulfilments(shop, sessionId)).toHaveLength(1);
    expect(errors).toEqual([]);
    await close();
  });

  it("delayed payment that succeeds: /thanks explains the wait, and the receipt comes only with the success event", async () => {
    // The payment stays pending until the test has seen the wait from every side.
    const settle = shop.stripe.holdDelayedPayments();
    // The first email request of this test is held for a moment to record which events existed when it was sent.
    let typesAtFirstSend: string[] | undefined;
    const firstSend = shop.outbox.holdNext();
    let sessionId = "";
    void firstSend.arrived.then(() => {
      typesAtFirstSend = shop.stripe
        .events()
        .filter((event) => (event.data.object as { id?: unknown }).id === sessionId)
        .map((event) => event.type);
      firstSend.release();
    });

    const { page, errors, close } = await open();
    try {
      const shopPage = await clickBuy(page, shop.shopUrl, "Printable Trail Maps");
      // The site's own policy is in force here, so a script it blocked would show up in `errors`.
      expect(shopPage?.headers()["content-security-policy"]).toContain("script-src 'self'");
      await fillCheckout(page, { email: "dana.lee@example.com", payment: PAYMENT.delayedSuccess });
      await screenshot(page, "e2e-delayed-1-checkout");
      sessionId = await pay(page, shop.shopUrl);

      await thanksState(page, "unpaid");
      const region = statusRegion(page);
      await expect(region.getByRole("heading", { level: 1 }).textContent()).resolves.toBe(
        "Your payment is pending",
      );
      await expect(region.textContent()).resolves.toContain(
        "We'll email your receipt as soon as the payment goes through.",
      );
      await screenshot(page, "e2e-delayed-2-thanks-pending");

      // The completed (unpaid) event was acknowledged without sending anything, and the payment is still pending.
      const completed = eventFor(shop.stripe, "checkout.session.completed", sessionId) ?? "";
      await expect.poll(() => statusesOf(completed), { timeout: 60_000 }).toEqual([200]);
      expect(eventFor(shop.stripe, "checkout.session.async_payment_succeeded", sessionId)).toBeUndefined();
      expect(emailsAbout(shop.outbox, sessionId)).toEqual([]);

      settle();
      await shop.stripe.idle();
      const succeeded = eventFor(shop.stripe, "checkout.session.async_payment_succeeded", sessionId);
      expect(statusesOf(succeeded ?? "")).toEqual([200]);
      // The emails leave right after the webhook's answer, from the mail queue.
      await expect.poll(() => emailsAbout(shop.outbox, sessionId).length, { timeout: 60_000 }).toBe(2);
      expect(typesAtFirstSend).toContain("checkout.session.async_payment_succeeded");
      const emails = emailsAbout(shop.outbox, sessionId);
      expect(recipientsAndSubjects(emails)).toEqual(
        expect.arrayContaining(receiptAndNotice(sessionId, "dana.lee@example.com", "$9.00", "1 item")),
      );
      expect(emails).toHaveLength(2);
      expect(errors).toEqual([]);
    } finally {
      settle();
      firstSend.release();
      await close();
    }
  });

  it("delayed payment that fails: one 'did not go through' email to the customer, no receipt, no merchant notice", async () => {
    const settle = shop.stripe.holdDelayedPayments();
    const { page, errors, close } = await open();
    try {
      await clickBuy(page, shop.shopUrl, "Enamel Camp Mug");
      await fillCheckout(page, { email: "alex.kim@example.com", payment: PAYMENT.delayedFailure });
      const sessionId = await pay(page, shop.shopUrl);
      await thanksState(page, "unpaid");
      await screenshot(page, "e2e-failed-1-thanks-pending");

      settle();
      await shop.stripe.idle();
      const failed = eventFor(shop.stripe, "checkout.session.async_payment_failed", sessionId);
      expect(statusesOf(failed ?? "")).toEqual([200]);
      await expect.poll(() => emailsAbout(shop.outbox, sessionId).length, { timeout: 60_000 }).toBe(1);
      const emails = emailsAbout(shop.outbox, sessionId);
      expect(recipientsAndSubjects(emails)).toEqual([[["alex.kim@example.com"], PAYMENT_FAILED_SUBJECT]]);
      expect(emails[0]?.text).toContain("you have not been charged");
      expect(errors).toEqual([]);
    } finally {
      settle();
      await close();
    }
  });

  it(`duplicate storm: ${STORM} concurrent redeliveries of checkout.session.completed still make one receipt`, async ({
    annotate,
  }) => {
    const { page, errors, close } = await open();
    await clickBuy(page, shop.shopUrl, "Canvas Studio Tote");
    await fillCheckout(page, { email: "robin.cho@example.com", payment: PAYMENT.card });
    const sessionId = await pay(page, shop.shopUrl);
    const completed = eventFor(shop.stripe, "checkout.session.completed", sessionId);
    expect(completed).toBeDefined();
    const eventId = completed ?? "";

    // Fired while the first delivery and the page's own status check may still be at work; the emulator's limit
    // leaves room for all of them at once, so netlify dev gets them truly concurrently.
    expect(shop.stripe.maxInFlight).toBeGreaterThan(STORM);
    await shop.stripe.resend(eventId, { times: STORM, concurrent: true });
    await shop.stripe.idle();
    expect(shop.stripe.deliveryQueue().peakInFlight).toBeGreaterThanOrEqual(STORM);

    await logsSettled(sessionId);
    const statuses = statusesOf(eventId);
    const outcomes: Record<string, number> = {};
    for (const log of functionLogs(shop, sessionId)) {
      if (log.event !== "webhook.delivery" || log.eventId !== eventId) continue;
      const key = `${log.status} ${log.outcome}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    const retried = statuses.filter((status) => status !== 200).length;
    await annotate(
      `${statuses.length} attempts (${retried} answered non-2xx or not at all, then retried); answers by status and outcome: ${JSON.stringify(outcomes)}`,
    );

    // A delivery stops at its first 2xx: the first delivery plus every redelivery got one in the end. On a busy
    // machine an attempt may be cut off by netlify dev's own 30 s limit; Stripe retries it.
    expect(statuses.filter((status) => status === 200)).toHaveLength(STORM + 1);
    // Our function never answered anything else: one delivery queued the order, every other one saw it queued.
    expect(Object.keys(outcomes).filter((key) => !/^200 (queued|duplicate)$/.test(key))).toEqual([]);
    // The ledger's compare-and-set, not only the email provider's idempotency key, kept it to one.
    expect(fulfilments(shop, sessionId)).toHaveLength(1);

    await expect.poll(() => emailsAbout(shop.outbox, sessionId).length, { timeout: 60_000 }).toBe(2);
    const emails = emailsAbout(shop.outbox, sessionId);
    expect(emails.map((email) => email.to)).toEqual(
      expect.arrayContaining([["robin.cho@example.com"], [MERCHANT]]),
    );
    expect(emails).toHaveLength(2);

    // Once everything settled, the customer's page shows the order paid.
    await page.reload();
    await thanksState(page, "paid");
    expect(errors).toEqual([]);
    await close();
  });

  it("email outage during checkout: Stripe is answered at once, and the mail queue retries until one receipt goes out", async () => {
    // Resend refuses the first two batch requests; the drain tries again 2 s, then 5 s later.
    shop.outbox.failNext(2, 503);
    const logsBefore = shop.output.length;
    const { page, errors, close } = await open();
    try {
      await clickBuy(page, shop.shopUrl, "Printable Trail Maps");
      await fillCheckout(page, { email: "jo.park@example.com", payment: PAYMENT.card });
      const sessionId = await pay(page, shop.shopUrl);
      await shop.stripe.idle();

      const completed = eventFor(shop.stripe, "checkout.session.completed", sessionId) ?? "";
      // No order waits for Stripe's retry schedule: the first delivery is answered once the order is queued.
      expect(statusesOf(completed)).toEqual([200]);
      await expect.poll(() => emailsAbout(shop.outbox, sessionId).length, { timeout: 60_000 }).toBe(2);
      expect(recipientsAndSubjects(emailsAbout(shop.outbox, sessionId))).toEqual(
        expect.arrayContaining(receiptAndNotice(sessionId, "jo.park@example.com", "$9.00", "1 item")),
      );
      await logsSettled(sessionId);
      // The drain's own log: two refused requests, then the same batch accepted. The drain logs "sent" once
      // Resend's answer is back, a moment after the outbox has the emails; an earlier test's batch may log late too.
      const refusedBatch = () => {
        const batches = shop.output
          .slice(logsBefore)
          .filter((line) => line.startsWith('{"event":"mail.batch"'))
          .map((line) => JSON.parse(line) as { batchId: string; outcome: string });
        const refused = new Set(
          batches.filter((batch) => batch.outcome === "failed").map((batch) => batch.batchId),
        );
        return {
          refused: refused.size,
          outcomes: batches.filter((batch) => refused.has(batch.batchId)).map((b) => b.outcome),
        };
      };
      await expect
        .poll(refusedBatch, { timeout: 30_000 })
        .toEqual({ refused: 1, outcomes: ["failed", "failed", "sent"] });

      await thanksState(page, "paid");
      await screenshot(page, "e2e-outage-1-thanks-paid");
      expect(emailsAbout(shop.outbox, sessionId)).toHaveLength(2);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
