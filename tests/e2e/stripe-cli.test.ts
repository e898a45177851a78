/**
 * The workflow of every Stripe guide, offline: the shop under `netlify dev`, `stripe listen` forwarding to its
 * webhook and `stripe trigger` for each Checkout event, with the exact commands `npm start` prints.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type E2eShop,
  emailsAbout,
  functionLogs,
  MERCHANT,
  PAYMENT_FAILED_SUBJECT,
  printOutputOnFailure,
  receiptAndNotice,
  recipientsAndSubjects,
  startE2eShop,
} from "../support/e2e.ts";
import {
  type CliEnv,
  cliEnv,
  findStripeCli,
  type Listener,
  runCli,
  startListen,
} from "../support/stripe-cli.ts";

/** Who the CLI's recipes pay as (their PaymentMethod's billing email). */
const CUSTOMER = "stripe@example.com";
/** Generous ceiling for a delivery through netlify dev on a loaded machine; polling ends as soon as it is there. */
const DELIVERY_CEILING_MS = 60_000;

const cli = findStripeCli();
if (!cli) {
  if (process.env.CI) {
    it("needs the Stripe CLI in CI", () => {
      throw new Error("The Stripe CLI is missing: run `npm install --no-save @stripe/cli` after `npm ci`.");
    });
  } else {
    console.warn(
      "Skipping the Stripe CLI end-to-end tests: install it with `npm install --no-save @stripe/cli`.",
    );
  }
}

