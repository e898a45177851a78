/**
 * Fulfilment of a Checkout Session, at most once at any age: the ledger says what is done, Stripe's session
 * metadata keeps a second copy of "fulfilled", short claims keep concurrent paths apart, and each email has its own
 * idempotency key.
 */
import {
  renderFailureAlert,
  renderMerchantNotice,
  renderPaymentFailed,
  renderOversoldAlert,
  renderReceipt,
} from "../email/templates.ts";
import { InProgressError, PermanentError, reasonOf } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { ShopInfo } from "../shop/info.ts";
import {
  emailKey,
  fulfilledOnStripe,
  PAYMENT_INTENT_ID,
  orderProblem,
  type SessionScope,
  sessionKey,
  sessionProblem,
} from "../order/session.ts";
import {
  customerEmailOf,
  type LineItemPayload,
  type Order,
  type SessionPayload,
  toOrder,
} from "../order/model.ts";
import {
  type Actor,
  blankRecord,
  canTransition,
  emptyRecord,
  type LedgerRecord,
  type OrderState,
  orderSummary,
  SETTLED_STATES,
} from "../order/ledger.ts";
import { downloadLinks, linkProblem, orderFiles } from "./downloads.ts";
import { IDEMPOTENCY_WINDOW_MS, markOnStripe } from "./mail.ts";
import type { Catalog } from "../shop/catalog.ts";
import {
  type OversoldNotifier,
  recordCheckout,
  recordSales,
  type SalesDeps,
  type SalesStore,
} from "../stock/sales.ts";
import { customerHash } from "../order/customers.ts";
import type {
  ClaimStore,
  Ledger,
  LineItemSource,
  LedgerExtras,
  Mailer,
  OutgoingEmail,
  SessionSource,
} from "./ports.ts";

/** What fulfilment needs, injected. */
export interface FulfilmentDeps {
  claims: ClaimStore;
  ledger: Ledger;
  lineItems: LineItemSource;
  sessions: SessionSource;
  mailer: Mailer;
  shop: ShopInfo;
  /** Receives a new-order notification and failure alerts when set. */
  merchantEmail: string | undefined;
  /** Which sessions of the account are this shop's orders. */
  scope: SessionScope;
  /** The shop's secret that signs download links; orders with files wait (failed, alerted) without it. */
  downloadSecret: string | undefined;
  /** Milliseconds since the epoch; injected so tests control time. */
  now: () => number;
  log: Logger;
  /** The catalog's stock and the shop's own count of sales; absent when nothing is sold by the unit. */
  stock?: { catalog: Catalog; sales: SalesStore };
}

/**
 * A claim outlives the longest run of a function (Netlify stops synchronous functions at 60 s), and no more:
 * a crashed attempt's retry proceeds within about two minutes. Seconds.
 */
export const CLAIM_TTL_SECONDS = 90;

/** Redis key of an order's claim. */
export const claimKey = (key: string) => `claim:order:${key}`;

/** How an action ended: a value for normal endings (permanent failures included, they are recorded). */
export interface ActionResult {
  /** `queued`: the order's emails wait in the mail queue (src/fulfilment/mail.ts), which sends them shortly. */
  outcome: "fulfilled" | "queued" | "duplicate" | "failed" | "ignored";
  reason: string;
}

/** Options of one fulfilment run. */
export interface FulfilOptions {
  by: Actor;
  /** Line items when the caller already listed them. */
  lineItems?: LineItemPayload[];
  /** Re-run an order recorded as `failed` (the merchant's `retry`). */
  retryFailed?: boolean;
  /**
   * True when `session` was just retrieved or listed from Stripe. A webhook payload is a snapshot from when the
   * event was created: a redelivery of an old event does not show the fulfilled marker written since.
   */
  fresh?: boolean;
}

