/** Catalog sync planner: compares the catalog with a snapshot of Stripe and lists the writes, without doing any. */
import { translator } from "../../i18n/messages.ts";
import { formatMoney } from "../../lib/money.ts";
import { SHOP_MARKER } from "../../order/metadata.ts";
import type { Catalog, Product } from "../../shop/catalog.ts";

/** A Stripe Product that carries metadata `linkshop_id`. */
export interface ProductState {
  id: string;
  linkshopId: string;
  active: boolean;
  name: string;
  description: string | null;
  images: string[];
  metadata: Record<string, string>;
  /** Unix seconds; the oldest wins when several Products claim one catalog id. */
  created: number;
}

/** A Price of one of those Products. */
export interface PriceState {
  id: string;
  productId: string;
  active: boolean;
  /** Minor units; null for custom or tiered prices, which the sync never matches. */
  unitAmount: number | null;
  currency: string;
  lookupKey: string | null;
  recurring: boolean;
}

/** Adjustable quantity as Stripe reports it on a Payment Link line item. */
export interface AdjustableQuantityState {
  enabled: boolean;
  maximum: number | null;
  minimum: number | null;
}

/** A Payment Link that carries metadata `linkshop_id`. */
export interface LinkState {
  id: string;
  linkshopId: string;
  active: boolean;
  url: string;
  /** Redirect target after payment; null when the link shows Stripe's hosted confirmation instead. */
  redirectUrl: string | null;
  allowPromotionCodes: boolean;
  /** Allowed shipping countries; null when no shipping address is collected. */
  shippingCountries: string[] | null;
  /** `restrictions.completed_sessions`: checkouts completed on the link, and the most it takes; null = no limit. */
  completedSessions: { count: number; limit: number } | null;
  /** What the link shows once it is inactive; null = Stripe's default. */
  inactiveMessage: string | null;
  lineItems: {
    id: string;
    priceId: string;
    quantity: number;
    adjustableQuantity: AdjustableQuantityState | null;
  }[];
}

/** What the sync knows about Stripe: only objects tagged with `linkshop_id` and their prices. */
export interface StripeState {
  products: ProductState[];
  prices: PriceState[];
  /** Oldest first (Payment Links have no creation time; Stripe lists them newest first). */
  links: LinkState[];
}

/** An existing Stripe object, or the one an earlier step of the same plan creates for a catalog id. */
export type Ref = { id: string } | { createdFor: string };

/** Product fields the catalog owns. */
export interface ProductFields {
  name: string;
  description: string;
  /** Absolute URLs (Stripe shows them at checkout). */
  images: string[];
  metadata: Record<string, string>;
}

/** Payment Link settings the catalog owns; mapped to Stripe parameters by the applier. */
export interface LinkSettings {
  /** After payment Stripe redirects here; `{CHECKOUT_SESSION_ID}` is filled in by Stripe. */
  redirectUrl: string;
  allowPromotionCodes: boolean;
  shippingCountries: string[] | null;
  /** Highest quantity a customer may choose; null = fixed quantity 1. */
  maximumQuantity: number | null;
  /** Completed checkouts the link may take (the catalog's `stock`) and what it says once sold out; null = no limit. */
  stock: { limit: number; inactiveMessage: string } | null;
}

/** Changes to an existing Payment Link; only the fields present change. */
export interface LinkUpdate {
  /** true reactivates the link; false stops it (its stock is already sold). */
  active?: boolean;
  redirectUrl?: string;
  allowPromotionCodes?: boolean;
  /** null removes shipping address collection. */
  shippingCountries?: string[] | null;
  /** Line item to adjust and its new maximum (null = fixed quantity). */
  quantity?: { lineItemId: string; maximum: number | null };
  /** New `restrictions.completed_sessions.limit`; null removes the limit. */
  limit?: number | null;
  /** New message of the inactive link; null removes it. */
  inactiveMessage?: string | null;
}