describe.skipIf(!cli)("stripe listen + stripe trigger against npm start's stack", () => {
  let shop: E2eShop;
  let home: CliEnv;
  let listen: Listener;
  const stripeCli = cli as string;

  beforeAll(async () => {
    shop = await startE2eShop({ retryDelaysMs: [500, 1000, 2000], asyncPaymentDelayMs: 500, maxInFlight: 4 });
    home = await cliEnv();
    const { stripe } = shop.stack.services;
    if (stripe.mode !== "emulated") throw new Error("expected the Stripe emulator");
    listen = startListen(stripeCli, stripe.cli.listen.slice(1), home.env);
    await listen.waitFor(/Ready!/);
  });

  afterAll(async () => {
    const code = await listen?.stop();
    await shop?.stop();
    await home?.remove();
    expect(code).toBe(0);
  });

  beforeEach(() =>
    printOutputOnFailure(
      () => shop,
      () => `stripe listen printed:\n${listen?.output()}`,
    ),
  );

  /** Runs the printed trigger command; returns the id of the session its last event is about. */
  async function trigger(event: string): Promise<string> {
    const { stripe } = shop.stack.services;
    if (stripe.mode !== "emulated") throw new Error("expected the Stripe emulator");
    const before = shop.stripe.events().length;
    const result = await runCli(stripeCli, stripe.cli.trigger(event), home.env);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    const session = shop.stripe
      .events()
      .slice(before)
      .map((recorded) => recorded.data.object as { object?: string; id?: string })
      .find((object) => object.object === "checkout.session");
    if (!session?.id) throw new Error(`no Checkout Session event after stripe trigger ${event}`);
    return session.id;
  }

  /** Waits until listen printed `[200]` for the event of `type` about `sessionId`, and returns that event's id. */
  async function answered(type: string, sessionId: string): Promise<string> {
    let id: string | undefined;
    await expect
      .poll(
        () => {
          id = shop.stripe
            .events()
            .find(
              (event) => event.type === type && (event.data.object as { id?: string }).id === sessionId,
            )?.id;
          return (
            id !== undefined && new RegExp(`<--\\s+\\[200\\] POST \\S+ \\[${id}\\]`).test(listen.output())
          );
        },
        { timeout: DELIVERY_CEILING_MS, interval: 100 },
      )
      .toBe(true);
    return id as string;
  }

  /**
   * Every delivery of an event, whoever made it: exactly one, the CLI's, answered 200. The CLI prints its line
   * just before it reports the answer to the emulator, hence the poll.
   */
  async function deliveredOnce(eventId: string): Promise<void> {
    await expect
      .poll(() => shop.stripe.deliveries().filter((delivery) => delivery.eventId === eventId), {
        timeout: DELIVERY_CEILING_MS,
      })
      .toEqual([
        expect.objectContaining({ status: 200, attempt: 1, url: `${shop.shopUrl}/api/stripe-webhook` }),
      ]);
  }

  const subjects = (sessionId: string) => recipientsAndSubjects(emailsAbout(shop.outbox, sessionId));
  /** Waits for the receipt and the notice of a paid session, and checks that they are all it sent. */
  async function receiptAndNoticeOnly(sessionId: string, total: string): Promise<void> {
    await expect.poll(() => subjects(sessionId).length, { timeout: DELIVERY_CEILING_MS }).toBe(2);
    expect(subjects(sessionId)).toEqual(
      expect.arrayContaining(receiptAndNotice(sessionId, CUSTOMER, total, "2 items")),
    );
  }

  it("checkout.session.completed: a receipt to the customer and a notice to the merchant", async () => {
    const sessionId = await trigger("checkout.session.completed");
    await deliveredOnce(await answered("checkout.session.completed", sessionId));
    await receiptAndNoticeOnly(sessionId, "$30.00");
  });

  it("checkout.session.async_payment_succeeded: nothing while unpaid, then the receipt and the notice", async () => {
    const sessionId = await trigger("checkout.session.async_payment_succeeded");
    const completed = await answered("checkout.session.completed", sessionId);
    await deliveredOnce(completed);
    await expect
      .poll(() => functionLogs(shop, sessionId).find((log) => log.eventId === completed)?.reason, {
        timeout: DELIVERY_CEILING_MS,
      })
      .toBe("awaiting_payment");
    await deliveredOnce(await answered("checkout.session.async_payment_succeeded", sessionId));
    await receiptAndNoticeOnly(sessionId, "€30.00");
  });

  it("checkout.session.async_payment_failed: one 'did not go through' email to the customer", async () => {
    const sessionId = await trigger("checkout.session.async_payment_failed");
    await deliveredOnce(await answered("checkout.session.completed", sessionId));
    await deliveredOnce(await answered("checkout.session.async_payment_failed", sessionId));
    await expect.poll(() => subjects(sessionId).length, { timeout: DELIVERY_CEILING_MS }).toBe(1);
    expect(subjects(sessionId)).toEqual([[[CUSTOMER], PAYMENT_FAILED_SUBJECT]]);
  });

  it("checkout.session.expired: acknowledged, and no email", async () => {
    const sessionId = await trigger("checkout.session.expired");
    await deliveredOnce(await answered("checkout.session.expired", sessionId));
    expect(subjects(sessionId)).toEqual([]);
  });

  it("the outbox holds exactly those emails, none twice, and no event went out twice", async () => {
    await shop.stripe.idle();
    const checkoutEvents = shop.stripe.events().filter((event) => event.type.startsWith("checkout.session."));
    expect(checkoutEvents).toHaveLength(6);
    for (const event of checkoutEvents) {
      expect(shop.stripe.deliveries().filter((delivery) => delivery.eventId === event.id)).toHaveLength(1);
    }
    const all = shop.outbox.emails().map((email) => [email.to, email.subject]);
    expect(all).toHaveLength(5);
    expect(all).toEqual(
      expect.arrayContaining([
        [[CUSTOMER], expect.stringMatching(/^Your Trailhead Goods order [2-9A-Z]{4}-[2-9A-Z]{4}: \$30\.00$/)],
        [
          [MERCHANT],
          expect.stringMatching(/^\[TEST\] New order [2-9A-Z]{4}-[2-9A-Z]{4}: \$30\.00, 2 items$/),
        ],
        [[CUSTOMER], expect.stringMatching(/^Your Trailhead Goods order [2-9A-Z]{4}-[2-9A-Z]{4}: €30\.00$/)],
        [[MERCHANT], expect.stringMatching(/^\[TEST\] New order [2-9A-Z]{4}-[2-9A-Z]{4}: €30\.00, 2 items$/)],
        [[CUSTOMER], PAYMENT_FAILED_SUBJECT],
      ]),
    );
  });
});
