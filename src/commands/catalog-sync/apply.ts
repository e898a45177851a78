/** Catalog sync against the Stripe API: reads the tagged objects into a StripeState and applies a SyncPlan. */
import type Stripe from "stripe";
import { SHOP_MARKER } from "../../order/metadata.ts";
import type {
  LinkSettings,
  LinkState,
  LinkUpdate,
  PriceState,
  ProductState,
  Ref,
  StripeState,
  SyncPlan,
  SyncStep,
} from "./plan.ts";

/** Stripe's largest page; every list below is read to the end through the SDK's auto-pagination. */
const PAGE_SIZE = 100;

type AllowedCountry = Stripe.PaymentLinkCreateParams.ShippingAddressCollection.AllowedCountry;
type ProductCreate = Extract<SyncStep, { kind: "create_product" }>["fields"];
type ProductUpdate = Extract<SyncStep, { kind: "update_product" }>["fields"];
type PriceCreate = Extract<SyncStep, { kind: "create_price" }>;

function toProductState(product: Stripe.Product, linkshopId: string): ProductState {
  return {
    id: product.id,
    linkshopId,
    active: product.active,
    name: product.name,
    description: product.description,
    images: product.images,
    metadata: { ...product.metadata },
    created: product.created,
  };
}

function toPriceState(price: Stripe.Price, productId: string): PriceState {
  const { id, active, currency, unit_amount: unitAmount, lookup_key: lookupKey } = price;
  return { id, productId, active, unitAmount, currency, lookupKey, recurring: price.type === "recurring" };
}

function toLinkState(link: Stripe.PaymentLink, linkshopId: string, items: Stripe.LineItem[]): LinkState {
  return {
    id: link.id,
    linkshopId,
    active: link.active,
    url: link.url,
    redirectUrl:
      link.after_completion.type === "redirect" ? (link.after_completion.redirect?.url ?? null) : null,
    allowPromotionCodes: link.allow_promotion_codes,
    shippingCountries: link.shipping_address_collection
      ? [...link.shipping_address_collection.allowed_countries]
      : null,
    completedSessions: link.restrictions
      ? {
          count: link.restrictions.completed_sessions.count,
          limit: link.restrictions.completed_sessions.limit,
        }
      : null,
    inactiveMessage: link.inactive_message,
    lineItems: items.flatMap((item) =>
      item.price
        ? [
            {
              id: item.id,
              priceId: item.price.id,
              quantity: item.quantity ?? 1,
              adjustableQuantity: item.adjustable_quantity
                ? {
                    enabled: item.adjustable_quantity.enabled,
                    maximum: item.adjustable_quantity.maximum,
                    minimum: item.adjustable_quantity.minimum,
                  }
                : null,
            },
          ]
        : [],
    ),
  };
}

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of pages) items.push(item);
  return items;
}

/**
 * Reads every Product and Payment Link tagged `linkshop_id` (active or not), the Products' Prices and the
 * links' line items. Lists rather than search: search lags behind writes, which would break idempotency.
 */
export async function readStripeState(stripe: Stripe): Promise<StripeState> {
  const products: ProductState[] = [];
  for await (const product of stripe.products.list({ limit: PAGE_SIZE })) {
    const linkshopId = product.metadata?.[SHOP_MARKER];
    if (linkshopId) products.push(toProductState(product, linkshopId));
  }
  const prices: PriceState[] = [];
  for (const product of products) {
    for await (const price of stripe.prices.list({ product: product.id, limit: PAGE_SIZE })) {
      prices.push(toPriceState(price, product.id));
    }
  }
  const links: LinkState[] = [];
  for await (const link of stripe.paymentLinks.list({ limit: PAGE_SIZE })) {
    const linkshopId = link.metadata?.[SHOP_MARKER];
    if (!linkshopId) continue;
    const items = await collect(stripe.paymentLinks.listLineItems(link.id, { limit: PAGE_SIZE }));
    links.push(toLinkState(link, linkshopId, items));
  }
  return { products, prices, links: links.reverse() };
}

