/** Our own order model, mapped once from Stripe's Checkout Session and line items. Everything downstream reads it. */
import type Stripe from "stripe";

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
  /** Where the buyer gets a digital good (product metadata `download_url`); only http(s) links survive. */
  deliveryUrl: string | undefined;
}

/** A postal address already split into printable lines. */
export interface ShippingAddress {
  name: string | undefined;
  lines: string[];
}

/** A paid order, ready to render. All amounts in minor units of `currency`. */
export interface Order {
  sessionId: string;
  /** Lowercase ISO code as Stripe sends it, e.g. `usd`, `jpy`. */
  currency: string;
  customerEmail: string | undefined;
  customerName: string | undefined;
  items: OrderItem[];
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
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
  return {
    sessionId: session.id,
    currency: (session.currency ?? lineItems[0]?.currency ?? "usd").toLowerCase(),
    customerEmail: customerEmailOf(session),
    customerName: session.customer_details?.name || undefined,
    items,
    subtotal,
    discount: totals?.amount_discount ?? 0,
    shipping: totals?.amount_shipping ?? 0,
    tax: totals?.amount_tax ?? 0,
    total: session.amount_total ?? subtotal,
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
    deliveryUrl: safeHttpUrl(liveProduct?.metadata?.download_url),
  };
}

function toShippingAddress(details: ShippingPayload | null | undefined): ShippingAddress | undefined {
  const address = details?.address;
  if (!address) return undefined;
  const cityLine = [address.postal_code, address.city, address.state].filter(Boolean).join(" ");
  const lines = [address.line1, address.line2, cityLine, address.country].filter((line): line is string =>
    Boolean(line),
  );
  return lines.length > 0 ? { name: details.name || undefined, lines } : undefined;
}

/** Metadata is merchant-editable free text: only absolute http(s) URLs may become links. */
function safeHttpUrl(value: string | undefined): string | undefined {
  if (!value || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
}
