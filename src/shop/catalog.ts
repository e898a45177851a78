/** The shop's catalog file: its schema, the error messages people see, and the typed result. */
import { access, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { isKnownCurrency, type Money } from "../lib/money.ts";
import { SHOP_MARKER } from "../order/metadata.ts";

/** Shop-wide settings. */
export interface Shop {
  name: string;
  /** Default currency for prices, ISO 4217 lowercase. */
  currency: string;
  supportEmail: string;
  /** BCP 47 locale for prices, dates, addresses and the language of the pages and emails, e.g. "en-US". */
  locale: string;
  /** Optional logo shown at the top of the emails: a picture under `public/` and its text alternative. */
  logo: ProductImage | undefined;
  /** Optional brand colour of headings and links in the emails, `#rrggbb`. */
  accentColor: string | undefined;
  /** How the shop's files are delivered. */
  downloads: DownloadSettings;
  /**
   * Whether customers get a short refund confirmation from the shop (default true); turn it off when Stripe's own
   * refund receipts are on (Dashboard > Settings > Customer emails).
   */
  refundConfirmations: boolean;
}

/** Limits of the download links in receipts. */
export interface DownloadSettings {
  /** Days a link works after the order is fulfilled. */
  expiresInDays: number;
  /** Transfers of each file of an order. */
  limit: number;
  /** Whether a partial refund also cuts access (a full refund or an open dispute always does). */
  revokeOnPartialRefund: boolean;
}

/**
 * The largest file a function can deliver: Netlify ends a streamed function response at 20 MB (docs.netlify.com,
 * Functions > Get started: "streamed responses ... up to 20 MB"). Bytes.
 */
export const MAX_FILE_BYTES = 20 * 1000 * 1000;

/** Where a catalog's files live, relative to the project root; never part of the published site. */
export const DOWNLOADS_DIR = "downloads";

/** One picture of a product: a path under `public/` and its text alternative. */
export interface ProductImage {
  /** Relative to `public/`, e.g. "images/field-notes.png"; served from the site root. */
  src: string;
  alt: string;
}

/** Checkout options applied to the product's Payment Link. */
export interface PaymentLinkOptions {
  /** Collect a shipping address limited to these ISO 3166-1 alpha-2 countries. */
  collectShipping?: { allowedCountries: string[] };
  /** Let the customer choose a quantity from 1 to `maximum`. */
  adjustableQuantity?: { maximum: number };
  allowPromotionCodes: boolean;
}

/** A product as sold: currency already defaulted from the shop. */
export interface Product {
  /** Slug, unique in the catalog; stored in Stripe as metadata `linkshop_id`. */
  id: string;
  name: string;
  description: string;
  price: Money;
  images: ProductImage[];
  /** Copied to the Stripe Product. */
  metadata: Record<string, string>;
  /** Files the customer receives, relative to `downloads/` (e.g. `trail-maps.pdf`); empty for physical goods. */
  files: string[];
  /**
   * Units the product's Payment Link may sell, one per order: the size of the run, counted from the link's creation
   * (a new price makes a new link, and a new run). Undefined: no limit.
   */
  stock: number | undefined;
  paymentLink: PaymentLinkOptions;
}

/** A validated catalog. */
export interface Catalog {
  shop: Shop;
  products: Product[];
}

/** Thrown when a catalog is unusable; `issues` lists every problem as `path: message`. */
export class CatalogError extends Error {
  override readonly name = "CatalogError";
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`${source} is invalid:\n${issues.map((issue) => `  - ${issue}`).join("\n")}`);
  }
}

// A relative path under downloads/: segments of letters, digits, `_`, `-` and `.`, none starting with a dot.
const FILE_PATH = /^(?:[\w-][\w.-]*\/)*[\w-][\w.-]*$/;

// A relative path under public/ with no `.` or `..` segments, to a picture.
const IMAGE_SRC = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[\w-][\w./-]*\.(?:png|jpe?g|webp|gif)$/i;

const MESSAGES = {
  text: "must be a non-empty string",
  currency: 'must be a three-letter ISO 4217 currency code in lowercase, e.g. "usd"',
  email: "must be an email address",
  locale: 'must be a language tag such as "en-US"',
  accentColor: 'must be a colour such as "#2f6f4e"',
  products: "must be a non-empty list of products",
  id: 'must be a slug of lowercase letters, digits and single hyphens, e.g. "field-notes"',
  amount: "must be a positive amount in minor units",
  images: "must be a list of images",
  image: "must be an object with src and alt",
  src: 'must be a relative path under public/ to a .png, .jpg, .jpeg, .webp or .gif file, e.g. "images/notes.png"',
  alt: "must describe the image (a non-empty string)",
  metadata: "must map names to text values",
  metadataKey: "must be at most 40 characters without square brackets",
  metadataValue: "must be a string of at most 500 characters",
  paymentLink: "must be an object",
  countries: 'must list two-letter country codes in uppercase, e.g. ["US", "GB"]',
  maximum: "must be a whole number from 2 to 999999",
  boolean: "must be true or false",
  object: "must be an object",
  file: 'must be a path under downloads/ without ".." or hidden segments, e.g. "maps/trail-maps.pdf"',
  files: "must be a list of file paths",
  days: "must be a whole number of days from 1 to 365",
  limit: "must be a whole number from 1 to 100",
  stock: "must be a whole number of units from 1 to 1000000",
} as const;