function linkCreateParams(
  settings: LinkSettings,
  priceId: string,
  catalogId: string,
): Stripe.PaymentLinkCreateParams {
  return {
    line_items: [
      {
        price: priceId,
        quantity: 1,
        ...(settings.maximumQuantity !== null && {
          adjustable_quantity: { enabled: true, minimum: 1, maximum: settings.maximumQuantity },
        }),
      },
    ],
    after_completion: { type: "redirect", redirect: { url: settings.redirectUrl } },
    allow_promotion_codes: settings.allowPromotionCodes,
    // Payment Link metadata is copied onto every Checkout Session it creates, so the webhook sees linkshop_id.
    metadata: { [SHOP_MARKER]: catalogId },
    ...(settings.shippingCountries !== null && {
      shipping_address_collection: { allowed_countries: settings.shippingCountries as AllowedCountry[] },
    }),
    // Stripe deactivates the link once this many checkouts completed, and then shows the message.
    ...(settings.stock !== null && {
      restrictions: { completed_sessions: { limit: settings.stock.limit } },
      inactive_message: settings.stock.inactiveMessage,
    }),
  };
}

function linkUpdateParams(update: LinkUpdate): Stripe.PaymentLinkUpdateParams {
  const params: Stripe.PaymentLinkUpdateParams = {};
  if (update.active !== undefined) params.active = update.active;
  // An empty string is how Stripe's form encoding clears the limit and the message.
  if (update.limit !== undefined) {
    params.restrictions = update.limit === null ? "" : { completed_sessions: { limit: update.limit } };
  }
  if (update.inactiveMessage !== undefined) params.inactive_message = update.inactiveMessage ?? "";
  if (update.redirectUrl !== undefined) {
    params.after_completion = { type: "redirect", redirect: { url: update.redirectUrl } };
  }
  if (update.allowPromotionCodes !== undefined) params.allow_promotion_codes = update.allowPromotionCodes;
  if (update.shippingCountries !== undefined) {
    // An empty string is how Stripe's form encoding clears an optional object.
    params.shipping_address_collection =
      update.shippingCountries === null
        ? ""
        : { allowed_countries: update.shippingCountries as AllowedCountry[] };
  }
  if (update.quantity) {
    const { lineItemId, maximum } = update.quantity;
    params.line_items = [
      {
        id: lineItemId,
        adjustable_quantity: maximum === null ? { enabled: false } : { enabled: true, minimum: 1, maximum },
      },
    ];
  }
  return params;
}

/** Result of applying a plan: Payment Link URL per catalog id (catalog order). */
export type AppliedLinks = Record<string, string>;

/** A step failed: the steps before it happened. `links` holds the link of every catalog id that has one now. */
export class ApplyError extends Error {
  override readonly name = "ApplyError";
  constructor(
    readonly step: SyncStep,
    /** Steps that succeeded before the failure. */
    readonly applied: number,
    readonly links: AppliedLinks,
    options: { cause: unknown },
  ) {
    super("a Stripe write failed", options);
  }
}

/**
 * Runs the plan's steps in order. `onStep` hears about each step after it succeeded, with the id of the object it
 * created or changed. A failure stops the run with an ApplyError; the next sync plans from whatever state Stripe
 * is in, so it resumes.
 */
