// Products, Prices and Payment Links: create, update, list, with Stripe's validation and events.
import { invalidParam, invalidState, missingParam, StripeError } from "./errors.ts";
import { createdFilter, LIST_PARAMS, newestMatching, paginate } from "./lists.ts";
import {
  type AdjustableQuantity,
  type AfterCompletion,
  emptyCustomText,
  type Json,
  type LineItemObject,
  type LineItemRecord,
  type ListObject,
  newId,
  type PaymentLinkObject,
  type PriceObject,
  type ProductObject,
  unixNow,
} from "./objects.ts";
import { mergeMetadata, type Params, type ParamValue } from "./params.ts";
import type { EmulatorState, RequestInfo } from "./state.ts";

const PRODUCT_FIELDS = [
  "name",
  "active",
  "description",
  "metadata",
  "images",
  "marketing_features",
  "shippable",
  "statement_descriptor",
  "tax_code",
  "unit_label",
  "url",
  "expand",
] as const;

/** What `buildPrice` reads: every way of making a Price (prices, default_price_data, price_data) takes these. */
const PRICE_FIELDS = ["currency", "unit_amount", "unit_amount_decimal", "recurring", "tax_behavior"] as const;

/** Top-level fields whose old values go into `previous_attributes` when they change. */
function changedFields<T extends object>(before: T, after: T): Record<string, unknown> | undefined {
  const previous: Record<string, unknown> = {};
  for (const key of Object.keys(after) as (keyof T & string)[]) {
    if (key === "updated") continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = before[key];
  }
  return Object.keys(previous).length > 0 ? previous : undefined;
}

function currencyParam(params: Params, key = "currency"): string {
  const currency = params.requiredString(key).toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalidParam(params.name(key), `Invalid currency: ${currency}`);
  return currency;
}

function applyProductFields(product: ProductObject, params: Params): void {
  const name = params.string("name");
  if (name !== undefined) {
    if (name === "") throw missingParam("name");
    product.name = name;
  }
  product.active = params.boolean("active") ?? product.active;
  const description = params.nullableString("description");
  if (description !== undefined) product.description = description;
  product.metadata = mergeMetadata(product.metadata, params.metadata());
  const images = params.stringList("images");
  if (images !== undefined) {
    if (images.length > 8) throw invalidParam("images", "A product can have at most 8 images.");
    product.images = images;
  }
  if (params.has("marketing_features")) {
    product.marketing_features = params.mapList("marketing_features").map((feature) => {
      feature.allowOnly(["name"]);
      return { name: feature.requiredString("name") };
    });
  }
  const shippable = params.boolean("shippable");
  if (shippable !== undefined) product.shippable = shippable;
  for (const key of ["statement_descriptor", "tax_code", "unit_label", "url"] as const) {
    const value = params.nullableString(key);
    if (value !== undefined) product[key] = value;
  }
}

/** A product with Stripe's defaults for every field not given. */
function newProduct(id: string, name: string, type: "good" | "service", active: boolean): ProductObject {
  const now = unixNow();
  return {
    id,
    object: "product",
    active,
    created: now,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    type,
    unit_label: null,
    updated: now,
    url: null,
  };
}

/** POST /v1/products */
export function createProduct(state: EmulatorState, params: Params, request: RequestInfo): ProductObject {
  params.allowOnly([...PRODUCT_FIELDS, "id", "type", "default_price_data"]);
  const id = params.string("id") || newId("prod");
  if (state.products.has(id)) {
    throw new StripeError(400, `Product already exists.`, { param: "id", code: "resource_already_exists" });
  }
  const type = params.string("type") ?? "service";
  if (type !== "good" && type !== "service") throw invalidParam("type", `Invalid type: ${type}`);
  const product = newProduct(id, params.requiredString("name"), type, true);
  applyProductFields(product, params);
  state.products.set(id, product);
  state.emit("product.created", product, request);
  const defaultPriceData = params.map("default_price_data");
  if (defaultPriceData) {
    defaultPriceData.allowOnly([...PRICE_FIELDS, "metadata"]);
    const price = buildPrice(defaultPriceData, product.id, true);
    state.prices.set(price.id, price);
    state.emit("price.created", price, request);
    product.default_price = price.id;
  }
  return product;
}

