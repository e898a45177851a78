/**
 * Refunds and disputes of an order: recorded in the ledger (cutting or restoring access to its files), told to the
 * merchant and, for refunds, to the customer, each notice once however often Stripe redelivers.
 */
import {
  type DisputeNotice,
  type RefundNotice,
  renderDisputeNotice,
  renderRefundConfirmation,
  renderRefundNotice,
} from "../email/templates.ts";
import { PermanentError } from "../lib/errors.ts";
import { emptyRecord, type LedgerRecord, type OrderState } from "../order/ledger.ts";
import type { ChargeRefund, DisputeChange } from "../order/payments.ts";
import { emailKey, inScope, isCustomerEmail, SESSION_ID, sessionKey } from "../order/session.ts";
import { type ActionResult, type FulfilmentDeps, putExpected, withClaim } from "./fulfil.ts";
import { updateRecord } from "./records.ts";

/**
 * The ledger key of the order a PaymentIntent paid: from the ledger's own index when fulfilment recorded it (no
 * Stripe call), otherwise one Stripe lookup. Undefined when the payment is not one of this shop's orders.
 */
async function orderOf(paymentIntent: string, deps: FulfilmentDeps): Promise<string | undefined> {
  const known = await deps.ledger.findByPaymentIntent(paymentIntent);
  if (known) return known;
  const session = await deps.sessions.findByPaymentIntent(paymentIntent);
  if (!session || !inScope(session, deps.scope)) return undefined;
  return sessionKey(session.id);
}

/**
 * Records a refund: a full one (or a partial one, when the catalog says so) turns the order `refunded`, which cuts
 * its downloads and stops every later fulfilment. The merchant gets a notice and the customer a confirmation, once
 * per refunded amount.
 */
export async function recordRefund(refund: ChargeRefund, deps: FulfilmentDeps): Promise<ActionResult> {
  const key = await orderOf(refund.paymentIntent, deps);
  if (!key) return { outcome: "ignored", reason: "not_this_shop" };
  return withClaim(deps, key, async () => {
    const existing = await deps.ledger.get(key);
    const revoke = refund.full || deps.shop.downloads.revokeOnPartialRefund;
    const name = `refund-${refund.chargeId}-${refund.amountRefunded}`;
    const base = existing ?? blank(key, deps.now());
    const state: OrderState = revoke ? "refunded" : base.state;
    const hasFiles = (existing?.files?.length ?? 0) > 0;
    const notice: RefundNotice = {
      sessionId: key,
      paymentIntent: refund.paymentIntent,
      currency: refund.currency,
      amountRefunded: refund.amountRefunded,
      amount: refund.amount,
      full: refund.full,
      accessRevoked: hasFiles ? revoke || base.state === "refunded" : undefined,
      livemode: refund.livemode,
    };
    const record: LedgerRecord = {
      ...base,
      state,
      paymentIntent: refund.paymentIntent,
      refund: {
        amountRefunded: refund.amountRefunded,
        amount: refund.amount,
        full: refund.full,
        revoked: notice.accessRevoked ?? revoke,
      },
      updatedAt: deps.now(),
      by: "webhook",
    };
    // Without a record and without a change of access there is nothing for the ledger to keep.
    if (existing || revoke) {
      await putExpected(deps, key, existing?.state ?? "absent", record);
    }
    if (existing?.notices?.includes(name)) return { outcome: "duplicate", reason: "refund_already_recorded" };

    const sent = await sendNotices(deps, key, name, [
      deps.merchantEmail && { to: deps.merchantEmail, ...renderRefundNotice(notice, deps.shop) },
      deps.shop.refundConfirmations &&
        isCustomerEmail(refund.customerEmail) && {
          to: refund.customerEmail,
          replyTo: deps.shop.supportEmail,
          ...renderRefundConfirmation(notice, deps.shop),
        },
    ]);
    if (existing || revoke) await recordNotice(deps, key, name);
    deps.log("order.refunded", { sessionId: key, full: refund.full, revoked: revoke, notices: sent });
    return { outcome: "fulfilled", reason: revoke ? "refunded_access_revoked" : "refunded_access_kept" };
  });
}

