/**
 * `npm run trigger -- <event>`: a local `stripe trigger` for the events the webhook handles, run on the emulator: the
 * Checkout events for a new session (or a catalog product bought through its Payment Link), and refunds and disputes
 * of an existing session's payment.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { isLiveKey } from "../src/lib/stripe-keys.ts";
import Stripe from "stripe";
import { createStripeClient } from "../src/adapters/stripe.ts";
import {
  type CommandContext,
  CliError,
  defineCommand,
  type Env,
  EXIT,
  type Io,
  siteUrlFrom,
  UsageError,
} from "../src/commands/kit.ts";
import { HANDLED_EVENTS } from "../src/order/events.ts";
import { formatMoney, isKnownCurrency } from "../src/lib/money.ts";
import { loadCatalog } from "../src/shop/catalog.ts";
import {
  activeLinkOf,
  CUSTOMER_NAME,
  type Delivery,
  EmulatorRoutes,
  noEmulator,
  SHIPPING_ADDRESS,
  shippingFor,
} from "./emulator-routes.ts";
import { DEFAULT_SETTLE_MS, defaultDropProduct, formatDropReport, runDrop } from "./drop.ts";

/** How each Checkout event is produced on the emulator; `payment` is the hosted page's choice, null expires. */
const EVENTS = {
  "checkout.session.completed": { payment: "card" },
  "checkout.session.async_payment_succeeded": { payment: "delayed_success" },
  "checkout.session.async_payment_failed": { payment: "delayed_failure" },
  "checkout.session.expired": { payment: null },
} as const;

/** Events about the payment of an existing session (`--session`). */
const PAYMENT_EVENTS = ["charge.refunded", "charge.dispute.created", "charge.dispute.closed"] as const;

type CheckoutEvent = keyof typeof EVENTS;
type PaymentEvent = (typeof PAYMENT_EVENTS)[number];
type SupportedEvent = CheckoutEvent | PaymentEvent;
const SUPPORTED: SupportedEvent[] = [...(Object.keys(EVENTS) as CheckoutEvent[]), ...PAYMENT_EVENTS];
const isPaymentEvent = (event: SupportedEvent): event is PaymentEvent =>
  (PAYMENT_EVENTS as readonly string[]).includes(event);

// What the Stripe CLI's fixtures create (tests/fixtures/stripe/cli-triggers): one price of 1500 minor units, quantity 2.
/** Unit price in minor units of any currency: $15.00, €15.00, ¥1,500, KWD 1.500 (Stripe's exponents). */
const UNIT_AMOUNT = 1500;
const QUANTITY = 2;
const DEFAULT_EMAIL = "stripe@example.com";
const MAX_ITEMS = 150;
/** Real Stripe's cap on a Checkout Session's line items; the emulator allows more so pagination can be exercised. */
const STRIPE_MAX_LINE_ITEMS = 100;
const MAX_DUPLICATES = 500;
/** The largest --amount, minor units (Stripe's own ceiling for a charge: 99,999,999). */
const MAX_AMOUNT = 99_999_999;
const SESSION_ID = /^cs_(test|live)_[A-Za-z0-9]{1,250}$/;
/** The emulator accepts any sk_test_ key. */
const LOCAL_KEY = "sk_test_linkshop_local";
const DEFAULT_STRIPE_PORT = 12111;
const DEFAULT_SHOP_PORT = 8888;
const DEFAULT_OUTBOX_PORT = 8025;
/** The drop drill's defaults: the issue's launch day, 200 orders in two minutes. */
const DEFAULT_DROP = { orders: 200, seconds: 120 };
const MAX_DROP_ORDERS = 1000;
const MAX_DROP_SECONDS = 3600;

/** Products and prices created at once (each create also emits an event the emulator delivers). */
const CREATE_BATCH = 10;

