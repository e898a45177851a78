/** npm start follows edits: catalog.json and public/ changes rebuild the site it serves, a broken edit keeps the last good one. */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BuildError, buildSite } from "../../src/site/build.ts";
import { type SiteWatcher, watchSite } from "../../src/site/watch.ts";

const links = { "field-notes": "https://buy.stripe.com/test_field-notes" };
/** Generous ceiling for a rebuild on a loaded machine; the wait ends as soon as the condition holds. */
const WAIT = { timeout: 60_000, interval: 50 };

let root: string;
let watcher: SiteWatcher | undefined;
const errors: unknown[] = [];

const home = () => readFile(join(root, "site/index.html"), "utf8");
const catalogJson = async () => JSON.parse(await readFile(join(root, "catalog.json"), "utf8"));

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "linkshop-watch-"));
  await cp(resolve("public"), join(root, "public"), { recursive: true });
  await cp(resolve("downloads"), join(root, "downloads"), { recursive: true });
  await cp(resolve("catalog.json"), join(root, "catalog.json"));
  await writeFile(join(root, "links.json"), JSON.stringify(links));
  errors.length = 0;
  const rebuild = async () => {
    await buildSite({ root, outDir: "site", linksFile: "links.json" });
  };
  await rebuild();
  watcher = watchSite({
    files: [join(root, "catalog.json"), join(root, "links.json")],
    folders: [join(root, "public")],
    rebuild,
    onError: (error) => errors.push(error),
  });
});

afterEach(async () => {
  await watcher?.close();
  await rm(root, { recursive: true, force: true });
});

describe("watchSite", () => {
  it("rebuilds when catalog.json changes", async () => {
    const catalog = await catalogJson();
    catalog.products[0].name = "Renamed While Running";
    await writeFile(join(root, "catalog.json"), JSON.stringify(catalog));
    await vi.waitFor(async () => expect(await home()).toContain("Renamed While Running"), WAIT);
  });

  it("rebuilds when a file under public/ changes", async () => {
    const before = await readdir(join(root, "site/assets"));
    await writeFile(
      join(root, "public/styles.css"),
      `${await readFile(join(root, "public/styles.css"), "utf8")}\n.x{}`,
    );
    await vi.waitFor(async () => {
      const after = await readdir(join(root, "site/assets"));
      expect(after.find((name) => name.startsWith("styles."))).not.toBe(
        before.find((name) => name.startsWith("styles.")),
      );
    }, WAIT);
  });

  it("keeps serving the last good site when an edit breaks the catalog, and recovers when it is fixed", async () => {
    const good = await home();
    const catalog = await catalogJson();
    const price = catalog.products[0].price.amount;
    catalog.products[0].price.amount = 0;
    await writeFile(join(root, "catalog.json"), JSON.stringify(catalog));
    await vi.waitFor(() => expect(errors).toHaveLength(1), WAIT);
    expect(errors[0]).toBeInstanceOf(BuildError);
    expect(String((errors[0] as Error).message)).toContain(
      `product "${catalog.products[0].id}", price.amount`,
    );
    expect(await home()).toBe(good);

    catalog.products[0].price.amount = price;
    catalog.products[0].name = "Fixed Again";
    await writeFile(join(root, "catalog.json"), JSON.stringify(catalog));
    await vi.waitFor(async () => expect(await home()).toContain("Fixed Again"), WAIT);
  });
});

describe("buildSite", () => {
  it("swaps the new site in whole, leaving no half-built folder behind", async () => {
    const catalog = await catalogJson();
    catalog.products[0].name = "Second Build";
    await writeFile(join(root, "catalog.json"), JSON.stringify(catalog));
    await buildSite({ root, outDir: "site", linksFile: "links.json" });
    expect(await home()).toContain("Second Build");
    expect((await readdir(root)).filter((name) => name.startsWith("site"))).toEqual(["site"]);
  });
});
