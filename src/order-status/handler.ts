/**
 * GET /api/order-status?session_id=cs_...: what the thank-you page needs to show, and nothing more.
 * Whatever the ledger knows of an order is answered from the ledger alone (one store command, no Stripe call). A
 * customer can land here before the webhook arrives, so a recent paid order without a record is fulfilled here,
 * under the same claims as the webhook. Stripe is asked at most once per order and client budget: its answer (an
 * unknown id included) is remembered for a while, and every client has a budget of such requests.
 */
import type { ConfigError } from "../config.ts";
import { failureReply, InProgressError, StoreUnavailableError, UpstreamError } from "../lib/errors.ts";
import { downloadLinks, linkProblem, orderFiles } from "../fulfilment/downloads.ts";
import { type FulfilmentDeps, fulfilOrder } from "../fulfilment/fulfil.ts";
import type { LedgerRecord } from "../order/ledger.ts";
import { formatMoney } from "../lib/money.ts";
import type { Logger } from "../lib/log.ts";
import { fulfilledOnStripe, inScope, maskEmail, orderProblem, sessionProblem } from "../order/session.ts";
import { type LineItemPayload, type SessionPayload, toOrder } from "../order/model.ts";
import { orderNumber } from "../order/number.ts";

// What the page accepts: Stripe's id format with a tail of realistic length (ids are ~60 characters today).
const PAGE_SESSION_ID = /^cs_(test|live)_[A-Za-z0-9]{8,250}$/;

/**
 * `paid`: paid and confirmed; `processing`: not settled yet, ask again shortly; `unpaid`: a delayed payment
 * pending; `failed`: the delayed payment failed, nothing was charged; `refunded`: the money went back;
 * `disputed`: a payment dispute is open (the order's files are unavailable until it is resolved).
 */
export type OrderStatus = "paid" | "processing" | "unpaid" | "failed" | "refunded" | "disputed";

/** The public answer. Amounts in minor units; the email is masked. */
export interface OrderStatusBody {
  status: OrderStatus;
  /** The number the receipt shows and the customer quotes (see orderNumber()). */
  orderNumber: string;
  items: { name: string; quantity: number }[];
  /** `formatted` in the shop's locale, e.g. "30,00 €" for de-DE. */
  total: { amount: number; currency: string; formatted: string } | null;
  email: string | null;
  /** The order's files, each with its download page, once the order is paid (absent otherwise). */
  downloads?: { name: string; url: string }[];
}

/** The page fulfils only sessions this recent; older ones without a record are reconciliation's. Milliseconds. */
export const PAGE_FULFIL_WINDOW_MS = 48 * 60 * 60 * 1000;

/**
 * How long an answer Stripe gave is remembered, by kind. Seconds. Whatever the ledger records meanwhile (the
 * webhook's work) is read first, so a remembered answer never hides a newer fact.
 */
export const REMEMBER_SECONDS = {
  /** Stripe does not know the id, or it is no order of this shop. */
  notFound: 300,
  /** A delayed payment: as long as the page keeps asking (five minutes); the webhook records what follows. */
  unpaid: 300,
  /** An open session, or fulfilment held by the webhook: as long as the page polls fast (30 s). */
  processing: 30,
  /** An old paid order the page does not fulfil, or one that cannot be shown. */
  settled: 300,
} as const;

/** A Checkout Session and all its line items, read from Stripe together. */
export interface CheckoutReader {
  /** The session and every line item (price.product expanded), or undefined when Stripe does not know the id. */
  readSession(
    sessionId: string,
  ): Promise<{ session: SessionPayload; lineItems: LineItemPayload[] } | undefined>;
}

/** An order's ledger record and the answer remembered for it, read together. */
export interface StatusStore {
  /** One store command. Throws StoreUnavailableError. */
  look(key: string): Promise<{ record: LedgerRecord | undefined; remembered: string | undefined }>;
  /** One store command. Throws StoreUnavailableError. */
  remember(key: string, answer: string, ttlSeconds: number): Promise<void>;
}

/** A per-client budget of the requests that reach Stripe. */
export interface ClientLimiter {
  /** From memory only: the client is over its budget, and may ask again after `retryAfterSeconds`. */
  blocked(client: string | undefined): { allowed: boolean; retryAfterSeconds: number } | undefined;
  /** Spends one request of the budget (one store command). Throws StoreUnavailableError. */
  take(client: string | undefined): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}

/** What the endpoint runs on: fulfilment's ports for the page's own fulfilment, and its own three. */
export interface OrderStatusDeps extends FulfilmentDeps {
  status: StatusStore;
  checkout: CheckoutReader;
  limiter: ClientLimiter;
  /** Whether the shop's Stripe key is a live one: ids of the other mode are refused without a call. */
  livemode: boolean;
}

/** Who is asking: the client's address as the platform saw it (Netlify's `context.ip`); never logged. */
export interface Caller {
  ip: string | undefined;
}