const USAGE = `Usage: npm run trigger -- <event> [options]
       npm run trigger -- drop [--orders <n>] [--seconds <s>] [--product <id>]

Makes the local Stripe emulator (started by npm start) send the shop's webhook a signed event, as
\`stripe trigger <event>\` does on real Stripe, then waits until the webhook has accepted the event. For a Checkout
event it creates a product and a price, a Checkout Session for 2 of each, and pays it (or lets it expire); with
--product it buys a product of catalog.json through its Payment Link instead, a real order of the shop. A refund or
a dispute is about the payment of an existing session (--session).

Events:
  checkout.session.completed                 paid by card
  checkout.session.async_payment_succeeded   delayed payment method that succeeds (after the emulator's delay, ~5 s)
  checkout.session.async_payment_failed      delayed payment method that fails (same delay)
  checkout.session.expired                   an unpaid session expired
  charge.refunded                            refunds the session's payment (all of what is left, or --amount)
  charge.dispute.created                     the customer disputes the session's payment as fraudulent
  charge.dispute.closed                      the open dispute of the session's payment is decided: --won or --lost

Options for the Checkout events:
  --product <id>       buy this product of catalog.json through its Payment Link (its price, currency and files)
  --currency <code>    price currency (default usd). Every unit price is ${UNIT_AMOUNT} minor units, as in the Stripe
                       CLI's fixture: ${formatMoney(UNIT_AMOUNT, "usd")}, ${formatMoney(UNIT_AMOUNT, "eur")}, ${formatMoney(UNIT_AMOUNT, "jpy")} (zero-decimal), ${formatMoney(UNIT_AMOUNT, "kwd")} (three-decimal)
  --items <n>          distinct line items, 1-${MAX_ITEMS} (default 1), each quantity ${QUANTITY}; over 10 needs pagination
  --email <addr>       customer email (default ${DEFAULT_EMAIL})

Options for refunds and disputes:
  --session <cs_...>   the paid Checkout Session (the emulator's page lists them; so does npm run orders)
  --amount <n>         charge.refunded: refund this much, in minor units (default: all that is left)
  --won, --lost        charge.dispute.closed: how the dispute ends

Options for every event:
  --duplicate <n>      then redeliver the same event n more times, one after another
  --concurrent         with --duplicate: send all redeliveries at once
  --stripe-url <url>   the emulator (default STRIPE_API_BASE, else http://127.0.0.1:<LINKSHOP_STRIPE_PORT or ${DEFAULT_STRIPE_PORT}>)
  -h, --help           show this help

With STRIPE_SECRET_KEY set and no STRIPE_API_BASE (the shop uses real Stripe), nothing is sent: the command
prints the Stripe CLI commands to use instead.

The drop drill (a launch day against npm start's emulator and outbox):
  drop                 makes --orders paid orders spread evenly over --seconds, each by a customer of its own
                       (drop-<run>-<n>@example.com) through a catalog product's Payment Link, then watches the
                       outbox until every receipt arrived (or the drop's length plus 5 minutes passed) and prints
                       orders made, receipts, duplicates, missing, receipt latency from payment (p50, p95, max) and
                       the outbox's refusals (429s). Exit 0 when every receipt arrived exactly once, 1 otherwise.
  --orders <n>         orders to make, 1-${MAX_DROP_ORDERS} (default ${DEFAULT_DROP.orders})
  --seconds <s>        spread them over this many seconds, 0-${MAX_DROP_SECONDS} (default ${DEFAULT_DROP.seconds})
  --product <id>       the catalog product bought (default: the first one without stock or files)
  --stripe-url <url>   as above; the outbox is RESEND_BASE_URL (npm start's), else 127.0.0.1:<LINKSHOP_OUTBOX_PORT or ${DEFAULT_OUTBOX_PORT}>`;

/** Waits of the command, in milliseconds; tests shorten them. */
export interface TriggerTiming {
  /** Drop drill: after the last receipt, how long to keep looking for a second copy of any. */
  dropSettleMs: number;
  /** Drop drill: stop waiting for receipts this long after the first order (default: its length plus 5 minutes). */
  dropTimeoutMs?: number;
  /** How long the event may take to appear (async results come after the emulator's delay, 5 s by default). */
  eventTimeoutMs: number;
  /** How long the webhook may take to accept the event, retries included. */
  deliveryTimeoutMs: number;
  /** Pause between two looks at the emulator. */
  pollIntervalMs: number;
}

const DEFAULT_TIMING: TriggerTiming = {
  dropSettleMs: DEFAULT_SETTLE_MS,
  eventTimeoutMs: 30_000,
  // A slow first answer (a busy laptop) is waited for: the emulator itself gives one attempt 45 s.
  deliveryTimeoutMs: 120_000,
  pollIntervalMs: 100,
};

interface TriggerOptions {
  event: SupportedEvent;
  /** Lowercase ISO code, as Stripe writes it. */
  currency: string;
  items: number;
  email: string;
  /** A catalog product id to buy through its Payment Link (Checkout events). */
  product: string | undefined;
  /** The session whose payment a refund or dispute is about (payment events). */
  session: string | undefined;
  /** charge.refunded: minor units to refund; undefined refunds all that is left. */
  amount: number | undefined;
  /** charge.dispute.closed: how the dispute ends. */
  outcome: "won" | "lost" | undefined;
  duplicate: number;
  concurrent: boolean;
  stripeUrl: string | undefined;
  /** Which options were given, for the Stripe CLI equivalent. */
  given: { currency: boolean; email: boolean };
}

const OPTIONS = {
  currency: { type: "string" },
  items: { type: "string" },
  email: { type: "string" },
  product: { type: "string" },
  session: { type: "string" },
  amount: { type: "string" },
  won: { type: "boolean", default: false },
  lost: { type: "boolean", default: false },
  duplicate: { type: "string" },
  concurrent: { type: "boolean", default: false },
  "stripe-url": { type: "string" },
  orders: { type: "string" },
  seconds: { type: "string" },
} as const;

