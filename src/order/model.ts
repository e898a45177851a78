/** Our own order model, mapped once from Stripe's Checkout Session and line items. Everything downstream reads it. */
import type Stripe from "stripe";
import { orderNumber } from "./number.ts";

/**
 * The parts of a Checkout Session we read. Stripe's payloads vary across API versions (older ones carry top-level
 * `shipping_details`, lack `collected_information`, ...), so every field is treated as possibly absent.
 */
export type SessionPayload = Pick<Stripe.Checkout.Session, "id"> &
  Partial<
    Pick<
      Stripe.Checkout.Session,
      | "object"
      | "mode"
      | "status"
      | "payment_status"
      | "currency"
      | "amount_subtotal"
      | "amount_total"
      | "customer_email"
      | "livemode"
      | "created"
    >
  > & {
    /** Copied by Stripe from the Payment Link; `linkshop_id` marks this shop's links, `linkshop_fulfilled_at` a done order. */
    metadata?: Record<string, string> | null;
    /** The PaymentIntent (`pi_...`) or its expanded object; null in setup mode and before a delayed payment. */
    payment_intent?: string | { id: string } | null;
    /** The Payment Link id (`plink_...`) or its expanded object; null for sessions created through the API. */
    payment_link?: string | { id: string } | null;
    customer_details?: { email?: string | null; name?: string | null } | null;
    total_details?: { amount_discount?: number; amount_shipping?: number | null; amount_tax?: number } | null;
    collected_information?: { shipping_details?: ShippingPayload | null } | null;
    /** Top-level in API versions 2022-08-01 to 2025-03-31. */
    shipping_details?: ShippingPayload | null;
    /** Its name in API versions before 2022-08-01. */
    shipping?: ShippingPayload | null;
  };

interface ShippingPayload {
  name?: string | null;
  address?: Partial<
    Record<"line1" | "line2" | "city" | "state" | "postal_code" | "country", string | null>
  > | null;
}

/** A line item as listed with `expand: ["data.price.product"]`; the product may be an id or deleted. */
export type LineItemPayload = Pick<Stripe.LineItem, "quantity" | "amount_subtotal" | "amount_total"> & {
  description?: string | null;
  currency?: string;
  price?: {
    unit_amount?: number | null;
    product?: string | { deleted?: true; name?: string; metadata?: Record<string, string> } | null;
  } | null;
};

/** One line of an order. Amounts in minor units (cents) of the order's currency. */
export interface OrderItem {
  name: string;
  quantity: number;
  unitAmount: number;
  /** Quantity x unit, before discounts and tax. */
  amount: number;
  /** The catalog product id (product metadata `linkshop_id`), which names its pictures and files; undefined for others. */
  productId: string | undefined;
}

/** A postal address as Stripe collected it; formatted for print by the renderers, in the country's own order. */
export interface ShippingAddress {
  name: string | undefined;
  line1: string | undefined;
  line2: string | undefined;
  city: string | undefined;
  state: string | undefined;
  postalCode: string | undefined;
  /** ISO 3166-1 alpha-2, uppercase; undefined when Stripe sent none. */
  country: string | undefined;
}

/** A paid order, ready to render. All amounts in minor units of `currency`. */
export interface Order {
  sessionId: string;
  /** What the customer quotes: derived from `sessionId` (see orderNumber()). */
  orderNumber: string;
  /** When the customer checked out (the session's creation), ms since the epoch; undefined when not sent. */
  createdAt: number | undefined;
  /** Lowercase ISO code as Stripe sends it, e.g. `usd`, `jpy`. */
  currency: string;
  customerEmail: string | undefined;
  customerName: string | undefined;
  items: OrderItem[];
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  /** True when `tax` is already inside the prices (inclusive tax): it is then shown, not added. */
  taxIncluded: boolean;
  total: number;
  shippingAddress: ShippingAddress | undefined;
  livemode: boolean;
}

/** The email address Stripe collected for this session, if any. */
export function customerEmailOf(session: SessionPayload): string | undefined {
  return session.customer_details?.email || session.customer_email || undefined;
}

/** Maps a session and all its line items into an Order. Pure. */
export function toOrder(session: SessionPayload, lineItems: LineItemPayload[]): Order {
  const items = lineItems.map(toOrderItem);
  const subtotal = session.amount_subtotal ?? items.reduce((sum, item) => sum + item.amount, 0);
  const totals = session.total_details;
  const discount = totals?.amount_discount ?? 0;
  const shipping = totals?.amount_shipping ?? 0;
  const tax = totals?.amount_tax ?? 0;
  const total = session.amount_total ?? subtotal;
  return {
    sessionId: session.id,
    orderNumber: orderNumber(session.id),
    createdAt: typeof session.created === "number" ? session.created * 1000 : undefined,
    currency: (session.currency ?? lineItems[0]?.currency ?? "usd").toLowerCase(),
    customerEmail: customerEmailOf(session),
    customerName: session.customer_details?.name || undefined,
    items,
    subtotal,
    discount,
    shipping,
    tax,
    // Stripe reports inclusive and exclusive tax alike in amount_tax; inclusive tax is the one the total leaves out.
    taxIncluded: tax > 0 && subtotal - discount + shipping === total,
    total,
    shippingAddress: toShippingAddress(
      session.collected_information?.shipping_details ?? session.shipping_details ?? session.shipping,
    ),
    livemode: session.livemode ?? false,
  };
}

function toOrderItem(item: LineItemPayload): OrderItem {
  const quantity = item.quantity ?? 1;
  const product = typeof item.price?.product === "object" ? item.price.product : undefined;
  const liveProduct = product && !product.deleted ? product : undefined;
  const unitAmount = item.price?.unit_amount ?? Math.round(item.amount_subtotal / Math.max(quantity, 1));
  return {
    // Deleted products and unexpanded ids carry no name; the line item's description is Stripe's own copy of it.
    name: liveProduct?.name || item.description || "Item",
    quantity,
    unitAmount,
    amount: item.amount_subtotal,
    productId: liveProduct?.metadata?.linkshop_id || undefined,
  };
}

function toShippingAddress(details: ShippingPayload | null | undefined): ShippingAddress | undefined {
  const address = details?.address;
  if (!address) return undefined;
  const field = (value: string | null | undefined) =>
    (typeof value === "string" && value.trim()) || undefined;
  const country = field(address.country)?.toUpperCase();
  const result: ShippingAddress = {
    name: field(details.name),
    line1: field(address.line1),
    line2: field(address.line2),
    city: field(address.city),
    state: field(address.state),
    postalCode: field(address.postal_code),
    country: country && /^[A-Z]{2}$/.test(country) ? country : undefined,
  };
  const { name: _name, ...place } = result;
  return Object.values(place).some(Boolean) ? result : undefined;
}