/** Builds the request handler. */
export function createOrderStatusHandler(setup: {
  deps: OrderStatusDeps | ConfigError;
  log: Logger;
}): (req: Request, caller?: Caller) => Promise<Response> {
  return async (req, caller = { ip: undefined }) => {
    const started = performance.now();
    let reply: Reply;
    try {
      reply = await respond(req, caller, setup);
    } catch (error) {
      // The same mapping as the webhook's; the answer is JSON whatever happened.
      const failure = failureReply(error);
      reply = { status: failure.status, body: { error: failure.reason } };
    }
    const { status, body, sessionId, note, retryAfterSeconds } = reply;
    setup.log("order_status", {
      sessionId,
      status,
      answer: "status" in body ? String(body.status) : String(body.error),
      note,
      durationMs: Math.round(performance.now() - started),
    });
    return Response.json(body, {
      status,
      // Order details are personal: never cached by the browser or a CDN.
      headers: {
        "cache-control": "no-store",
        ...(status === 405 && { allow: "GET" }),
        ...(retryAfterSeconds !== undefined && { "retry-after": String(retryAfterSeconds) }),
      },
    });
  };
}

type Body = OrderStatusBody | { status: "not_found" } | { error: string };

type Reply = {
  status: number;
  body: Body;
  sessionId?: string;
  /** Where the answer came from or why, for the log. */
  note?: string;
  retryAfterSeconds?: number;
};

/** An answer as it is remembered: status and body. */
type Remembered = { status: number; body: Body };

async function respond(
  req: Request,
  caller: Caller,
  setup: { deps: OrderStatusDeps | ConfigError; log: Logger },
): Promise<Reply> {
  if (req.method !== "GET") return { status: 405, body: { error: "method_not_allowed" } };
  const sessionId = new URL(req.url).searchParams.get("session_id") ?? "";
  const mode = PAGE_SESSION_ID.exec(sessionId)?.[1];
  if (mode === undefined) return { status: 400, body: { error: "invalid_session_id" } };
  const deps = setup.deps;
  if (deps instanceof Error) {
    setup.log("config.invalid", { message: deps.message });
    return { status: 500, body: { error: "misconfigured" }, sessionId };
  }
  // A live shop has no test-mode orders and a test shop no live ones: Stripe would not know the id.
  if ((mode === "live") !== deps.livemode)
    return { status: 400, body: { error: "session_of_other_mode" }, sessionId };
  // A client over its budget is refused from memory, before it costs a store command.
  const blocked = deps.limiter.blocked(caller.ip);
  if (blocked) return limited(sessionId, blocked.retryAfterSeconds, "blocked");

  // Redis down: no record and nothing remembered; the budget below cannot be counted either, and answers 503.
  const { record, remembered } = await deps.status.look(sessionId).catch((error: unknown) => {
    if (error instanceof StoreUnavailableError) return { record: undefined, remembered: undefined };
    throw error;
  });
  if (record) return { status: 200, sessionId, note: "ledger", body: fromRecord(sessionId, record, deps) };
  const known = remembered === undefined ? undefined : parseRemembered(remembered);
  if (known) return { ...known, sessionId, note: "remembered" };

  const budget = await deps.limiter.take(caller.ip);
  if (!budget.allowed) return limited(sessionId, budget.retryAfterSeconds, "limited");
  const { reply, rememberFor } = await fromStripe(sessionId, deps);
  if (rememberFor !== undefined) {
    // Best effort: an answer not remembered costs the next request a Stripe call, within the client's budget.
    await deps.status
      .remember(sessionId, JSON.stringify({ status: reply.status, body: reply.body }), rememberFor)
      .catch((error: unknown) => {
        if (!(error instanceof StoreUnavailableError)) throw error;
      });
  }
  return reply;
}

function limited(sessionId: string, retryAfterSeconds: number, note: string): Reply {
  return { status: 429, body: { error: "rate_limited" }, sessionId, note, retryAfterSeconds };
}