/** The largest `stock` a product may have (well under Stripe's completed-sessions limit). */
export const MAX_STOCK = 1_000_000;

const wholeNumber = (min: number, max: number, message: string) =>
  v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message));

const downloadsSchema = v.strictObject(
  {
    expiresInDays: v.optional(wholeNumber(1, 365, MESSAGES.days), 30),
    limit: v.optional(wholeNumber(1, 100, MESSAGES.limit), 5),
    revokeOnPartialRefund: v.optional(v.boolean(MESSAGES.boolean), false),
  },
  MESSAGES.object,
);

const text = v.pipe(v.string(MESSAGES.text), v.trim(), v.nonEmpty(MESSAGES.text));
const currency = v.pipe(
  v.string(MESSAGES.currency),
  v.regex(/^[a-z]{3}$/, MESSAGES.currency),
  v.check(isKnownCurrency, MESSAGES.currency),
);
const locale = v.pipe(
  v.string(MESSAGES.locale),
  v.check((tag) => {
    try {
      return Intl.getCanonicalLocales(tag).length === 1;
    } catch {
      return false;
    }
  }, MESSAGES.locale),
);

const imageSchema = v.strictObject(
  {
    // No "..", no leading slash: the path must stay inside public/ and is served from the site root.
    src: v.pipe(v.string(MESSAGES.src), v.regex(IMAGE_SRC, MESSAGES.src)),
    alt: text,
  },
  MESSAGES.image,
);