/** POST /v1/products/:id */
export function updateProduct(
  state: EmulatorState,
  id: string,
  params: Params,
  request: RequestInfo,
): ProductObject {
  params.allowOnly([...PRODUCT_FIELDS, "default_price"]);
  const product = state.product(id);
  const before = structuredClone(product);
  const defaultPrice = params.nullableString("default_price");
  if (defaultPrice) {
    const price = state.price(defaultPrice, "default_price", 400);
    if (price.product !== product.id) {
      throw invalidParam("default_price", `The price \`${price.id}\` does not belong to this product.`);
    }
    if (!price.active) throw invalidParam("default_price", "The default price must be active.");
  }
  applyProductFields(product, params);
  if (defaultPrice !== undefined) product.default_price = defaultPrice;
  const previous = changedFields(before, product);
  if (previous) {
    product.updated = unixNow();
    state.emit("product.updated", product, request, previous);
  }
  return product;
}

/** DELETE /v1/products/:id: refused while prices exist, as on Stripe. */
export function deleteProduct(
  state: EmulatorState,
  id: string,
  request: RequestInfo,
): { id: string; object: "product"; deleted: true } {
  const product = state.product(id);
  if ([...state.prices.values()].some((price) => price.product === id)) {
    throw invalidState("This product cannot be deleted because it has one or more user-created prices.");
  }
  state.products.delete(id);
  state.emit("product.deleted", product, request);
  return { id, object: "product", deleted: true };
}

/** GET /v1/products, newest first. */
export function listProducts(state: EmulatorState, params: Params): ListObject<ProductObject> {
  params.allowOnly([...LIST_PARAMS, "active", "ids", "created", "shippable", "url"]);
  const active = params.boolean("active");
  const ids = params.stringList("ids");
  const shippable = params.boolean("shippable");
  const url = params.string("url");
  const created = createdFilter(params);
  const products = newestMatching(
    state.products.values(),
    created,
    { active, shippable, url },
    (product) => ids === undefined || ids.includes(product.id),
  );
  return paginate(products, params, "/v1/products", "product");
}

function recurringParam(params: Params): PriceObject["recurring"] {
  const recurring = params.map("recurring");
  if (!recurring) return null;
  recurring.allowOnly(["interval", "interval_count"]);
  const interval = recurring.requiredString("interval");
  if (!["day", "week", "month", "year"].includes(interval)) {
    throw invalidParam(recurring.name("interval"), `Invalid interval: ${interval}`);
  }
  const intervalCount = recurring.integer("interval_count") ?? 1;
  return {
    interval,
    interval_count: intervalCount,
    meter: null,
    trial_period_days: null,
    usage_type: "licensed",
  };
}

function taxBehaviorParam(params: Params): PriceObject["tax_behavior"] | undefined {
  const value = params.string("tax_behavior");
  if (value === undefined) return undefined;
  if (value !== "exclusive" && value !== "inclusive" && value !== "unspecified") {
    throw invalidParam(params.name("tax_behavior"), `Invalid tax_behavior: ${value}`);
  }
  return value;
}

