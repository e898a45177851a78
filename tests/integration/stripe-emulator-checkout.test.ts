// The emulator's hosted checkout and webhook delivery: pay a payment link, receive signed events, retries.
import type Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { type StripeEmulator, startStripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { rawRequest } from "../support/http.ts";
import {
  emulatorClient,
  inTurn,
  openSession,
  productWithPrice,
  type Receiver,
  startReceiver,
} from "../support/stripe-emulator.ts";

const SECRET = "whsec_emulator_checkout_tests";

const running: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** `server`, closed after the test. */
function afterTest<T extends { close(): Promise<void> }>(server: T): T {
  running.push(server);
  return server;
}

/** An emulator (closed after the test) and an SDK client for it. */
async function emulatorWith(options: Parameters<typeof startStripeEmulator>[0]) {
  const emulator = afterTest(await startStripeEmulator(options));
  return { emulator, stripe: emulatorClient(emulator.url) };
}

/** An emulator delivering every event to a receiver, signed with SECRET, retrying at once. */
async function setup(asyncPaymentDelayMs = 1) {
  const receiver = afterTest(await startReceiver());
  const started = await emulatorWith({
    webhook: { url: receiver.url, secret: SECRET },
    retryDelaysMs: [1, 1, 1],
    asyncPaymentDelayMs,
  });
  return { ...started, receiver };
}

/** The deliveries of `type`, each verified over its raw body with `secret` as the shop's webhook does. */
const verified = (receiver: Receiver, type: string, secret = SECRET) => receiver.verified(type, secret);

/** As `setup`, with a session paid by card whose checkout.session.completed was delivered: that event. */
async function paidAndDelivered() {
  const started = await setup();
  const session = await openSession(started.stripe);
  started.emulator.completeSession(session.id, { email: "dup@example.com", payment: "card" });
  await started.emulator.idle();
  const [completed] = await verified(started.receiver, "checkout.session.completed");
  if (!completed) throw new Error("checkout.session.completed was not delivered");
  return { ...started, completed };
}

/** A fetch of the hosted page that does not follow redirects, so tests can see each 303. */
async function get(url: string): Promise<Response> {
  return fetch(url, { redirect: "manual" });
}

async function post(url: string, form: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
}

/** The checkout form as a customer pays by card with an email; `fields` add or change the rest. */
const payForm = (fields: Record<string, string>) => ({
  email: "a@example.com",
  payment: "card",
  intent: "pay",
  ...fields,
});

/** Opens a payment link like a browser: GET /pay/:id -> 303 -> the session's page. */
async function openLink(emulator: StripeEmulator, link: Stripe.PaymentLink) {
  const opened = await get(link.url);
  expect(opened.status).toBe(303);
  const location = new URL(opened.headers.get("location") ?? "", emulator.url);
  const sessionId = location.pathname.split("/").pop() ?? "";
  const page = await get(location.href);
  return { sessionId, pageUrl: location.href, page, html: await page.text() };
}

describe("hosted checkout from a payment link", () => {
  it("shows the items and total, pays by card, delivers a signed checkout.session.completed and redirects", async () => {
    const { emulator, receiver, stripe } = await setup();
    const { price } = await productWithPrice(stripe, { name: "Linen <tote> & co", unitAmount: 1500 });
    const link = await stripe.paymentLinks.create({
      line_items: [{ price: price.id, quantity: 2 }],
      after_completion: {
        type: "redirect",
        redirect: { url: "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}" },
      },
      shipping_address_collection: { allowed_countries: ["GB", "IE"] },
      metadata: { campaign: "spring" },
    });

    const { sessionId, pageUrl, page, html } = await openLink(emulator, link);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(sessionId).toMatch(/^cs_test_/);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain("<main");
    expect(html).toContain("Linen &lt;tote&gt; &amp; co");
    expect(html).not.toContain("<tote>");
    expect(html).toContain("$30.00");
    expect(html).toMatch(
      /<label for="email">Email<\/label>\s*<input id="email" name="email" type="email"[^>]* required/,
    );
    expect(html).toContain('<option value="IE">Ireland</option>');
    expect(html).toContain("Card (succeeds)");
    expect(html).toContain("Delayed payment method — succeeds later");
    expect(html).toContain("Delayed payment method — fails later");

    const paid = await post(pageUrl, {
      email: "jo@example.com",
      name: "Jo Buyer",
      shipping_name: "Jo Buyer",
      shipping_line1: "1 High Street",
      shipping_city: "Dublin",
      shipping_postal_code: "D02 XY45",
      shipping_country: "IE",
      payment: "card",
      intent: "pay",
    });
    expect(paid.status).toBe(303);
    expect(paid.headers.get("location")).toBe(`https://shop.example/thanks?session=${sessionId}`);

    await emulator.idle();
    const [completed, ...more] = await verified(receiver, "checkout.session.completed");
    expect(more).toHaveLength(0);
    const request = receiver.received.find((candidate) =>
      candidate.body.includes("checkout.session.completed"),
    );
    expect(request?.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(request?.headers["user-agent"]).toBe("Stripe/1.0 (+https://stripe.com/docs/webhooks)");
    expect(request?.headers["stripe-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const session = completed?.data.object as Stripe.Checkout.Session;
    expect(session).toMatchObject({
      id: sessionId,
      status: "complete",
      payment_status: "paid",
      amount_total: 3000,
      currency: "usd",
      payment_link: link.id,
      metadata: { campaign: "spring" },
      customer_details: { email: "jo@example.com", name: "Jo Buyer" },
      collected_information: {
        shipping_details: {
          name: "Jo Buyer",
          address: { line1: "1 High Street", city: "Dublin", postal_code: "D02 XY45", country: "IE" },
        },
      },
      url: null,
    });
    expect(completed?.request).toEqual({ id: null, idempotency_key: null });

    const retrieved = await stripe.checkout.sessions.retrieve(sessionId);
    expect(retrieved.status).toBe("complete");
    expect(retrieved.payment_intent).toMatch(/^pi_/);
    const listed = await stripe.checkout.sessions.list({ payment_link: link.id });
    expect(listed.data.map((candidate) => candidate.id)).toEqual([sessionId]);
    expect(
      emulator.deliveries().filter((delivery) => delivery.type === "checkout.session.completed"),
    ).toEqual([expect.objectContaining({ eventId: completed?.id, attempt: 1, status: 200 })]);
  });

  it("re-shows the form with accessible errors when required fields are missing", async () => {
    const { emulator, receiver, stripe } = await setup();
    const { price } = await productWithPrice(stripe);
    const link = await stripe.paymentLinks.create({
      line_items: [{ price: price.id, quantity: 1 }],
      shipping_address_collection: { allowed_countries: ["US"] },
    });
    const { sessionId, pageUrl } = await openLink(emulator, link);
    const response = await post(pageUrl, { email: "not-an-email", payment: "card", intent: "pay" });
    expect(response.status).toBe(422);
    const html = await response.text();
    expect(html).toContain('role="alert"');
    expect(html).toMatch(/id="email"[^>]*aria-invalid="true" aria-describedby="email-error"/);
    expect(html).toContain('value="not-an-email"');
    expect(html).toContain('href="#shipping-line1"');
    await emulator.idle();
    expect(await verified(receiver, "checkout.session.completed")).toHaveLength(0);
    expect((await stripe.checkout.sessions.retrieve(sessionId)).status).toBe("open");
  });

  it("formats zero-decimal currencies and lets adjustable quantities update the total without JavaScript", async () => {
    const { emulator, stripe } = await setup();
    const { price } = await productWithPrice(stripe, { name: "Tenugui", unitAmount: 1200, currency: "jpy" });
    const link = await stripe.paymentLinks.create({
      line_items: [{ price: price.id, quantity: 1, adjustable_quantity: { enabled: true, maximum: 3 } }],
    });
    const { sessionId, pageUrl, html } = await openLink(emulator, link);
    expect(html).toContain("¥1,200");
    expect(html).toContain('<label class="visually-hidden" for="quantity-');

    const quantityField = /name="(quantity_li_[A-Za-z0-9]+)"/.exec(html)?.[1] ?? "";
    const updated = await post(pageUrl, { [quantityField]: "3", intent: "update" });
    expect(updated.status).toBe(200);
    expect(await updated.text()).toContain("Pay ¥3,600");

    const tooMany = await post(pageUrl, payForm({ [quantityField]: "4" }));
    expect(tooMany.status).toBe(422);

    const paid = await post(pageUrl, payForm({ [quantityField]: "2" }));
    expect(paid.status).toBe(303);
    // No success URL on a hosted-confirmation link: the emulator's own confirmation page.
    expect(paid.headers.get("location")).toBe(`${emulator.url}/c/pay/${sessionId}`);
    const confirmation = await (await get(`${emulator.url}/c/pay/${sessionId}`)).text();
    expect(confirmation).toContain("Your payment was received.");
    const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ["line_items"] });
    expect(session.amount_total).toBe(2400);
    expect(session.line_items?.data[0]?.quantity).toBe(2);
  });

  it("an inactive link shows its message instead of a checkout", async () => {
    const { stripe } = await setup();
    const { price } = await productWithPrice(stripe);
    const link = await stripe.paymentLinks.create({ line_items: [{ price: price.id, quantity: 1 }] });
    await stripe.paymentLinks.update(link.id, { active: false, inactive_message: "Sold out <for now>" });
    const response = await get(link.url);
    expect(response.status).toBe(410);
    expect(await response.text()).toContain("Sold out &lt;for now&gt;");
  });
});

describe("a payment link with a completed-checkouts limit", () => {
  it("counts completed checkouts, stops at the limit and shows its message, and refuses pages opened before", async () => {
    const { emulator, receiver, stripe } = await setup();
    const { price } = await productWithPrice(stripe);
    const link = await stripe.paymentLinks.create({
      line_items: [{ price: price.id, quantity: 1 }],
      restrictions: { completed_sessions: { limit: 2 } },
      inactive_message: "Sold out <for good>",
    });
    expect(link.restrictions).toEqual({ completed_sessions: { count: 0, limit: 2 } });
    const first = await openLink(emulator, link);
    const second = await openLink(emulator, link);
    const late = await openLink(emulator, link); // opened while units were left
    expect((await post(first.pageUrl, payForm({}))).status).toBe(303);
    expect((await stripe.paymentLinks.retrieve(link.id)).restrictions?.completed_sessions.count).toBe(1);
    expect((await post(second.pageUrl, payForm({}))).status).toBe(303);
    const sold = await stripe.paymentLinks.retrieve(link.id);
    expect([sold.active, sold.restrictions?.completed_sessions]).toEqual([false, { count: 2, limit: 2 }]);

    // The link, and the page opened before the last sale, show the message; that page cannot pay any more.
    const closed = await get(link.url);
    expect(closed.status).toBe(410);
    expect(await closed.text()).toContain("Sold out &lt;for good&gt;");
    expect((await get(late.pageUrl)).status).toBe(410);
    const refused = await post(late.pageUrl, payForm({}));
    expect(refused.status).toBe(410);
    expect(await refused.text()).toContain("Sold out &lt;for good&gt;");
    expect(() =>
      emulator.completeSession(late.sessionId, { email: "x@example.com", payment: "card" }),
    ).toThrow("This payment link is no longer active.");
    await emulator.idle();
    expect(await verified(receiver, "checkout.session.completed")).toHaveLength(2);
    const updated = await verified(receiver, "payment_link.updated");
    expect(updated.map((event) => (event.data.object as Stripe.PaymentLink).active)).toEqual([false]);
  });

  it("raises, removes and validates the limit as Stripe's update does, keeping the link's count", async () => {
    const { emulator, stripe } = await setup();
    const { price } = await productWithPrice(stripe);
    const link = await stripe.paymentLinks.create({
      line_items: [{ price: price.id, quantity: 1 }],
      restrictions: { completed_sessions: { limit: 1 } },
    });
    const { pageUrl } = await openLink(emulator, link);
    expect((await post(pageUrl, payForm({}))).status).toBe(303);
    const raised = await stripe.paymentLinks.update(link.id, {
      active: true,
      restrictions: { completed_sessions: { limit: 3 } },
      inactive_message: "Back soon",
    });
    expect([raised.active, raised.restrictions, raised.inactive_message]).toEqual([
      true,
      { completed_sessions: { count: 1, limit: 3 } },
      "Back soon",
    ]);
    const cleared = await stripe.paymentLinks.update(link.id, { restrictions: "", inactive_message: "" });
    expect([cleared.restrictions, cleared.inactive_message]).toEqual([null, null]);
    // Set again, the limit counts the checkouts the link completed all along.
    const again = await stripe.paymentLinks.update(link.id, {
      restrictions: { completed_sessions: { limit: 5 } },
    });
    expect(again.restrictions).toEqual({ completed_sessions: { count: 1, limit: 5 } });
    await expect(
      stripe.paymentLinks.update(link.id, { restrictions: { completed_sessions: { limit: 0 } } }),
    ).rejects.toMatchObject({ param: "restrictions[completed_sessions][limit]" });
  });
});

describe("webhook delivery", () => {
  it("retries a failing endpoint: 500, 500, then 200 is three attempts and one success", async () => {
    const { emulator, stripe } = await setup();
    const flaky = afterTest(await startReceiver({ answer: inTurn(500, 500) }));
    const endpoint = await stripe.webhookEndpoints.create({
      url: flaky.url,
      enabled_events: ["checkout.session.completed"],
    });
    const session = await openSession(stripe);
    emulator.completeSession(session.id, { email: "retry@example.com", payment: "card" });
    await emulator.idle();

    const attempts = emulator.deliveries().filter((delivery) => delivery.url === flaky.url);
    expect(attempts.map((delivery) => [delivery.type, delivery.attempt, delivery.status])).toEqual([
      ["checkout.session.completed", 1, 500],
      ["checkout.session.completed", 2, 500],
      ["checkout.session.completed", 3, 200],
    ]);
    expect(attempts.filter((delivery) => delivery.error === undefined)).toHaveLength(1);
    const events = await verified(flaky, "checkout.session.completed", endpoint.secret);
    expect(events).toHaveLength(3);
    expect(new Set(events.map((event) => event.id)).size).toBe(1);
    // Delivered to both the configured webhook and the endpoint, so nothing is pending any more.
    expect((await stripe.events.retrieve(events[0]?.id ?? "")).pending_webhooks).toBe(0);
  });

  it("gives up after the retry schedule and logs unreachable endpoints with status null", async () => {
    const receiver = await startReceiver();
    const deadUrl = receiver.url;
    await receiver.close();
    const { emulator, stripe } = await emulatorWith({
      webhook: { url: deadUrl, secret: SECRET },
      retryDelaysMs: [1, 1],
    });
    await stripe.products.create({ name: "Nobody listens" });
    await emulator.idle();
    const attempts = emulator.deliveries();
    expect(attempts.map((delivery) => delivery.attempt)).toEqual([1, 2, 3]);
    expect(attempts.every((delivery) => delivery.status === null && typeof delivery.error === "string")).toBe(
      true,
    );
  });

  it("forwards only the listed event types to the configured webhook, like stripe listen --events", async () => {
    const receiver = afterTest(await startReceiver());
    const { emulator, stripe } = await emulatorWith({
      webhook: { url: receiver.url, secret: SECRET, events: ["checkout.session.completed"] },
    });
    const session = await openSession(stripe);
    emulator.completeSession(session.id, { email: "listen@example.com", payment: "card" });
    await emulator.idle();
    const types = receiver.received.map((request) => (JSON.parse(request.body) as { type: string }).type);
    expect(types).toEqual(["checkout.session.completed"]);
    // The payment's own events were recorded, and held back by the filter.
    expect(emulator.events().map((event) => event.type)).toEqual(
      expect.arrayContaining(["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]),
    );
  });

  it("delivers only the event types an API-created endpoint enabled, signed with its own secret", async () => {
    const { emulator, stripe } = await setup();
    const endpointReceiver = afterTest(await startReceiver());
    const endpoint = await stripe.webhookEndpoints.create({
      url: endpointReceiver.url,
      enabled_events: ["checkout.session.expired"],
    });
    const session = await openSession(stripe);
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired).toMatchObject({ status: "expired", url: null });
    await expect(stripe.checkout.sessions.expire(session.id)).rejects.toMatchObject({ statusCode: 400 });
    await emulator.idle();
    const events = await verified(endpointReceiver, "checkout.session.expired", endpoint.secret);
    expect(events).toHaveLength(1);
    expect(endpointReceiver.received).toHaveLength(1);
    expect(events[0]?.request).toMatchObject({ id: expect.stringMatching(/^req_/) });
  });

  it("delayed_success completes unpaid, then sends async_payment_succeeded and the session becomes paid", async () => {
    const { emulator, receiver, stripe } = await setup();
    const session = await openSession(stripe);
    const result = emulator.completeSession(session.id, {
      email: "later@example.com",
      payment: "delayed_success",
    });
    expect(result.session).toMatchObject({ status: "complete", payment_status: "unpaid" });
    await emulator.idle();

    const [completed] = await verified(receiver, "checkout.session.completed");
    const [succeeded] = await verified(receiver, "checkout.session.async_payment_succeeded");
    expect(completed?.data.object).toMatchObject({ payment_status: "unpaid" });
    expect(succeeded?.data.object).toMatchObject({ payment_status: "paid" });
    expect(await verified(receiver, "checkout.session.async_payment_failed")).toHaveLength(0);
    expect((await stripe.checkout.sessions.retrieve(session.id)).payment_status).toBe("paid");
  });

  it("delayed_failure (via the HTTP helper) sends async_payment_failed and the session stays unpaid", async () => {
    const { emulator, receiver, stripe } = await setup();
    const session = await openSession(stripe, {
      params: { success_url: "https://shop.example/done/{CHECKOUT_SESSION_ID}" },
    });
    const response = await fetch(`${emulator.url}/_emulator/checkout/sessions/${session.id}/complete`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "fails@example.com", payment: "delayed_failure" }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ redirect_url: `https://shop.example/done/${session.id}` });
    await emulator.idle();

    expect(await verified(receiver, "checkout.session.async_payment_failed")).toHaveLength(1);
    expect(await verified(receiver, "checkout.session.async_payment_succeeded")).toHaveLength(0);
    expect((await stripe.checkout.sessions.retrieve(session.id)).payment_status).toBe("unpaid");
    const again = await fetch(`${emulator.url}/_emulator/checkout/sessions/${session.id}/complete`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "fails@example.com", payment: "card" }),
    });
    expect(again.status).toBe(400);
  });

  it("resends an event on request, concurrently, with the same id for duplicate-delivery drills", async () => {
    const { emulator, receiver, completed: original } = await paidAndDelivered();

    const response = await fetch(`${emulator.url}/_emulator/events/${original.id}/resend`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ times: 3, concurrent: true }),
    });
    expect(response.status).toBe(200);
    const { deliveries } = (await response.json()) as { deliveries: { eventId: string; status: number }[] };
    expect(deliveries).toHaveLength(3);
    const all = await verified(receiver, "checkout.session.completed");
    expect(all.map((event) => event.id)).toEqual(Array(4).fill(original.id));

    const log = await fetch(`${emulator.url}/_emulator/deliveries`);
    const { data } = (await log.json()) as { data: unknown[] };
    expect(data.length).toBe(emulator.deliveries().length);
    const page = await fetch(`${emulator.url}/_emulator/deliveries`, { headers: { accept: "text/html" } });
    expect(await page.text()).toContain(original.id);
  });

  it("sends at most maxInFlight deliveries to one endpoint at a time and queues the rest, in order", async () => {
    // An endpoint that holds every request until the test lets it answer.
    const held: ((status: number) => void)[] = [];
    const endpoint = afterTest(
      await startReceiver({ answer: () => new Promise((answer) => held.push(answer)) }),
    );
    const { emulator, stripe } = await emulatorWith({
      webhook: { url: endpoint.url, secret: SECRET, events: ["checkout.session.completed"] },
      maxInFlight: 3,
    });
    const session = await openSession(stripe);
    emulator.completeSession(session.id, { email: "queue@example.com", payment: "card" });
    // The completed event is the one delivery so far; ten concurrent redeliveries join it.
    await expect.poll(() => held.length, { timeout: 60_000 }).toBe(1);
    const eventId = emulator.events().find((event) => event.type === "checkout.session.completed")?.id ?? "";
    const redelivered = emulator.resend(eventId, { times: 10, concurrent: true });

    // Three requests reach the endpoint; the other eight wait in the emulator.
    await expect
      .poll(() => ({ ...emulator.deliveryQueue(), atEndpoint: held.length }), { timeout: 60_000 })
      .toEqual({ inFlight: 3, queued: 8, peakInFlight: 3, atEndpoint: 3 });

    // Each answer frees a slot for the next waiting attempt, until all eleven were answered.
    let answered = 0;
    while (answered < 11) {
      await expect.poll(() => held.length > answered, { timeout: 60_000 }).toBe(true);
      held[answered]?.(200);
      answered += 1;
    }
    await redelivered;
    const attempts = emulator.deliveries().filter((delivery) => delivery.eventId === eventId);
    expect(attempts.map((delivery) => [delivery.attempt, delivery.status])).toEqual(Array(11).fill([1, 200]));
    expect(emulator.deliveryQueue()).toEqual({ inFlight: 0, queued: 0, peakInFlight: 3 });
  });
});