/**
 * Queues the receipt and the merchant notice of a paid session unless the order is already queued or done,
 * whichever path gets here first: the record and its emails are one compare-and-set, so no claim is needed and a
 * first delivery costs two store commands. Throws StoreUnavailableError or UpstreamError for what a retry can fix;
 * permanent problems are recorded as `failed`, alerted and returned.
 */
export async function fulfilOrder(
  session: SessionPayload,
  deps: FulfilmentDeps,
  options: FulfilOptions,
): Promise<ActionResult> {
  const key = sessionKey(session.id);
  const refused = await refuseUnusable(session, deps, options.by);
  if (refused) return refused;
  // The common repeat (a redelivery, a reload of the thank-you page) costs one read.
  const existing = await deps.ledger.get(key);
  const done = doneResult(existing);
  if (done) return done;
  try {
    return await startOrder({ session, deps, options, key, existing });
  } catch (error) {
    // Another path wrote the record in between (its compare-and-set won): what it did is the answer.
    if (!(error instanceof InProgressError)) throw error;
    const now = doneResult(await deps.ledger.get(key));
    if (now) return now;
    throw error;
  }
}

/** A settled order, or one whose emails already wait in the queue: nothing is queued again. */
function doneResult(record: LedgerRecord | undefined): ActionResult | undefined {
  if (record?.state === "fulfilling" && (record.queued?.length ?? 0) > 0)
    return { outcome: "duplicate", reason: "queued" };
  return settledResult(record);
}

/** One path's run at an order: the session as it has it, and the record as it read it. */
interface OrderRun {
  session: SessionPayload;
  deps: FulfilmentDeps;
  options: FulfilOptions;
  key: string;
  existing: LedgerRecord | undefined;
}

async function startOrder(run: OrderRun): Promise<ActionResult> {
  const { session, deps, options, key, existing } = run;
  let current = session;
  if (!options.fresh && fulfilledOnStripe(session) === undefined) {
    // Before sending, ask Stripe for its copy of "fulfilled" (one call): the ledger may have been lost.
    const retrieved = await deps.sessions.retrieve(session.id);
    if (!retrieved) return recordFailure(deps, key, session.id, "unknown_session", options.by, existing);
    current = retrieved;
  }
  const stripeAt = fulfilledOnStripe(current);
  if (stripeAt !== undefined) {
    // Redis lost the record (or never had it) but Stripe remembers: restore the record, send nothing. With the
    // line items at hand (the thank-you page reads them with the session), the order's items and files come back
    // too, so its download links work again.
    const base = existing ?? blankRecord(session, deps.now());
    const order = options.lineItems && toOrder(session, options.lineItems);
    const customer = order && customerOf(order, deps);
    await deps.ledger.put(
      key,
      existing?.state ?? "absent",
      {
        ...base,
        ...(order && { ...orderSummary(order), ...delivered(session, orderFiles(order, deps.shop)) }),
        state: "fulfilled",
        reason: "restored_from_stripe",
        fulfilledAt: stripeAt || deps.now(),
        updatedAt: deps.now(),
        by: options.by,
      },
      // Found again on the customer's own page, as the order was before the loss.
      customer ? { customer } : undefined,
    );
    return { outcome: "duplicate", reason: "fulfilled_on_stripe" };
  }
  if (existing?.state === "failed" && !options.retryFailed)
    return { outcome: "failed", reason: existing.reason ?? "failed" };
  return sendOrder(run);
}

