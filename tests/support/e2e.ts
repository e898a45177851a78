/** End-to-end support: the whole local stack for one test file, and a customer's moves on the emulated checkout. */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis as IORedis } from "ioredis";
import type { Page, Response } from "playwright-core";
import { onTestFailed } from "vitest";
import type { Outbox, StoredEmail } from "../../dev/outbox.ts";
import { freePort } from "../../dev/ports.ts";
import { type Stack, startStack } from "../../dev/stack.ts";
import type { StripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { orderNumber } from "../../src/order/number.ts";
import { redisBackend } from "./redis.ts";

/** A running stack with its local stand-ins unwrapped, and everything it said (for failure messages). */
export interface E2eShop {
  stack: Stack;
  shopUrl: string;
  stripe: StripeEmulator;
  outbox: Outbox;
  /** Progress and warning lines from the stack and netlify dev's output (function logs included), oldest first. */
  output: string[];
  /** Stops the stack and removes its temporary folder. */
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The emulator's delivery retries and delayed-payment wait (ms), and how many deliveries it sends at once. */
export interface E2eTiming {
  retryDelaysMs: number[];
  asyncPaymentDelayMs: number;
  maxInFlight: number;
}

/**
 * Starts the shop as `npm start` does, with no credentials (so Stripe, Upstash and Resend are all emulated), on free
 * ports, with its built site, Payment Link file and outbox in a temporary folder. netlify dev's output is collected,
 * not printed: its function logs are how tests see each delivery's outcome.
 */
export async function startE2eShop(timing: E2eTiming): Promise<E2eShop> {
  const output: string[] = [];
  const [shop, stripePort, upstash, outboxPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const work = await mkdtemp(join(tmpdir(), "linkshop-e2e-"));
  const prefix = `linkshop-e2e-${randomUUID()}:`;
  let stack: Stack;
  try {
    stack = await startStack({
      root: ROOT,
      ports: { shop, stripe: stripePort, upstash, outbox: outboxPort },
      env: {},
      say: (line) => output.push(line),
      showNetlifyOutput: true,
      // Everything the stack writes goes to a folder of its own, so other stacks (npm start in another test,
      // a developer's) can build their dist/ and Payment Link file at the same time.
      outboxDir: join(work, "outbox"),
      outDir: join(work, "dist"),
      workDir: join(work, "linkshop"),
      redisBackend,
      // Its orders stay out of the ledger a developer's own `npm start` shows (same Redis, other keys).
      functionEnv: { LINKSHOP_REDIS_PREFIX: prefix },
      stripeTiming: timing,
    });
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`The stack did not start: ${message}\n${output.join("\n")}`, { cause: error });
  }
  const { stripe, outbox } = stack.local;
  if (!stripe || !outbox) {
    await stack.stop();
    await rm(work, { recursive: true, force: true });
    throw new Error("Expected the Stripe emulator and the outbox to run (no credentials were given)");
  }
  const stop = async () => {
    await stack.stop();
    await Promise.all([rm(work, { recursive: true, force: true }), deleteKeys(prefix)]);
  };
  return { stack, shopUrl: stack.shopUrl, stripe, outbox, output, stop };
}

/** Where the stack sends merchant notices, and the name of the sample catalog's shop. */
export const MERCHANT = "merchant@shop.localhost";
const SHOP_NAME = "Trailhead Goods";

/**
 * What a paid order sends, as [to, subject] pairs: the receipt to `customer` and the notice to the merchant
 * (test mode), for `total` and `items` as the emails write them ("$36.00", "2 items").
 */
export function receiptAndNotice(
  sessionId: string,
  customer: string,
  total: string,
  items: string,
): [string[], string][] {
  const number = orderNumber(sessionId);
  return [
    [[customer], `Your ${SHOP_NAME} order ${number}: ${total}`],
    [[MERCHANT], `[TEST] New order ${number}: ${total}, ${items}`],
  ];
}

/** The subject of the email a customer gets when a delayed payment fails. */
export const PAYMENT_FAILED_SUBJECT = `Your ${SHOP_NAME} payment did not go through`;

/** Emails as [to, subject] pairs, for comparing with `receiptAndNotice`. */
export const recipientsAndSubjects = (emails: StoredEmail[]): [string[], string][] =>
  emails.map((email) => [email.to, email.subject]);

/** On a failing test, prints the last lines the stack (and `also`, e.g. stripe listen) printed. */
export function printOutputOnFailure(shop: () => E2eShop | undefined, also?: () => string): void {
  onTestFailed(() => {
    if (also) console.error(also());
    console.error(`Last lines of the stack's output:\n${shop()?.output.slice(-60).join("\n")}`);
  });
}

/** Labels of the emulated checkout's payment choices, as a customer reads them. */
export const PAYMENT = {
  card: "Card (succeeds)",
  delayedSuccess: "Delayed payment method — succeeds later",
  delayedFailure: "Delayed payment method — fails later",
} as const;

/** What a customer types on the checkout page. The shipping address is used only when the page asks for one. */
export interface CheckoutDetails {
  email: string;
  payment: (typeof PAYMENT)[keyof typeof PAYMENT];
  shipping?: { name: string; line1: string; city: string; postalCode: string; country: string };
}

const DEFAULT_SHIPPING = {
  name: "Sam Rivera",
  line1: "12 Pine Street",
  city: "Portland",
  postalCode: "97201",
  country: "US",
};

/**
 * Opens the shop and clicks the Buy link of `productName`; resolves on the emulated checkout page with the shop
 * page's response (for its headers).
 */
export async function clickBuy(page: Page, shopUrl: string, productName: string): Promise<Response | null> {
  const response = await page.goto(shopUrl);
  const card = page
    .locator("article.card")
    .filter({ has: page.getByRole("heading", { level: 2, name: productName, exact: true }) });
  await card.getByRole("link", { name: /^Buy/ }).click();
  await page.waitForURL(/\/c\/pay\/cs_test_/);
  return response;
}

/** Fills the checkout form (email, shipping address when asked, payment choice) without paying yet. */
export async function fillCheckout(page: Page, details: CheckoutDetails): Promise<void> {
  await page.getByLabel("Email").fill(details.email);
  if (await page.locator("#shipping-name").isVisible()) {
    const shipping = details.shipping ?? DEFAULT_SHIPPING;
    await page.getByLabel("Recipient name").fill(shipping.name);
    await page.getByLabel("Address line 1").fill(shipping.line1);
    await page.getByLabel("City").fill(shipping.city);
    await page.getByLabel("Postal code").fill(shipping.postalCode);
    await page.getByLabel("Country").selectOption(shipping.country);
  }
  await page.getByLabel(details.payment).check();
}

/**
 * Clicks Pay and waits for the shop's thank-you page; returns the Checkout Session id the page was opened with (read
 * from the request: the page's script takes it out of the address bar once loaded).
 */
export async function pay(page: Page, shopUrl: string): Promise<string> {
  const [thanks] = await Promise.all([
    page.waitForRequest(
      (request) => request.isNavigationRequest() && request.url().startsWith(`${shopUrl}/thanks?`),
    ),
    page.getByRole("button", { name: /^Pay / }).click(),
  ]);
  const sessionId = new URL(thanks.url()).searchParams.get("session_id");
  if (!sessionId?.startsWith("cs_test_")) throw new Error(`No Checkout Session id in ${thanks.url()}`);
  await page.waitForURL((url) => url.href.startsWith(`${shopUrl}/thanks`));
  return sessionId;
}

/**
 * Waits until the thank-you page shows `state` (paid, unpaid, processing, ...); the ceiling is generous for a busy
 * machine, and on reaching it the error says what the page shows instead.
 */
export async function thanksState(page: Page, state: string, timeoutMs = 60_000): Promise<void> {
  try {
    await page.waitForSelector(`#order-status[data-state="${state}"]`, { timeout: timeoutMs });
  } catch (error) {
    const region = page.locator("#order-status");
    const shown = await region.getAttribute("data-state", { timeout: 1_000 }).catch(() => null);
    const text = await region.innerText({ timeout: 1_000 }).catch(() => "");
    throw new Error(
      `The thank-you page did not show "${state}" within ${timeoutMs} ms; it shows "${shown}": ${text}`,
      { cause: error },
    );
  }
}

/** The emails about one Checkout Session (every email the shop sends names the session). */
export function emailsAbout(outbox: Outbox, sessionId: string): StoredEmail[] {
  return outbox.emails().filter((email) => email.text?.includes(sessionId));
}

/** The id of the event of `type` that Stripe recorded for `sessionId`, once it exists. */
export function eventFor(stripe: StripeEmulator, type: string, sessionId: string): string | undefined {
  return stripe
    .events()
    .find(
      (event) => event.type === type && (event.data.object as { id?: unknown } | undefined)?.id === sessionId,
    )?.id;
}

/** One structured log line of the functions: ids, outcomes and statuses (they never log personal data). */
export interface FunctionLog {
  event: string;
  eventId?: string;
  type?: string;
  sessionId?: string;
  outcome?: string;
  reason?: string;
  /** order_status: how the page's check related to fulfilment (`fulfilled_here`, `already_fulfilled`, ...). */
  note?: string;
  status?: number;
}

/** The function log lines about one Checkout Session, oldest first. */
export function functionLogs(shop: E2eShop, sessionId: string): FunctionLog[] {
  const logs: FunctionLog[] = [];
  for (const line of shop.output) {
    if (!line.startsWith("{")) continue;
    try {
      const parsed = JSON.parse(line) as Partial<FunctionLog>;
      if (typeof parsed.event === "string" && parsed.sessionId === sessionId)
        logs.push(parsed as FunctionLog);
    } catch {
      // Not a log line of ours.
    }
  }
  return logs;
}

/** Log lines that record the order being fulfilled (by the webhook or by the thank-you page's status check). */
export function fulfilments(shop: E2eShop, sessionId: string): FunctionLog[] {
  return functionLogs(shop, sessionId).filter(
    (log) =>
      (log.event === "webhook.delivery" && (log.outcome === "queued" || log.outcome === "fulfilled")) ||
      log.note === "fulfilled_here",
  );
}

/** Deletes the Redis keys under `prefix` when the stack's bridge used the real Redis (nothing to do in memory). */
export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new IORedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<
      string[]
    >) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } catch {
    // No Redis: the bridge kept everything in memory, and it is gone with the stack.
  } finally {
    redis.disconnect();
  }
}