/**
 * Records a dispute: an open one turns the order `disputed` (downloads cut until it is resolved); one closed in the
 * shop's favour restores the state it had; a lost one stays `disputed`. The merchant hears of each change once.
 */
export async function recordDispute(change: DisputeChange, deps: FulfilmentDeps): Promise<ActionResult> {
  const key = await orderOf(change.paymentIntent, deps);
  if (!key) return { outcome: "ignored", reason: "not_this_shop" };
  return withClaim(deps, key, async () => {
    const existing = await deps.ledger.get(key);
    const outcome: DisputeNotice["status"] = !change.closed
      ? "opened"
      : change.status === "won"
        ? "won"
        : "lost";
    const name = `dispute-${change.disputeId}-${outcome}`;
    const base = existing ?? blank(key, deps.now());
    // The state before the dispute: kept from when it opened, so a redelivery does not forget it.
    const previous: OrderState =
      existing?.dispute?.id === change.disputeId ? existing.dispute.previous : base.state;
    let state: OrderState = "disputed";
    let reason = base.reason;
    // Won: a fulfilled order is fulfilled again; one that never was waits for the merchant (`orders -- retry`).
    if (outcome === "won") {
      state = previous === "fulfilled" ? "fulfilled" : "failed";
      if (state === "failed") reason = "dispute_won_not_fulfilled";
    }
    if (base.state === "refunded") state = "refunded";
    const record: LedgerRecord = {
      ...base,
      state,
      paymentIntent: change.paymentIntent,
      reason,
      dispute: { id: change.disputeId, status: change.status, reason: change.reason, previous },
      updatedAt: deps.now(),
      by: "webhook",
    };
    await putExpected(deps, key, existing?.state ?? "absent", record);
    if (existing?.notices?.includes(name))
      return { outcome: "duplicate", reason: "dispute_already_recorded" };

    const notice: DisputeNotice = {
      sessionId: key,
      disputeId: change.disputeId,
      currency: change.currency,
      amount: change.amount,
      status: outcome,
      reason: change.reason,
      dueBy: outcome === "opened" ? change.dueBy : undefined,
      livemode: change.livemode,
    };
    const sent = await sendNotices(deps, key, name, [
      deps.merchantEmail && { to: deps.merchantEmail, ...renderDisputeNotice(notice, deps.shop) },
    ]);
    await recordNotice(deps, key, name);
    deps.log("order.disputed", { sessionId: key, status: outcome, notices: sent });
    return { outcome: "fulfilled", reason: `dispute_${outcome}` };
  });
}

/**
 * Records that the notices named `name` went out, on the order's record as it is now: while they were being queued
 * the mail drain may have recorded an email of the order as sent, which a copy read before would erase.
 */
async function recordNotice(deps: FulfilmentDeps, key: string, name: string): Promise<void> {
  await updateRecord(deps.ledger, key, (current) =>
    current.notices?.includes(name)
      ? undefined
      : { record: { ...current, notices: [...(current.notices ?? []), name], updatedAt: deps.now() } },
  );
}

/**
 * A record for an order the ledger never saw (fulfilled before the ledger existed, or lost with it): `failed`, so
 * only the merchant may send anything for it.
 */
function blank(key: string, now: number): LedgerRecord {
  return {
    ...emptyRecord(SESSION_ID.test(key) ? key : null, now),
    state: "failed",
    reason: "unknown_before_refund",
  };
}

type Notice = { to: string; replyTo?: string; subject: string; html: string; text: string };

/**
 * Sends the notices of one event, each with an idempotency key of its own. A notice no retry can deliver is logged
 * and skipped: the ledger change it reports stands either way. Returns how many were accepted.
 */
async function sendNotices(
  deps: FulfilmentDeps,
  key: string,
  name: string,
  notices: (Notice | false | undefined | "")[],
): Promise<number> {
  let sent = 0;
  for (const [index, notice] of notices.entries()) {
    if (!notice) continue;
    try {
      await deps.mailer.send(notice, emailKey(`${name}-${index}`, key));
      sent += 1;
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      deps.log("order.notice_failed", { level: "error", sessionId: key, notice: name, reason: error.reason });
    }
  }
  return sent;
}
