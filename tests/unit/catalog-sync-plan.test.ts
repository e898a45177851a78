/** The sync planner: which writes make Stripe match the catalog, and none when it already does. */
import { describe, expect, it } from "vitest";
import { type Catalog, parseCatalog } from "../../src/shop/catalog.ts";
import {
  describeStep,
  type LinkState,
  lookupKeyFor,
  type PriceState,
  type ProductState,
  planSync,
  soldOutMessage,
  type StripeState,
} from "../../src/commands/catalog-sync/plan.ts";

const SITE = "https://shop.example";
const THANKS = "https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}";

const catalog = parseCatalog({
  shop: { name: "Trailhead", currency: "usd", supportEmail: "help@trailhead.example" },
  products: [
    {
      id: "notes",
      name: "Field Notes",
      description: "Two notebooks.",
      price: { amount: 1800 },
      images: [{ src: "images/notes.png", alt: "Notebooks" }],
      paymentLink: {
        collectShipping: { allowedCountries: ["US", "GB"] },
        adjustableQuantity: { maximum: 10 },
      },
    },
    {
      id: "maps",
      name: "Trail Maps",
      description: "A PDF.",
      price: { amount: 900 },
      metadata: { edition: "2026" },
      paymentLink: { allowPromotionCodes: true },
    },
  ],
});

/** A Stripe state that matches `catalog` exactly, as a completed sync leaves it. */
function syncedState(source: Catalog = catalog): StripeState {
  const products: ProductState[] = [];
  const prices: PriceState[] = [];
  const links: LinkState[] = [];
  source.products.forEach((p, index) => {
    products.push({
      id: `prod_${p.id}`,
      linkshopId: p.id,
      active: true,
      name: p.name,
      description: p.description,
      images: p.images.map((image) => `${SITE}/${image.src}`),
      metadata: { ...p.metadata, linkshop_id: p.id },
      created: 1_700_000_000 + index,
    });
    prices.push({
      id: `price_${p.id}`,
      productId: `prod_${p.id}`,
      active: true,
      unitAmount: p.price.amount,
      currency: p.price.currency,
      lookupKey: lookupKeyFor(p),
      recurring: false,
    });
    const maximum = p.paymentLink.adjustableQuantity?.maximum;
    links.push({
      id: `plink_${p.id}`,
      linkshopId: p.id,
      active: true,
      url: `https://buy.stripe.com/test_${p.id}`,
      redirectUrl: THANKS,
      allowPromotionCodes: p.paymentLink.allowPromotionCodes,
      shippingCountries: p.paymentLink.collectShipping?.allowedCountries ?? null,
      completedSessions: p.stock === undefined ? null : { count: 0, limit: p.stock },
      inactiveMessage: p.stock === undefined ? null : soldOutMessage(source.shop.locale),
      lineItems: [
        {
          id: `li_${p.id}`,
          priceId: `price_${p.id}`,
          quantity: 1,
          adjustableQuantity: maximum ? { enabled: true, maximum, minimum: 1 } : null,
        },
      ],
    });
  });
  return { products, prices, links };
}

const kinds = (state: StripeState, source: Catalog = catalog, siteUrl = SITE) =>
  planSync(source, state, { siteUrl }).steps.map((step) => `${step.kind} ${step.catalogId}`);

