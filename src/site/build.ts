/** Static site build: catalog + Payment Link file + public/ sources -> dist/ (home page, thank-you page, assets). */
import { createHash, randomBytes } from "node:crypto";
import { cp, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { DEFAULT_LINKS_FILE, formatPaymentLinks, readPaymentLinks } from "./links-file.ts";
import { type AssetPaths, renderShopPage, renderThanksPage } from "./render.ts";
import { DEPLOY_BLOBS_DIR, type FileMetadata } from "../adapters/blobs.ts";
import { fileBlobKey, fileId } from "../order/downloads.ts";
import { type Catalog, CatalogError, DOWNLOADS_DIR, loadCatalog } from "../shop/catalog.ts";

/** Home page HTML plus its stylesheet must stay under this many bytes. */
export const HOME_BUDGET_BYTES = 50 * 1024;

/** Inputs and outputs of a build; relative paths resolve against `root`. */
export interface BuildOptions {
  /** Project root (holds catalog.json and public/). */
  root: string;
  catalog?: string;
  siteDir?: string;
  outDir?: string;
  /** Payment Link file; PAYMENT_LINKS_FILE or payment-links.json by default. */
  linksFile?: string;
  /** The products' files (default `downloads/`): never published, only stored privately. */
  downloadsDir?: string;
  /** Where the files are left for Netlify to upload to the deploy's Blobs store (default DEPLOY_BLOBS_DIR). */
  blobsDir?: string;
  /** Catalog ids already sold out when the site is built: rendered "Sold out", without Buy. */
  soldOut?: readonly string[];
}

/** What the build produced. */
export interface BuildResult {
  outDir: string;
  /** Files written, relative to outDir, sorted. */
  files: string[];
  /** Problems that do not stop the build (missing links); print them. */
  warnings: string[];
  /** Bytes of the home page HTML plus its stylesheet. */
  homeBytes: number;
  /** Product files left for the deploy's Blobs store, as `downloads/<file id>` keys, sorted. */
  blobs: string[];
}

/** Where the built site publishes the Payment Links its pages use. */
export const DEPLOYED_LINKS_PATH = "payment-links.json";

/** A problem that stops the build; the message lists everything wrong at once. */
export class BuildError extends Error {
  override readonly name = "BuildError";
}

/**
 * `name.<8 hex of sha256>.ext`: a changed file gets a new URL, so assets can be cached forever (netlify.toml's
 * `[[headers]]`, where every response header of the site is set; the build writes no `_headers` file).
 */
function hashedName(name: string, content: string): string {
  const hash = createHash("sha256").update(content).digest("hex").slice(0, 8);
  const dot = name.lastIndexOf(".");
  return `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
}

/** Replaces `target` with `fresh` by two renames; `target` is missing only between them. */
async function swapIn(fresh: string, target: string): Promise<void> {
  const old = `${fresh}.old`;
  const hadTarget = await rename(target, old).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );
  await rename(fresh, target);
  if (hadTarget) await rm(old, { recursive: true, force: true });
}

/**
 * Builds the site into `outDir` (replaced as a whole). Fails on an invalid catalog, a missing image or a malformed
 * links file; a product without a Payment Link still builds, shown as "Unavailable", with a warning.
 */
export async function buildSite(options: BuildOptions): Promise<BuildResult> {
  const root = resolve(options.root);
  const at = (path: string) => (isAbsolute(path) ? path : join(root, path));
  const siteDir = at(options.siteDir ?? "public");
  const outDir = at(options.outDir ?? "dist");
  const linksFile = options.linksFile ?? DEFAULT_LINKS_FILE;
  const linksPath = at(linksFile);
  const downloadsDir = at(options.downloadsDir ?? DOWNLOADS_DIR);
  const blobsDir = at(options.blobsDir ?? DEPLOY_BLOBS_DIR);
  if (outDir === root || !relative(outDir, siteDir).startsWith("..")) {
    throw new BuildError(`Refusing to build into ${outDir}: it would delete the sources`);
  }

  let catalog: Catalog;
  try {
    // Schema problems and missing pictures are reported together.
    catalog = await loadCatalog(at(options.catalog ?? "catalog.json"), { siteDir, downloadsDir });
  } catch (error) {
    if (error instanceof CatalogError) throw new BuildError(error.message);
    throw error;
  }

  const warnings: string[] = [];
  let links: Record<string, string>;
  try {
    const read = await readPaymentLinks(linksPath);
    if (read === undefined) {
      warnings.push(
        `${linksFile} not found: all products are shown as "Unavailable"; run \`npm run catalog:sync\` to create it`,
      );
    }
    links = read ?? {};
  } catch (error) {
    throw new BuildError(error instanceof Error ? error.message : String(error));
  }
  const ids = new Set(catalog.products.map((product) => product.id));
  for (const product of catalog.products) {
    if (Object.keys(links).length > 0 && !links[product.id])
      warnings.push(`${product.id}: no Payment Link in ${linksFile}; shown as "Unavailable"`);
  }
  for (const id of Object.keys(links)) {
    if (!ids.has(id))
      warnings.push(`${linksFile} has a link for "${id}", which is not in the catalog (ignored)`);
  }

  const [styles, shopScript, thanksScript] = await Promise.all(
    ["styles.css", "shop.js", "thanks.js"].map((name) => readFile(join(siteDir, name), "utf8")),
  );
  const assetFiles = {
    stylesheet: [hashedName("styles.css", styles ?? ""), styles ?? ""],
    shopScript: [hashedName("shop.js", shopScript ?? ""), shopScript ?? ""],
    thanksScript: [hashedName("thanks.js", thanksScript ?? ""), thanksScript ?? ""],
  } as const;
  const assets: AssetPaths = {
    stylesheet: `/assets/${assetFiles.stylesheet[0]}`,
    shopScript: `/assets/${assetFiles.shopScript[0]}`,
    thanksScript: `/assets/${assetFiles.thanksScript[0]}`,
    favicon: "/favicon.svg",
  };
  const home = renderShopPage(catalog, links, assets, new Set(options.soldOut ?? []));
  const thanks = renderThanksPage(catalog, assets);

  // Written next to outDir and swapped in at the end, so a server reading outDir never sees a half-built site.
  const stagingDir = `${outDir}.next-${process.pid}-${randomBytes(4).toString("hex")}`;
  const build = async (dir: string): Promise<string[]> => {
    await mkdir(join(dir, "assets"), { recursive: true });
    await mkdir(join(dir, "thanks"), { recursive: true });
    const files: Record<string, string> = {
      "index.html": home,
      "thanks/index.html": thanks,
      // The links this deploy shows, so `catalog:sync --prune` knows which old links buyers may still meet.
      [DEPLOYED_LINKS_PATH]: formatPaymentLinks(
        Object.fromEntries(Object.entries(links).filter(([id]) => ids.has(id))),
      ),
      [`assets/${assetFiles.stylesheet[0]}`]: assetFiles.stylesheet[1],
      [`assets/${assetFiles.shopScript[0]}`]: assetFiles.shopScript[1],
      [`assets/${assetFiles.thanksScript[0]}`]: assetFiles.thanksScript[1],
    };
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    await cp(join(siteDir, "favicon.svg"), join(dir, "favicon.svg"));
    const written = Object.keys(files).concat("favicon.svg");
    // Only the images the catalog uses are published.
    for (const src of new Set([
      ...catalog.products.flatMap((product) => product.images.map((image) => image.src)),
      ...(catalog.shop.logo ? [catalog.shop.logo.src] : []),
    ])) {
      await mkdir(join(dir, src, ".."), { recursive: true });
      await cp(join(siteDir, src), join(dir, src));
      written.push(src);
    }
    return written;
  };
  let written: string[];
  try {
    written = await build(stagingDir);
    await swapIn(stagingDir, outDir);
  } finally {
    await rm(stagingDir, { recursive: true, force: true });
  }

  const blobs = await storeFiles(catalog, downloadsDir, blobsDir);
  const homeBytes = Buffer.byteLength(home) + Buffer.byteLength(styles ?? "");
  if (homeBytes > HOME_BUDGET_BYTES) {
    warnings.push(`home page HTML + CSS is ${homeBytes} bytes, over the ${HOME_BUDGET_BYTES}-byte budget`);
  }
  return { outDir, files: written.sort(), warnings, homeBytes, blobs };
}

/**
 * Leaves every product file under `blobsDir` by its key, with its size as metadata (`$<name>.json`), for Netlify
 * to upload to the deploy's Blobs store. The files never enter the published site; stale ones are removed.
 */
async function storeFiles(catalog: Catalog, downloadsDir: string, blobsDir: string): Promise<string[]> {
  const keys: string[] = [];
  const target = join(blobsDir, fileBlobKey(""));
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  for (const product of catalog.products) {
    for (const path of product.files) {
      const key = fileBlobKey(fileId(product.id, path));
      const source = join(downloadsDir, path);
      await cp(source, join(blobsDir, key));
      const metadata: FileMetadata = { size: (await stat(source)).size };
      await writeFile(join(blobsDir, dirname(key), `$${basename(key)}.json`), JSON.stringify(metadata));
      keys.push(key);
    }
  }
  return keys.sort();
}
