/**
 * The drop drill: a launch day on the local stack. N customers pay for a catalog product through its Payment Link,
 * spread evenly over S seconds, each with an address of their own; then the outbox is watched until every receipt
 * arrived (or the time is up), and the drill reports how long receipts took from payment, which never came, which came
 * twice, and how often the outbox refused a request (its Resend-like limits). `npm run trigger -- drop` and
 * `npm run bench` run it alike.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import * as v from "valibot";
import { createStripeClient } from "../src/adapters/stripe.ts";
import { CliError } from "../src/commands/kit.ts";
import { activeLinkOf, CUSTOMER_NAME, EmulatorRoutes, shippingFor } from "./emulator-routes.ts";

/** The emulator accepts any sk_test_ key. */
const LOCAL_KEY = "sk_test_linkshop_local";
/** How long the drill waits for receipts beyond the drop itself, by default. Milliseconds. */
export const DEFAULT_GRACE_MS = 5 * 60_000;
/** After the last receipt, how long to keep looking for a second copy of any. Milliseconds. */
export const DEFAULT_SETTLE_MS = 5_000;
const POLL_MS = 1_000;
const PROGRESS_MS = 10_000;
const OUTBOX_TIMEOUT_MS = 10_000;

/** How to run a drop. */
export interface DropOptions {
  /** Orders to make. */
  orders: number;
  /** The orders start evenly spread over this many seconds (0: all at once). */
  seconds: number;
  /** The catalog product bought, by its id in catalog.json. */
  product: string;
  /** The Stripe emulator of the running stack. */
  stripeUrl: string;
  /** The stack's outbox (its `/api/emails` and `/api/limits` answer this machine). */
  outboxUrl: string;
  /** Stop waiting for receipts this long after the first order. Default: the drop's length plus 5 minutes. */
  timeoutMs?: number;
  /** After the last receipt, keep looking for duplicates this long. Default 5 s. */
  settleMs?: number;
  /** Names this run's customers (`drop-<runId>-<n>@example.com`); default a fresh random one. */
  runId?: string;
  /** Progress lines. */
  say?: (line: string) => void;
}

/** One order of the drop, as the drill made it. */
export interface DropOrder {
  /** The customer's address, the drill's own for this order. */
  email: string;
  /** When the payment went through, epoch milliseconds; absent when the purchase failed. */
  paidAt?: number;
  /** Why the purchase failed. */
  error?: string;
}

/** An email as the outbox lists it (the parts the drill reads). */
export interface ListedEmail {
  to: string[];
  /** ISO 8601, by the outbox's clock (the same machine's). */
  createdAt: string;
}

/** Receipt latencies in milliseconds, from payment to the outbox accepting the receipt. */
export interface Latency {
  p50: number;
  p95: number;
  max: number;
}

/** What the receipts of a set of orders look like in a list of emails. */
export interface ReceiptTally {
  /** Orders paid. */
  paid: number;
  /** Paid orders whose customer got at least one email. */
  received: number;
  /** Paid orders whose customer got more than one. */
  duplicates: number;
  /** Paid orders whose customer got none. */
  missing: number;
  /** Over the orders received, from their first email; undefined when none was. */
  latency: Latency | undefined;
}

/** The outbox's counts of refused requests, by Resend's error names. */
export interface Refusals {
  rate_limit_exceeded: number;
  daily_quota_exceeded: number;
}

/** What a drop did. */
export interface DropReport extends ReceiptTally {
  runId: string;
  product: string;
  /** Orders tried. */
  orders: number;
  seconds: number;
  /** Purchases that failed, with the first reason given. */
  failedPurchases: number;
  firstFailure: string | undefined;
  /** The outbox's refusals during the drop; undefined when the outbox does not report them. */
  refusals: Refusals | undefined;
  /** The outbox's limits, as it reported them at the start (null: none). */
  limits: { requestsPerSecond: number | null; dailyQuota: number | null } | undefined;
  /** True when the wait ended before every receipt arrived. */
  timedOut: boolean;
  /** Every order paid, and every receipt arrived exactly once. */
  ok: boolean;
}

/**
 * The product a drop buys unless told: the first without stock (a drop must not sell out) and without files, else
 * the first without stock.
 */