describe("planSync", () => {
  it("creates product, price and link for each product in an empty account", () => {
    const plan = planSync(catalog, { products: [], prices: [], links: [] }, { siteUrl: SITE });
    expect(plan.steps.map((step) => `${step.kind} ${step.catalogId}`)).toEqual([
      "create_product notes",
      "create_price notes",
      "create_link notes",
      "create_product maps",
      "create_price maps",
      "create_link maps",
    ]);
    expect(plan.steps[0]).toEqual({
      kind: "create_product",
      catalogId: "notes",
      fields: {
        name: "Field Notes",
        description: "Two notebooks.",
        images: ["https://shop.example/images/notes.png"],
        metadata: { linkshop_id: "notes" },
      },
    });
    expect(plan.steps[1]).toEqual({
      kind: "create_price",
      catalogId: "notes",
      product: { createdFor: "notes" },
      amount: 1800,
      currency: "usd",
      lookupKey: "linkshop:notes:usd:1800",
    });
    expect(plan.steps[2]).toEqual({
      kind: "create_link",
      catalogId: "notes",
      price: { createdFor: "notes" },
      settings: {
        redirectUrl: THANKS,
        allowPromotionCodes: false,
        shippingCountries: ["US", "GB"],
        maximumQuantity: 10,
        stock: null,
      },
    });
    expect(plan.links).toEqual({ notes: { createdFor: "notes" }, maps: { createdFor: "maps" } });
  });

  it("plans nothing when Stripe already matches, and keeps the existing URLs", () => {
    const plan = planSync(catalog, syncedState(), { siteUrl: SITE });
    expect(plan.steps).toEqual([]);
    expect(plan.warnings).toEqual([]);
    expect(plan.links).toEqual({
      notes: { url: "https://buy.stripe.com/test_notes" },
      maps: { url: "https://buy.stripe.com/test_maps" },
    });
  });

  it("sends product images only to a public https site, which Stripe can fetch", () => {
    const plan = planSync(
      catalog,
      { products: [], prices: [], links: [] },
      { siteUrl: "http://localhost:8888" },
    );
    expect(plan.steps[0]).toMatchObject({ kind: "create_product", fields: { images: [] } });
  });

  it("on a price change creates a price and a link, and leaves the old link active for the deployed site", () => {
    const changed = {
      ...catalog,
      products: catalog.products.map((p) =>
        p.id === "maps" ? { ...p, price: { amount: 1200, currency: "usd" } } : p,
      ),
    };
    const plan = planSync(changed, syncedState(), { siteUrl: SITE });
    expect(plan.steps).toEqual([
      {
        kind: "create_price",
        catalogId: "maps",
        product: { id: "prod_maps" },
        amount: 1200,
        currency: "usd",
        lookupKey: "linkshop:maps:usd:1200",
      },
      {
        kind: "create_link",
        catalogId: "maps",
        price: { createdFor: "maps" },
        settings: {
          redirectUrl: THANKS,
          allowPromotionCodes: true,
          shippingCountries: null,
          maximumQuantity: null,
          stock: null,
        },
      },
    ]);
    expect(plan.links.maps).toEqual({ createdFor: "maps" });
    expect(plan.retained).toEqual([{ catalogId: "maps", url: "https://buy.stripe.com/test_maps" }]);
  });

  it("a prune retires the old link only once the deployed links file no longer names it", () => {
    const changed = {
      ...catalog,
      products: catalog.products.map((p) =>
        p.id === "maps" ? { ...p, price: { amount: 1200, currency: "usd" } } : p,
      ),
    };
    // After the first phase: the new price and link exist, the old ones are still active.
    const state = syncedState();
    state.prices.push({
      ...(state.prices[1] as PriceState),
      id: "price_maps_1200",
      unitAmount: 1200,
      lookupKey: "linkshop:maps:usd:1200",
    });
    state.links.push({
      ...(state.links[1] as LinkState),
      id: "plink_maps_1200",
      url: "https://buy.stripe.com/test_maps_1200",
      lineItems: [{ id: "li_1200", priceId: "price_maps_1200", quantity: 1, adjustableQuantity: null }],
    });
    const stillDeployed = new Set(["https://buy.stripe.com/test_notes", "https://buy.stripe.com/test_maps"]);
    expect(planSync(changed, state, { siteUrl: SITE, prune: { keepUrls: stillDeployed } }).steps).toEqual([]);

    const deployed = new Set(["https://buy.stripe.com/test_notes", "https://buy.stripe.com/test_maps_1200"]);
    const plan = planSync(changed, state, { siteUrl: SITE, prune: { keepUrls: deployed } });
    expect(plan.steps).toEqual([
      {
        kind: "deactivate_link",
        catalogId: "maps",
        linkId: "plink_maps",
        url: "https://buy.stripe.com/test_maps",
      },
      { kind: "archive_price", catalogId: "maps", priceId: "price_maps", lookupKey: "linkshop:maps:usd:900" },
    ]);
    expect(plan.links.maps).toEqual({ url: "https://buy.stripe.com/test_maps_1200" });
  });

  it("going back to an earlier price reactivates that price and its old link instead of creating new ones", () => {
    const state = syncedState();
    state.prices.push({
      ...(state.prices[1] as PriceState),
      id: "price_maps_1200",
      active: false,
      unitAmount: 1200,
      lookupKey: "linkshop:maps:usd:1200",
    });
    // The current link sells 900; an older, deactivated link sold 1200.
    state.links.unshift({
      ...(state.links[1] as LinkState),
      id: "plink_maps_old",
      active: false,
      url: "https://buy.stripe.com/test_maps_old",
      lineItems: [{ id: "li_old", priceId: "price_maps_1200", quantity: 1, adjustableQuantity: null }],
    });
    const changed = {
      ...catalog,
      products: catalog.products.map((p) =>
        p.id === "maps" ? { ...p, price: { amount: 1200, currency: "usd" } } : p,
      ),
    };
    const plan = planSync(changed, state, { siteUrl: SITE });
    expect(plan.steps.map((step) => describeStep(step))).toEqual([
      "~ reactivate price maps (price_maps_1200, linkshop:maps:usd:1200)",
      "~ update payment link maps (plink_maps_old): active",
    ]);
    expect(plan.retained).toEqual([{ catalogId: "maps", url: "https://buy.stripe.com/test_maps" }]);
    expect(plan.links.maps).toEqual({ url: "https://buy.stripe.com/test_maps_old" });
  });

  it("for a product removed from the catalog keeps its link until a prune, then archives the Product", () => {
    const fewer = { ...catalog, products: catalog.products.filter((p) => p.id !== "notes") };
    const first = planSync(fewer, syncedState(), { siteUrl: SITE });
    expect(first.steps).toEqual([]);
    expect(first.retained).toEqual([{ catalogId: "notes", url: "https://buy.stripe.com/test_notes" }]);
    expect(Object.keys(first.links)).toEqual(["maps"]);

    const deployed = new Set(["https://buy.stripe.com/test_maps"]);
    const plan = planSync(fewer, syncedState(), { siteUrl: SITE, prune: { keepUrls: deployed } });
    expect(plan.steps).toEqual([
      {
        kind: "deactivate_link",
        catalogId: "notes",
        linkId: "plink_notes",
        url: "https://buy.stripe.com/test_notes",
      },
      { kind: "archive_product", catalogId: "notes", productId: "prod_notes" },
    ]);
    // Once done, the next plan is empty.
    const after = syncedState();
    (after.links[0] as LinkState).active = false;
    (after.products[0] as ProductState).active = false;
    expect(planSync(fewer, after, { siteUrl: SITE, prune: { keepUrls: deployed } }).steps).toEqual([]);
  });

  it("updates only the product fields that changed, removing metadata the catalog dropped", () => {
    const state = syncedState();
    Object.assign(state.products[1] as ProductState, {
      name: "Old name",
      metadata: { linkshop_id: "maps", edition: "2025", stale: "x" },
    });
    const [step] = planSync(catalog, state, { siteUrl: SITE }).steps;
    expect(step).toEqual({
      kind: "update_product",
      catalogId: "maps",
      productId: "prod_maps",
      changes: ["name", "metadata (edition, stale)"],
      fields: { name: "Trail Maps", metadata: { edition: "2026", stale: "" } },
    });
  });

  it("updates link settings in place: redirect, promotion codes, shipping and quantity", () => {
    const state = syncedState();
    Object.assign(state.links[0] as LinkState, {
      redirectUrl: "http://localhost:8888/thanks?session_id={CHECKOUT_SESSION_ID}",
      allowPromotionCodes: true,
      shippingCountries: ["GB", "US", "FR"],
    });
    (state.links[0] as LinkState).lineItems[0] = {
      id: "li_notes",
      priceId: "price_notes",
      quantity: 1,
      adjustableQuantity: null,
    };
    const steps = planSync(catalog, state, { siteUrl: SITE }).steps;
    expect(steps).toEqual([
      {
        kind: "update_link",
        catalogId: "notes",
        linkId: "plink_notes",
        changes: ["after-payment redirect", "promotion codes", "shipping countries", "adjustable quantity"],
        update: {
          redirectUrl: THANKS,
          allowPromotionCodes: false,
          shippingCountries: ["US", "GB"],
          quantity: { lineItemId: "li_notes", maximum: 10 },
        },
      },
    ]);
  });

  it("treats shipping countries as a set and removes shipping collection when the catalog drops it", () => {
    const state = syncedState();
    (state.links[0] as LinkState).shippingCountries = ["GB", "US"];
    expect(kinds(state)).toEqual([]);
    const noShipping = {
      ...catalog,
      products: catalog.products.map((p) =>
        p.id === "notes"
          ? { ...p, paymentLink: { allowPromotionCodes: false, adjustableQuantity: { maximum: 10 } } }
          : p,
      ),
    };
    expect(planSync(noShipping, state, { siteUrl: SITE }).steps).toMatchObject([
      { kind: "update_link", update: { shippingCountries: null } },
    ]);
  });

  it("reactivates an archived product that is back in the catalog", () => {
    const state = syncedState();
    (state.products[0] as ProductState).active = false;
    expect(planSync(catalog, state, { siteUrl: SITE }).steps).toEqual([
      {
        kind: "update_product",
        catalogId: "notes",
        productId: "prod_notes",
        changes: ["active"],
        fields: { active: true },
      },
    ]);
  });

  it("uses one product when several claim an id, warns, and leaves the others alone", () => {
    const state = syncedState();
    state.products.push({ ...(state.products[0] as ProductState), id: "prod_dupe", created: 1_800_000_000 });
    const plan = planSync(catalog, state, { siteUrl: SITE });
    expect(plan.steps).toEqual([]);
    expect(plan.warnings).toEqual([
      'notes: several Stripe products have linkshop_id "notes"; using prod_notes, ignoring prod_dupe',
    ]);
  });

  it("keeps the oldest of several active links for a product, and a prune deactivates the others", () => {
    const state = syncedState();
    state.links.push({
      ...(state.links[0] as LinkState),
      id: "plink_notes_2",
      url: "https://buy.stripe.com/test_notes_2",
    });
    expect(planSync(catalog, state, { siteUrl: SITE }).steps).toEqual([]);
    const prune = { keepUrls: new Set<string>() };
    expect(planSync(catalog, state, { siteUrl: SITE, prune }).steps).toEqual([
      {
        kind: "deactivate_link",
        catalogId: "notes",
        linkId: "plink_notes_2",
        url: "https://buy.stripe.com/test_notes_2",
      },
    ]);
  });

  it("leaves prices it did not create alone", () => {
    const state = syncedState();
    state.prices.push({
      ...(state.prices[0] as PriceState),
      id: "price_dashboard",
      lookupKey: null,
      unitAmount: 1500,
    });
    expect(kinds(state)).toEqual([]);
  });
});

