/**
 * Stock as the shop counts it: each newly paid order of a product with `stock` is counted once, the storefront asks
 * which products are sold out, and the merchant hears once when a run sells more than its stock.
 */
import { reasonOf } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { SHOP_MARKER } from "../order/metadata.ts";
import type { Order, SessionPayload } from "../order/model.ts";
import { orderNumber } from "../order/number.ts";
import type { Catalog, Product } from "../shop/catalog.ts";

/**
 * A run: one product at one price, `<product id>:<currency>:<unit amount>`. A price is sold by one Payment Link (a
 * new price makes a new link), and Stripe counts a link's checkouts from its creation, so a new price starts a run.
 */
export function runOf(productId: string, currency: string, unitAmount: number): string {
  return `${productId}:${currency}:${unitAmount}`;
}

/** The run the catalog sells now: its product at its current price. */
export function currentRun(product: Pick<Product, "id" | "price">): string {
  return runOf(product.id, product.price.currency, product.price.amount);
}

/** A sale as the store counted it. */
export interface SaleCount {
  /** Orders of the run, this one included. */
  sold: number;
  /**
   * True for exactly one call once `sold` exceeds the stock (until clearAlert), per stock: the call that must tell
   * the merchant. A retry of the same order counts nothing twice but can still carry the alert; a run oversold
   * again after the merchant raised its stock alerts again.
   */
  alert: boolean;
}

/** The shop's own sales count per run; never expires. */
export interface SalesStore {
  /** Counts `orderKey` in `run` once, however often it is recorded. */
  record(run: string, orderKey: string, stock: number): Promise<SaleCount>;
  /** Takes back the alert of `run` at `stock` when it could not be queued, so the next record carries it again. */
  clearAlert(run: string, stock: number): Promise<void>;
  /** Orders of each run, 0 for a run without any, in the order asked. */
  counts(runs: string[]): Promise<number[]>;
}

/** Tells the merchant that a product sold more than its stock (one email to MERCHANT_EMAIL, through the outbox). */
export interface OversoldNotifier {
  /** `run` names the email once per run and stock (runOf). */
  notifyOversold(productId: string, run: string, sold: number, stock: number): Promise<void>;
}

/** What recordSales needs. */
export interface SalesDeps {
  catalog: Catalog;
  sales: SalesStore;
  notifier: OversoldNotifier;
  log: Logger;
}

/**
 * Counts a newly paid order against the stock of each product it holds that has one, and tells the merchant the
 * first time a run has more orders than stock (open checkouts can complete past the Payment Link's limit). Call it
 * once per paid order; calling it again for the same order counts nothing twice. Throws StoreUnavailableError when
 * Redis fails, and the notifier's error when the alert could not be queued (it is then retried with the order).
 */
export async function recordSales(order: Order, deps: SalesDeps): Promise<void> {
  for (const item of order.items)
    await countSale(item.productId, order.currency, item.unitAmount, order.orderNumber, deps);
}

/**
 * Counts a completed checkout whose payment has not cleared (a delayed payment method): Stripe's limit counts it
 * already, whether the payment later succeeds or fails, so the shop does too; its fulfilment, if it comes, counts
 * nothing twice. No line items are needed: a product with stock sells one unit through its own Payment Link, whose
 * `linkshop_id` the session carries, so the session's subtotal is the unit price.
 */
export async function recordCheckout(session: SessionPayload, deps: SalesDeps): Promise<void> {
  const productId = session.metadata?.[SHOP_MARKER];
  if (!productId || session.currency == null || session.amount_subtotal == null) return;
  await countSale(productId, session.currency, session.amount_subtotal, orderNumber(session.id), deps);
}

/** Counts one order of a product with stock in its run, and tells the merchant when the run is oversold. */
async function countSale(
  productId: string | undefined,
  currency: string,
  unitAmount: number,
  orderKey: string,
  deps: SalesDeps,
): Promise<void> {
  const { catalog, sales, notifier, log } = deps;
  const product = catalog.products.find((candidate) => candidate.id === productId);
  if (product?.stock === undefined) return;
  const run = runOf(product.id, currency, unitAmount);
  const { sold, alert } = await sales.record(run, orderKey, product.stock);
  if (!alert) return;
  try {
    await notifier.notifyOversold(product.id, run, sold, product.stock);
    log("stock.oversold", { productId: product.id, sold, stock: product.stock });
  } catch (error) {
    await sales.clearAlert(run, product.stock);
    log("stock.alert_failed", { productId: product.id, reason: reasonOf(error, "notify_failed") });
    throw error;
  }
}

/** Ids of the catalog's products whose current run has sold its stock, in catalog order. One store read. */
export async function soldOutProducts(catalog: Catalog, sales: SalesStore): Promise<string[]> {
  const stocked = catalog.products.filter((product) => product.stock !== undefined);
  if (stocked.length === 0) return [];
  const counts = await sales.counts(stocked.map(currentRun));
  return stocked
    .filter((product, index) => (counts[index] ?? 0) >= (product.stock ?? Infinity))
    .map((product) => product.id);
}
