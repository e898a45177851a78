/** catalog:sync and stripe:webhook against the Stripe emulator, through a proxy that counts what reaches it. */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStripeClient } from "../../src/adapters/stripe.ts";
import { catalogSyncCommand, runCatalogSync } from "../../src/commands/catalog-sync/command.ts";
import { type Io, runCommand, type RunOptions } from "../../src/commands/kit.ts";
import { stripeWebhookCommand } from "../../src/commands/stripe-webhook.ts";
import { HANDLED_EVENTS } from "../../src/order/events.ts";
import { type StripeEmulator, startStripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { type CountingProxy, emulatorClient, startCountingProxy } from "../support/stripe-emulator.ts";

const SITE = "https://shop.example";
const KEY = "sk_test_catalog_sync";

interface Run {
  code: number;
  out: string;
  err: string;
}

let emulator: StripeEmulator;
let proxy: CountingProxy;
let dir: string;
let stripe: Stripe;
const env = () => ({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: proxy.url });
const writes = () =>
  proxy.requests.filter((request) => request.startsWith("POST") || request.startsWith("DELETE"));

async function sync(
  args: string[] = [],
  environment: Record<string, string | undefined> = env(),
): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCatalogSync(
    ["--catalog", "catalog.json", "--out", "links.json", "--site-url", SITE, ...args],
    environment,
    { out: (line) => out.push(line), err: (line) => err.push(line) },
    dir,
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function webhook(
  args: string[] = [],
  environment: Record<string, string | undefined> = env(),
  options: RunOptions = {},
): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCommand(stripeWebhookCommand, {
    argv: ["--site-url", SITE, ...args],
    env: environment,
    io: { out: (line) => out.push(line), err: (line) => err.push(line) },
    cwd: dir,
    ...options,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** A terminal that answers the kit's question with `answer`, and what it was shown. */
function terminal(answer: boolean) {
  const shown: string[] = [];
  const questions: string[] = [];
  const io: Io = {
    out: (line) => shown.push(line),
    err: (line) => shown.push(line),
    interactive: true,
    confirm: async (question) => {
      questions.push(question);
      return answer;
    },
  };
  return { io, shown, questions };
}

/**
 * A live key as far as the commands can tell, while the client they get talks to the emulator (which accepts test
 * keys only) with the test key.
 */
const LIVE_ENV = () => ({ STRIPE_SECRET_KEY: "sk_live_catalog_sync", STRIPE_API_BASE: proxy.url });
const emulatedLive: RunOptions["connect"] = {
  stripe: (access) => createStripeClient(KEY, access.apiBase),
};

type CatalogJson = { products: { id: string; price: { amount: number } }[] };
const readCatalog = async (): Promise<CatalogJson> =>
  JSON.parse(await readFile(join(dir, "catalog.json"), "utf8"));
const writeCatalog = (catalog: CatalogJson) => writeFile(join(dir, "catalog.json"), JSON.stringify(catalog));
const readLinks = async (): Promise<Record<string, string>> =>
  JSON.parse(await readFile(join(dir, "links.json"), "utf8"));

async function linkFor(catalogId: string, active = true): Promise<Stripe.PaymentLink[]> {
  const links: Stripe.PaymentLink[] = [];
  for await (const link of stripe.paymentLinks.list({ limit: 100 })) {
    if (link.metadata.linkshop_id === catalogId && link.active === active) links.push(link);
  }
  return links;
}

beforeEach(async () => {
  emulator = await startStripeEmulator({ port: 0 });
  proxy = await startCountingProxy(emulator.url);
  dir = await mkdtemp(join(tmpdir(), "linkshop-sync-"));
  await writeFile(join(dir, "catalog.json"), await readFile("catalog.json"));
  await symlink(resolve("public"), join(dir, "public"));
  stripe = emulatorClient(emulator.url, { apiKey: KEY });
});

afterEach(async () => {
  await proxy.close();
  await emulator.close();
});

describe("npm run catalog:sync", () => {
  it("first run creates a Product, Price and Payment Link per product and writes the links file", async () => {
    const catalog = await readCatalog();
    const run = await sync();
    expect(run).toMatchObject({ code: 0, err: "" });
    expect(writes()).toHaveLength(catalog.products.length * 3);

    const links = await readLinks();
    expect(Object.keys(links)).toEqual(catalog.products.map((product) => product.id).sort());
    const raw = await readFile(join(dir, "links.json"), "utf8");
    expect(raw).toBe(`${JSON.stringify(links, null, 2)}\n`);

    const [link] = await linkFor("field-notes");
    expect(link?.url).toBe(links["field-notes"]);
    expect(link?.after_completion).toEqual({
      type: "redirect",
      redirect: { url: `${SITE}/thanks?session_id={CHECKOUT_SESSION_ID}` },
    });
    expect(link?.metadata).toEqual({ linkshop_id: "field-notes" });
    expect(link?.shipping_address_collection?.allowed_countries).toEqual(["US", "CA", "GB"]);
    const [item] = (await stripe.paymentLinks.listLineItems(link?.id ?? "")).data;
    expect(item?.adjustable_quantity).toMatchObject({ enabled: true, maximum: 10 });
    expect(item?.price?.lookup_key).toBe("linkshop:field-notes:usd:1800");
    expect(item?.price?.unit_amount).toBe(1800);

    const product = await stripe.products.retrieve(
      typeof item?.price?.product === "string" ? item.price.product : (item?.price?.product.id ?? ""),
    );
    expect(product.metadata).toEqual({ linkshop_id: "field-notes" });
    expect(product.images).toEqual([`${SITE}/images/field-notes.png`]);
    const [digital] = await linkFor("trail-maps");
    expect(digital?.allow_promotion_codes).toBe(true);
    expect(digital?.shipping_address_collection).toBeNull();

    // The Buy URL opens the emulator's hosted checkout page.
    expect((await fetch(links["field-notes"] ?? "")).status).toBe(200);
  });

  it("second run makes zero writes and leaves the links file as it was", async () => {
    await sync();
    const before = await readFile(join(dir, "links.json"), "utf8");
    proxy.requests.length = 0;
    const run = await sync();
    expect(run.code).toBe(0);
    expect(run.out).toContain("Stripe already matches catalog.json: nothing to change.");
    expect(proxy.requests.length).toBeGreaterThan(0);
    expect(writes()).toEqual([]);
    expect(await readFile(join(dir, "links.json"), "utf8")).toBe(before);
  });

  it("--dry-run prints the plan and writes nothing, neither to Stripe nor to disk", async () => {
    const run = await sync(["--dry-run"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain('+ create product field-notes ("Field Notes & Pencil Set")');
    expect(run.out).toContain(
      "+ create price trail-maps: $9.00 (linkshop:trail-maps:usd:900) on new product",
    );
    expect(run.out).toContain("Dry run: 12 change(s) planned; nothing was written.");
    expect(writes()).toEqual([]);
    await expect(readFile(join(dir, "links.json"))).rejects.toThrow(/ENOENT/);
  });

  /** Every link the file names is active in Stripe: what buyers of a site deployed with it can click. */
  async function allActive(file: string): Promise<boolean> {
    const links: Record<string, string> = JSON.parse(await readFile(join(dir, file), "utf8"));
    const active = new Set<string>();
    for await (const link of stripe.paymentLinks.list({ limit: 100 })) if (link.active) active.add(link.url);
    return Object.values(links).every((url) => active.has(url));
  }
  const deploy = async () => writeFile(join(dir, "deployed.json"), await readFile(join(dir, "links.json")));

  it("a price change adds a Price and a link, and the old link stays active until a prune after the deploy", async () => {
    await sync();
    await deploy();
    const [oldLink] = await linkFor("trail-maps");
    const oldItems = await stripe.paymentLinks.listLineItems(oldLink?.id ?? "");
    const oldPriceId = oldItems.data[0]?.price?.id ?? "";

    const catalog = await readCatalog();
    const maps = catalog.products.find((product) => product.id === "trail-maps");
    if (maps) maps.price.amount = 1200;
    await writeCatalog(catalog);
    proxy.requests.length = 0;
    const run = await sync();
    expect(run.code).toBe(0);
    expect(writes()).toHaveLength(2);
    expect(run.out).toContain(
      `Left active until the site no longer shows them: trail-maps (${oldLink?.url})`,
    );
    expect(run.out).toContain("run: npm run catalog:sync -- --prune");

    const newLink = (await linkFor("trail-maps")).find((link) => link.id !== oldLink?.id);
    const [newItem] = (await stripe.paymentLinks.listLineItems(newLink?.id ?? "")).data;
    expect(newItem?.price).toMatchObject({ unit_amount: 1200, lookup_key: "linkshop:trail-maps:usd:1200" });
    expect((await stripe.paymentLinks.retrieve(oldLink?.id ?? "")).active).toBe(true);
    expect((await readLinks())["trail-maps"]).toBe(newLink?.url);
    expect(await allActive("deployed.json")).toBe(true);
    expect(await allActive("links.json")).toBe(true);

    // Pruning before the deploy retires nothing: the deployed site still shows the old link.
    proxy.requests.length = 0;
    expect((await sync(["--prune", "--deployed", "deployed.json"])).code).toBe(0);
    expect(writes()).toEqual([]);
    expect(await allActive("deployed.json")).toBe(true);

    await deploy();
    const prune = await sync(["--prune", "--deployed", "deployed.json"]);
    expect(prune.code).toBe(0);
    expect(prune.out).toContain(`- deactivate payment link trail-maps (${oldLink?.id}`);
    expect((await stripe.paymentLinks.retrieve(oldLink?.id ?? "")).active).toBe(false);
    expect((await stripe.prices.retrieve(oldPriceId)).active).toBe(false);
    expect(await allActive("deployed.json")).toBe(true);

    proxy.requests.length = 0;
    expect((await sync(["--prune", "--deployed", "deployed.json"])).code).toBe(0);
    expect(writes()).toEqual([]);
  });

  it("--prune reads the deployed links file from the site, and prunes nothing when it cannot", async () => {
    await sync();
    const unreachable = await sync(["--prune", "--site-url", "http://127.0.0.1:9"]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toContain(
      "Cannot read the deployed links file at http://127.0.0.1:9/payment-links.json",
    );
    expect(unreachable.err).toContain("nothing was pruned");

    const catalog = await readCatalog();
    await writeCatalog({ ...catalog, products: catalog.products.filter((p) => p.id !== "camp-mug") });
    expect((await sync()).code).toBe(0);
    // The site as deployed: the build publishes the links its pages use.
    const site = createServer(async (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(await readFile(join(dir, "links.json")));
    });
    await new Promise<void>((done) => site.listen(0, "127.0.0.1", done));
    try {
      const run = await sync([
        "--prune",
        "--deployed",
        `http://127.0.0.1:${(site.address() as AddressInfo).port}/payment-links.json`,
      ]);
      expect(run.code).toBe(0);
      expect(run.out).toContain("- deactivate payment link camp-mug");
    } finally {
      await new Promise<void>((done) => site.close(() => done()));
    }
  });

  it("a product removed from the catalog keeps its link until a prune, then is archived, not deleted", async () => {
    await sync();
    const [link] = await linkFor("camp-mug");
    const catalog = await readCatalog();
    await writeCatalog({
      ...catalog,
      products: catalog.products.filter((product) => product.id !== "camp-mug"),
    });
    proxy.requests.length = 0;
    const run = await sync();
    expect(run.code).toBe(0);
    expect(writes()).toEqual([]);
    expect((await stripe.paymentLinks.retrieve(link?.id ?? "")).active).toBe(true);
    expect(Object.keys(await readLinks())).not.toContain("camp-mug");

    await deploy();
    const prune = await sync(["--prune", "--deployed", "deployed.json"]);
    expect(prune.out).toContain("- deactivate payment link camp-mug");
    expect(writes().every((request) => request.startsWith("POST"))).toBe(true);
    expect((await stripe.paymentLinks.retrieve(link?.id ?? "")).active).toBe(false);
    const products = await stripe.products.list({ limit: 100 });
    expect(products.data.find((product) => product.metadata.linkshop_id === "camp-mug")?.active).toBe(false);
  });

  it("a sync that fails halfway writes the links that exist, and the next run finishes it", async () => {
    await sync();
    const before = await readLinks();
    const catalog = await readCatalog();
    for (const product of catalog.products) product.price.amount += 100;
    await writeCatalog(catalog);

    proxy.refuseNext = "POST /v1/payment_links";
    const failed = await sync();
    expect(failed.code).toBe(1);
    expect(failed.err).toContain("Stopped after 1 of");
    expect(failed.err).toContain("run the sync again to finish");
    // Nothing new exists yet, so the file still names the previous links, which are all still active.
    expect(await readLinks()).toEqual(before);
    expect(await allActive("links.json")).toBe(true);

    const resumed = await sync();
    expect(resumed.code).toBe(0);
    const after = await readLinks();
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const id of Object.keys(before)) expect(after[id]).not.toBe(before[id]);
    expect(await allActive("links.json")).toBe(true);
    proxy.requests.length = 0;
    expect((await sync()).code).toBe(0);
    expect(writes()).toEqual([]);
  });

  it("never writes a local emulator's links into the committed payment-links.json", async () => {
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line) };
    const code = await runCatalogSync(["--site-url", SITE], env(), io, dir);
    expect(code).toBe(0);
    expect(out.join("\n")).toContain("go to .linkshop/payment-links.local.json, not payment-links.json");
    await expect(readFile(join(dir, "payment-links.json"))).rejects.toThrow(/ENOENT/);
    expect(
      Object.keys(JSON.parse(await readFile(join(dir, ".linkshop/payment-links.local.json"), "utf8"))),
    ).toHaveLength(4);

    out.length = 0;
    const refused = await runCatalogSync(["--site-url", SITE, "--out", "payment-links.json"], env(), io, dir);
    expect(refused).toBe(2);
    expect(out.join("\n")).toContain("Refusing to write links of the local emulator");
    await expect(readFile(join(dir, "payment-links.json"))).rejects.toThrow(/ENOENT/);
  });

  it("refuses a live key without --live and without a terminal, before talking to Stripe", async () => {
    for (const key of ["sk_live_abc", "rk_live_abc"]) {
      const run = await sync([], { STRIPE_SECRET_KEY: key, STRIPE_API_BASE: proxy.url });
      expect(run.code).toBe(2);
      expect(run.err).toContain("Refusing to sync the catalog without a confirmation");
      expect(run.err).toContain("the Stripe key is LIVE: this changes what real customers can buy");
      expect(run.err).not.toContain(key);
    }
    expect(proxy.requests).toEqual([]);
    await expect(readFile(join(dir, "links.json"))).rejects.toThrow(/ENOENT/);
  });

  it("with a live key on a terminal, shows the plan, then applies it on yes", async () => {
    const { io, shown, questions } = terminal(true);
    const code = await runCommand(catalogSyncCommand, {
      argv: ["--out", "links.json", "--site-url", SITE],
      env: LIVE_ENV(),
      io,
      cwd: dir,
      connect: emulatedLive,
    });
    expect(code, shown.join("\n")).toBe(0);
    expect(questions).toEqual(["Go ahead?"]);
    const asked = shown.indexOf("12 change(s) to the Stripe account:");
    expect(shown[asked - 1]).toBe(
      "Careful: the Stripe key is LIVE: this changes what real customers can buy.",
    );
    expect(shown[asked + 1]).toBe('  + create product field-notes ("Field Notes & Pencil Set")');
    expect(writes()).toHaveLength(12);
    expect(Object.keys(await readLinks())).toHaveLength(4);
  });

  it("with a live key on a terminal, answering no writes nothing, to Stripe or to disk", async () => {
    const { io, shown } = terminal(false);
    const code = await runCommand(catalogSyncCommand, {
      argv: ["--out", "links.json", "--site-url", SITE],
      env: LIVE_ENV(),
      io,
      cwd: dir,
      connect: emulatedLive,
    });
    expect(code).toBe(1);
    expect(shown.at(-1)).toBe("Answered no: nothing was done.");
    expect(proxy.requests.length).toBeGreaterThan(0);
    expect(writes()).toEqual([]);
    await expect(readFile(join(dir, "links.json"))).rejects.toThrow(/ENOENT/);
  });

  it("--live applies with a live key without asking", async () => {
    const { io, questions } = terminal(false);
    const code = await runCommand(catalogSyncCommand, {
      argv: ["--out", "links.json", "--site-url", SITE, "--live"],
      env: LIVE_ENV(),
      io,
      cwd: dir,
      connect: emulatedLive,
    });
    expect(code).toBe(0);
    expect(questions).toEqual([]);
    expect(writes()).toHaveLength(12);
  });

  it("reads STRIPE_SECRET_KEY and STRIPE_API_BASE from the project's .env", async () => {
    await writeFile(join(dir, ".env"), `STRIPE_SECRET_KEY=${KEY}\nSTRIPE_API_BASE=${proxy.url}\n`);
    const run = await sync([], {});
    expect(run.code, run.err).toBe(0);
    expect(writes()).toHaveLength(12);
  });

  it("with --live still insists on an https site URL", async () => {
    const run = await sync(["--live", "--site-url", "http://localhost:8888"], {
      STRIPE_SECRET_KEY: "sk_live_abc",
      STRIPE_API_BASE: proxy.url,
    });
    expect(run).toMatchObject({ code: 2 });
    expect(run.err).toContain("A live Stripe key needs the public https site URL");
    expect(proxy.requests).toEqual([]);
  });

  it("names STRIPE_SECRET_KEY when it is missing, and lists catalog errors", async () => {
    const missing = await sync([], { STRIPE_API_BASE: proxy.url });
    expect(missing).toMatchObject({ code: 2, err: "Missing STRIPE_SECRET_KEY (see .env.example)" });
    await writeFile(join(dir, "catalog.json"), JSON.stringify({ shop: {}, products: [] }));
    const run = await sync();
    expect(run.code).toBe(1);
    expect(run.err).toContain("  - shop.name: is required");
    expect(proxy.requests).toEqual([]);
  });

  it("scripts/catalog-sync.ts exits 2 on a live key without --live, outside a terminal", async () => {
    const result = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "scripts/catalog-sync.ts", "--site-url", SITE],
      {
        env: { ...process.env, STRIPE_SECRET_KEY: "sk_live_from_script", STRIPE_API_BASE: proxy.url },
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect("code" in result ? result.code : 0).toBe(2);
    expect(result.stderr).toContain("Refusing to sync the catalog without a confirmation");
    expect(proxy.requests).toEqual([]);
  });
});

describe("npm run stripe:webhook", () => {
  const url = `${SITE}/api/stripe-webhook`;
  const endpoints = async () => (await stripe.webhookEndpoints.list({ limit: 100 })).data;

  it("creates the endpoint once, prints the secret with the next step, then changes nothing", async () => {
    const first = await webhook();
    expect(first.code).toBe(0);
    const [endpoint] = await endpoints();
    expect(endpoint?.url).toBe(url);
    expect(endpoint?.enabled_events).toEqual([...HANDLED_EVENTS]);
    expect(first.out).toMatch(/Next: netlify env:set STRIPE_WEBHOOK_SECRET whsec_\S+/);

    proxy.requests.length = 0;
    const second = await webhook();
    expect(second.code).toBe(0);
    expect(second.out).toContain("is up to date; the signing secret is unchanged");
    expect(second.out).not.toContain("whsec_");
    expect(writes()).toEqual([]);
    expect(await endpoints()).toHaveLength(1);
  });

  it("updates the events of an existing endpoint for the URL instead of creating a second one", async () => {
    const existing = await stripe.webhookEndpoints.create({
      url,
      enabled_events: ["checkout.session.expired"],
    });
    await stripe.webhookEndpoints.create({ url: "https://other.example/hook", enabled_events: ["*"] });
    const run = await webhook();
    expect(run.code).toBe(0);
    expect(run.out).toContain(`Updated webhook endpoint ${existing.id}`);
    expect(run.out).toContain("The signing secret is unchanged");
    expect(run.out).not.toContain("whsec_");
    const forUrl = (await endpoints()).filter((endpoint) => endpoint.url === url);
    expect(forUrl.map((endpoint) => [endpoint.id, endpoint.enabled_events])).toEqual([
      [existing.id, [...HANDLED_EVENTS]],
    ]);
  });

  it("--dry-run changes nothing", async () => {
    const run = await webhook(["--dry-run"]);
    expect(run.out).toContain(`Dry run: would have created webhook endpoint (new) for ${url}`);
    expect(writes()).toEqual([]);
  });

  it("refuses a local site URL when talking to the real Stripe, which could not deliver there", async () => {
    const run = await webhook(["--site-url", "http://localhost:8888"], { STRIPE_SECRET_KEY: KEY });
    expect(run.code).toBe(2);
    expect(run.err).toContain("Stripe cannot deliver events to http://localhost:8888/api/stripe-webhook");
    expect(run.err).toContain(
      `stripe listen --events ${HANDLED_EVENTS.join(",")} --forward-to http://localhost:8888/api/stripe-webhook`,
    );
  });

  it("refuses a live key without --live and without a terminal", async () => {
    const run = await webhook([], { STRIPE_SECRET_KEY: "sk_live_abc", STRIPE_API_BASE: proxy.url });
    expect(run.code).toBe(2);
    expect(run.err).toContain("Refusing to change the webhook endpoint without a confirmation");
    expect(proxy.requests).toEqual([]);
  });

  it("with a live key on a terminal, shows the endpoint it would create and creates it only on yes", async () => {
    const no = terminal(false);
    expect(
      await runCommand(stripeWebhookCommand, {
        argv: ["--site-url", SITE],
        env: LIVE_ENV(),
        io: no.io,
        cwd: dir,
        connect: emulatedLive,
      }),
    ).toBe(1);
    expect(no.shown).toContain(`Create the webhook endpoint for ${url}:`);
    expect(no.shown).toContain(`  ${HANDLED_EVENTS[0]}`);
    expect(writes()).toEqual([]);

    const yes = terminal(true);
    expect(
      await runCommand(stripeWebhookCommand, {
        argv: ["--site-url", SITE],
        env: LIVE_ENV(),
        io: yes.io,
        cwd: dir,
        connect: emulatedLive,
      }),
    ).toBe(0);
    expect(await endpoints()).toHaveLength(1);

    // Nothing to change: nothing to ask.
    const again = terminal(false);
    expect(
      await runCommand(stripeWebhookCommand, {
        argv: ["--site-url", SITE],
        env: LIVE_ENV(),
        io: again.io,
        cwd: dir,
        connect: emulatedLive,
      }),
    ).toBe(0);
    expect(again.questions).toEqual([]);
  });

  it("--live changes a live endpoint without asking", async () => {
    const run = await webhook(["--live"], LIVE_ENV(), { connect: emulatedLive, io: terminal(false).io });
    expect(run.code).toBe(0);
    expect(await endpoints()).toHaveLength(1);
  });
});