export function defaultDropProduct(
  products: readonly { id: string; stock: number | undefined; files: readonly string[] }[],
): string | undefined {
  const unlimited = products.filter((product) => product.stock === undefined);
  return (unlimited.find((product) => product.files.length === 0) ?? unlimited[0])?.id;
}

/** The value at percentile `p` (0-100) of `values`, nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Counts the receipts of `orders` among `emails`: one email to each paid order's customer is expected. */
export function tallyReceipts(orders: readonly DropOrder[], emails: readonly ListedEmail[]): ReceiptTally {
  const byAddress = new Map<string, number[]>();
  for (const email of emails) {
    for (const to of email.to) {
      const address = to.toLowerCase();
      byAddress.set(address, [...(byAddress.get(address) ?? []), Date.parse(email.createdAt)]);
    }
  }
  const tally: ReceiptTally = { paid: 0, received: 0, duplicates: 0, missing: 0, latency: undefined };
  const latencies: number[] = [];
  for (const order of orders) {
    if (order.paidAt === undefined) continue;
    tally.paid++;
    const times = byAddress.get(order.email.toLowerCase()) ?? [];
    if (times.length === 0) {
      tally.missing++;
      continue;
    }
    tally.received++;
    if (times.length > 1) tally.duplicates++;
    latencies.push(Math.max(0, Math.min(...times) - order.paidAt));
  }
  if (latencies.length > 0) {
    tally.latency = {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      max: Math.max(...latencies),
    };
  }
  return tally;
}

/** Milliseconds as a person reads them: "850 ms", "12.3 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The drill's summary, one fact a line. */
export function formatDropReport(report: DropReport): string[] {
  const { latency, refusals, limits } = report;
  const rate = limits?.requestsPerSecond ? `${limits.requestsPerSecond} requests/s` : "no rate limit";
  const quota = limits?.dailyQuota ? `, ${limits.dailyQuota} emails a day` : "";
  const lines = [
    `Drop ${report.runId}: ${report.orders} order${report.orders === 1 ? "" : "s"} of ${report.product} over ${report.seconds} s`,
    `  orders made        ${report.paid} of ${report.orders}${report.failedPurchases > 0 ? `  (${report.failedPurchases} failed: ${report.firstFailure})` : ""}`,
    `  receipts received  ${report.received} of ${report.paid}`,
    `  duplicates         ${report.duplicates}`,
    `  missing            ${report.missing}${report.timedOut ? "  (stopped waiting)" : ""}`,
    latency
      ? `  receipt latency    p50 ${formatDuration(latency.p50)}, p95 ${formatDuration(latency.p95)}, max ${formatDuration(latency.max)}  (payment to outbox)`
      : "  receipt latency    - (no receipt)",
    refusals
      ? `  outbox refusals    ${refusals.rate_limit_exceeded} rate_limit_exceeded, ${refusals.daily_quota_exceeded} daily_quota_exceeded  (limits: ${rate}${quota})`
      : "  outbox refusals    - (this outbox does not report them)",
    report.ok
      ? "Every receipt arrived exactly once."
      : "Not every order got exactly one receipt: see the shop's output (netlify dev) and npm run orders.",
  ];
  return lines;
}

const emailListSchema = v.object({
  data: v.array(v.object({ to: v.array(v.string()), createdAt: v.string() })),
});
const limitsSchema = v.object({
  requestsPerSecond: v.nullable(v.number()),
  dailyQuota: v.nullable(v.number()),
  refusals: v.object({ rate_limit_exceeded: v.number(), daily_quota_exceeded: v.number() }),
});
type OutboxLimits = v.InferOutput<typeof limitsSchema>;

/** The outbox's own list and limits routes. */
class OutboxWatch {
  constructor(readonly url: string) {}

  async #get(path: string): Promise<Response> {
    try {
      return await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(OUTBOX_TIMEOUT_MS) });
    } catch {
      throw new CliError(`No outbox answers at ${this.url}: start the shop with npm start first.`);
    }
  }

  /** The emails created at or after `since`. */
  async emails(since: Date): Promise<ListedEmail[]> {
    const response = await this.#get(`/api/emails?since=${encodeURIComponent(since.toISOString())}`);
    const parsed = v.safeParse(emailListSchema, await response.json().catch(() => undefined));
    if (!response.ok || !parsed.success) {
      throw new CliError(`${this.url} did not list its emails (HTTP ${response.status}): is it the outbox?`);
    }
    return parsed.output.data;
  }

  /** Its limits and refusals so far; undefined when it does not report them. */
  async limits(): Promise<OutboxLimits | undefined> {
    const response = await this.#get("/api/limits");
    const parsed = v.safeParse(limitsSchema, await response.json().catch(() => undefined));
    return response.ok && parsed.success ? parsed.output : undefined;
  }
}

