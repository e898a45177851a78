/** Fulfilment actions on a Checkout Session, each done at most once per session. */

import {
  renderMerchantNotice,
  renderPaymentFailed,
  renderReceipt,
  type ShopInfo,
} from "../email/templates.ts";
import type { Logger } from "../log.ts";
import { type OnceResult, once } from "./once.ts";
import { customerEmailOf, type LineItemPayload, type Order, type SessionPayload, toOrder } from "./order.ts";
import type { ClaimStore, LineItemSource, Mailer, OutgoingEmail } from "./ports.ts";

/** What fulfilment needs, injected. */
export interface FulfilmentDeps {
  store: ClaimStore;
  lineItems: LineItemSource;
  mailer: Mailer;
  shop: ShopInfo;
  /** Receives a new-order notification when set. */
  merchantEmail: string | undefined;
  log: Logger;
}

/** Redis keys. One namespace so a shared database stays readable. */
export const keys = {
  event: (eventId: string) => `linkshop:event:${eventId}`,
  order: (sessionId: string) => `linkshop:order:${sessionId}`,
  paymentFailed: (sessionId: string) => `linkshop:payment-failed:${sessionId}`,
};

/** How an action ended when it ran: a short, log-safe reason. */
export type ActionResult = OnceResult<{ reason: string }>;

/**
 * Sends the receipt and the merchant notification for a paid session, once per session, whichever event or
 * request gets here first. Lists every line item (one Stripe call for up to 100 items) unless the caller
 * already has them.
 */
export function fulfilOrder(
  session: SessionPayload,
  deps: FulfilmentDeps,
  lineItems?: LineItemPayload[],
): Promise<ActionResult> {
  return once(
    deps.store,
    keys.order(session.id),
    async () => {
      const order = toOrder(session, lineItems ?? (await deps.lineItems.listLineItems(session.id)));
      const emails = orderEmails(order, deps);
      // The idempotency key is derived from the session, so a crash between "accepted" and "done" cannot send twice.
      if (emails.length > 0) await deps.mailer.send(emails, `linkshop-order-${session.id}`);
      if (!order.customerEmail) return { reason: "no_customer_email" };
      return { reason: "emails_sent" };
    },
    deps.log,
  );
}

/** Tells the customer, once, that their delayed payment failed and how to try again. */
export function notifyPaymentFailed(session: SessionPayload, deps: FulfilmentDeps): Promise<ActionResult> {
  return once(
    deps.store,
    keys.paymentFailed(session.id),
    async () => {
      const to = customerEmailOf(session);
      if (!to) return { reason: "no_customer_email" };
      const notice = renderPaymentFailed(
        { sessionId: session.id, currency: session.currency ?? "usd", total: session.amount_total ?? 0 },
        deps.shop,
      );
      await deps.mailer.send([{ to, ...notice }], `linkshop-payment-failed-${session.id}`);
      return { reason: "payment_failed_email_sent" };
    },
    deps.log,
  );
}

function orderEmails(order: Order, deps: FulfilmentDeps): OutgoingEmail[] {
  const emails: OutgoingEmail[] = [];
  if (order.customerEmail) emails.push({ to: order.customerEmail, ...renderReceipt(order, deps.shop) });
  if (deps.merchantEmail) emails.push({ to: deps.merchantEmail, ...renderMerchantNotice(order, deps.shop) });
  return emails;
}
