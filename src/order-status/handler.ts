/**
 * GET /api/order-status?session_id=cs_...: what the thank-you page needs to show, and nothing more.
 * A fulfilled order is answered from the ledger (no Stripe call). A customer can land here before the webhook
 * arrives, so a recent paid order without a record is fulfilled here, under the same claims as the webhook.
 */
import type { ConfigError } from "../config.ts";
import { failureReply, InProgressError, StoreUnavailableError, UpstreamError } from "../lib/errors.ts";
import { downloadLinks, linkProblem, orderFiles } from "../fulfilment/downloads.ts";
import { type FulfilmentDeps, fulfilOrder } from "../fulfilment/fulfil.ts";
import type { LedgerRecord } from "../order/ledger.ts";
import { formatMoney } from "../lib/money.ts";
import type { Logger } from "../lib/log.ts";
import { fulfilledOnStripe, inScope, maskEmail, orderProblem, sessionProblem } from "../order/session.ts";
import { type SessionPayload, toOrder } from "../order/model.ts";
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

/** Builds the request handler. */
export function createOrderStatusHandler(setup: {
  deps: FulfilmentDeps | ConfigError;
  log: Logger;
}): (req: Request) => Promise<Response> {
  return async (req) => {
    const started = performance.now();
    let reply: Reply;
    try {
      reply = await respond(req, setup);
    } catch (error) {
      // The same mapping as the webhook's; the answer is JSON whatever happened.
      const failure = failureReply(error);
      reply = { status: failure.status, body: { error: failure.reason } };
    }
    const { status, body, sessionId, note } = reply;
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
      headers: { "cache-control": "no-store", ...(status === 405 && { allow: "GET" }) },
    });
  };
}

type Reply = {
  status: number;
  body: OrderStatusBody | { status: "not_found" } | { error: string };
  sessionId?: string;
  note?: string;
};

async function respond(
  req: Request,
  setup: { deps: FulfilmentDeps | ConfigError; log: Logger },
): Promise<Reply> {
  if (req.method !== "GET") return { status: 405, body: { error: "method_not_allowed" } };
  const sessionId = new URL(req.url).searchParams.get("session_id") ?? "";
  if (!PAGE_SESSION_ID.test(sessionId)) return { status: 400, body: { error: "invalid_session_id" } };
  const deps = setup.deps;
  if (deps instanceof Error) {
    setup.log("config.invalid", { message: deps.message });
    return { status: 500, body: { error: "misconfigured" }, sessionId };
  }
  // Redis down: answer from Stripe (and say "processing" for a paid order) rather than fail the page.
  const record = await deps.ledger.get(sessionId).catch((error: unknown) => {
    if (error instanceof StoreUnavailableError) return undefined;
    throw error;
  });
  if (record && ANSWERED_FROM_LEDGER.has(record.state)) {
    return { status: 200, sessionId, note: "ledger", body: fromRecord(sessionId, record, deps) };
  }

  const session = await deps.sessions.retrieve(sessionId);
  const notFound: Reply = { status: 404, body: { status: "not_found" }, sessionId };
  // A setup-mode session collects a card for later: it is no order.
  if (!session || session.status === "expired" || session.mode === "setup") return notFound;
  if (!inScope(session, deps.scope)) return notFound;
  if (sessionProblem(session)) return { status: 422, body: { error: "unusable_order" }, sessionId };
  const items = await deps.lineItems.listLineItems(sessionId);
  const order = toOrder(session, items);
  if (orderProblem(order)) return { status: 422, body: { error: "unusable_order" }, sessionId };

  let status = statusOf(session);
  let note: string | undefined;
  let delivered = false;
  const recent =
    session.created === undefined || deps.now() - session.created * 1000 <= PAGE_FULFIL_WINDOW_MS;
  if (status === "paid" && (recent || fulfilledOnStripe(session) !== undefined)) {
    try {
      const result = await fulfilOrder(session, deps, { by: "page", lineItems: items, fresh: true });
      note = result.outcome === "fulfilled" ? "fulfilled_here" : result.reason;
      delivered = result.outcome === "fulfilled" || result.reason === "already_fulfilled";
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
    }
  } else if (status === "paid") {
    // An old paid session with no record anywhere: sending now could be a second receipt after a lost database.
    note = "not_fulfilled_here";
  }
  return {
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
      ...(delivered && { downloads: pageLinks(sessionId, orderFiles(order, deps.shop), deps, deps.now()) }),
    },
  };
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

/** States the ledger answers alone, with no Stripe call. */
const ANSWERED_FROM_LEDGER = new Set<LedgerRecord["state"]>([
  "fulfilled",
  "payment_failed",
  "refunded",
  "disputed",
]);

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
  const status: OrderStatus =
    record.state === "fulfilled"
      ? "paid"
      : record.state === "refunded" || record.state === "disputed"
        ? record.state
        : "failed";
  // The same files and limits as the receipt's (counted together); none for a refunded or disputed order.
  const downloads =
    status === "paid"
      ? pageLinks(sessionId, record.files ?? [], deps, record.fulfilledAt ?? deps.now())
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

function statusOf(session: SessionPayload): OrderStatus {
  if (session.status === "complete") {
    return session.payment_status === "paid" || session.payment_status === "no_payment_required"
      ? "paid"
      : "unpaid";
  }
  return "processing";
}
