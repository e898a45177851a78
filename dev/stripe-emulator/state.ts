// In-memory store of every emulated object, plus rendering, lookups, expansion and event recording.
import { resourceMissing } from "./errors.ts";
import { type ExpandResolver, paginate } from "./lists.ts";
import {
  type ChargeObject,
  type CheckoutSessionObject,
  type DisputeObject,
  type EventObject,
  type LineItemObject,
  type LineItemRecord,
  newId,
  type PaymentIntentObject,
  type PaymentLinkObject,
  type PaymentMethodObject,
  type PaymentSource,
  type PriceObject,
  type ProductObject,
  type RefundObject,
  unixNow,
  type WebhookEndpointObject,
} from "./objects.ts";
import { Params } from "./params.ts";

/** Who caused an event: an API request (with its idempotency key) or a customer/automatic action (nulls). */
export interface RequestInfo {
  id: string | null;
  idempotencyKey: string | null;
}

/** A customer or timer action, not an API request: events carry `request: { id: null, ... }`. */
export const NO_REQUEST: RequestInfo = { id: null, idempotencyKey: null };

export interface PaymentLinkRecord {
  link: PaymentLinkObject;
  lineItems: LineItemRecord[];
  /** Checkout Sessions completed on the link, limit or not (what `restrictions.completed_sessions.count` reports). */
  completedSessions?: number;
}

export interface SessionRecord {
  session: CheckoutSessionObject;
  lineItems: LineItemRecord[];
  /** For sessions paid with a delayed method: whether its result event has come yet, and which. */
  delayedPayment?: "pending" | "succeeded" | "failed";
  /** The payment link's `?prefilled_email=`: what the hosted page's email field starts with (the customer may change it). */
  prefilledEmail?: string;
}

export interface WebhookEndpointRecord {
  endpoint: WebhookEndpointObject;
  /** whsec_... signing secret; returned by the API only on create. */
  secret: string;
}

/** Amount in minor units for `quantity` of `price`; fractional `unit_amount_decimal` rounds per line. */
export function lineAmount(price: PriceObject, quantity: number): number {
  return Math.round(Number(price.unit_amount_decimal) * quantity);
}

/** Called for every recorded event, e.g. to queue webhook deliveries. */
export type EventListener = (event: EventObject) => void;

/** The object under `id`, or Stripe's `resource_missing` error naming it (see `resourceMissing`). */
function found<T>(
  objects: Map<string, T>,
  objectName: string,
  id: string,
  param?: string,
  status?: number,
): T {
  const object = objects.get(id);
  if (object === undefined) throw resourceMissing(objectName, id, param, status);
  return object;
}

/** All emulator state. Maps keep insertion order, which is creation order. */
export class EmulatorState {
  readonly products = new Map<string, ProductObject>();
  readonly prices = new Map<string, PriceObject>();
  readonly paymentLinks = new Map<string, PaymentLinkRecord>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly events = new Map<string, EventObject>();
  readonly webhookEndpoints = new Map<string, WebhookEndpointRecord>();
  readonly paymentMethods = new Map<string, PaymentMethodObject>();
  /** A SEPA PaymentMethod's full IBAN (the object shows its last four only), which decides the debit's result. */
  readonly paymentMethodIbans = new Map<string, string>();
  readonly paymentIntents = new Map<string, PaymentIntentObject>();
  readonly charges = new Map<string, ChargeObject>();
  /** How a PaymentIntent that has no Charge yet is being paid; dropped once it settles. */
  readonly paymentSources = new Map<string, PaymentSource>();
  /** The emulator's own origin, e.g. http://127.0.0.1:12111; known once the server listens. */
  baseUrl = "";
  readonly apiVersion: string;
  readonly refunds = new Map<string, RefundObject>();
  readonly disputes = new Map<string, DisputeObject>();
  /**
   * PaymentMethods made from Stripe's dispute test cards (`pm_card_createDispute`, `..._createDisputeInquiry`): a
   * charge they pay is disputed right after it succeeds, as a fraud chargeback or as an inquiry.
   */
  readonly disputingMethods = new Map<string, "chargeback" | "inquiry">();
  readonly #listeners: EventListener[] = [];

  constructor(apiVersion: string) {
    this.apiVersion = apiVersion;
  }

  onEvent(listener: EventListener): void {
    this.#listeners.push(listener);
  }