/** A price object from `currency` + `unit_amount`/`unit_amount_decimal` (+ recurring, tax_behavior, metadata). */
function buildPrice(params: Params, productId: string, active: boolean): PriceObject {
  const currency = currencyParam(params);
  const unitAmount = params.integer("unit_amount");
  const unitAmountDecimal = params.string("unit_amount_decimal");
  if (unitAmount !== undefined && unitAmountDecimal !== undefined) {
    throw invalidParam(
      params.name("unit_amount"),
      "You may only specify one of unit_amount and unit_amount_decimal.",
    );
  }
  let decimal: string;
  if (unitAmount !== undefined) {
    if (unitAmount < 0)
      throw invalidParam(params.name("unit_amount"), "This value must be greater than or equal to 0.");
    decimal = String(unitAmount);
  } else if (unitAmountDecimal !== undefined) {
    if (!/^\d+(\.\d{1,12})?$/.test(unitAmountDecimal)) {
      throw invalidParam(params.name("unit_amount_decimal"), `Invalid decimal: ${unitAmountDecimal}`);
    }
    decimal = unitAmountDecimal.replace(/\.?0+$/, "") || "0";
  } else {
    throw missingParam(params.name("unit_amount"));
  }
  const recurring = recurringParam(params);
  return {
    id: newId("price"),
    object: "price",
    active,
    billing_scheme: "per_unit",
    created: unixNow(),
    currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: mergeMetadata({}, params.metadata()),
    nickname: null,
    product: productId,
    recurring,
    tax_behavior: taxBehaviorParam(params) ?? "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? "recurring" : "one_time",
    unit_amount: Number.isInteger(Number(decimal)) ? Number(decimal) : null,
    unit_amount_decimal: decimal,
  };
}

/** An inline product from `product_data` (checkout `price_data`, price create); inactive like Stripe's. */
function buildInlineProduct(state: EmulatorState, params: Params, active: boolean): ProductObject {
  params.allowOnly([
    "name",
    "description",
    "images",
    "metadata",
    "tax_code",
    "unit_label",
    "statement_descriptor",
  ]);
  const product = newProduct(newId("prod"), params.requiredString("name"), "service", active);
  applyProductFields(product, params);
  state.products.set(product.id, product);
  return product;
}

/** Moves or checks a lookup key: unique across prices unless `transfer_lookup_key` is set. */
function claimLookupKey(
  state: EmulatorState,
  price: PriceObject,
  lookupKey: string,
  transfer: boolean,
  request: RequestInfo,
): void {
  if (lookupKey.length > 200)
    throw invalidParam("lookup_key", "Lookup keys can have at most 200 characters.");
  const holder = [...state.prices.values()].find(
    (other) => other.lookup_key === lookupKey && other.id !== price.id,
  );
  if (holder && !transfer) {
    throw invalidParam(
      "lookup_key",
      `A price (\`${holder.id}\`) already uses that lookup key. Pass transfer_lookup_key=true to move it.`,
      "lookup_key_already_exists",
    );
  }
  if (holder) {
    holder.lookup_key = null;
    state.emit("price.updated", holder, request, { lookup_key: lookupKey });
  }
  price.lookup_key = lookupKey;
}

/** POST /v1/prices */
export function createPrice(state: EmulatorState, params: Params, request: RequestInfo): PriceObject {
  params.allowOnly([
    ...PRICE_FIELDS,
    "product",
    "product_data",
    "lookup_key",
    "transfer_lookup_key",
    "metadata",
    "active",
    "nickname",
    "billing_scheme",
    "expand",
  ]);
  const billingScheme = params.string("billing_scheme");
  if (billingScheme !== undefined && billingScheme !== "per_unit") {
    throw invalidParam("billing_scheme", "The emulator supports billing_scheme=per_unit only.");
  }
  const productId = params.string("product");
  const productData = params.map("product_data");
  if (productId && productData)
    throw invalidParam("product", "You may only specify one of product and product_data.");
  let product: ProductObject;
  if (productId) {
    product = state.product(productId, "product", 400);
  } else if (productData) {
    product = buildInlineProduct(state, productData, true);
    state.emit("product.created", product, request);
  } else {
    throw missingParam("product");
  }
  const price = buildPrice(params, product.id, params.boolean("active") ?? true);
  price.nickname = params.nullableString("nickname") ?? null;
  const lookupKey = params.string("lookup_key");
  if (lookupKey)
    claimLookupKey(state, price, lookupKey, params.boolean("transfer_lookup_key") ?? false, request);
  state.prices.set(price.id, price);
  state.emit("price.created", price, request);
  return price;
}