function wholeNumber(raw: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** An http(s) URL's origin; `source` names the flag or variable (exit 2 when it is not one). */
const httpOrigin = (raw: string, source: string): string => new URL(siteUrlFrom(raw, source)).origin;

/** Refuses (exit 2) an option given to an event it does not apply to. */
function onlyFor(given: boolean, applies: boolean, flags: string, events: string): void {
  if (given && !applies)
    throw new UsageError(`${flags} only go${flags.includes(" and ") ? "" : "es"} with ${events}`);
}

/** The command line as TriggerOptions; throws UsageError (exit 2) for wrong usage. */
function toOptions({
  values,
  positionals,
}: Pick<CommandContext<typeof OPTIONS>, "values" | "positionals">): TriggerOptions {
  const [event, ...extra] = positionals;
  if (event === undefined) throw new UsageError(`Which event? One of: ${SUPPORTED.join(", ")}`);
  if (extra.length > 0) throw new UsageError(`One event at a time, got: ${positionals.join(" ")}`);
  if (!(SUPPORTED as string[]).includes(event)) {
    throw new CliError(
      `Unsupported event "${event}". Supported events:\n${SUPPORTED.map((name) => `  ${name}`).join("\n")}\n\nRun npm run trigger -- --help for the options.`,
      EXIT.usage,
    );
  }
  const supported = event as SupportedEvent;
  const payment = isPaymentEvent(supported);
  onlyFor(
    values.orders !== undefined || values.seconds !== undefined,
    false,
    "--orders and --seconds",
    "drop",
  );
  const checkoutOnly = "the checkout.session.* events";
  onlyFor(values.product !== undefined, !payment, "--product", checkoutOnly);
  onlyFor(values.items !== undefined, !payment, "--items", checkoutOnly);
  onlyFor(values.currency !== undefined, !payment, "--currency", checkoutOnly);
  onlyFor(values.email !== undefined, !payment, "--email", checkoutOnly);
  onlyFor(
    values.session !== undefined,
    payment,
    "--session",
    "charge.refunded, charge.dispute.created and charge.dispute.closed",
  );
  onlyFor(values.amount !== undefined, supported === "charge.refunded", "--amount", "charge.refunded");
  onlyFor(
    values.won || values.lost,
    supported === "charge.dispute.closed",
    "--won and --lost",
    "charge.dispute.closed",
  );
  if (values.product !== undefined && (values.items !== undefined || values.currency !== undefined)) {
    throw new UsageError(
      "--product buys one catalog product through its Payment Link, whose price sets the currency: leave out --items and --currency",
    );
  }
  const session = values.session?.trim();
  if (payment && session === undefined) {
    throw new UsageError(
      `${event} needs --session <cs_...>: the paid Checkout Session whose payment it is about`,
    );
  }
  if (session !== undefined && !SESSION_ID.test(session)) {
    throw new UsageError(`--session must be a Checkout Session id (cs_test_...), got "${values.session}"`);
  }
  if (supported === "charge.dispute.closed" && values.won === values.lost) {
    throw new UsageError("charge.dispute.closed needs one of --won or --lost");
  }
  const currency = (values.currency ?? "usd").trim().toLowerCase();
  if (!/^[a-z]{3}$/.test(currency) || !isKnownCurrency(currency)) {
    throw new UsageError(
      `--currency must be a three-letter currency code such as usd, eur or jpy, got "${values.currency}"`,
    );
  }
  const email = (values.email ?? DEFAULT_EMAIL).trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw new UsageError(`--email must be an email address, got "${values.email}"`);
  }
  const duplicate = wholeNumber(values.duplicate, "--duplicate", 1, MAX_DUPLICATES) ?? 0;
  if (values.concurrent && duplicate === 0) throw new UsageError("--concurrent needs --duplicate <n>");
  return {
    event: supported,
    currency,
    items: wholeNumber(values.items, "--items", 1, MAX_ITEMS) ?? 1,
    email,
    product: values.product?.trim(),
    session,
    amount: wholeNumber(values.amount, "--amount", 1, MAX_AMOUNT),
    outcome: values.won ? "won" : values.lost ? "lost" : undefined,
    duplicate,
    concurrent: values.concurrent,
    stripeUrl:
      values["stripe-url"] === undefined ? undefined : httpOrigin(values["stripe-url"], "--stripe-url"),
    given: { currency: values.currency !== undefined, email: values.email !== undefined },
  };
}

/** Checks `--product` against the project's catalog.json: exit 2 for an id it does not list, or no readable catalog. */
async function checkCatalogProduct(id: string, cwd: string): Promise<void> {
  const path = join(cwd, "catalog.json");
  let products: { id: string }[];
  try {
    ({ products } = await loadCatalog(path));
  } catch (error) {
    throw new CliError(
      `--product needs the shop's catalog: ${error instanceof Error ? error.message : String(error)}`,
      EXIT.usage,
    );
  }
  if (!products.some((candidate) => candidate.id === id)) {
    throw new CliError(
      `--product "${id}" is not in ${path}. Its products: ${products.map((candidate) => candidate.id).join(", ")}`,
      EXIT.usage,
    );
  }
}

const set = (value: string | undefined): value is string => value !== undefined && value.trim() !== "";

function port(env: Env, variable: string, fallback: number): number {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > 65535)
    throw new CliError(`Not a port: ${raw} (${variable})`, EXIT.usage);
  return value;
}

/** Where events come from: the emulator at `url`, or real Stripe (the same rule as npm start). */
function resolveTarget(
  stripeUrl: string | undefined,
  env: Env,
): { real: true } | { real: false; url: string } {
  if (stripeUrl) return { real: false, url: stripeUrl };
  if (set(env.STRIPE_API_BASE))
    return { real: false, url: httpOrigin(env.STRIPE_API_BASE, "STRIPE_API_BASE") };
  if (set(env.STRIPE_SECRET_KEY)) return { real: true };
  return { real: false, url: `http://127.0.0.1:${port(env, "LINKSHOP_STRIPE_PORT", DEFAULT_STRIPE_PORT)}` };
}

