/** npm run build: catalog + links file + public/ become dist/, escaped, linked and within the size budget. */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";
import { DEPLOY_BLOBS_DIR } from "../../src/adapters/blobs.ts";
import { fileBlobKey, fileId } from "../../src/order/downloads.ts";
import { BuildError, buildSite, HOME_BUDGET_BYTES } from "../../src/site/build.ts";

const SITE_DIR = resolve("public");
const DOWNLOADS_DIR = resolve("downloads");
const sample = JSON.parse(await readFile("catalog.json", "utf8")) as {
  shop: Record<string, unknown>;
  products: { id: string; name: string; images: { src: string; alt: string }[] }[];
};
// The script runs in a temporary folder, so tsx is loaded by file URL rather than resolved from there.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const links = Object.fromEntries(sample.products.map((p) => [p.id, `https://buy.stripe.com/test_${p.id}`]));

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "linkshop-build-"));
});

async function build(catalog: unknown = sample, linkFile: Record<string, string> | null = links) {
  await writeFile(join(root, "catalog.json"), JSON.stringify(catalog));
  if (linkFile) await writeFile(join(root, "links.json"), JSON.stringify(linkFile));
  return buildSite({
    root,
    siteDir: SITE_DIR,
    outDir: "dist",
    linksFile: "links.json",
    downloadsDir: DOWNLOADS_DIR,
  });
}