async function sendOrder({ session, deps, options, key, existing }: OrderRun): Promise<ActionResult> {
  const now = deps.now();
  const record: LedgerRecord = existing ?? blankRecord(session, now);
  let lineItems = options.lineItems;
  try {
    lineItems ??= await deps.lineItems.listLineItems(session.id);
  } catch (error) {
    if (!(error instanceof PermanentError)) throw error;
    return recordFailure(deps, key, session.id, `line_items:${error.reason}`, options.by, existing);
  }
  const order = toOrder(session, lineItems);
  // Counted before anything is queued or refused: Stripe's limit counts the completed checkout either way, and a
  // retry after a store failure counts it (once) before anything is sent.
  if (deps.stock) await recordSales(order, stockDeps(deps, deps.stock));
  const files = orderFiles(order, deps.shop);
  const problem =
    orderProblem(order) ?? (files.length > 0 ? linkProblem(deps.shop, deps.downloadSecret) : undefined);
  if (problem) return recordFailure(deps, key, session.id, problem, options.by, existing);
  const emails = orderEmails(order, deps, files, now).filter(([slot]) => record.emails[slot] === undefined);
  if (
    !options.retryFailed &&
    record.state === "fulfilling" &&
    record.sendingSince !== null &&
    now - record.sendingSince > IDEMPOTENCY_WINDOW_MS &&
    emails.length > 0
  ) {
    // An earlier attempt may have had an email accepted without recording it, and its key has expired: sending
    // again could send it twice. The merchant decides (`npm run orders -- retry` or `resend`).
    return recordFailure(deps, key, session.id, "outcome_unknown_key_expired", options.by, existing);
  }

  // The record and its emails in one atomic write: the order is queued exactly once, whichever path gets here
  // first, and the drain sends it (src/fulfilment/mail.ts). An order with no email to send is done now.
  const slots = emails.map(([slot]) => slot);
  const jobs = emails.map(([slot, email], index) => ({
    id: emailKey(slot, key),
    email,
    order: { key, slot },
    // The queue sends in queueing order: the customer's receipt first, the merchant's notice a millisecond after.
    queuedAt: now + index,
  }));
  const queued = slots.length > 0;
  const next: LedgerRecord = {
    ...record,
    ...orderSummary(order),
    state: queued ? "fulfilling" : "fulfilled",
    reason: queued ? "queued" : null,
    ...delivered(session, files),
    updatedAt: now,
    by: options.by,
    attempts: record.attempts + 1,
    // A merchant's retry starts a new sending window: what failed before was refused, not accepted.
    sendingSince: options.retryFailed ? now : (record.sendingSince ?? now),
    queued: slots,
    ...(!queued && { fulfilledAt: now }),
  };
  const customer = customerOf(order, deps);
  await putExpected(deps, key, existing?.state ?? "absent", next, { jobs, customer });
  if (queued) return { outcome: "queued", reason: "emails_queued" };
  await markOnStripe(deps, session.id, now);
  return { outcome: "fulfilled", reason: order.customerEmail ? "emails_sent" : "no_customer_email" };
}

/**
 * Re-sends the receipt of a fulfilled order on purpose (the merchant's `resend`), with a fresh idempotency key
 * numbered after the resends already recorded. An order that is not fulfilled yet is refused: `retry` is for those.
 */