/** POST /v1/prices/:id: only active, metadata, lookup_key, nickname and an unset tax_behavior can change. */
export function updatePrice(
  state: EmulatorState,
  id: string,
  params: Params,
  request: RequestInfo,
): PriceObject {
  params.allowOnly([
    "active",
    "metadata",
    "lookup_key",
    "transfer_lookup_key",
    "nickname",
    "tax_behavior",
    "expand",
  ]);
  const price = state.price(id);
  const before = structuredClone(price);
  price.active = params.boolean("active") ?? price.active;
  price.metadata = mergeMetadata(price.metadata, params.metadata());
  const nickname = params.nullableString("nickname");
  if (nickname !== undefined) price.nickname = nickname;
  const taxBehavior = taxBehaviorParam(params);
  if (taxBehavior !== undefined && taxBehavior !== price.tax_behavior) {
    if (price.tax_behavior !== "unspecified") {
      throw invalidParam("tax_behavior", "tax_behavior cannot be changed once it is set.");
    }
    price.tax_behavior = taxBehavior;
  }
  const lookupKey = params.nullableString("lookup_key");
  if (lookupKey === null) price.lookup_key = null;
  else if (lookupKey !== undefined && lookupKey !== price.lookup_key) {
    claimLookupKey(state, price, lookupKey, params.boolean("transfer_lookup_key") ?? false, request);
  }
  const previous = changedFields(before, price);
  if (previous) state.emit("price.updated", price, request, previous);
  return price;
}

/** GET /v1/prices, newest first. */
export function listPrices(state: EmulatorState, params: Params): ListObject<PriceObject> {
  params.allowOnly([
    ...LIST_PARAMS,
    "active",
    "currency",
    "product",
    "type",
    "lookup_keys",
    "created",
    "recurring",
  ]);
  const active = params.boolean("active");
  const currency = params.string("currency")?.toLowerCase();
  const product = params.string("product");
  const type = params.string("type");
  const lookupKeys = params.stringList("lookup_keys");
  if (lookupKeys && lookupKeys.length > 10)
    throw invalidParam("lookup_keys", "You may pass at most 10 lookup keys.");
  const created = createdFilter(params);
  const prices = newestMatching(
    state.prices.values(),
    created,
    { active, currency, product, type },
    (price) =>
      lookupKeys === undefined || (price.lookup_key !== null && lookupKeys.includes(price.lookup_key)),
  );
  return paginate(prices, params, "/v1/prices", "price");
}

/** `adjustable_quantity` as Stripe stores it; bounds default to 0..99. */
export function adjustableQuantityParam(params: Params | undefined): AdjustableQuantity | null {
  if (!params) return null;
  params.allowOnly(["enabled", "minimum", "maximum"]);
  const enabled = params.boolean("enabled");
  if (enabled === undefined) throw missingParam(params.name("enabled"));
  if (!enabled) return null;
  const minimum = params.integer("minimum") ?? 0;
  const maximum = params.integer("maximum") ?? 99;
  if (minimum < 0 || maximum < 1 || maximum > 999_999 || minimum > maximum) {
    throw invalidParam(
      params.name("maximum"),
      "adjustable_quantity needs 0 <= minimum <= maximum <= 999999.",
    );
  }
  return { enabled: true, minimum, maximum };
}

/**
 * Line items of a payment link or session create: `price` (must be active) or `price_data` (an inline,
 * inactive price), a positive `quantity`, optional `adjustable_quantity`; all in one currency.
 */