describe("buildSite", () => {
  it("leaves the products' files for the deploy's Blobs store, with their sizes, and never publishes them", async () => {
    const result = await build();
    const key = fileBlobKey(fileId("trail-maps", "trail-maps.pdf"));
    expect(result.blobs).toEqual([key]);
    const original = await readFile(join(DOWNLOADS_DIR, "trail-maps.pdf"));
    expect((await readFile(join(root, DEPLOY_BLOBS_DIR, key))).equals(original)).toBe(true);
    const metadataFile = join(root, DEPLOY_BLOBS_DIR, "downloads", `$${key.split("/")[1]}.json`);
    expect(JSON.parse(await readFile(metadataFile, "utf8"))).toEqual({ size: original.byteLength });
    expect(result.files.filter((file) => /\.pdf$|downloads/.test(file))).toEqual([]);
    const home = await readFile(join(root, "dist/index.html"), "utf8");
    expect(home).not.toContain("trail-maps.pdf");
  });

  it("drops files the catalog no longer lists from what the deploy uploads", async () => {
    const stale = join(root, DEPLOY_BLOBS_DIR, "downloads", "0123456789abcdef");
    await mkdir(join(stale, ".."), { recursive: true });
    await writeFile(stale, "old");
    await build();
    await expect(stat(stale)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("writes the home page with every product, its Buy link and price, within the size budget", async () => {
    const result = await build();
    expect(result.warnings).toEqual([]);
    const home = await readFile(join(root, "dist/index.html"), "utf8");
    for (const product of sample.products) {
      expect(home).toContain(product.name.replaceAll("&", "&amp;"));
      expect(home).toContain(`href="https://buy.stripe.com/test_${product.id}" data-payment-link`);
      expect(home).toContain(`src="/${product.images[0]?.src}"`);
    }
    expect(home).toContain("$18.00");
    const css = result.files.find((file) => /^assets\/styles\.[0-9a-f]{8}\.css$/.test(file)) ?? "";
    expect(home).toContain(`<link rel="stylesheet" href="/${css}">`);
    const bytes = Buffer.byteLength(home) + (await stat(join(root, "dist", css))).size;
    expect(result.homeBytes).toBe(bytes);
    expect(bytes).toBeLessThan(HOME_BUDGET_BYTES);
  });

  it("publishes the catalog's logo for the emails' header", async () => {
    // A picture no product uses, so only the logo can have published it.
    const logo = { src: "images/camp-mug.png", alt: "Trailhead Goods" };
    const products = sample.products.filter((product) => product.id !== "camp-mug");
    const result = await build({ shop: { ...sample.shop, logo }, products });
    expect(result.files).toContain(logo.src);
    await expect(stat(join(root, "dist", logo.src))).resolves.toBeTruthy();
  });

  it("publishes the thank-you page, hashed assets and used images, and no _headers (netlify.toml sets them)", async () => {
    const result = await build();
    expect(result.files).toEqual(
      expect.arrayContaining([
        "index.html",
        "thanks/index.html",
        "favicon.svg",
        ...sample.products.map((product) => product.images[0]?.src),
      ]),
    );
    expect(result.files.filter((file) => file.startsWith("assets/"))).toHaveLength(3);
    const thanks = await readFile(join(root, "dist/thanks/index.html"), "utf8");
    const script = result.files.find((file) => file.startsWith("assets/thanks.")) ?? "";
    expect(thanks).toContain(`<script src="/${script}" defer></script>`);
    expect(await readFile(join(root, "dist", script), "utf8")).toBe(
      await readFile(join(SITE_DIR, "thanks.js"), "utf8"),
    );
    // The links this deploy shows, for catalog:sync --prune.
    expect(JSON.parse(await readFile(join(root, "dist/payment-links.json"), "utf8"))).toEqual(links);
    // Headers live in one place, netlify.toml (tests/unit/site-headers.test.ts); a _headers file would be a second.
    expect(result.files).not.toContain("_headers");
    await expect(stat(join(root, "dist/_headers"))).rejects.toThrow();
  });

  it("escapes catalog text in the page", async () => {
    const evil = structuredClone(sample);
    const first = evil.products[0];
    if (first) first.name = `<img src=x onerror="alert(1)"> & "friends"`;
    await build(evil);
    const home = await readFile(join(root, "dist/index.html"), "utf8");
    expect(home).not.toContain("<img src=x");
    expect(home).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &quot;friends&quot;");
  });

  it('shows "Unavailable" for a product without a link and warns, without failing', async () => {
    const { "camp-mug": _dropped, ...partial } = links;
    const result = await build(sample, { ...partial, retired: "https://buy.stripe.com/test_retired" });
    expect(result.warnings).toEqual([
      'camp-mug: no Payment Link in links.json; shown as "Unavailable"',
      'links.json has a link for "retired", which is not in the catalog (ignored)',
    ]);
    const home = await readFile(join(root, "dist/index.html"), "utf8");
    const card = home.slice(
      home.indexOf('id="product-camp-mug"'),
      home.indexOf("</article>", home.indexOf('id="product-camp-mug"')),
    );
    expect(card).toContain('<p class="unavailable">Unavailable</p>');
    expect(card).not.toContain("href=");
    expect(home).not.toContain("test_retired");
  });

  it("builds without a links file, every product unavailable, with one warning", async () => {
    const result = await build(sample, null);
    expect(result.warnings).toEqual([
      'links.json not found: all products are shown as "Unavailable"; run `npm run catalog:sync` to create it',
    ]);
    const home = await readFile(join(root, "dist/index.html"), "utf8");
    expect(home.match(/>Unavailable</g)).toHaveLength(sample.products.length);
  });

  it("fails on a missing image, an invalid catalog or a malformed links file, naming the problem", async () => {
    const missing = structuredClone(sample);
    missing.products[1]?.images.push({ src: "images/nope.png", alt: "Nothing" });
    await expect(build(missing)).rejects.toThrow(
      `product "${missing.products[1]?.id}", images[1].src: public/images/nope.png does not exist`,
    );
    await expect(build({ ...sample, products: [] })).rejects.toThrow(
      "products: must be a non-empty list of products",
    );
    await expect(build(sample, { "field-notes": "javascript:alert(1)" })).rejects.toThrow(BuildError);
  });

  it("scripts/build-site.ts reads PAYMENT_LINKS_FILE and writes dist/ in the working directory", async () => {
    await cp(SITE_DIR, join(root, "public"), { recursive: true });
    await cp(DOWNLOADS_DIR, join(root, "downloads"), { recursive: true });
    await writeFile(join(root, "catalog.json"), JSON.stringify(sample));
    await writeFile(join(root, "local-links.json"), JSON.stringify(links));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", TSX, resolve("scripts/build-site.ts")],
      {
        cwd: root,
        env: { ...process.env, PAYMENT_LINKS_FILE: "local-links.json" },
      },
    );
    expect(stdout).toMatch(/^Built \d+ files into .*, and 1 file for the deploy's Blobs store/);
    expect(await readFile(join(root, "dist/index.html"), "utf8")).toContain(
      "https://buy.stripe.com/test_field-notes",
    );
  });
});