/** One write to Stripe. Steps run in order; later steps may use objects earlier ones create. */
export type SyncStep =
  | { kind: "create_product"; catalogId: string; fields: ProductFields }
  | {
      kind: "update_product";
      catalogId: string;
      productId: string;
      changes: string[];
      fields: Partial<ProductFields> & { active?: true };
    }
  | { kind: "archive_product"; catalogId: string; productId: string }
  | {
      kind: "create_price";
      catalogId: string;
      product: Ref;
      amount: number;
      currency: string;
      lookupKey: string;
    }
  | { kind: "reactivate_price"; catalogId: string; priceId: string; lookupKey: string }
  | { kind: "archive_price"; catalogId: string; priceId: string; lookupKey: string | null }
  | { kind: "create_link"; catalogId: string; price: Ref; settings: LinkSettings }
  | { kind: "update_link"; catalogId: string; linkId: string; changes: string[]; update: LinkUpdate }
  | { kind: "deactivate_link"; catalogId: string; linkId: string; url: string };

/** Where a product's Buy button will point once the plan is applied. */
export type LinkTarget = { url: string } | { createdFor: string };

/** The complete set of writes, plus the resulting link per catalog id. */
export interface SyncPlan {
  steps: SyncStep[];
  /** Keyed by catalog id, in catalog order. */
  links: Record<string, LinkTarget>;
  /** Oddities found in Stripe that the sync leaves alone. */
  warnings: string[];
  /** Active links the catalog no longer points to, left active because the deployed site may still show them. */
  retained: RetainedLink[];
}

/** A superseded Payment Link kept active until a prune. */
export interface RetainedLink {
  catalogId: string;
  url: string;
}

/** Inputs that are not in the catalog. */
export interface PlanOptions {
  /** Public site origin without trailing slash, e.g. https://shop.example. */
  siteUrl: string;
  /**
   * Retire superseded links: deactivate every active link of ours that neither the catalog nor the deployed
   * links file (`keepUrls`) names, then archive prices and Products nothing active sells any more. Without it
   * the plan only adds and updates, so a Buy button of the deployed site never meets a deactivated link.
   */
  prune?: { keepUrls: ReadonlySet<string> };
}

/** Stable Price lookup key for a catalog price: `linkshop:<id>:<currency>:<amount>`. */
export function lookupKeyFor(product: Pick<Product, "id" | "price">): string {
  return `linkshop:${product.id}:${product.price.currency}:${product.price.amount}`;
}

/** Where Stripe sends the customer after paying. */
export function thanksUrlFor(siteUrl: string): string {
  return `${siteUrl}/thanks?session_id={CHECKOUT_SESSION_ID}`;
}

/** Product fields the catalog wants in Stripe. Images go only to public https sites: Stripe must fetch them. */
export function productFieldsFor(product: Product, siteUrl: string): ProductFields {
  const images = siteUrl.startsWith("https://")
    ? product.images.map((image) => `${siteUrl}/${image.src}`)
    : [];
  return {
    name: product.name,
    description: product.description,
    images,
    metadata: { ...product.metadata, [SHOP_MARKER]: product.id },
  };
}

/** Payment Link settings the catalog wants. */
export function linkSettingsFor(
  product: Product,
  siteUrl: string,
  catalog: Pick<Catalog, "shop">,
): LinkSettings {
  const options = product.paymentLink;
  return {
    redirectUrl: thanksUrlFor(siteUrl),
    allowPromotionCodes: options.allowPromotionCodes,
    shippingCountries: options.collectShipping ? [...options.collectShipping.allowedCountries] : null,
    maximumQuantity: options.adjustableQuantity?.maximum ?? null,
    stock:
      product.stock === undefined
        ? null
        : { limit: product.stock, inactiveMessage: soldOutMessage(catalog.shop.locale) },
  };
}