export function lineItemsParam(
  state: EmulatorState,
  params: Params,
  options: { max: number; requireQuantity: boolean },
): LineItemRecord[] {
  const items = params.mapList("line_items");
  if (items.length === 0) throw missingParam("line_items");
  if (items.length > options.max) {
    throw invalidParam("line_items", `You may only specify up to ${options.max} line items.`);
  }
  const records = items.map((item) => {
    item.allowOnly(["price", "price_data", "quantity", "adjustable_quantity"]);
    const priceId = item.string("price");
    const priceData = item.map("price_data");
    let price: PriceObject;
    if (priceId && priceData)
      throw invalidParam(item.name("price"), "You may only specify one of price and price_data.");
    if (priceId) {
      price = state.price(priceId, item.name("price"), 400);
      if (!price.active) {
        throw invalidParam(
          item.name("price"),
          `The price \`${price.id}\` is not active. This field only accepts active prices.`,
        );
      }
    } else if (priceData) {
      priceData.allowOnly([...PRICE_FIELDS, "product", "product_data"]);
      const productId = priceData.string("product");
      const productData = priceData.map("product_data");
      let productRef: string;
      if (productId) productRef = state.product(productId, priceData.name("product"), 400).id;
      else if (productData) productRef = buildInlineProduct(state, productData, false).id;
      else throw missingParam(priceData.name("product"));
      price = buildPrice(priceData, productRef, false);
      state.prices.set(price.id, price);
    } else {
      throw missingParam(item.name("price"));
    }
    const quantity = item.integer("quantity");
    if (quantity === undefined && options.requireQuantity) throw missingParam(item.name("quantity"));
    if (quantity !== undefined && quantity < 1) {
      throw invalidParam(item.name("quantity"), "This value must be greater than or equal to 1.");
    }
    const adjustable = adjustableQuantityParam(item.map("adjustable_quantity"));
    return { id: newId("li"), price: price.id, quantity: quantity ?? 1, adjustable_quantity: adjustable };
  });
  const currencies = new Set(records.map((record) => state.price(record.price).currency));
  if (currencies.size > 1) throw invalidParam("line_items", "All prices must be in the same currency.");
  return records;
}