/** Runs the drop against a running stack and reports it (see the module header). */
export async function runDrop(options: DropOptions): Promise<DropReport> {
  const say = options.say ?? (() => {});
  const runId = options.runId ?? randomUUID().slice(0, 8);
  const routes = new EmulatorRoutes(options.stripeUrl);
  const outbox = new OutboxWatch(options.outboxUrl);
  const stripe = createStripeClient(LOCAL_KEY, new URL(options.stripeUrl));
  // Both stand-ins answer before anything is bought.
  await routes.deliveries();
  const before = await outbox.limits();
  const link = await activeLinkOf(options.product, stripe, options.stripeUrl);
  const shipping = shippingFor(link.shipping_address_collection?.allowed_countries);

  const orders: DropOrder[] = Array.from({ length: options.orders }, (_, index) => ({
    email: `drop-${runId}-${index + 1}@example.com`,
  }));
  const spacingMs = options.orders > 0 ? (options.seconds * 1000) / options.orders : 0;
  // A second's margin: the outbox and this process read the same clock, but the outbox's list compares whole ms.
  const since = new Date(Date.now() - 1000);
  const started = performance.now();
  say(
    `Drop ${runId}: ${options.orders} orders of ${options.product} over ${options.seconds} s, customers drop-${runId}-<n>@example.com`,
  );

  const buy = async (order: DropOrder): Promise<void> => {
    try {
      const sessionId = await routes.openLink(link.id);
      await routes.complete(sessionId, {
        email: order.email,
        name: CUSTOMER_NAME,
        payment: "card",
        ...shipping,
      });
      order.paidAt = Date.now();
    } catch (error) {
      order.error = error instanceof Error ? error.message : String(error);
    }
  };
  // Each order starts at its time whatever the ones before are doing, as customers do.
  const purchases: Promise<void>[] = [];
  for (const [index, order] of orders.entries()) {
    const wait = started + index * spacingMs - performance.now();
    if (wait > 0) await delay(wait);
    purchases.push(buy(order));
  }
  await Promise.all(purchases);
  const failed = orders.filter((order) => order.error !== undefined);
  say(`${orders.length - failed.length} of ${orders.length} orders paid; waiting for their receipts...`);

  const timeoutMs = options.timeoutMs ?? options.seconds * 1000 + DEFAULT_GRACE_MS;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  let tally = tallyReceipts(orders, await outbox.emails(since));
  let lastProgress = performance.now();
  let timedOut = false;
  while (tally.missing > 0) {
    if (performance.now() - started >= timeoutMs) {
      timedOut = true;
      break;
    }
    await delay(POLL_MS);
    tally = tallyReceipts(orders, await outbox.emails(since));
    if (performance.now() - lastProgress >= PROGRESS_MS) {
      say(`  ${tally.received} of ${tally.paid} receipts so far`);
      lastProgress = performance.now();
    }
  }
  if (!timedOut && settleMs > 0) {
    // A second copy of a receipt would come soon after the first: one more look after a pause.
    await delay(settleMs);
    tally = tallyReceipts(orders, await outbox.emails(since));
  }
  const after = await outbox.limits();
  const refusals =
    before && after
      ? {
          rate_limit_exceeded: after.refusals.rate_limit_exceeded - before.refusals.rate_limit_exceeded,
          daily_quota_exceeded: after.refusals.daily_quota_exceeded - before.refusals.daily_quota_exceeded,
        }
      : undefined;
  return {
    ...tally,
    runId,
    product: options.product,
    orders: options.orders,
    seconds: options.seconds,
    failedPurchases: failed.length,
    firstFailure: failed[0]?.error,
    refusals,
    limits: before && { requestsPerSecond: before.requestsPerSecond, dailyQuota: before.dailyQuota },
    timedOut,
    ok: failed.length === 0 && tally.missing === 0 && tally.duplicates === 0,
  };
}