describe("the hosted page charges what it showed", () => {
  async function adjustableLink(stripe: Stripe) {
    const { price } = await productWithPrice(stripe, { name: "Trail mug", unitAmount: 1600 });
    return stripe.paymentLinks.create({
      line_items: [{ price: price.id, quantity: 1, adjustable_quantity: { enabled: true, maximum: 5 } }],
    });
  }

  it("refuses a Pay whose quantities no longer match the total shown, and shows the new total to confirm", async () => {
    const { emulator, stripe } = await setup();
    const link = await adjustableLink(stripe);
    const { sessionId, pageUrl, html } = await openLink(emulator, link);
    expect(html).toContain('name="expected_amount" value="1600"');
    const quantityField = /name="(quantity_li_[A-Za-z0-9]+)"/.exec(html)?.[1] ?? "";

    // Quantity 3 typed, the page (without script) still showing $16.00 when Pay is pressed.
    const stale = await post(pageUrl, payForm({ [quantityField]: "3", expected_amount: "1600" }));
    expect(stale.status).toBe(409);
    const shown = await stale.text();
    expect(shown).toContain("The total is now $48.00. Check your order, then press Pay again.");
    expect(shown).toContain("Pay $48.00");
    expect(shown).toContain('name="expected_amount" value="4800"');
    expect(shown).toContain('value="a@example.com"');
    expect((await stripe.checkout.sessions.retrieve(sessionId)).status).toBe("open");
    expect(emulator.events().filter((event) => event.type === "checkout.session.completed")).toEqual([]);

    const confirmed = await post(pageUrl, payForm({ [quantityField]: "3", expected_amount: "4800" }));
    expect(confirmed.status).toBe(303);
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    expect(session).toMatchObject({ status: "complete", amount_total: 4800 });
  });

  it("carries the script that keeps the total, the Pay button and expected_amount in step with the quantities", async () => {
    const { emulator, stripe } = await setup();
    const { html } = await openLink(emulator, await adjustableLink(stripe));
    expect(html).toMatch(/<table id="order-lines" data-currency="usd" data-exponent="2">/);
    expect(html).toMatch(/<tr data-unit="1600" data-quantity="1">/);
    expect(html).toContain('<button class="primary" id="pay"');
    expect(html).toContain('table.addEventListener("input", update)');
  });

  it("fills the email field from ?prefilled_email= and keeps ?client_reference_id= on the session", async () => {
    const { emulator, stripe } = await setup();
    const { price } = await productWithPrice(stripe);
    const link = await stripe.paymentLinks.create({ line_items: [{ price: price.id, quantity: 1 }] });
    const url = new URL(link.url);
    url.searchParams.set("prefilled_email", "ana@example.com");
    url.searchParams.set("client_reference_id", "spring_news");
    const { sessionId, html } = await openLink(emulator, { ...link, url: url.href });
    expect(html).toMatch(/<input id="email" name="email" type="email" value="ana@example.com"/);
    expect(html).not.toContain("<script>");
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    expect(session.client_reference_id).toBe("spring_news");

    const bad = new URL(link.url);
    bad.searchParams.set("prefilled_email", "not an email");
    bad.searchParams.set("client_reference_id", "has spaces");
    const opened = await openLink(emulator, { ...link, url: bad.href });
    expect(opened.html).toMatch(/<input id="email" name="email" type="email" value=""/);
    expect((await stripe.checkout.sessions.retrieve(opened.sessionId)).client_reference_id).toBeNull();
  });
});