function afterCompletionParam(params: Params | undefined): AfterCompletion | undefined {
  if (!params) return undefined;
  params.allowOnly(["type", "redirect", "hosted_confirmation"]);
  const type = params.requiredString("type");
  if (type === "redirect") {
    const redirect = params.map("redirect");
    if (!redirect) throw missingParam(params.name("redirect"));
    redirect.allowOnly(["url"]);
    const url = redirect.requiredString("url");
    if (!/^https?:\/\//.test(url)) throw invalidParam(redirect.name("url"), "Not a valid URL");
    return { type, redirect: { url } };
  }
  if (type === "hosted_confirmation") {
    const confirmation = params.map("hosted_confirmation");
    confirmation?.allowOnly(["custom_message"]);
    return {
      type,
      hosted_confirmation: { custom_message: confirmation?.nullableString("custom_message") ?? null },
    };
  }
  throw invalidParam(params.name("type"), `Invalid after_completion type: ${type}`);
}

function shippingCollectionParam(params: Params): { allowed_countries: string[] } | null | undefined {
  if (!params.has("shipping_address_collection")) return undefined;
  const collection = params.map("shipping_address_collection");
  if (!collection) return null;
  collection.allowOnly(["allowed_countries"]);
  const countries = collection.stringList("allowed_countries");
  if (!countries || countries.length === 0) throw missingParam(collection.name("allowed_countries"));
  for (const country of countries) {
    if (!/^[A-Z]{2}$/.test(country))
      throw invalidParam(collection.name("allowed_countries"), `Invalid country: ${country}`);
  }
  return { allowed_countries: countries };
}

/** A string-only nested param kept verbatim (custom_text, payment_intent_data). */
function rawStrings(params: Params, key: string): Json | undefined {
  const value = params.raw(key);
  if (value === undefined) return undefined;
  const toJson = (node: ParamValue): Json =>
    typeof node === "string"
      ? node
      : Array.isArray(node)
        ? node.map(toJson)
        : Object.fromEntries(Object.entries(node).map(([key, child]) => [key, toJson(child)]));
  return value === "" ? null : toJson(value);
}

const LINK_SETTINGS = [
  "after_completion",
  "metadata",
  "shipping_address_collection",
  "allow_promotion_codes",
  "billing_address_collection",
  "phone_number_collection",
  "customer_creation",
  "payment_method_types",
  "restrictions",
  "inactive_message",
  "custom_text",
  "payment_intent_data",
  "expand",
] as const;

/** `completedSessions`: checkouts completed on the link so far, which a new limit counts against. */
function applyLinkSettings(link: PaymentLinkObject, params: Params, completedSessions = 0): void {
  const afterCompletion = afterCompletionParam(params.map("after_completion"));
  if (afterCompletion) link.after_completion = afterCompletion;
  link.metadata = mergeMetadata(link.metadata, params.metadata());
  const shipping = shippingCollectionParam(params);
  if (shipping !== undefined) link.shipping_address_collection = shipping;
  link.allow_promotion_codes = params.boolean("allow_promotion_codes") ?? link.allow_promotion_codes;
  const billing = params.string("billing_address_collection");
  if (billing !== undefined) {
    if (billing !== "auto" && billing !== "required") {
      throw invalidParam("billing_address_collection", `Invalid billing_address_collection: ${billing}`);
    }
    link.billing_address_collection = billing;
  }
  const phone = params.map("phone_number_collection");
  if (phone) {
    phone.allowOnly(["enabled"]);
    link.phone_number_collection = { enabled: phone.boolean("enabled") ?? false };
  }
  const customerCreation = params.string("customer_creation");
  if (customerCreation !== undefined) {
    if (customerCreation !== "always" && customerCreation !== "if_required") {
      throw invalidParam("customer_creation", `Invalid customer_creation: ${customerCreation}`);
    }
    link.customer_creation = customerCreation;
  }
  if (params.has("payment_method_types")) {
    const types = params.stringList("payment_method_types");
    link.payment_method_types = types && types.length > 0 ? types : null;
  }
  if (params.has("restrictions")) {
    // An empty string removes the limit; the count of completed checkouts is the link's own and carries on.
    const restrictions = params.map("restrictions");
    if (restrictions === undefined) {
      link.restrictions = null;
    } else {
      restrictions.allowOnly(["completed_sessions"]);
      const completed = restrictions.map("completed_sessions");
      if (completed === undefined) throw missingParam(restrictions.name("completed_sessions"));
      completed.allowOnly(["limit"]);
      const limit = completed.integer("limit");
      if (limit === undefined) throw missingParam(completed.name("limit"));
      if (limit < 1) {
        throw invalidParam(completed.name("limit"), "This value must be greater than or equal to 1.");
      }
      link.restrictions = { completed_sessions: { count: completedSessions, limit } };
    }
  }
  const inactiveMessage = params.nullableString("inactive_message");
  if (inactiveMessage !== undefined) link.inactive_message = inactiveMessage;
  const customText = rawStrings(params, "custom_text");
  if (customText !== undefined) link.custom_text = customText;
  const paymentIntentData = rawStrings(params, "payment_intent_data");
  if (paymentIntentData !== undefined) link.payment_intent_data = paymentIntentData;
}

/** POST /v1/payment_links: up to 20 line items; the url opens the emulator's hosted page. */
export function createPaymentLink(
  state: EmulatorState,
  params: Params,
  request: RequestInfo,
): PaymentLinkObject {
  params.allowOnly([...LINK_SETTINGS, "line_items", "submit_type", "currency"]);
  const lineItems = lineItemsParam(state, params, { max: 20, requireQuantity: true });
  const firstPrice = state.price((lineItems[0] as LineItemRecord).price);
  const id = newId("plink");
  const submitType = params.string("submit_type") ?? "auto";
  if (!["auto", "book", "donate", "pay", "subscribe"].includes(submitType)) {
    throw invalidParam("submit_type", `Invalid submit_type: ${submitType}`);
  }
  const link: PaymentLinkObject = {
    id,
    object: "payment_link",
    active: true,
    after_completion: { type: "hosted_confirmation", hosted_confirmation: { custom_message: null } },
    allow_promotion_codes: false,
    application: null,
    application_fee_amount: null,
    application_fee_percent: null,
    automatic_tax: { enabled: false, liability: null },
    billing_address_collection: "auto",
    consent_collection: null,
    currency: firstPrice.currency,
    custom_fields: [],
    custom_text: emptyCustomText(),
    customer_creation: "if_required",
    inactive_message: null,
    invoice_creation: { enabled: false, invoice_data: null },
    livemode: false,
    managed_payments: { enabled: false },
    metadata: {},
    on_behalf_of: null,
    payment_intent_data: null,
    payment_method_collection: "always",
    payment_method_options: null,
    payment_method_types: null,
    phone_number_collection: { enabled: false },
    restrictions: null,
    shipping_address_collection: null,
    shipping_options: [],
    submit_type: submitType,
    subscription_data: null,
    tax_id_collection: { enabled: false, required: "never" },
    transfer_data: null,
    url: `${state.baseUrl}/pay/${id}`,
  };
  applyLinkSettings(link, params);
  state.paymentLinks.set(id, { link, lineItems });
  state.emit("payment_link.created", link, request);
  return link;
}

/** POST /v1/payment_links/:id: line items are referenced by id (their price cannot change), as on Stripe. */
export function updatePaymentLink(
  state: EmulatorState,
  id: string,
  params: Params,
  request: RequestInfo,
): PaymentLinkObject {
  params.allowOnly([...LINK_SETTINGS, "active", "line_items"]);
  const record = state.paymentLink(id);
  const before = structuredClone(record.link);
  if (params.has("line_items")) {
    const updates = params.mapList("line_items");
    if (updates.length === 0) throw missingParam("line_items");
    record.lineItems = updates.map((update) => {
      update.allowOnly(["id", "quantity", "adjustable_quantity"]);
      const itemId = update.requiredString("id");
      const existing = record.lineItems.find((item) => item.id === itemId);
      if (!existing)
        throw invalidParam(update.name("id"), `No such line item on this payment link: '${itemId}'`);
      const quantity = update.integer("quantity") ?? existing.quantity;
      if (quantity < 1)
        throw invalidParam(update.name("quantity"), "This value must be greater than or equal to 1.");
      const adjustable = update.has("adjustable_quantity")
        ? adjustableQuantityParam(update.map("adjustable_quantity"))
        : existing.adjustable_quantity;
      return { ...existing, quantity, adjustable_quantity: adjustable };
    });
  }
  record.link.active = params.boolean("active") ?? record.link.active;
  applyLinkSettings(record.link, params, record.completedSessions ?? 0);
  const previous = changedFields(before, record.link);
  if (previous) state.emit("payment_link.updated", record.link, request, previous);
  return record.link;
}

/** GET /v1/payment_links, newest first. */
export function listPaymentLinks(state: EmulatorState, params: Params): ListObject<PaymentLinkObject> {
  params.allowOnly([...LIST_PARAMS, "active"]);
  const active = params.boolean("active");
  const links = [...state.paymentLinks.values()]
    .map((record) => record.link)
    .reverse()
    .filter((link) => active === undefined || link.active === active);
  return paginate(links, params, "/v1/payment_links", "payment_link");
}

/** GET /v1/payment_links/:id/line_items, in the link's order. */
export function listPaymentLinkLineItems(
  state: EmulatorState,
  id: string,
  params: Params,
): ListObject<LineItemObject> {
  params.allowOnly([...LIST_PARAMS]);
  const record = state.paymentLink(id);
  const items = record.lineItems.map((item) => state.renderLineItem(item));
  return paginate(items, params, `/v1/payment_links/${id}/line_items`, "item");
}