/** What a sold-out Payment Link says, in the shop's language. */
export function soldOutMessage(locale: string): string {
  return translator(locale, "site")("soldOutLink");
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((item, index) => item === b[index]);
const sameSet = (a: readonly string[], b: readonly string[]) => sameList([...a].sort(), [...b].sort());
const byAge = <T extends { created: number; id: string }>(a: T, b: T) =>
  a.created - b.created || (a.id < b.id ? -1 : 1);

// Metadata updates merge in Stripe: keys the catalog dropped must be sent as "" to be removed.
function metadataChanges(want: Record<string, string>, have: Record<string, string>): Record<string, string> {
  const changes: Record<string, string> = {};
  for (const [key, value] of Object.entries(want)) if (have[key] !== value) changes[key] = value;
  for (const key of Object.keys(have)) if (!(key in want)) changes[key] = "";
  return changes;
}

function planProduct(want: ProductFields, have: ProductState, catalogId: string): SyncStep | undefined {
  const fields: Partial<ProductFields> & { active?: true } = {};
  const changes: string[] = [];
  if (!have.active) {
    fields.active = true;
    changes.push("active");
  }
  if (have.name !== want.name) {
    fields.name = want.name;
    changes.push("name");
  }
  if ((have.description ?? "") !== want.description) {
    fields.description = want.description;
    changes.push("description");
  }
  if (!sameList(have.images, want.images)) {
    fields.images = want.images;
    changes.push("images");
  }
  const metadata = metadataChanges(want.metadata, have.metadata);
  if (Object.keys(metadata).length > 0) {
    fields.metadata = metadata;
    changes.push(`metadata (${Object.keys(metadata).sort().join(", ")})`);
  }
  if (changes.length === 0) return undefined;
  return { kind: "update_product", catalogId, productId: have.id, changes, fields };
}

function planLinkUpdate(want: LinkSettings, have: LinkState, priceId: string): LinkUpdate {
  const update: LinkUpdate = {};
  // A link whose stock is sold stays inactive (Stripe stops it at the limit), and one stopped by a lower stock too: a
  // limit at or under the checkouts already completed is never sent. Raising the stock reopens the link.
  const completed = have.completedSessions?.count ?? 0;
  if (want.stock !== null && completed >= want.stock.limit) {
    if (have.active) update.active = false;
  } else {
    if (!have.active) update.active = true;
    const limit = want.stock?.limit ?? null;
    if ((have.completedSessions?.limit ?? null) !== limit) update.limit = limit;
  }
  const message = want.stock?.inactiveMessage ?? null;
  if (have.inactiveMessage !== message) update.inactiveMessage = message;
  if (have.redirectUrl !== want.redirectUrl) update.redirectUrl = want.redirectUrl;
  if (have.allowPromotionCodes !== want.allowPromotionCodes)
    update.allowPromotionCodes = want.allowPromotionCodes;
  const countriesMatch =
    want.shippingCountries === null || have.shippingCountries === null
      ? want.shippingCountries === have.shippingCountries
      : sameSet(want.shippingCountries, have.shippingCountries);
  if (!countriesMatch) update.shippingCountries = want.shippingCountries;
  const item = have.lineItems.find((lineItem) => lineItem.priceId === priceId);
  if (item) {
    const current = item.adjustableQuantity?.enabled ? (item.adjustableQuantity.maximum ?? 99) : null;
    if (current !== want.maximumQuantity)
      update.quantity = { lineItemId: item.id, maximum: want.maximumQuantity };
  }
  return update;
}

const LINK_UPDATE_LABELS: Record<keyof LinkUpdate, string> = {
  active: "active",
  redirectUrl: "after-payment redirect",
  allowPromotionCodes: "promotion codes",
  shippingCountries: "shipping countries",
  quantity: "adjustable quantity",
  limit: "stock (completed checkouts limit)",
  inactiveMessage: "sold-out message",
};

// Payment Links cannot change their price (Stripe's update only adjusts quantities of existing line items),
// so a link "belongs" to one price: a new price means a new link, and the old link is retired by a later prune.
function linkUsesOnly(link: LinkState, priceId: string): boolean {
  return link.lineItems.length === 1 && link.lineItems[0]?.priceId === priceId;
}

/**
 * Plans the writes that make Stripe match the catalog. Pure: the same catalog and state give the same plan,
 * and a state that already matches gives no steps. Nothing is ever deleted: with `prune`, old links are
 * deactivated, old prices and the Products of removed catalog entries archived.
 */
export function planSync(catalog: Catalog, state: StripeState, options: PlanOptions): SyncPlan {
  const steps: SyncStep[] = [];
  const links: Record<string, LinkTarget> = {};
  const warnings: string[] = [];
  const retained: RetainedLink[] = [];
  const prune = options.prune;
  const catalogIds = new Set(catalog.products.map((product) => product.id));

  for (const product of catalog.products) {
    const id = product.id;
    const wantProduct = productFieldsFor(product, options.siteUrl);
    const wantLink = linkSettingsFor(product, options.siteUrl, catalog);
    const lookupKey = lookupKeyFor(product);

    // 1. Product: prefer an active one, then the oldest, when Stripe holds several for one id.
    const candidates = state.products
      .filter((p) => p.linkshopId === id)
      .sort((a, b) => Number(b.active) - Number(a.active) || byAge(a, b));
    const stripeProduct = candidates[0];
    if (candidates.length > 1) {
      const others = candidates.slice(1).map((p) => p.id);
      warnings.push(
        `${id}: several Stripe products have linkshop_id "${id}"; using ${stripeProduct?.id}, ignoring ${others.join(", ")}`,
      );
    }
    if (stripeProduct) {
      const update = planProduct(wantProduct, stripeProduct, id);
      if (update) steps.push(update);
    } else {
      steps.push({ kind: "create_product", catalogId: id, fields: wantProduct });
    }

    // 2. Price: found by lookup key on this product; a price that comes back is reactivated, not recreated.
    const productPrices = stripeProduct
      ? state.prices.filter((price) => price.productId === stripeProduct.id)
      : [];
    const price = productPrices.find(
      (p) =>
        p.lookupKey === lookupKey &&
        !p.recurring &&
        p.unitAmount === product.price.amount &&
        p.currency === product.price.currency,
    );
    let priceRef: Ref;
    if (price) {
      priceRef = { id: price.id };
      if (!price.active)
        steps.push({ kind: "reactivate_price", catalogId: id, priceId: price.id, lookupKey });
    } else {
      priceRef = { createdFor: id };
      steps.push({
        kind: "create_price",
        catalogId: id,
        product: stripeProduct ? { id: stripeProduct.id } : { createdFor: id },
        amount: product.price.amount,
        currency: product.price.currency,
        lookupKey,
      });
    }

    // 3. Payment Link: the one selling exactly this price; an active one beats a deactivated one, then the oldest.
    const productLinks = state.links.filter((link) => link.linkshopId === id);
    const keep = price
      ? productLinks
          .filter((link) => linkUsesOnly(link, price.id))
          // Stable sort: among equally active links the oldest (first in state.links) stays first.
          .sort((a, b) => Number(b.active) - Number(a.active))[0]
      : undefined;
    if (keep && price) {
      const update = planLinkUpdate(wantLink, keep, price.id);
      const changed = Object.keys(update) as (keyof LinkUpdate)[];
      if (changed.length > 0) {
        steps.push({
          kind: "update_link",
          catalogId: id,
          linkId: keep.id,
          changes: changed.map((key) =>
            key === "active" && update.active === false
              ? "stopped: its stock is sold"
              : LINK_UPDATE_LABELS[key],
          ),
          update,
        });
      }
      links[id] = { url: keep.url };
    } else {
      steps.push({ kind: "create_link", catalogId: id, price: priceRef, settings: wantLink });
      links[id] = { createdFor: id };
      const soldBefore = productLinks.reduce((sum, link) => sum + (link.completedSessions?.count ?? 0), 0);
      if (product.stock !== undefined && soldBefore > 0) {
        warnings.push(
          `${id}: the new Payment Link starts a new run of ${product.stock} (stock counts from a link's creation; its older links completed ${soldBefore} checkout(s))`,
        );
      }
    }
    // 4. Links this plan no longer points to stay active (the deployed site may still show them) until a prune
    //    retires those the deployed links file does not name. Old prices go once no active link sells them.
    const retiring = productLinks.filter((link) => link.active && link !== keep);
    const retired = retiring.filter((link) => prune && !prune.keepUrls.has(link.url));
    for (const link of retiring) {
      if (retired.includes(link)) {
        steps.push({ kind: "deactivate_link", catalogId: id, linkId: link.id, url: link.url });
      } else {
        retained.push({ catalogId: id, url: link.url });
      }
    }
    const stillSold = new Set(
      productLinks
        .filter((link) => link.active && !retired.includes(link))
        .flatMap((link) => link.lineItems.map((item) => item.priceId)),
    );
    for (const old of productPrices) {
      if (
        prune &&
        old.active &&
        old !== price &&
        !stillSold.has(old.id) &&
        old.lookupKey?.startsWith(`linkshop:${id}:`)
      ) {
        steps.push({ kind: "archive_price", catalogId: id, priceId: old.id, lookupKey: old.lookupKey });
      }
    }
  }

  // Products removed from the catalog: the same two phases. Their links stay active until a prune finds them
  // missing from the deployed links file; the Product is archived once none of its links is active.
  const removedActive = new Set<string>();
  for (const link of state.links) {
    if (!link.active || catalogIds.has(link.linkshopId)) continue;
    if (prune && !prune.keepUrls.has(link.url)) {
      steps.push({ kind: "deactivate_link", catalogId: link.linkshopId, linkId: link.id, url: link.url });
    } else {
      retained.push({ catalogId: link.linkshopId, url: link.url });
      removedActive.add(link.linkshopId);
    }
  }
  for (const product of [...state.products].sort(byAge)) {
    if (
      prune &&
      product.active &&
      !catalogIds.has(product.linkshopId) &&
      !removedActive.has(product.linkshopId)
    ) {
      steps.push({ kind: "archive_product", catalogId: product.linkshopId, productId: product.id });
    }
  }

  return { steps, links, warnings, retained };
}

function describeRef(ref: Ref, what: string): string {
  return "id" in ref ? ref.id : `new ${what}`;
}

/** One line per step for people, e.g. `+ create price field-notes: $18.00 (linkshop:field-notes:usd:1800)`. */
export function describeStep(step: SyncStep): string {
  switch (step.kind) {
    case "create_product":
      return `+ create product ${step.catalogId} ("${step.fields.name}")`;
    case "update_product":
      return `~ update product ${step.catalogId} (${step.productId}): ${step.changes.join(", ")}`;
    case "archive_product":
      return `- archive product ${step.catalogId} (${step.productId}): no longer in the catalog`;
    case "create_price":
      return `+ create price ${step.catalogId}: ${formatMoney(step.amount, step.currency)} (${step.lookupKey}) on ${describeRef(step.product, "product")}`;
    case "reactivate_price":
      return `~ reactivate price ${step.catalogId} (${step.priceId}, ${step.lookupKey})`;
    case "archive_price":
      return `- archive price ${step.catalogId} (${step.priceId}${step.lookupKey ? `, ${step.lookupKey}` : ""})`;
    case "create_link":
      return `+ create payment link ${step.catalogId} for ${describeRef(step.price, "price")}`;
    case "update_link":
      return `~ update payment link ${step.catalogId} (${step.linkId}): ${step.changes.join(", ")}`;
    case "deactivate_link":
      return `- deactivate payment link ${step.catalogId} (${step.linkId}, ${step.url})`;
  }
}