/** What to run on real Stripe for a refund or dispute of `options.session`, and what the Stripe CLI cannot do. */
function paymentAdvice(options: TriggerOptions & { event: PaymentEvent }): {
  steps: string[];
  notes: string[];
} {
  const session = options.session ?? "cs_...";
  const find = `stripe checkout sessions retrieve ${session}     # its payment_intent: pi_...`;
  switch (options.event) {
    case "charge.refunded":
      return {
        steps: [
          find,
          `stripe refunds create -d payment_intent=pi_...${options.amount === undefined ? "" : ` -d amount=${options.amount}`}`,
        ],
        notes: [],
      };
    case "charge.dispute.created":
      return {
        steps: [],
        notes: [
          "Stripe cannot dispute an existing payment. Buy through a Payment Link of the shop with the test card",
          "4000 0000 0000 0259 instead: Stripe disputes that payment as fraudulent right after the charge. (stripe",
          "trigger charge.dispute.created disputes a payment of its own, which is not one of the shop's orders.)",
        ],
      };
    case "charge.dispute.closed":
      return {
        steps: [
          find,
          "stripe disputes list -d payment_intent=pi_...          # the open dispute: dp_...",
          `stripe disputes update dp_... -d "evidence[uncategorized_text]=${options.outcome === "won" ? "winning" : "losing"}_evidence"`,
        ],
        notes: [],
      };
  }
}

/** The Stripe CLI commands that do the same on real Stripe, and what they cannot mirror. */
function stripeCliAdvice(options: TriggerOptions, env: Env): string[] {
  const { event } = options;
  const overrides: string[] = [];
  const missing: string[] = [];
  let steps: string[];
  if (isPaymentEvent(event)) {
    const advice = paymentAdvice({ ...options, event });
    steps = advice.steps;
    missing.push(...advice.notes);
  } else {
    const paid = EVENTS[event].payment !== null;
    // The CLI's async fixtures pay by SEPA Direct Debit with a eur price (cli-triggers/*.json).
    const sepa = event.startsWith("checkout.session.async_payment_");
    if (options.given.currency) {
      if (!sepa) overrides.push(`--override price:currency=${options.currency}`);
      else if (options.currency !== "eur") {
        missing.push(
          `--currency ${options.currency}: the CLI pays this event by SEPA Direct Debit, which takes eur only (its price is in eur).`,
        );
      }
    }
    if (options.given.email) {
      if (paid) overrides.push(`--override payment_method:billing_details.email=${options.email}`);
      else missing.push("--email: nobody pays an expired session, so there is no customer email to set.");
    }
    if (options.items > 1) {
      missing.push(
        `--items ${options.items}: the CLI's fixture has one line item; add more by editing its steps with \`stripe trigger ${event} --edit\`.`,
      );
    }
    if (options.product !== undefined) {
      missing.push(
        `--product ${options.product}: stripe trigger makes a product of its own; to buy ${options.product}, open its Payment Link (the Buy button of the site) and pay with the test card 4242 4242 4242 4242.`,
      );
    }
    steps = [["stripe trigger", event, ...overrides].join(" ")];
  }
  if (options.duplicate > 0) {
    missing.push(
      `--duplicate${options.concurrent ? " --concurrent" : ""}: redeliver with \`stripe events resend <evt_...>\` (the id is in the stripe listen output), one at a time${options.concurrent ? "; the CLI cannot send them concurrently" : ""}.`,
    );
  }
  const shopPort = port(env, "LINKSHOP_PORT", DEFAULT_SHOP_PORT);
  const lines = [
    "STRIPE_SECRET_KEY is set and STRIPE_API_BASE is not, so the shop uses real Stripe: trigger events with the",
    "Stripe CLI instead (https://docs.stripe.com/stripe-cli). Nothing was sent.",
    "",
    "  1. In another terminal, forward Stripe's events to the function, and put the signing secret it prints",
    "     (whsec_...) in .env as STRIPE_WEBHOOK_SECRET, then restart the shop:",
    `       stripe listen --events ${HANDLED_EVENTS.join(",")} --forward-to localhost:${shopPort}/api/stripe-webhook`,
    ...(steps.length > 0 ? ["  2. Then:", ...steps.map((step) => `       ${step}`)] : []),
  ];
  if (missing.length > 0) {
    lines.push("", "Not available in the Stripe CLI:", ...missing.map((line) => `  ${line}`));
  }
  if (isLiveKey(env.STRIPE_SECRET_KEY)) {
    lines.push(
      "",
      "Note: STRIPE_SECRET_KEY is a live key, but stripe trigger creates test-mode objects the function cannot read with it; use a sk_test_ key locally.",
    );
  }
  return lines;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `create` for 0..count-1, a batch at a time, keeping the order. */
async function inBatches<T>(count: number, create: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < count; start += CREATE_BATCH) {
    const indexes = Array.from(
      { length: Math.min(CREATE_BATCH, count - start) },
      (_, offset) => start + offset,
    );
    results.push(...(await Promise.all(indexes.map(create))));
  }
  return results;
}

