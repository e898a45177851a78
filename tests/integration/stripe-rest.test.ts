/** The order-status function's fetch-based Stripe reader against the local Stripe emulator, over real HTTP. */
import { createServer } from "node:http";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStripeEmulator, type StripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { STRIPE_API_VERSION, stripeRest } from "../../src/adapters/stripe-rest.ts";
import { stripeLineItems } from "../../src/adapters/stripe.ts";
import { PermanentError, UpstreamError } from "../../src/lib/errors.ts";
import { type SessionPayload, toOrder } from "../../src/order/model.ts";
import { listenLocally } from "../support/http.ts";
import {
  type CountingProxy,
  emulatorClient,
  paidSession,
  startCountingProxy,
} from "../support/stripe-emulator.ts";

let emulator: StripeEmulator;
let proxy: CountingProxy;
let stripe: Stripe;
const KEY = "sk_test_stripe_rest";

beforeAll(async () => {
  emulator = await startStripeEmulator();
  proxy = await startCountingProxy(emulator.url);
  stripe = emulatorClient(emulator.url);
});

afterAll(async () => {
  await proxy?.close();
  await emulator?.close();
});

const reader = (options: { timeoutMs?: number; base?: string } = {}) =>
  stripeRest({ secretKey: KEY, apiBase: new URL(options.base ?? proxy.url), timeoutMs: options.timeoutMs });

const lines = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ name: `Print no. ${i + 1}`, unitAmount: 1000 + i }));

describe("stripeRest", () => {
  it("pins the API version of the Stripe SDK the rest of the shop uses", () => {
    expect(STRIPE_API_VERSION).toBe(Stripe.API_VERSION);
  });

  it("reads a session with its line items, products expanded, in one call", async () => {
    const sessionId = await paidSession(stripe, emulator.url, lines(3));
    proxy.requests.length = 0;
    const read = await reader().readSession(sessionId);
    expect(proxy.requests).toEqual([`GET /v1/checkout/sessions/${sessionId}`]);
    expect(read?.session).toMatchObject({ id: sessionId, status: "complete", payment_status: "paid" });
    expect(read?.session).not.toHaveProperty("line_items");
    // The same order as the SDK's session and line items make (the SDK parses decimals; the order reads none).
    const sdk = emulatorClient(emulator.url);
    const listed = await stripeLineItems(sdk).listLineItems(sessionId);
    const retrieved = (await stripe.checkout.sessions.retrieve(sessionId)) as SessionPayload;
    expect(read && toOrder(read.session, read.lineItems)).toEqual(toOrder(retrieved, listed));
    expect(
      read?.lineItems.map((item) => typeof item.price?.product === "object" && item.price.product?.name),
    ).toEqual(["Print no. 1", "Print no. 2", "Print no. 3"]);
  });

  it("follows the line items' pages beyond the first ten, 100 at a time", async () => {
    const sessionId = await paidSession(stripe, emulator.url, lines(25));
    proxy.requests.length = 0;
    const read = await reader().readSession(sessionId);
    expect(read?.lineItems.map((item) => item.description)).toEqual(lines(25).map((line) => line.name));
    expect(proxy.requests).toEqual([
      `GET /v1/checkout/sessions/${sessionId}`,
      `GET /v1/checkout/sessions/${sessionId}/line_items`,
    ]);
  });

  it("answers undefined for an id Stripe does not know", async () => {
    expect(await reader().readSession("cs_test_unknown0000000000")).toBeUndefined();
    expect(await reader().sessions.retrieve("cs_test_unknown0000000000")).toBeUndefined();
    await expect(reader().lineItems.listLineItems("cs_test_unknown0000000000")).rejects.toMatchObject({
      name: "PermanentError",
      reason: "unknown_session",
    });
  });

  it("maps 5xx and 429 to UpstreamError, another 4xx to PermanentError, with the status only", async () => {
    const sessionId = await paidSession(stripe, emulator.url);
    for (const status of [500, 429]) {
      emulator.failNext("/v1/checkout/sessions", status);
      const error = await reader()
        .readSession(sessionId)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ reason: `stripe:${status}` });
    }
    proxy.refuseNext = "GET /v1/checkout/sessions";
    const refused = await reader()
      .readSession(sessionId)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermanentError);
    expect(refused).toMatchObject({ reason: "stripe:400" });
    // As a SessionSource (the fulfilment port), every failure is one a retry may fix.
    proxy.refuseNext = "GET /v1/checkout/sessions";
    await expect(reader().sessions.retrieve(sessionId)).rejects.toBeInstanceOf(UpstreamError);
  });

  it("gives up on a Stripe that does not answer, as a network failure", async () => {
    const silent = createServer(() => {});
    const server = await listenLocally(silent);
    try {
      const error = await reader({ base: server.url, timeoutMs: 50 })
        .readSession("cs_test_a1b2c3d4e5f6")
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ reason: "stripe:timeout" });
    } finally {
      await server.close();
    }
  });

  it("writes Stripe's copy of fulfilled into the session's metadata, keeping the rest", async () => {
    const sessionId = await paidSession(stripe, emulator.url);
    const at = new Date("2026-03-02T09:00:00Z");
    await reader().sessions.markFulfilled(sessionId, at);
    const session = await stripe.checkout.sessions.retrieve(sessionId);
    expect(session.metadata).toMatchObject({
      linkshop_id: "mug",
      linkshop_fulfilled_at: at.toISOString(),
      linkshop_order: expect.any(String),
    });
  });

  it("lists complete sessions newest first and finds one by its PaymentIntent", async () => {
    const since = Math.floor(Date.now() / 1000) - 60;
    const sessionId = await paidSession(stripe, emulator.url);
    const page = await reader().sessions.listComplete(since, undefined);
    expect(page.sessions[0]?.id).toBe(sessionId);
    const intent = page.sessions[0]?.payment_intent;
    expect(typeof intent).toBe("string");
    expect((await reader().sessions.findByPaymentIntent(String(intent)))?.id).toBe(sessionId);
  });
});