describe("the emulator's own routes and its checkout form answer this machine only", () => {
  const complete = (sessionId: string) => `/_emulator/checkout/sessions/${sessionId}/complete`;
  const checkoutPage = (sessionId: string) => `/c/pay/${sessionId}`;
  const json = { "content-type": "application/json" };
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const textPlain = { "content-type": "text/plain" };
  const fromAnotherSite = { origin: "https://evil.example" };
  const reboundHost = { host: "evil.example:80" };
  const asJson = JSON.stringify({ email: "mallory@example.com", payment: "card" });
  const asForm = "email=mallory%40example.com&payment=card&intent=pay";

  it.each([
    ["a text/plain body (a no-cors fetch)", complete, textPlain, asJson, 415],
    ["a form body", complete, form, asForm, 415],
    ["JSON from another site's page", complete, { ...json, ...fromAnotherSite }, asJson, 403],
    ["JSON under another Host (DNS rebinding)", complete, { ...json, ...reboundHost }, asJson, 403],
    ["the checkout form from another site", checkoutPage, { ...form, ...fromAnotherSite }, asForm, 403],
    ["the checkout form from an opaque origin", checkoutPage, { ...form, origin: "null" }, asForm, 403],
    ["the checkout form under another Host", checkoutPage, { ...form, ...reboundHost }, asForm, 403],
  ])("refuses %s with %i, and the session stays open", async (_, path, headers, body, status) => {
    const { emulator, stripe } = await setup();
    const session = await openSession(stripe);
    const response = await rawRequest(`${emulator.url}${path(session.id)}`, {
      method: "POST",
      headers,
      body,
    });
    expect(response.status).toBe(status);
    expect(JSON.parse(response.body)).toEqual({
      error: { type: "invalid_request_error", message: expect.any(String) },
    });
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");
    expect(emulator.events().filter((event) => event.type.startsWith("checkout.session."))).toEqual([]);
  });

  it("refuses to inject failures or resend events for a request from elsewhere, and nothing changes", async () => {
    const { emulator, stripe, completed } = await paidAndDelivered();
    const deliveries = emulator.deliveries().length;

    const failure = JSON.stringify({ path: "/v1/products", status: 503 });
    const resend = `/_emulator/events/${completed.id}/resend`;
    const post = (path: string, headers: Record<string, string>, body: string) =>
      rawRequest(`${emulator.url}${path}`, { method: "POST", headers, body });
    const refused = [
      await post("/_emulator/fail", textPlain, failure),
      await post("/_emulator/fail", { ...json, ...reboundHost }, failure),
      await post(resend, textPlain, "{}"),
      await post(resend, { ...json, ...fromAnotherSite }, "{}"),
      await rawRequest(`${emulator.url}/_emulator/deliveries`, { headers: reboundHost }),
    ];
    expect(refused.map((response) => response.status)).toEqual([415, 403, 415, 403, 403]);
    // No failure was injected, and no event went out again.
    await expect(stripe.products.list({ limit: 1 })).resolves.toMatchObject({ object: "list" });
    await emulator.idle();
    expect(emulator.deliveries()).toHaveLength(deliveries);
  });

  it("still takes JSON from this machine under any of its names, and the page's own form post", async () => {
    const { emulator, stripe } = await setup();
    const { port } = new URL(emulator.url);
    const [viaLocalhost, viaIpv6Name, viaPage] = [
      await openSession(stripe),
      await openSession(stripe),
      await openSession(stripe),
    ];
    const paidAs = (host: string, sessionId: string) =>
      rawRequest(`${emulator.url}${complete(sessionId)}`, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8", host },
        body: asJson,
      });
    expect((await paidAs(`localhost:${port}`, viaLocalhost.id)).status).toBe(200);
    expect((await paidAs(`[::1]:${port}`, viaIpv6Name.id)).status).toBe(200);
    const posted = await rawRequest(`${emulator.url}${checkoutPage(viaPage.id)}`, {
      method: "POST",
      headers: { ...form, origin: emulator.url },
      body: asForm,
    });
    expect(posted.status).toBe(303);
    for (const session of [viaLocalhost, viaIpv6Name, viaPage]) {
      expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe("complete");
    }
  });
});