export async function resendReceipt(
  session: SessionPayload,
  deps: FulfilmentDeps,
  lineItems?: LineItemPayload[],
  by: Extract<Actor, "merchant" | "customer"> = "merchant",
): Promise<ActionResult> {
  const key = sessionKey(session.id);
  const problem = sessionProblem(session);
  if (problem) return { outcome: "failed", reason: problem };
  return withClaim(deps, key, async () => {
    const existing = await deps.ledger.get(key);
    // The money went back (or is being disputed): the receipt and its download links are not sent again.
    if (existing?.state === "refunded" || existing?.state === "disputed")
      return { outcome: "failed", reason: `order_${existing.state}` };
    const stripeAt = fulfilledOnStripe(session);
    if (existing?.state !== "fulfilled" && stripeAt === undefined)
      return { outcome: "failed", reason: "not_fulfilled_yet" };
    const order = toOrder(session, lineItems ?? (await deps.lineItems.listLineItems(session.id)));
    const files = orderFiles(order, deps.shop);
    const problem =
      orderProblem(order) ?? (files.length > 0 ? linkProblem(deps.shop, deps.downloadSecret) : undefined);
    if (problem) return { outcome: "failed", reason: problem };
    if (!order.customerEmail) return { outcome: "failed", reason: "no_customer_email" };
    // Fulfilled according to Stripe only (the record was lost): the record is restored as fulfilled.
    const base: LedgerRecord =
      existing?.state === "fulfilled"
        ? // A record restored without its details (from Stripe's marker alone) gets its files and PaymentIntent.
          { ...existing, ...delivered(session, files) }
        : {
            ...(existing ?? blankRecord(session, deps.now())),
            ...orderSummary(order),
            state: "fulfilled",
            reason: "restored_from_stripe",
            fulfilledAt: stripeAt || deps.now(),
            ...delivered(session, files),
          };
    const resent = base.emails.resent ?? [];
    const idempotencyKey = emailKey(`resend${resent.length + 1}`, key);
    // Fresh links, valid from now: a customer asking again is usually one whose first links ran out.
    const links =
      files.length > 0 && deps.downloadSecret
        ? downloadLinks(order.sessionId, files, deps.shop, deps.downloadSecret, deps.now())
        : undefined;
    const { id } = await deps.mailer.send(
      { to: order.customerEmail, replyTo: deps.shop.supportEmail, ...renderReceipt(order, deps.shop, links) },
      idempotencyKey,
    );
    const now = deps.now();
    const next: LedgerRecord = {
      ...base,
      emails: { ...base.emails, resent: [...resent, id ?? "accepted"] },
      // `npm run orders -- resend` refuses another resend soon after this one unless forced.
      lastResentAt: now,
      updatedAt: now,
      by,
    };
    await putExpected(deps, key, existing?.state ?? "absent", next);
    deps.log("order.receipt_resent", { sessionId: session.id, count: resent.length + 1 });
    return { outcome: "fulfilled", reason: "receipt_resent" };
  });
}

/** Tells the customer, once, that their delayed payment failed and how to try again. */
export async function notifyPaymentFailed(
  session: SessionPayload,
  deps: FulfilmentDeps,
  by: Actor,
): Promise<ActionResult> {
  const key = sessionKey(session.id);
  const refused = await refuseUnusable(session, deps, by);
  if (refused) return refused;
  return withClaim(deps, key, async () => {
    const existing = await deps.ledger.get(key);
    if (
      existing &&
      (SETTLED_STATES.includes(existing.state) || ["payment_failed", "failed"].includes(existing.state))
    )
      return { outcome: "duplicate", reason: `already_${existing.state}` };
    const now = deps.now();
    const record: LedgerRecord = {
      ...(existing ?? blankRecord(session, now)),
      state: "payment_failed",
      updatedAt: now,
      by,
    };
    const to = customerEmailOf(session);
    let reason = "payment_failed_email_sent";
    if (!to) reason = "no_customer_email";
    else {
      const notice = renderPaymentFailed(
        { sessionId: session.id, currency: session.currency ?? "usd", total: session.amount_total ?? 0 },
        deps.shop,
      );
      try {
        const { id } = await deps.mailer.send(
          { to, replyTo: deps.shop.supportEmail, ...notice },
          emailKey("payment-failed", key),
        );
        record.emails = { ...record.emails, paymentFailed: id ?? "accepted" };
      } catch (error) {
        if (!(error instanceof PermanentError)) throw error;
        reason = `payment_failed_email:${error.reason}`;
        deps.log("order.failed", { level: "error", sessionId: session.id, reason });
      }
    }
    record.reason = reason === "payment_failed_email_sent" ? null : reason;
    await putExpected(deps, key, existing?.state ?? "absent", record);
    return { outcome: "fulfilled", reason };
  });
}

