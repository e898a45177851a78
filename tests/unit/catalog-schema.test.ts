/** Catalog validation: every problem at once, each named by path and explained in words. */
import { mkdir, mkdtemp, readFile, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CatalogError, loadCatalog, MAX_FILE_BYTES, parseCatalog } from "../../src/shop/catalog.ts";

const product = (overrides: Record<string, unknown> = {}) => ({
  id: "field-notes",
  name: "Field Notes",
  description: "Two notebooks.",
  price: { amount: 1800 },
  ...overrides,
});
const catalogWith = (products: unknown[], shop: Record<string, unknown> = {}) => ({
  shop: { name: "Trailhead", currency: "usd", supportEmail: "help@trailhead.example", ...shop },
  products,
});

function issuesOf(input: unknown): string[] {
  try {
    parseCatalog(input);
  } catch (error) {
    if (error instanceof CatalogError) return error.issues;
    throw error;
  }
  throw new Error("expected the catalog to be rejected");
}

describe("parseCatalog", () => {
  it("accepts the shipped catalog.json", async () => {
    const catalog = parseCatalog(JSON.parse(await readFile("catalog.json", "utf8")));
    expect(catalog.products.length).toBeGreaterThanOrEqual(3);
    expect(catalog.products.find((p) => p.id === "trail-maps")?.files).toEqual(["trail-maps.pdf"]);
    expect(catalog.products.some((p) => p.paymentLink.collectShipping)).toBe(true);
  });

  it("takes an optional logo and accent colour for the emails, and explains bad ones", () => {
    const shop = parseCatalog(
      catalogWith([product()], {
        logo: { src: "images/logo.png", alt: "Trailhead" },
        accentColor: "#2F6F4E",
      }),
    ).shop;
    expect([shop.logo, shop.accentColor]).toEqual([{ src: "images/logo.png", alt: "Trailhead" }, "#2f6f4e"]);
    expect(parseCatalog(catalogWith([product()])).shop).toMatchObject({
      logo: undefined,
      accentColor: undefined,
    });
    expect(
      issuesOf(catalogWith([product()], { logo: { src: "../logo.png", alt: "" }, accentColor: "green" })),
    ).toEqual([
      expect.stringMatching(/^shop\.logo\.src: must be a relative path/),
      "shop.logo.alt: must be a non-empty string",
      'shop.accentColor: must be a colour such as "#2f6f4e"',
    ]);
  });

  it("defaults a product's currency to the shop's and fills optional parts", () => {
    const catalog = parseCatalog(
      catalogWith([product(), product({ id: "yen", price: { amount: 500, currency: "jpy" } })]),
    );
    expect(catalog.shop.locale).toBe("en-US");
    expect(catalog.shop.downloads).toEqual({ expiresInDays: 30, limit: 5, revokeOnPartialRefund: false });
    expect(catalog.shop.refundConfirmations).toBe(true);
    expect(catalog.products[0]).toEqual({
      id: "field-notes",
      name: "Field Notes",
      description: "Two notebooks.",
      price: { amount: 1800, currency: "usd" },
      images: [],
      metadata: {},
      files: [],
      paymentLink: { allowPromotionCodes: false },
    });
    expect(catalog.products[1]?.price).toEqual({ amount: 500, currency: "jpy" });
  });

  it("names the product by its id and the field for a bad amount", () => {
    const products = [product({ id: "a" }), product({ id: "b" }), product({ id: "c", price: { amount: 0 } })];
    expect(issuesOf(catalogWith(products))).toEqual([
      'product "c", price.amount: must be a positive amount in minor units',
    ]);
  });

  it.each([
    ["a fraction", 18.5],
    ["a negative number", -100],
    ["a string", "18.00"],
  ])("rejects %s as an amount", (_label, amount) => {
    expect(issuesOf(catalogWith([product({ price: { amount } })]))).toEqual([
      'product "field-notes", price.amount: must be a positive amount in minor units',
    ]);
  });

  it("reports every problem at once, in document order", () => {
    const input = {
      shop: { name: "", currency: "USD", supportEmail: "nope" },
      products: [
        product({ id: "Bad Id", price: { amount: 1, currency: "dollars" }, colour: "red" }),
        { id: "no-price", name: "X", description: "Y" },
        product({ id: "field-notes", images: [{ src: "../secret.png", alt: "" }] }),
        product({ id: "field-notes", metadata: { download_url: "https://files.example/file.zip" } }),
      ],
    };
    expect(issuesOf(input)).toEqual([
      "shop.name: must be a non-empty string",
      'shop.currency: must be a three-letter ISO 4217 currency code in lowercase, e.g. "usd"',
      "shop.supportEmail: must be an email address",
      'product "Bad Id", id: must be a slug of lowercase letters, digits and single hyphens, e.g. "field-notes"',
      'product "Bad Id", price.currency: must be a three-letter ISO 4217 currency code in lowercase, e.g. "usd"',
      'product "Bad Id", colour: is not a known field (check the spelling)',
      'product "no-price", price: is required',
      'products[2] ("field-notes"), images[0].src: must be a relative path under public/ to a .png, .jpg, .jpeg, .webp or .gif file, e.g. "images/notes.png"',
      'products[2] ("field-notes"), images[0].alt: must be a non-empty string',
      'products[3] ("field-notes"), id: "field-notes" is already used by products[2]',
      'products[3] ("field-notes"), metadata.download_url: a public link is forwarded and outlives refunds; list the file in "files" (under downloads/) instead',
    ]);
  });

  it("checks payment link options", () => {
    const input = catalogWith([
      product({
        paymentLink: {
          collectShipping: { allowedCountries: ["us"] },
          adjustableQuantity: { maximum: 1 },
          allowPromotionCodes: "yes",
        },
      }),
      product({ id: "empty-countries", paymentLink: { collectShipping: { allowedCountries: [] } } }),
    ]);
    expect(issuesOf(input)).toEqual([
      'product "field-notes", paymentLink.collectShipping.allowedCountries[0]: must list two-letter country codes in uppercase, e.g. ["US", "GB"]',
      'product "field-notes", paymentLink.adjustableQuantity.maximum: must be a whole number from 2 to 999999',
      'product "field-notes", paymentLink.allowPromotionCodes: must be true or false',
      'product "empty-countries", paymentLink.collectShipping.allowedCountries: must list two-letter country codes in uppercase, e.g. ["US", "GB"]',
    ]);
  });

  it("takes a stock of whole units, and refuses it with an adjustable quantity, saying why", () => {
    expect(parseCatalog(catalogWith([product({ stock: 200 })])).products[0]?.stock).toBe(200);
    expect(parseCatalog(catalogWith([product()])).products[0]?.stock).toBeUndefined();
    const bad = "must be a whole number of units from 1 to 1000000";
    expect(issuesOf(catalogWith([product({ stock: 0 }), product({ id: "mug", stock: 2.5 })]))).toEqual([
      `product "field-notes", stock: ${bad}`,
      `product "mug", stock: ${bad}`,
    ]);
    expect(
      issuesOf(catalogWith([product({ stock: 10, paymentLink: { adjustableQuantity: { maximum: 4 } } })])),
    ).toEqual([
      `product "field-notes", stock: cannot go with paymentLink.adjustableQuantity: Stripe's limit counts completed checkouts, not units, so a product with stock is sold one unit per order`,
    ]);
  });

  it("keeps linkshop_id for the sync and quotes odd metadata keys", () => {
    const input = catalogWith([product({ metadata: { linkshop_id: "x", "size-note": 3 } })]);
    expect(issuesOf(input)).toEqual([
      'product "field-notes", metadata["size-note"]: must be a string of at most 500 characters',
      'product "field-notes", metadata.linkshop_id: is reserved (catalog sync sets it from id)',
    ]);
  });

  it("takes product files under downloads/ and the shop's download limits, and explains bad ones", () => {
    const catalog = parseCatalog(
      catalogWith([product({ files: ["maps/trail-maps.pdf", "readme.txt"] })], {
        downloads: { expiresInDays: 7, limit: 3, revokeOnPartialRefund: true },
      }),
    );
    expect(catalog.products[0]?.files).toEqual(["maps/trail-maps.pdf", "readme.txt"]);
    expect(catalog.shop.downloads).toEqual({ expiresInDays: 7, limit: 3, revokeOnPartialRefund: true });
    const fileMessage =
      'must be a path under downloads/ without ".." or hidden segments, e.g. "maps/trail-maps.pdf"';
    expect(
      issuesOf(
        catalogWith(
          [product({ files: ["../secret.pdf", "/etc/passwd", ".env", "a/.hidden/b", "ok.pdf", "ok.pdf"] })],
          {
            downloads: { expiresInDays: 0, limit: 1000, extra: true },
          },
        ),
      ),
    ).toEqual([
      "shop.downloads.expiresInDays: must be a whole number of days from 1 to 365",
      "shop.downloads.limit: must be a whole number from 1 to 100",
      "shop.downloads.extra: is not a known field (check the spelling)",
      `product "field-notes", files[0]: ${fileMessage}`,
      `product "field-notes", files[1]: ${fileMessage}`,
      `product "field-notes", files[2]: ${fileMessage}`,
      `product "field-notes", files[3]: ${fileMessage}`,
      'product "field-notes", files: must not list a file twice',
    ]);
  });

  it("rejects a catalog without products and unknown currencies", () => {
    expect(issuesOf(catalogWith([], { currency: "zzz" }))).toEqual([
      'shop.currency: must be a three-letter ISO 4217 currency code in lowercase, e.g. "usd"',
      "products: must be a non-empty list of products",
    ]);
    expect(issuesOf("products")).toEqual(["catalog: must be a JSON object with shop and products"]);
    expect(issuesOf({})).toEqual(["shop: is required", "products: is required"]);
  });

  it("introduces the list with the file name", () => {
    expect(() => parseCatalog(catalogWith([product({ price: { amount: 0 } })]), "shop.json")).toThrow(
      'shop.json is invalid:\n  - product "field-notes", price.amount: must be a positive amount in minor units',
    );
  });
});