  /** Records an event with a snapshot of `object` and notifies listeners (webhook delivery). */
  emit(
    type: string,
    object: object,
    request: RequestInfo,
    previousAttributes?: Record<string, unknown>,
  ): EventObject {
    const data: EventObject["data"] = { object: structuredClone(object) as EventObject["data"]["object"] };
    if (previousAttributes !== undefined) {
      data.previous_attributes = structuredClone(previousAttributes) as EventObject["data"]["object"];
    }
    const event: EventObject = {
      id: newId("evt"),
      object: "event",
      api_version: this.apiVersion,
      created: unixNow(),
      data,
      livemode: false,
      pending_webhooks: 0,
      request: { id: request.id, idempotency_key: request.idempotencyKey },
      type,
    };
    this.events.set(event.id, event);
    for (const listener of this.#listeners) listener(event);
    return event;
  }

  product(id: string, param = "id", status = 404): ProductObject {
    return found(this.products, "product", id, param, status);
  }

  price(id: string, param = "id", status = 404): PriceObject {
    return found(this.prices, "price", id, param, status);
  }

  paymentLink(id: string, param = "id", status = 404): PaymentLinkRecord {
    return found(this.paymentLinks, "payment_link", id, param, status);
  }

  session(id: string, param = "session", status = 404): SessionRecord {
    return found(this.sessions, "checkout.session", id, param, status);
  }

  paymentIntent(id: string): PaymentIntentObject {
    return found(this.paymentIntents, "payment_intent", id, "intent");
  }

  charge(id: string, param = "id", status = 404): ChargeObject {
    return found(this.charges, "charge", id, param, status);
  }

  refund(id: string): RefundObject {
    return found(this.refunds, "refund", id);
  }

  dispute(id: string): DisputeObject {
    return found(this.disputes, "dispute", id);
  }

  event(id: string): EventObject {
    return found(this.events, "event", id);
  }

  webhookEndpoint(id: string): WebhookEndpointRecord {
    return found(this.webhookEndpoints, "webhook_endpoint", id);
  }

  /** A line item as the API shows it, with the current price object and its product's name. */
  renderLineItem(record: LineItemRecord): LineItemObject {
    const price = this.price(record.price);
    const amount = lineAmount(price, record.quantity);
    return {
      id: record.id,
      object: "item",
      adjustable_quantity: record.adjustable_quantity === null ? null : { ...record.adjustable_quantity },
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: price.currency,
      description: this.products.get(price.product)?.name ?? "",
      metadata: null,
      price: structuredClone(price),
      quantity: record.quantity,
    };
  }

  /**
   * Resolves `expand[]` fields: ids of products, prices, payment links, PaymentIntents, Charges and PaymentMethods,
   * and sessions' `line_items`.
   */
  readonly resolveExpand: ExpandResolver = (parent, field, current) => {
    if (field === "line_items" && current === undefined) {
      if (typeof parent.id !== "string") return undefined;
      const owner =
        parent.object === "checkout.session"
          ? { record: this.session(parent.id), path: "checkout/sessions" }
          : parent.object === "payment_link"
            ? { record: this.paymentLink(parent.id), path: "payment_links" }
            : undefined;
      if (!owner) return undefined;
      return paginate(
        owner.record.lineItems.map((item) => this.renderLineItem(item)),
        new Params({ limit: "10" }, ""),
        `/v1/${owner.path}/${parent.id}/line_items`,
        "item",
      );
    }
    if (typeof current !== "string") return undefined;
    if (field === "product" && current.startsWith("prod_")) {
      return structuredClone(this.product(current));
    }
    if ((field === "price" || field === "default_price") && current.startsWith("price_")) {
      return structuredClone(this.price(current));
    }
    if (field === "payment_link" && current.startsWith("plink_")) {
      return structuredClone(this.paymentLink(current).link);
    }
    if (field === "payment_intent" && current.startsWith("pi_")) {
      return structuredClone(this.paymentIntent(current));
    }
    if ((field === "charge" || field === "latest_charge") && current.startsWith("ch_")) {
      return structuredClone(this.charge(current));
    }
    if (field === "payment_method" && current.startsWith("pm_")) {
      const method = this.paymentMethods.get(current);
      return method && structuredClone(method);
    }
    return undefined;
  };
}