/** Notes a completed session whose delayed payment has not arrived yet (no claim: it sends nothing). */
export async function recordAwaitingPayment(
  session: SessionPayload,
  deps: FulfilmentDeps,
): Promise<ActionResult> {
  const key = sessionKey(session.id);
  const refused = await refuseUnusable(session, deps, "webhook");
  if (refused) return refused;
  const record = { ...blankRecord(session, deps.now()), state: "awaiting_payment" as const };
  await deps.ledger.put(key, "absent", record);
  // Stripe's limit counts the checkout now, whether the payment clears or not: so does the shop's stock.
  if (deps.stock) await recordCheckout(session, stockDeps(deps, deps.stock));
  return { outcome: "ignored", reason: "awaiting_payment" };
}

/**
 * Records a permanent failure (never over `fulfilled`), logs it at error level and alerts the merchant in an email
 * of its own. `sessionId` is null when the payload's id is unusable; `key` then is its hash. `current` is the
 * record as stored, when the caller just read or wrote it.
 */
export async function recordFailure(
  deps: FulfilmentDeps,
  key: string,
  sessionId: string | null,
  reason: string,
  by: Actor,
  current?: LedgerRecord,
): Promise<ActionResult> {
  const now = deps.now();
  const existing = current ?? (await deps.ledger.get(key));
  const settled = settledResult(existing);
  if (settled) return settled;
  const base = existing ?? emptyRecord(sessionId, now);
  const failed: LedgerRecord = { ...base, state: "failed", reason, updatedAt: now, by };
  const written = await deps.ledger.put(key, existing?.state ?? "absent", failed);
  deps.log("order.failed", { level: "error", sessionId, key: sessionId ? undefined : key, reason, by });
  if (deps.merchantEmail && base.emails.alert === undefined) {
    try {
      const alert = renderFailureAlert({ sessionId, key, reason }, deps.shop);
      const { id } = await deps.mailer.send(
        { to: deps.merchantEmail, ...alert },
        emailKey("alert", `${key}-${reason}`),
      );
      // Recorded so a redelivery of the same poison event does not alert again.
      if (written)
        await deps.ledger.put(key, "failed", {
          ...failed,
          emails: { ...failed.emails, alert: id ?? "accepted" },
        });
    } catch (error) {
      // The failure is recorded either way; email itself may be what is broken.
      deps.log("order.alert_failed", {
        level: "error",
        sessionId,
        reason: reasonOf(error, "unknown"),
      });
    }
  }
  return { outcome: "failed", reason };
}

/** The merchant's `retry`: re-runs a failed (or unfinished) order. */
export function retryOrder(session: SessionPayload, deps: FulfilmentDeps): Promise<ActionResult> {
  return fulfilOrder(session, deps, { by: "merchant", retryFailed: true, fresh: true });
}

/** A session that can never be fulfilled as sent, recorded as failed (and alerted); undefined when it can. */
async function refuseUnusable(
  session: SessionPayload,
  deps: FulfilmentDeps,
  by: Actor,
): Promise<ActionResult | undefined> {
  const problem = sessionProblem(session);
  return problem ? recordFailure(deps, sessionKey(session.id), usableId(session), problem, by) : undefined;
}

/** What a repeat of a settled order answers: nothing is sent again once fulfilled, refunded or disputed. */
function settledResult(record: LedgerRecord | undefined): ActionResult | undefined {
  if (record?.state === "fulfilled") return { outcome: "duplicate", reason: "already_fulfilled" };
  if (record?.state === "refunded" || record?.state === "disputed")
    return { outcome: "ignored", reason: `order_${record.state}` };
  return undefined;
}

/**
 * What a download and a refund look up later: the files delivered and the PaymentIntent that paid (when it has
 * Stripe's format). Absent fields stay absent, so orders without files keep their records as before.
 */
function delivered(session: SessionPayload, files: ReturnType<typeof orderFiles>): Partial<LedgerRecord> {
  const value =
    typeof session.payment_intent === "object" ? session.payment_intent?.id : session.payment_intent;
  return {
    ...(files.length > 0 && { files: files.map(({ id, name, productId }) => ({ id, name, productId })) }),
    ...(typeof value === "string" && PAYMENT_INTENT_ID.test(value) && { paymentIntent: value }),
  };
}