function describeAttempt(delivery: Delivery): string {
  const outcome =
    delivery.status === null ? `no response (${delivery.error ?? "unreachable"})` : String(delivery.status);
  return `  attempt ${delivery.attempt}: ${outcome}  ${delivery.url}`;
}

const accepted = (delivery: Delivery) =>
  delivery.status !== null && delivery.status >= 200 && delivery.status < 300;

/** Endpoints whose latest attempt failed with no retry to come: the emulator gave up on them. */
function givenUp(attempts: Delivery[]): number {
  const latest = new Map<string, Delivery>();
  for (const delivery of attempts) latest.set(delivery.url, delivery);
  return [...latest.values()].filter((delivery) => !accepted(delivery) && delivery.retryInMs === null).length;
}

/** "5 x 200, 1 x 409" for a list of attempts, statuses in ascending order. */
function countStatuses(deliveries: Delivery[]): string {
  const counts = new Map<string, number>();
  const sorted = [...deliveries].sort((a, b) => (a.status ?? 1000) - (b.status ?? 1000));
  for (const { status } of sorted) {
    const key = status === null ? "no response" : String(status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([status, count]) => `${count} x ${status}`).join(", ");
}

function emailHint(options: TriggerOptions, env: Env): string {
  // A running npm start passes its outbox as RESEND_BASE_URL (the command kit reads its record).
  const outbox = set(env.RESEND_BASE_URL)
    ? `the outbox, ${env.RESEND_BASE_URL.trim()}`
    : set(env.RESEND_API_KEY)
      ? "your Resend dashboard (the shop sends through real Resend)"
      : `the outbox, http://127.0.0.1:${port(env, "LINKSHOP_OUTBOX_PORT", DEFAULT_OUTBOX_PORT)}`;
  // A refund or dispute of a session that is not one of the shop's orders is acknowledged and ignored.
  const ordersOnly = 'if the session is one of the shop\'s orders (else the webhook says outcome "ignored")';
  switch (options.event) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
      return `Look for the receipt to ${options.email} and the merchant's notice in ${outbox}`;
    case "checkout.session.async_payment_failed":
      return `Look for the "payment failed" email to ${options.email} in ${outbox}`;
    case "checkout.session.expired":
      return `The webhook acknowledges and ignores ${options.event}: no email is expected (its log says outcome "ignored").`;
    case "charge.refunded":
      return `Look for the merchant's refund notice and the customer's confirmation in ${outbox}, ${ordersOnly}.`;
    case "charge.dispute.created":
      return `Look for the merchant's dispute notice in ${outbox}, ${ordersOnly}; the order's downloads stay cut until the dispute is won.`;
    case "charge.dispute.closed":
      return `Look for the merchant's notice that the dispute was ${options.outcome} in ${outbox}, ${ordersOnly}.`;
  }
}

/**
 * Creates and settles a Checkout Session on the emulator at `url`: of products and prices made for it, or of the
 * catalog product `options.product` through its Payment Link. Resolves with the id of its event, once it exists.
 */
async function checkoutOnEmulator(
  options: TriggerOptions & { event: CheckoutEvent },
  stripe: Stripe,
  routes: EmulatorRoutes,
  io: Io,
  timing: TriggerTiming,
): Promise<string> {
  const { event: type, currency, items } = options;
  const payment = EVENTS[type].payment;
  let session: Stripe.Checkout.Session;
  if (options.product !== undefined) {
    session = await sessionOfProduct(options.product, stripe, routes);
    const shown =
      (session.amount_total ?? 0) === 0
        ? "free"
        : formatMoney(session.amount_total ?? 0, session.currency ?? "usd");
    io.out(`Checkout Session ${session.id} from the Payment Link of ${options.product}: total ${shown}`);
  } else {
    if (items > STRIPE_MAX_LINE_ITEMS) {
      io.out(
        `Note: real Stripe allows at most ${STRIPE_MAX_LINE_ITEMS} line items per session; the emulator allows more.`,
      );
    }
    session = await newSession(options, payment !== null, stripe);
    io.out(
      `Checkout Session ${session.id}: ${items} line item(s) x ${QUANTITY} at ${formatMoney(UNIT_AMOUNT, currency)}, total ${formatMoney(session.amount_total ?? 0, currency)}`,
    );
  }

  if (payment === null) {
    await stripe.checkout.sessions.expire(session.id);
    io.out("Expired the session.");
  } else {
    await routes.complete(session.id, {
      email: options.email,
      name: CUSTOMER_NAME,
      payment,
      // A Payment Link that ships asks for an address in one of its countries.
      ...shippingFor(session.shipping_address_collection?.allowed_countries),
    });
    io.out(
      payment === "card"
        ? `Paid by card as ${options.email}.`
        : `Paid as ${options.email} with a delayed payment method: checkout.session.completed (unpaid) now, ${type} after the emulator's delay.`,
    );
  }
  const event = await waitForEvent(
    stripe,
    type,
    (candidate) => (candidate.data.object as { id?: unknown }).id === session.id,
    `for ${session.id}`,
    timing,
  );
  return event.id;
}