const shopSchema = v.strictObject(
  {
    name: text,
    currency,
    supportEmail: v.pipe(v.string(MESSAGES.email), v.email(MESSAGES.email)),
    locale: v.optional(locale, "en-US"),
    logo: v.optional(imageSchema),
    accentColor: v.optional(
      v.pipe(v.string(MESSAGES.accentColor), v.regex(/^#[0-9a-fA-F]{6}$/, MESSAGES.accentColor)),
    ),
    downloads: v.optional(downloadsSchema, {}),
    refundConfirmations: v.optional(v.boolean(MESSAGES.boolean), true),
  },
  MESSAGES.object,
);

// Stripe limits: 50 keys, keys up to 40 characters without brackets, values up to 500 characters.
const metadataSchema = v.pipe(
  v.record(
    v.pipe(v.string(), v.regex(/^[^[\]]{1,40}$/, MESSAGES.metadataKey)),
    v.pipe(v.string(MESSAGES.metadataValue), v.maxLength(500, MESSAGES.metadataValue)),
    MESSAGES.metadata,
  ),
  v.check((record) => Object.keys(record).length <= 49, "must have at most 49 entries"),
);

const paymentLinkSchema = v.strictObject(
  {
    collectShipping: v.optional(
      v.strictObject(
        {
          allowedCountries: v.pipe(
            v.array(
              v.pipe(v.string(MESSAGES.countries), v.regex(/^[A-Z]{2}$/, MESSAGES.countries)),
              MESSAGES.countries,
            ),
            v.nonEmpty(MESSAGES.countries),
          ),
        },
        MESSAGES.object,
      ),
    ),
    adjustableQuantity: v.optional(
      v.strictObject(
        {
          maximum: v.pipe(
            v.number(MESSAGES.maximum),
            v.integer(MESSAGES.maximum),
            v.minValue(2, MESSAGES.maximum),
            v.maxValue(999_999, MESSAGES.maximum),
          ),
        },
        MESSAGES.object,
      ),
    ),
    allowPromotionCodes: v.optional(v.boolean(MESSAGES.boolean), false),
  },
  MESSAGES.paymentLink,
);

const productSchema = v.strictObject(
  {
    id: v.pipe(
      v.string(MESSAGES.id),
      v.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, MESSAGES.id),
      v.maxLength(64, MESSAGES.id),
    ),
    name: text,
    description: text,
    price: v.strictObject(
      {
        amount: v.pipe(
          v.number(MESSAGES.amount),
          v.integer(MESSAGES.amount),
          v.minValue(1, MESSAGES.amount),
          v.maxValue(99_999_999, "must be at most 99999999 (Stripe's limit for one price)"),
        ),
        currency: v.optional(currency),
      },
      MESSAGES.object,
    ),
    images: v.optional(v.array(imageSchema, MESSAGES.images), []),
    metadata: v.optional(metadataSchema, {}),
    files: v.optional(
      v.pipe(
        v.array(
          v.pipe(v.string(MESSAGES.file), v.maxLength(200, MESSAGES.file), v.regex(FILE_PATH, MESSAGES.file)),
          MESSAGES.files,
        ),
        v.check((files) => new Set(files).size === files.length, "must not list a file twice"),
      ),
      [],
    ),
    stock: v.optional(wholeNumber(1, MAX_STOCK, MESSAGES.stock)),
    paymentLink: v.optional(paymentLinkSchema, { allowPromotionCodes: false }),
  },
  MESSAGES.object,
);

const catalogSchema = v.strictObject(
  {
    shop: shopSchema,
    products: v.pipe(v.array(productSchema, MESSAGES.products), v.nonEmpty(MESSAGES.products)),
  },
  "must be a JSON object with shop and products",
);

/** Renders a valibot path as people write it: `products[2].price.amount`, `metadata["odd key"]`. */
function formatPath(path: v.BaseIssue<unknown>["path"]): string {
  let out = "";
  for (const item of path ?? []) {
    const key = item.key;
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === "" ? "catalog" : out;
}

function describeIssue(issue: v.BaseIssue<unknown>): string {
  const isObjectIssue = issue.type === "strict_object" || issue.type === "object";
  // A strict object reports unknown keys as "expected never" and missing keys as "expected \"name\"".
  if (isObjectIssue && issue.expected === "never") return "is not a known field (check the spelling)";
  if (isObjectIssue && issue.input === undefined && issue.path !== undefined) return "is required";
  return issue.message;
}

// Extra rules that span products or depend on a single key; run even when the schema failed so all errors show.
function crossChecks(input: unknown): string[] {
  const issues: string[] = [];
  if (typeof input !== "object" || input === null) return issues;
  const products = (input as { products?: unknown }).products;
  if (!Array.isArray(products)) return issues;
  const firstIndexById = new Map<string, number>();
  products.forEach((product: unknown, index) => {
    if (typeof product !== "object" || product === null) return;
    const { id, metadata, stock, paymentLink } = product as {
      id?: unknown;
      metadata?: unknown;
      stock?: unknown;
      paymentLink?: { adjustableQuantity?: unknown } | null;
    };
    if (
      stock !== undefined &&
      typeof paymentLink === "object" &&
      paymentLink?.adjustableQuantity !== undefined
    ) {
      issues.push(
        `products[${index}].stock: cannot go with paymentLink.adjustableQuantity: Stripe's limit counts completed checkouts, not units, so a product with stock is sold one unit per order`,
      );
    }
    if (typeof id === "string") {
      const first = firstIndexById.get(id);
      if (first === undefined) firstIndexById.set(id, index);
      else issues.push(`products[${index}].id: "${id}" is already used by products[${first}]`);
    }
    if (typeof metadata === "object" && metadata !== null) {
      const record = metadata as Record<string, unknown>;
      if (SHOP_MARKER in record) {
        issues.push(`products[${index}].metadata.${SHOP_MARKER}: is reserved (catalog sync sets it from id)`);
      }
      if ("download_url" in record) {
        issues.push(
          `products[${index}].metadata.download_url: a public link is forwarded and outlives refunds; list the file in "files" (under downloads/) instead`,
        );
      }
    }
  });
  return issues;
}

/**
 * How a problem inside a product is introduced: by its id (`product "camp-mug"`), which is how people know their
 * products; by index when the id is missing, not text, or shared with another product.
 */
function productLabels(input: unknown): (index: number) => string {
  const products = (input as { products?: unknown } | null)?.products;
  const ids = Array.isArray(products)
    ? products.map((product: unknown) => {
        const id = (product as { id?: unknown } | null)?.id;
        return typeof id === "string" && id.trim() !== "" ? id : undefined;
      })
    : [];
  return (index) => {
    const id = ids[index];
    const unique = id !== undefined && ids.indexOf(id) === ids.lastIndexOf(id);
    return unique
      ? `product ${JSON.stringify(id)}`
      : `products[${index}]${id ? ` (${JSON.stringify(id)})` : ""}`;
  };
}

/** `products[2].price.amount: ...` -> `product "camp-mug", price.amount: ...`. */
function labelIssue(issue: string, label: (index: number) => string): string {
  const match = /^products\[(\d+)\](?:\.(.*?)|(\[.*?))?: ([\s\S]*)$/.exec(issue);
  if (!match) return issue;
  const field = match[2] ?? match[3];
  return `${label(Number(match[1]))}${field ? `, ${field}` : ""}: ${match[4]}`;
}

/** Image files a catalog names that are missing from `siteDir`, checked whatever else is wrong with it. */
async function missingImages(input: unknown, siteDir: string): Promise<string[]> {
  const issues: string[] = [];
  const logo = (input as { shop?: { logo?: { src?: unknown } } } | null)?.shop?.logo?.src;
  if (typeof logo === "string" && IMAGE_SRC.test(logo)) {
    const found = await access(join(siteDir, logo)).then(
      () => true,
      () => false,
    );
    if (!found) issues.push(`shop.logo.src: public/${logo} does not exist`);
  }
  for (const { where, value } of productEntries(
    input,
    "images",
    (image) => (image as { src?: unknown } | null)?.src,
  )) {
    if (!IMAGE_SRC.test(value)) continue;
    const found = await access(join(siteDir, value)).then(
      () => true,
      () => false,
    );
    if (!found) issues.push(`${where}.src: public/${value} does not exist`);
  }
  return issues;
}

/** Each text that `pick` finds in the list `field` of every product, with its path (`products[1].images[0]`). */
function productEntries(
  input: unknown,
  field: "images" | "files",
  pick: (entry: unknown) => unknown,
): { where: string; value: string }[] {
  const products = (input as { products?: unknown } | null)?.products;
  if (!Array.isArray(products)) return [];
  return products.flatMap((product: unknown, index) => {
    const list = (product as Record<string, unknown> | null)?.[field];
    if (!Array.isArray(list)) return [];
    return list.flatMap((entry: unknown, position) => {
      const value = pick(entry);
      return typeof value === "string" ? [{ where: `products[${index}].${field}[${position}]`, value }] : [];
    });
  });
}

/** Product files a catalog names that are missing from `downloadsDir` or too large for a function to deliver. */
async function unusableFiles(input: unknown, downloadsDir: string): Promise<string[]> {
  const issues: string[] = [];
  for (const { where, value: file } of productEntries(input, "files", (entry) => entry)) {
    if (!FILE_PATH.test(file)) continue;
    const info = await stat(join(downloadsDir, file)).catch(() => undefined);
    if (!info?.isFile()) issues.push(`${where}: ${DOWNLOADS_DIR}/${file} does not exist`);
    else if (info.size > MAX_FILE_BYTES)
      issues.push(
        `${where}: ${DOWNLOADS_DIR}/${file} is ${(info.size / 1e6).toFixed(1)} MB; a Netlify function streams at most 20 MB (docs.netlify.com, Functions)`,
      );
  }
  return issues;
}

/** Options of parseCatalog and loadCatalog. */
export interface CatalogCheckOptions {
  /** Folder the image paths are relative to (`public/`); when set, missing images are reported too. */
  siteDir?: string;
  /** Folder the product files are relative to (`downloads/`); when set, missing or oversized files are reported. */
  downloadsDir?: string;
}

/**
 * Validates parsed JSON as a catalog. Throws one CatalogError listing every problem, each named by product id,
 * e.g. `product "camp-mug", price.amount: must be a positive amount in minor units`.
 */
export function parseCatalog(input: unknown, source = "catalog.json", extraIssues: string[] = []): Catalog {
  const result = v.safeParse(catalogSchema, input, { abortEarly: false });
  const label = productLabels(input);
  const issues = [
    ...(result.issues ?? []).map((issue) => `${formatPath(issue.path)}: ${describeIssue(issue)}`),
    ...crossChecks(input),
    ...extraIssues,
  ].map((issue) => labelIssue(issue, label));
  if (!result.success || issues.length > 0) throw new CatalogError(source, [...new Set(issues)]);
  const { shop, products } = result.output;
  return {
    shop: {
      ...shop,
      logo: shop.logo,
      accentColor: shop.accentColor?.toLowerCase(),
      downloads: {
        expiresInDays: shop.downloads.expiresInDays,
        limit: shop.downloads.limit,
        revokeOnPartialRefund: shop.downloads.revokeOnPartialRefund,
      },
    },
    products: products.map((product) => ({
      ...product,
      stock: product.stock,
      price: { amount: product.price.amount, currency: product.price.currency ?? shop.currency },
    })),
  };
}

/**
 * Reads and validates a catalog file; JSON syntax errors become a CatalogError too. With `siteDir`, missing image
 * files are listed along with every other problem.
 */
export async function loadCatalog(path: string, options: CatalogCheckOptions = {}): Promise<Catalog> {
  const source = await readFile(path, "utf8");
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (error) {
    throw new CatalogError(path, [
      `not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    ]);
  }
  const missing = [
    ...(options.siteDir === undefined ? [] : await missingImages(json, options.siteDir)),
    ...(options.downloadsDir === undefined ? [] : await unusableFiles(json, options.downloadsDir)),
  ];
  return parseCatalog(json, path, missing);
}