/** The session id when it has Stripe's format (it may then be logged and stored), else null. */
function usableId(session: SessionPayload): string | null {
  return sessionKey(session.id) === session.id ? session.id : null;
}

/**
 * Writes the record if the stored state is still `expected`; otherwise another path changed the order under our
 * claim (its claim had expired), and the caller's retry looks again.
 */
export async function putExpected(
  deps: FulfilmentDeps,
  key: string,
  expected: OrderState | "absent",
  record: LedgerRecord,
  extra?: LedgerExtras,
): Promise<void> {
  // A move the model forbids is a bug here, not a race: fail loudly instead of retrying it forever.
  if (!canTransition(expected, record.state))
    throw new Error(`ledger: ${expected} -> ${record.state} is not allowed`);
  if (!(await deps.ledger.put(key, expected, record, extra)))
    throw new InProgressError("ledger changed underneath");
}

/** Runs `work` while holding the order's claim; another holder makes it throw InProgressError. */
export async function withClaim(
  deps: FulfilmentDeps,
  key: string,
  work: () => Promise<ActionResult>,
): Promise<ActionResult> {
  const claim = await deps.claims.claim(claimKey(key), CLAIM_TTL_SECONDS);
  if (claim.state === "busy") throw new InProgressError(`${key} is being processed`);
  try {
    return await work();
  } finally {
    try {
      await deps.claims.release(claimKey(key), claim.token);
    } catch {
      // The store is failing too; the claim expires after CLAIM_TTL_SECONDS and a retry proceeds then.
      deps.log("claim.release_failed", { key });
    }
  }
}

type EmailSlot = "receipt" | "notice";

function orderEmails(
  order: Order,
  deps: FulfilmentDeps,
  files: ReturnType<typeof orderFiles>,
  nowMs: number,
): [EmailSlot, OutgoingEmail][] {
  const emails: [EmailSlot, OutgoingEmail][] = [];
  const links =
    files.length > 0 && deps.downloadSecret
      ? downloadLinks(order.sessionId, files, deps.shop, deps.downloadSecret, nowMs)
      : undefined;
  if (order.customerEmail)
    emails.push([
      "receipt",
      { to: order.customerEmail, replyTo: deps.shop.supportEmail, ...renderReceipt(order, deps.shop, links) },
    ]);
  if (deps.merchantEmail)
    emails.push(["notice", { to: deps.merchantEmail, ...renderMerchantNotice(order, deps.shop) }]);
  return emails;
}

/** The keyed hash the order is found by on its customer's own page (never the address itself), when it can have one. */
function customerOf(order: Order, deps: FulfilmentDeps): string | undefined {
  return order.customerEmail && deps.downloadSecret
    ? customerHash(order.customerEmail, deps.downloadSecret)
    : undefined;
}

/** What counting stock takes: the shop's catalog and sales store, the oversold email, the log. */
function stockDeps(deps: FulfilmentDeps, stock: NonNullable<FulfilmentDeps["stock"]>): SalesDeps {
  return { ...stock, notifier: oversoldNotifier(deps), log: deps.log };
}

/** The merchant hears once that a run sold more than its stock: one queued email, named by the run and the stock. */
function oversoldNotifier(deps: FulfilmentDeps): OversoldNotifier {
  return {
    async notifyOversold(productId, run, sold, stock) {
      if (!deps.merchantEmail) return;
      const productName = deps.stock?.catalog.products.find((product) => product.id === productId)?.name;
      await deps.mailer.send(
        {
          to: deps.merchantEmail,
          ...renderOversoldAlert(
            { productId, productName: productName ?? productId, sold, stock },
            deps.shop,
          ),
        },
        emailKey("oversold", `${run}-${stock}`),
      );
    },
  };
}