/**
 * A session of `options.items` new products at UNIT_AMOUNT each, as the Stripe CLI's fixture makes one; one to be
 * `paid` carries the fixture's shipping on its PaymentIntent.
 */
async function newSession(
  options: TriggerOptions,
  paid: boolean,
  stripe: Stripe,
): Promise<Stripe.Checkout.Session> {
  const { currency, items } = options;
  const prices = await inBatches(items, async (index) => {
    const product = await stripe.products.create({
      name: items === 1 ? "myproduct" : `myproduct ${index + 1}`,
      description: "(created by npm run trigger)",
    });
    return stripe.prices.create({ product: product.id, unit_amount: UNIT_AMOUNT, currency });
  });
  return stripe.checkout.sessions.create({
    mode: "payment",
    success_url: "https://example.com/success",
    cancel_url: "https://example.com/cancel",
    line_items: prices.map((price) => ({ price: price.id, quantity: QUANTITY })),
    // As the CLI's fixture: shipping goes on the PaymentIntent, so the session collects none.
    ...(paid && { payment_intent_data: { shipping: { name: CUSTOMER_NAME, address: SHIPPING_ADDRESS } } }),
  });
}

/**
 * A new session of the Payment Link `npm start` made for the catalog product `productId`, opened as a customer's
 * browser opens it. Exit 1 when the emulator has no such link, or only stopped ones (its stock is sold).
 */
async function sessionOfProduct(
  productId: string,
  stripe: Stripe,
  routes: EmulatorRoutes,
): Promise<Stripe.Checkout.Session> {
  const link = await activeLinkOf(productId, stripe, routes.url);
  return stripe.checkout.sessions.retrieve(await routes.openLink(link.id));
}

/**
 * Refunds or disputes the payment of `options.session` on the emulator: a refund through the Refunds API, a dispute
 * through the emulator's own route (no Stripe API opens or decides one). Resolves with the id of the event to follow.
 */
async function paymentOnEmulator(
  options: TriggerOptions & { event: PaymentEvent },
  stripe: Stripe,
  routes: EmulatorRoutes,
  io: Io,
  timing: TriggerTiming,
): Promise<string> {
  const sessionId = options.session as string;
  const session = await stripe.checkout.sessions.retrieve(sessionId).catch((error: unknown) => {
    if (error instanceof Stripe.errors.StripeInvalidRequestError && error.statusCode === 404) {
      throw new CliError(`The Stripe emulator at ${routes.url} has no Checkout Session ${sessionId}.`);
    }
    throw error;
  });
  const intent =
    typeof session.payment_intent === "string" ? session.payment_intent : session.payment_intent?.id;
  if (!intent) {
    throw new CliError(
      `Checkout Session ${sessionId} has no payment to ${options.event === "charge.refunded" ? "refund" : "dispute"} (status ${session.status}, ${session.payment_status}). Pay one first, e.g. npm run trigger -- checkout.session.completed --product <id>.`,
    );
  }
  const money = (amount: number, currency: string) => formatMoney(amount, currency);
  switch (options.event) {
    case "charge.refunded": {
      // The refund's idempotency key comes back in its events' `request`, which finds the charge.refunded it caused.
      const key = `linkshop-trigger-${randomUUID()}`;
      const refund = await stripe.refunds.create(
        { payment_intent: intent, ...(options.amount !== undefined && { amount: options.amount }) },
        { idempotencyKey: key },
      );
      io.out(
        `Refund ${refund.id}: ${money(refund.amount, refund.currency)} of the payment ${intent} (${money(session.amount_total ?? 0, refund.currency)}) of ${sessionId}`,
      );
      const event = await waitForEvent(
        stripe,
        "charge.refunded",
        (candidate) => candidate.request?.idempotency_key === key,
        `for ${refund.id}`,
        timing,
      );
      return event.id;
    }
    case "charge.dispute.created": {
      const { dispute, event_id } = await routes.openDispute(intent);
      const due = new Date(dispute.evidence_details.due_by * 1000).toISOString().slice(0, 10);
      io.out(
        `Dispute ${dispute.id} (${dispute.reason}, ${dispute.status}, evidence due ${due}): ${money(dispute.amount, dispute.currency)} of the payment ${intent} of ${sessionId}`,
      );
      return event_id;
    }
    case "charge.dispute.closed": {
      const { data } = await stripe.disputes.list({ payment_intent: intent, limit: 100 });
      const open = data.find((dispute) => OPEN_DISPUTE.has(dispute.status));
      if (!open) {
        throw new CliError(
          `The payment of ${sessionId} has no open dispute. Open one first: npm run trigger -- charge.dispute.created --session ${sessionId}`,
        );
      }
      const { dispute, event_id } = await routes.closeDispute(open.id, options.outcome ?? "lost");
      io.out(`Dispute ${dispute.id} closed: ${dispute.status}`);
      return event_id;
    }
  }
}

/** Statuses of a dispute that is still open. */
const OPEN_DISPUTE = new Set([
  "warning_needs_response",
  "warning_under_review",
  "needs_response",
  "under_review",
]);

