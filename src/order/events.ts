/** The Stripe events the shop acts on, and where Stripe delivers them. */

/**
 * The event types the webhook routes (src/webhook/route.ts), and exactly those `npm run stripe:webhook` subscribes:
 * completed covers card payments; the async pair covers delayed methods (bank debits) that clear or fail later;
 * a refund or a dispute cuts (and a won dispute restores) access to the order's files. `checkout.session.expired`
 * is left out on purpose: an expired session has nothing to fulfil.
 */
export const HANDLED_EVENTS = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "checkout.session.async_payment_failed",
  "charge.refunded",
  "charge.dispute.created",
  "charge.dispute.closed",
] as const;

/** One of the handled event types. */
export type HandledEventType = (typeof HANDLED_EVENTS)[number];

/** Path of the webhook function on the site; the endpoint URL is `<site URL><WEBHOOK_PATH>`. */
export const WEBHOOK_PATH = "/api/stripe-webhook";