/** Asks Stripe (one call for the session and its items), fulfils a recent paid order, and says how long to remember. */
async function fromStripe(
  sessionId: string,
  deps: OrderStatusDeps,
): Promise<{ reply: Reply; rememberFor: number | undefined }> {
  const read = await deps.checkout.readSession(sessionId);
  const notFound = {
    reply: { status: 404, body: { status: "not_found" as const }, sessionId, note: "stripe" },
    rememberFor: REMEMBER_SECONDS.notFound,
  };
  if (!read) return notFound;
  const { session, lineItems } = read;
  // A setup-mode session collects a card for later: it is no order.
  if (session.status === "expired" || session.mode === "setup") return notFound;
  if (!inScope(session, deps.scope)) return notFound;
  const unusable = {
    reply: { status: 422, body: { error: "unusable_order" }, sessionId, note: "stripe" },
    rememberFor: REMEMBER_SECONDS.settled,
  };
  if (sessionProblem(session)) return unusable;
  const order = toOrder(session, lineItems);
  if (orderProblem(order)) return unusable;

  let status = statusOf(session);
  let note = "stripe";
  let delivered = false;
  let rememberFor: number | undefined =
    status === "unpaid" ? REMEMBER_SECONDS.unpaid : REMEMBER_SECONDS.processing;
  const recent =
    session.created === undefined || deps.now() - session.created * 1000 <= PAGE_FULFIL_WINDOW_MS;
  if (status === "paid" && (recent || fulfilledOnStripe(session) !== undefined)) {
    try {
      const result = await fulfilOrder(session, deps, { by: "page", lineItems, fresh: true });
      note = result.outcome === "fulfilled" || result.outcome === "queued" ? "fulfilled_here" : result.reason;
      // Done, or its receipt waits in the mail queue with these same files: the order is confirmed either way.
      delivered =
        result.outcome === "fulfilled" ||
        result.outcome === "queued" ||
        result.reason === "already_fulfilled" ||
        result.reason === "queued";
      // The ledger now holds the order (or says why not): later requests read it there.
      rememberFor = undefined;
    } catch (error) {
      // Another attempt holds the order, or a dependency failed: the webhook's retry finishes the job, and
      // the page asks again.
      if (!(
        error instanceof InProgressError ||
        error instanceof StoreUnavailableError ||
        error instanceof UpstreamError
      )) {
        throw error;
      }
      status = "processing";
      note = error.reason;
      // The webhook holds the order and records it shortly; after a failure, the next request tries again.
      rememberFor = error instanceof InProgressError ? REMEMBER_SECONDS.processing : undefined;
    }
  } else if (status === "paid") {
    // An old paid session with no record anywhere: sending now could be a second receipt after a lost database.
    note = "not_fulfilled_here";
    rememberFor = REMEMBER_SECONDS.settled;
  }
  return {
    rememberFor,
    reply: {
      status: 200,
      sessionId,
      note,
      body: {
        status,
        orderNumber: order.orderNumber,
        items: order.items.map(({ name, quantity }) => ({ name, quantity })),
        total: {
          amount: order.total,
          currency: order.currency,
          formatted: formatMoney(order.total, order.currency, deps.shop.locale),
        },
        email: maskEmail(order.customerEmail),
        ...(delivered && {
          downloads: pageLinks(sessionId, orderFiles(order, deps.shop), deps, deps.now()),
        }),
      },
    },
  };
}

/** A remembered answer, or undefined when the stored value is not one (then Stripe is asked again). */
function parseRemembered(raw: string): Remembered | undefined {
  try {
    const value = JSON.parse(raw) as Partial<Remembered> | null;
    if (typeof value?.status === "number" && typeof value.body === "object" && value.body !== null)
      return { status: value.status, body: value.body };
  } catch {
    // Not ours: ask Stripe.
  }
  return undefined;
}

/** The download links the page shows: the receipt's files and limits, signed from `fromMs`. */
function pageLinks(
  sessionId: string,
  files: { id: string; name: string; productId: string }[],
  deps: FulfilmentDeps,
  fromMs: number,
): { name: string; url: string }[] | undefined {
  if (files.length === 0 || linkProblem(deps.shop, deps.downloadSecret) || !deps.downloadSecret)
    return undefined;
  return downloadLinks(
    sessionId,
    files.map((file) => ({ ...file, itemName: "" })),
    deps.shop,
    deps.downloadSecret,
    fromMs,
  ).links.map(({ name, url }) => ({ name, url }));
}

/**
 * What the page says for each ledger state. `fulfilling`: the webhook (or another page) is handling the order (once
 * its emails wait in the mail queue, it is confirmed: see `confirmed`); `failed`: paid, but the merchant has to act
 * (the customer's payment stands); `awaiting_payment`: a delayed payment not settled yet.
 */
const PAGE_STATUS: Record<LedgerRecord["state"], OrderStatus> = {
  fulfilled: "paid",
  failed: "paid",
  fulfilling: "processing",
  awaiting_payment: "unpaid",
  payment_failed: "failed",
  refunded: "refunded",
  disputed: "disputed",
};

function fromRecord(sessionId: string, record: LedgerRecord, deps: FulfilmentDeps): OrderStatusBody {
  const locale = deps.shop.locale;
  const total =
    record.amount !== null && record.currency !== null
      ? {
          amount: record.amount,
          currency: record.currency,
          formatted: formatMoney(record.amount, record.currency, locale),
        }
      : null;
  const status = confirmed(record) ? "paid" : PAGE_STATUS[record.state];
  // The same files and limits as the receipt's (counted together), from when they were sent or queued; none before
  // that, nor for a refunded or disputed order.
  const downloads = confirmed(record)
    ? pageLinks(sessionId, record.files ?? [], deps, record.fulfilledAt ?? record.sendingSince ?? deps.now())
    : undefined;
  return {
    status,
    orderNumber: orderNumber(sessionId),
    items: record.items,
    total,
    email: record.maskedEmail,
    ...(downloads && { downloads }),
  };
}

/** Fulfilled, or its receipt and notice wait in the mail queue (the drain sends them shortly). */
function confirmed(record: LedgerRecord): boolean {
  return record.state === "fulfilled" || (record.state === "fulfilling" && (record.queued?.length ?? 0) > 0);
}

function statusOf(session: SessionPayload): OrderStatus {
  if (session.status === "complete") {
    return session.payment_status === "paid" || session.payment_status === "no_payment_required"
      ? "paid"
      : "unpaid";
  }
  return "processing";
}