/** Triggers the event on the emulator at `url`, then follows its delivery (and redelivers it if asked). */
async function triggerOnEmulator(
  options: TriggerOptions,
  url: string,
  env: Env,
  io: Io,
  timing: TriggerTiming,
): Promise<number> {
  const routes = new EmulatorRoutes(url);
  await routes.deliveries();
  const stripe = createStripeClient(LOCAL_KEY, new URL(url));
  const { event: type } = options;
  io.out(`Triggering ${type} on the Stripe emulator at ${url}`);
  const eventId = isPaymentEvent(type)
    ? await paymentOnEmulator({ ...options, event: type }, stripe, routes, io, timing)
    : await checkoutOnEmulator({ ...options, event: type }, stripe, routes, io, timing);

  io.out(`Event ${eventId} (${type})`);
  const deliveries = await followDelivery(routes, stripe, eventId, io, timing);
  if (!deliveries.some(accepted) && givenUp(deliveries) > 0) {
    throw new CliError(
      `The webhook refused ${eventId} on all ${deliveries.length} attempts, and the emulator has stopped retrying. ` +
        `See the shop's output (netlify dev) and ${url}/_emulator/deliveries`,
    );
  }
  if (!deliveries.some(accepted)) {
    throw new CliError(
      `The webhook has not accepted ${eventId} within ${timing.deliveryTimeoutMs / 1000} s; the emulator keeps retrying. ` +
        `See the shop's output (netlify dev) and ${url}/_emulator/deliveries`,
    );
  }
  io.out(emailHint(options, env));

  if (options.duplicate > 0) {
    io.out(
      `Redelivering ${eventId} ${options.duplicate} more time(s)${options.concurrent ? ", all at once" : ", one after another"}...`,
    );
    const { deliveries: attempts, maxInFlight } = await routes.resend(
      eventId,
      options.duplicate,
      options.concurrent,
    );
    if (options.concurrent && options.duplicate > maxInFlight) {
      const longest = Math.max(0, ...attempts.map((delivery) => delivery.queuedMs));
      io.out(
        `The emulator sent at most ${maxInFlight} at a time to the webhook and queued the rest (longest wait ${(longest / 1000).toFixed(1)} s): ` +
          "netlify dev starts a worker per invocation on this one machine. Real Stripe sends them all at once, and Netlify runs each invocation on its own.",
      );
    }
    const firsts = attempts.filter((delivery) => delivery.attempt === 1);
    const retries = attempts.filter((delivery) => delivery.attempt > 1);
    io.out(`${firsts.length} redeliveries: ${countStatuses(firsts)}`);
    if (retries.length > 0) io.out(`then ${retries.length} retries: ${countStatuses(retries)}`);
    // Each redelivery stops at its first 2xx, so a shortfall of 2xx answers is a redelivery never accepted.
    const refused = firsts.length - attempts.filter(accepted).length;
    if (refused > 0) {
      io.err(
        `${refused} of the redeliveries were never accepted by the webhook, even after the emulator's retries.`,
      );
      return 1;
    }
  }
  return 0;
}

/** Polls the Events API until an event of `type` that `matches` exists (`what` names it in the timeout message). */
async function waitForEvent(
  stripe: Stripe,
  type: SupportedEvent,
  matches: (event: Stripe.Event) => boolean,
  what: string,
  timing: TriggerTiming,
): Promise<Stripe.Event> {
  const deadline = Date.now() + timing.eventTimeoutMs;
  for (;;) {
    const { data } = await stripe.events.list({ type, limit: 100 });
    const found = data.find(matches);
    if (found) return found;
    if (Date.now() >= deadline) {
      throw new CliError(
        `No ${type} event ${what} after ${timing.eventTimeoutMs / 1000} s. Is the emulator's delayed-payment wait longer?`,
      );
    }
    await pause(timing.pollIntervalMs);
  }
}

/**
 * Prints each delivery attempt of the event as it happens, until every endpoint accepted it (the event's
 * `pending_webhooks` is back to 0) or the time is up; returns the attempts seen.
 */
async function followDelivery(
  routes: EmulatorRoutes,
  stripe: Stripe,
  eventId: string,
  io: Io,
  timing: TriggerTiming,
): Promise<Delivery[]> {
  const deadline = Date.now() + timing.deliveryTimeoutMs;
  let printed = 0;
  for (;;) {
    // The event first: an attempt logged after this read is still printed on the next round.
    const { pending_webhooks: pending } = await stripe.events.retrieve(eventId);
    const attempts = (await routes.deliveries()).filter((delivery) => delivery.eventId === eventId);
    for (const delivery of attempts.slice(printed)) io.out(describeAttempt(delivery));
    printed = attempts.length;
    // pending_webhooks counts endpoints still to accept it, set when the event is created: 0 with no attempt means none.
    if (pending === 0 && attempts.length === 0) {
      throw new CliError(
        `The emulator has no webhook endpoint, so ${eventId} was recorded but sent nowhere. Run the shop with \`npm start\`, which connects the emulator to the function.`,
      );
    }
    if (pending === 0 || givenUp(attempts) >= pending || Date.now() >= deadline) return attempts;
    await pause(timing.pollIntervalMs);
  }
}

/**
 * `npm run trigger -- <event> [options]`: on the local Stripe emulator, creates what `stripe trigger` would create
 * for `event`, settles the Checkout Session, waits until the webhook accepted the event and optionally redelivers
 * it. With real Stripe configured it only prints the Stripe CLI equivalent. `timing` shortens the waits in tests.
 */