export async function applyPlan(
  stripe: Stripe,
  plan: SyncPlan,
  onStep: (step: SyncStep, objectId: string) => void = () => {},
): Promise<AppliedLinks> {
  const createdProducts = new Map<string, string>();
  const createdPrices = new Map<string, string>();
  const createdLinks = new Map<string, string>();
  const resolve = (ref: Ref, created: Map<string, string>, what: string): string => {
    if ("id" in ref) return ref.id;
    const id = created.get(ref.createdFor);
    if (id === undefined)
      throw new Error(`plan bug: ${what} for ${ref.createdFor} is used before it is created`);
    return id;
  };

  // Links the plan reactivates count only once that step is done.
  const inactive = new Set(
    plan.steps.flatMap((step) =>
      step.kind === "update_link" && step.update.active === true ? [step.catalogId] : [],
    ),
  );
  /** Active link per catalog id as far as the plan got: known URLs and links created so far. */
  const linksSoFar = (): AppliedLinks => {
    const links: AppliedLinks = {};
    for (const [catalogId, target] of Object.entries(plan.links)) {
      if (inactive.has(catalogId)) continue;
      const url = "url" in target ? target.url : createdLinks.get(target.createdFor);
      if (url !== undefined) links[catalogId] = url;
    }
    return links;
  };

  let applied = 0;
  for (const step of plan.steps) {
    try {
      const objectId = await applyStep(step);
      if (step.kind === "update_link") inactive.delete(step.catalogId);
      onStep(step, objectId);
    } catch (error) {
      throw new ApplyError(step, applied, linksSoFar(), { cause: error });
    }
    applied += 1;
  }
  return linksSoFar();

  /** Applies one step; resolves to the id of the object it created or changed. */
  async function applyStep(step: SyncStep): Promise<string> {
    switch (step.kind) {
      case "create_product": {
        const product = await stripe.products.create(productCreateParams(step.fields));
        return remember(createdProducts, step.catalogId, product.id);
      }
      case "update_product":
        return updated(stripe.products, step.productId, productUpdateParams(step.fields));
      case "archive_product":
        return updated(stripe.products, step.productId, { active: false });
      case "create_price": {
        const productId = resolve(step.product, createdProducts, "product");
        const price = await stripe.prices.create(priceCreateParams(step, productId));
        return remember(createdPrices, step.catalogId, price.id);
      }
      case "reactivate_price":
      case "archive_price":
        return updated(stripe.prices, step.priceId, { active: step.kind === "reactivate_price" });
      case "create_link": {
        const priceId = resolve(step.price, createdPrices, "price");
        const link = await stripe.paymentLinks.create(
          linkCreateParams(step.settings, priceId, step.catalogId),
        );
        // Later steps need the link's URL (the links file), the caller its id.
        createdLinks.set(step.catalogId, link.url);
        return link.id;
      }
      case "update_link":
        return updated(stripe.paymentLinks, step.linkId, linkUpdateParams(step.update));
      case "deactivate_link":
        return updated(stripe.paymentLinks, step.linkId, { active: false });
    }
  }
}

/** Notes the id a step created for the steps after it that refer to it; returns the id. */
function remember(created: Map<string, string>, catalogId: string, id: string): string {
  created.set(catalogId, id);
  return id;
}

/** Updates one existing object; resolves to its id. */
async function updated<P>(
  resource: { update(id: string, params: P): Promise<unknown> },
  id: string,
  params: P,
): Promise<string> {
  await resource.update(id, params);
  return id;
}

function productCreateParams(fields: ProductCreate): Stripe.ProductCreateParams {
  const { name, description, images, metadata } = fields;
  return { name, description, images, metadata };
}

function priceCreateParams(step: PriceCreate, productId: string): Stripe.PriceCreateParams {
  return {
    product: productId,
    currency: step.currency,
    unit_amount: step.amount,
    lookup_key: step.lookupKey,
    // Lookup keys are unique per account: take the key over from a stray price (e.g. on a duplicate product).
    transfer_lookup_key: true,
    metadata: { [SHOP_MARKER]: step.catalogId },
  };
}

function productUpdateParams(fields: ProductUpdate): Stripe.ProductUpdateParams {
  return {
    ...(fields.active && { active: true }),
    ...(fields.name !== undefined && { name: fields.name }),
    ...(fields.description !== undefined && { description: fields.description }),
    // Stripe clears a list when sent an empty string.
    ...(fields.images !== undefined && { images: fields.images.length > 0 ? fields.images : "" }),
    ...(fields.metadata !== undefined && { metadata: fields.metadata }),
  };
}