describe("loadCatalog", () => {
  it("lists missing pictures together with the schema problems, by product id", async () => {
    const dir = await mkdtemp(join(tmpdir(), "linkshop-catalog-"));
    const path = join(dir, "catalog.json");
    await writeFile(
      path,
      JSON.stringify(
        catalogWith([
          product({ images: [{ src: "images/missing.png", alt: "Gone" }] }),
          product({ id: "mug", price: { amount: 0 } }),
        ]),
      ),
    );
    await expect(loadCatalog(path, { siteDir: dir })).rejects.toThrow(
      `${path} is invalid:\n` +
        '  - product "mug", price.amount: must be a positive amount in minor units\n' +
        '  - product "field-notes", images[0].src: public/images/missing.png does not exist',
    );
    await mkdir(join(dir, "images"));
    await writeFile(join(dir, "images/missing.png"), "");
    const error: unknown = await loadCatalog(path, { siteDir: dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as CatalogError).issues).toEqual([
      'product "mug", price.amount: must be a positive amount in minor units',
    ]);
  });

  it("reports a missing logo file like a missing product picture", async () => {
    const dir = await mkdtemp(join(tmpdir(), "linkshop-catalog-"));
    const path = join(dir, "catalog.json");
    await writeFile(
      path,
      JSON.stringify(catalogWith([product()], { logo: { src: "logo.png", alt: "Trailhead" } })),
    );
    const error: unknown = await loadCatalog(path, { siteDir: dir }).catch((caught: unknown) => caught);
    expect((error as CatalogError).issues).toEqual(["shop.logo.src: public/logo.png does not exist"]);
    await writeFile(join(dir, "logo.png"), "");
    await expect(loadCatalog(path, { siteDir: dir })).resolves.toMatchObject({
      shop: { logo: { src: "logo.png" } },
    });
  });

  it("names a missing product file and one too large for a function to stream", async () => {
    const dir = await mkdtemp(join(tmpdir(), "linkshop-catalog-"));
    const path = join(dir, "catalog.json");
    const downloadsDir = join(dir, "downloads");
    await mkdir(join(downloadsDir, "maps"), { recursive: true });
    await writeFile(join(downloadsDir, "maps/ok.pdf"), "%PDF-1.4");
    // A sparse file: 20 MB and one byte, without writing them.
    await writeFile(join(downloadsDir, "huge.zip"), "");
    await truncate(join(downloadsDir, "huge.zip"), MAX_FILE_BYTES + 1);
    await writeFile(
      path,
      JSON.stringify(
        catalogWith([
          product({ files: ["maps/ok.pdf", "missing.pdf"] }),
          product({ id: "big", files: ["huge.zip"] }),
        ]),
      ),
    );
    const error: unknown = await loadCatalog(path, { downloadsDir }).catch((caught: unknown) => caught);
    expect((error as CatalogError).issues).toEqual([
      'product "field-notes", files[1]: downloads/missing.pdf does not exist',
      'product "big", files[0]: downloads/huge.zip is 20.0 MB; a Netlify function streams at most 20 MB (docs.netlify.com, Functions)',
    ]);
    await writeFile(path, JSON.stringify(catalogWith([product({ files: ["maps/ok.pdf"] })])));
    await expect(loadCatalog(path, { downloadsDir })).resolves.toMatchObject({
      products: [{ files: ["maps/ok.pdf"] }],
    });
  });

  it("turns a JSON syntax error into a CatalogError naming the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "linkshop-catalog-"));
    const path = join(dir, "catalog.json");
    await writeFile(path, '{ "shop": ');
    await expect(loadCatalog(path)).rejects.toThrow(`${path} is invalid:\n  - not valid JSON`);
  });
});
