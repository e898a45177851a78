/** npm run doctor's check of the download links' secret, for a shop that sells files and one that does not. */
import { describe, expect, it } from "vitest";
import { checkDownloadSecret, type DoctorContext } from "../../src/commands/doctor/checks.ts";
import { parseCatalog } from "../../src/shop/catalog.ts";

const STORE = { UPSTASH_REDIS_REST_URL: "https://eu1-x.upstash.io", UPSTASH_REDIS_REST_TOKEN: "token" };
const product = { id: "maps", name: "Maps", description: "A PDF.", price: { amount: 900 } };
const shop = { name: "Trailhead", currency: "usd", supportEmail: "help@trailhead.example" };
const withFiles = parseCatalog({ shop, products: [{ ...product, files: ["maps.pdf", "extra/legend.pdf"] }] });
const withoutFiles = parseCatalog({ shop, products: [product] });

const context = (env: Record<string, string>) => ({ env }) as unknown as DoctorContext;

describe("doctor: download links", () => {
  it("for a shop without files, warns without the secret, which the customer pages need", () => {
    // No file to sign: the secret still keys the customers' own pages, so its absence is a warning.
    expect(checkDownloadSecret(context(STORE), withoutFiles)).toMatchObject({ status: "warn" });
    expect(
      checkDownloadSecret(context({ ...STORE, LINKSHOP_DOWNLOAD_SECRET: "k".repeat(32) }), withoutFiles),
    ).toMatchObject({ status: "ok" });
  });

  it("fails for a shop with files and no secret, or a short one, saying how to make one", () => {
    const missing = checkDownloadSecret(context(STORE), withFiles);
    expect(missing).toMatchObject({
      status: "fail",
      detail: "2 file(s) to deliver, but LINKSHOP_DOWNLOAD_SECRET is not set",
    });
    expect(missing.fix).toContain("openssl rand -hex 32");
    const short = checkDownloadSecret(context({ ...STORE, LINKSHOP_DOWNLOAD_SECRET: "short" }), withFiles);
    expect(short.status).toBe("fail");
    expect(short.detail).toContain("must be at least 32 characters");
    expect(JSON.stringify(short)).not.toContain('"short"');
  });

  it("passes with a secret of 32 characters or more", () => {
    const env = { ...STORE, LINKSHOP_DOWNLOAD_SECRET: "0123456789abcdef0123456789abcdef" };
    expect(checkDownloadSecret(context(env), withFiles)).toMatchObject({
      status: "ok",
      detail: "LINKSHOP_DOWNLOAD_SECRET signs the links of 2 file(s)",
    });
  });

  it("is skipped when the catalog is unusable", () => {
    expect(checkDownloadSecret(context(STORE), undefined).status).toBe("skip");
  });
});