export function triggerCommand(timing: Partial<TriggerTiming> = {}) {
  return defineCommand({
    usage: USAGE,
    options: OPTIONS,
    positionals: true,
    async run({ values, positionals, env, io, cwd }) {
      if (positionals[0] === "drop") {
        return drop(toDropOptions({ values, positionals }), env, io, cwd, { ...DEFAULT_TIMING, ...timing });
      }
      const options = toOptions({ values, positionals });
      if (options.product !== undefined) await checkCatalogProduct(options.product, cwd);
      const target = resolveTarget(options.stripeUrl, env);
      if (target.real) {
        for (const line of stripeCliAdvice(options, env)) io.out(line);
        return EXIT.ok;
      }
      try {
        return await triggerOnEmulator(options, target.url, env, io, { ...DEFAULT_TIMING, ...timing });
      } catch (error) {
        if (error instanceof Stripe.errors.StripeConnectionError) throw new CliError(noEmulator(target.url));
        throw error;
      }
    },
  });
}

interface DropCommandOptions {
  orders: number;
  seconds: number;
  product: string | undefined;
  stripeUrl: string | undefined;
}

/** `drop`'s command line; throws UsageError (exit 2) for wrong usage, such as another event's options. */
function toDropOptions({
  values,
  positionals,
}: Pick<CommandContext<typeof OPTIONS>, "values" | "positionals">): DropCommandOptions {
  if (positionals.length > 1)
    throw new UsageError(`drop takes no other argument, got: ${positionals.join(" ")}`);
  const others = [
    ...(["items", "currency", "email", "session", "amount", "duplicate"] as const).filter(
      (name) => values[name] !== undefined,
    ),
    ...(["won", "lost", "concurrent"] as const).filter((name) => values[name]),
  ];
  if (others.length > 0) {
    throw new UsageError(
      `drop takes --orders, --seconds, --product and --stripe-url, not ${others.map((name) => `--${name}`).join(", ")}`,
    );
  }
  return {
    orders: wholeNumber(values.orders, "--orders", 1, MAX_DROP_ORDERS) ?? DEFAULT_DROP.orders,
    seconds: wholeNumber(values.seconds, "--seconds", 0, MAX_DROP_SECONDS) ?? DEFAULT_DROP.seconds,
    product: values.product?.trim(),
    stripeUrl:
      values["stripe-url"] === undefined ? undefined : httpOrigin(values["stripe-url"], "--stripe-url"),
  };
}

/** The catalog product the drop buys: `given` when catalog.json lists it, else the first without stock or files. */
async function dropProductOf(given: string | undefined, cwd: string): Promise<string> {
  if (given !== undefined) {
    await checkCatalogProduct(given, cwd);
    return given;
  }
  const { products } = await loadCatalog(join(cwd, "catalog.json")).catch((error: unknown) => {
    throw new CliError(
      `drop needs the shop's catalog: ${error instanceof Error ? error.message : String(error)}`,
      EXIT.usage,
    );
  });
  const product = defaultDropProduct(products);
  if (product === undefined) {
    throw new CliError(
      "Every product of catalog.json has a stock: choose one with --product <id>.",
      EXIT.usage,
    );
  }
  return product;
}

/** Where the running stack's outbox is: RESEND_BASE_URL (npm start passes it), else its default port. */
function outboxUrlOf(env: Env): string {
  if (set(env.RESEND_BASE_URL)) return httpOrigin(env.RESEND_BASE_URL, "RESEND_BASE_URL");
  if (set(env.RESEND_API_KEY)) {
    throw new CliError(
      "The drop drill counts receipts in the local outbox, but the shop sends through real Resend (RESEND_API_KEY is set and RESEND_BASE_URL is not). Run it against npm start without Resend credentials.",
      EXIT.usage,
    );
  }
  return `http://127.0.0.1:${port(env, "LINKSHOP_OUTBOX_PORT", DEFAULT_OUTBOX_PORT)}`;
}

/** `npm run trigger -- drop`: runs the drill against the running stack and prints its report. */
async function drop(
  options: DropCommandOptions,
  env: Env,
  io: Io,
  cwd: string,
  timing: TriggerTiming,
): Promise<number> {
  const product = await dropProductOf(options.product, cwd);
  const target = resolveTarget(options.stripeUrl, env);
  if (target.real) {
    throw new CliError(
      "The drop drill runs against npm start's Stripe emulator, but STRIPE_SECRET_KEY is set and STRIPE_API_BASE is not (the shop uses real Stripe).",
      EXIT.usage,
    );
  }
  const outboxUrl = outboxUrlOf(env);
  try {
    const report = await runDrop({
      orders: options.orders,
      seconds: options.seconds,
      product,
      stripeUrl: target.url,
      outboxUrl,
      settleMs: timing.dropSettleMs,
      ...(timing.dropTimeoutMs !== undefined && { timeoutMs: timing.dropTimeoutMs }),
      say: (line) => io.out(line),
    });
    for (const line of formatDropReport(report)) io.out(line);
    return report.ok ? EXIT.ok : EXIT.failed;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeConnectionError) throw new CliError(noEmulator(target.url));
    throw error;
  }
}
