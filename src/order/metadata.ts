/** Metadata keys Linkshop writes on Stripe objects: its own copy of facts, readable in the Dashboard. */

/**
 * Marks the catalog's Products and Payment Links with the catalog product id (set by `npm run catalog:sync`);
 * Stripe copies a link's metadata onto its Checkout Sessions, so it also marks this shop's orders.
 */
export const SHOP_MARKER = "linkshop_id";
/** Written on a session once its emails were accepted (ISO time): "fulfilled" that survives losing Redis. */
export const FULFILLED_MARKER = "linkshop_fulfilled_at";
/** Written with FULFILLED_MARKER: the order number, so the Dashboard's search finds the session by it. */
export const ORDER_NUMBER_KEY = "linkshop_order";