describe("planSync with stock", () => {
  const SOLD_OUT_EN = "Sold out: every one of these has found a home. Thank you for your interest.";
  /** The sample catalog with `stock` on the maps (a fixed-quantity product), in `locale`. */
  const withStock = (stock: number | undefined, locale = "en-US"): Catalog =>
    parseCatalog({
      shop: { name: "Trailhead", currency: "usd", supportEmail: "help@trailhead.example", locale },
      products: [
        {
          id: "maps",
          name: "Trail Maps",
          description: "A PDF.",
          price: { amount: 900 },
          ...(stock !== undefined && { stock }),
        },
      ],
    });
  const mapsLink = (state: StripeState) => state.links[0] as LinkState;
  const linkUpdates = (source: Catalog, state: StripeState) =>
    planSync(source, state, { siteUrl: SITE }).steps.map((step) =>
      step.kind === "update_link" ? { update: step.update, line: describeStep(step) } : step.kind,
    );

  it("creates the link with the stock as its completed-checkouts limit and a sold-out message in the shop's language", () => {
    const plan = planSync(withStock(5, "de-DE"), { products: [], prices: [], links: [] }, { siteUrl: SITE });
    const create = plan.steps.find((step) => step.kind === "create_link");
    expect(create?.kind === "create_link" && create.settings.stock).toEqual({
      limit: 5,
      inactiveMessage: "Ausverkauft: Alle Exemplare sind vergeben. Danke für Ihr Interesse.",
    });
    expect(soldOutMessage("en-US")).toBe(SOLD_OUT_EN);
  });

  it("plans nothing when the link already has the stock's limit and message", () => {
    expect(kinds(syncedState(withStock(5)), withStock(5))).toEqual([]);
  });

  it("sets the limit and the message on a link that had none, and updates the limit when the stock changes", () => {
    expect(linkUpdates(withStock(5), syncedState(withStock(undefined)))).toEqual([
      {
        update: { limit: 5, inactiveMessage: SOLD_OUT_EN },
        line: "~ update payment link maps (plink_maps): stock (completed checkouts limit), sold-out message",
      },
    ]);
    const state = syncedState(withStock(5));
    mapsLink(state).completedSessions = { count: 2, limit: 5 };
    expect(linkUpdates(withStock(8), state)).toEqual([
      {
        update: { limit: 8 },
        line: "~ update payment link maps (plink_maps): stock (completed checkouts limit)",
      },
    ]);
  });

  it("removes the limit and the message when the stock is removed, reopening a sold-out link", () => {
    const state = syncedState(withStock(3));
    Object.assign(mapsLink(state), { active: false, completedSessions: { count: 3, limit: 3 } });
    expect(linkUpdates(withStock(undefined), state)).toEqual([
      {
        update: { active: true, limit: null, inactiveMessage: null },
        line: "~ update payment link maps (plink_maps): active, stock (completed checkouts limit), sold-out message",
      },
    ]);
  });

  it("leaves a sold-out link stopped, and reopens it with a higher limit when the stock grows", () => {
    const state = syncedState(withStock(3));
    Object.assign(mapsLink(state), { active: false, completedSessions: { count: 3, limit: 3 } });
    expect(kinds(state, withStock(3))).toEqual([]);
    expect(linkUpdates(withStock(10), state)).toEqual([
      {
        update: { active: true, limit: 10 },
        line: "~ update payment link maps (plink_maps): active, stock (completed checkouts limit)",
      },
    ]);
  });

  it("stops a link whose stock was lowered to what it already sold, without sending a limit under the count", () => {
    const state = syncedState(withStock(10));
    mapsLink(state).completedSessions = { count: 6, limit: 10 };
    expect(linkUpdates(withStock(4), state)).toEqual([
      {
        update: { active: false },
        line: "~ update payment link maps (plink_maps): stopped: its stock is sold",
      },
    ]);
    // Once stopped, the same catalog plans nothing more.
    mapsLink(state).active = false;
    expect(kinds(state, withStock(4))).toEqual([]);
  });

  it("warns that a new price starts a new run, since Stripe counts from a link's creation", () => {
    const state = syncedState(withStock(5));
    mapsLink(state).completedSessions = { count: 4, limit: 5 };
    const repriced = withStock(5);
    (repriced.products[0] as Catalog["products"][number]).price.amount = 1200;
    const plan = planSync(repriced, state, { siteUrl: SITE });
    expect(plan.steps.map((step) => step.kind)).toEqual(["create_price", "create_link"]);
    expect(plan.warnings).toEqual([
      "maps: the new Payment Link starts a new run of 5 (stock counts from a link's creation; its older links completed 4 checkout(s))",
    ]);
  });
});
