/** The Stripe events the stripe-webhook function acts on; `stripe:webhook` subscribes to exactly these. */

import { HANDLED_EVENTS } from "../webhook/route.ts";

/**
 * Exactly the events the webhook routes (src/webhook/route.ts): completed covers card payments; the async pair
 * covers delayed methods (bank debits) that clear or fail later. `checkout.session.expired` is left out on
 * purpose: an expired session has nothing to fulfil.
 */
export const WEBHOOK_EVENTS = HANDLED_EVENTS;

/** One of the subscribed event types. */
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** Path of the webhook function on the site; the endpoint URL is `<site URL><WEBHOOK_PATH>`. */
export const WEBHOOK_PATH = "/api/stripe-webhook";
