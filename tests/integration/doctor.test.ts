/**
 * npm run doctor against the local stand-ins over real HTTP: the Stripe emulator, the Upstash bridge, the outbox
 * and the webhook function served by a local HTTP server. Each check is shown passing and failing.
 */
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStripeClient } from "../../src/adapters/stripe.ts";
import { webhookFromEnv } from "../../src/app/webhook.ts";
import { runCatalogSync } from "../../src/commands/catalog-sync/command.ts";
import { ensureWebhookEndpoint } from "../../src/commands/stripe-webhook.ts";
import {
  checkLinksFile,
  checkPaymentLinks,
  checkResend,
  checkStripeAccess,
  checkStripeKey,
  checkUpstash,
  checkVariables,
  checkWebhookEndpoint,
  checkWebhookSignature,
  type DoctorContext,
} from "../../src/commands/doctor/checks.ts";
import { doctorCommand } from "../../src/commands/doctor/command.ts";
import { runCommand } from "../../src/commands/kit.ts";
import { type LocalServices, startLocalServices } from "../../dev/local-services.ts";
import { freePort } from "../../dev/ports.ts";
import { writeStackRecord } from "../../src/commands/stack-record.ts";
import type { StripeEmulator } from "../../dev/stripe-emulator/index.ts";
import { redisBackend } from "../support/redis.ts";
import { emulatorClient } from "../support/stripe-emulator.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const KEY = "sk_test_doctor";
const SECRET = "whsec_doctor_secret";
const RESEND_KEY = "re_doctor_key";
const PUBLIC_SITE = "https://shop.example";

let services: LocalServices;
let emulator: StripeEmulator;
let fn: ServerType;
let functionSite: string;
let work: string;
let env: Record<string, string>;
/** Links synced for the local function site. */
let localLinks: string;

const silentIo = { out: () => {}, err: () => {} };

function context(overrides: Partial<DoctorContext> = {}): DoctorContext {
  return {
    env,
    siteUrl: functionSite,
    linksPath: localLinks,
    linksLabel: "payment-links.json",
    catalogPath: join(ROOT, "catalog.json"),
    functionSite: undefined,
    ...overrides,
  };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "linkshop-doctor-"));
  services = await startLocalServices({
    redisBackend,
    // Like a Resend account that requires its key and whose sending domain is verified.
    outbox: { apiKey: RESEND_KEY, verifiedDomains: ["shop.example"] },
    env: { STRIPE_SECRET_KEY: KEY, STRIPE_WEBHOOK_SECRET: SECRET },
  });
  ({ stripe: emulator, env } = services);
  // The webhook function, as netlify dev would serve it, with the configuration above.
  const handle = webhookFromEnv(env, () => {});
  fn = serve({ fetch: (req) => handle(req), port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => fn.once("listening", () => resolve()));
  functionSite = `http://127.0.0.1:${(fn.address() as AddressInfo).port}`;

  localLinks = join(work, "links-local.json");
  const code = await runCatalogSync(["--out", localLinks, "--site-url", functionSite], env, silentIo, ROOT);
  expect(code).toBe(0);
});

afterAll(async () => {
  await new Promise<void>((resolve) => fn?.close(() => resolve()));
  await services?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("Variables", () => {
  it("passes with every variable, and names the missing and malformed ones", () => {
    expect(checkVariables(context()).status).toBe("ok");
    const { STRIPE_WEBHOOK_SECRET: _, ...withoutSecret } = env;
    const result = checkVariables(context({ env: { ...withoutSecret, EMAIL_FROM: "not an address" } }));
    expect(result.status).toBe("fail");
    expect(result.detail).toContain("Missing STRIPE_WEBHOOK_SECRET");
    expect(result.detail).toContain("EMAIL_FROM");
    expect(result.detail).not.toContain("not an address");
  });
});

describe("Stripe key and access", () => {
  it("passes when the emulator accepts the key", async () => {
    expect(await checkStripeKey(context())).toMatchObject({ status: "ok" });
    expect(await checkStripeAccess(context())).toMatchObject({ status: "ok" });
  });

  it("fails when Stripe rejects the key", async () => {
    emulator.failNext("/v1/checkout/sessions", 401);
    const result = await checkStripeKey(context());
    expect(result.status).toBe("fail");
    expect(result.detail).toContain("rejects the key");
  });

  it("fails naming what a restricted key cannot read", async () => {
    emulator.failNext("/v1/products", 403);
    const result = await checkStripeAccess(context());
    expect(result.status).toBe("fail");
    expect(result.detail).toContain("cannot read Products");
    expect(result.fix).toContain("Read access to Products");
  });
});

describe("Links file and Payment Links", () => {
  it("passes for links of this account that return to the site's /thanks", async () => {
    const file = await checkLinksFile(context(), undefined);
    expect(file.result.status).toBe("ok");
    const links = await checkPaymentLinks(context(), file.links);
    expect(links.status).toBe("ok");
    expect(links.detail).toContain(`${functionSite}/thanks`);
  });

  it("fails when the links redirect to another site", async () => {
    const file = await checkLinksFile(context(), undefined);
    const result = await checkPaymentLinks(context({ siteUrl: PUBLIC_SITE }), file.links);
    expect(result.status).toBe("fail");
    expect(result.detail).toContain(`not ${PUBLIC_SITE}/thanks`);
  });

  it("fails for links that are unknown or deactivated", async () => {
    const file = await checkLinksFile(context(), undefined);
    const links = { ...file.links };
    const [firstId, firstUrl] = Object.entries(links)[0] ?? [];
    if (!firstId || !firstUrl) throw new Error("the catalog sync wrote no links");
    const stripe = createStripeClient(KEY, new URL(emulator.url));
    const target = (await stripe.paymentLinks.list({ limit: 100 })).data.find((l) => l.url === firstUrl);
    if (!target) throw new Error("synced link not found");
    await stripe.paymentLinks.update(target.id, { active: false });
    try {
      const result = await checkPaymentLinks(context(), {
        ...links,
        ghost: `${emulator.url}/pay/plink_doesnotexist`,
      });
      expect(result.status).toBe("fail");
      expect(result.detail).toContain(`${firstId}: deactivated`);
      expect(result.detail).toContain("ghost: not a Payment Link of this account");
    } finally {
      await stripe.paymentLinks.update(target.id, { active: true });
    }
  });

  it("warns about older links of the shop that are still active, until a prune retires them", async () => {
    const file = await checkLinksFile(context(), undefined);
    const links = file.links ?? {};
    const [firstId, firstUrl] = Object.entries(links)[0] ?? [];
    if (!firstId || !firstUrl) throw new Error("the catalog sync wrote no links");
    // As after a price change: the file names a new link, the old one is still active.
    const stripe = createStripeClient(KEY, new URL(emulator.url));
    const current = (await stripe.paymentLinks.list({ limit: 100 })).data.find((l) => l.url === firstUrl);
    const [item] = (await stripe.paymentLinks.listLineItems(current?.id ?? "")).data;
    const newer = await stripe.paymentLinks.create({
      line_items: [{ price: item?.price?.id ?? "", quantity: 1 }],
      after_completion: {
        type: "redirect",
        redirect: { url: `${functionSite}/thanks?session_id={CHECKOUT_SESSION_ID}` },
      },
      metadata: { linkshop_id: firstId },
    });
    try {
      const result = await checkPaymentLinks(context(), { ...links, [firstId]: newer.url });
      expect(result.status).toBe("warn");
      expect(result.detail).toContain("1 older link(s) of the shop are still active");
      expect(result.fix).toContain("--prune");
    } finally {
      await stripe.paymentLinks.update(newer.id, { active: false });
    }
  });

  it("fails for a missing file, local links without the emulator, and links of the other mode", async () => {
    const missing = await checkLinksFile(context({ linksPath: join(work, "nope.json") }), undefined);
    expect(missing.result.status).toBe("fail");
    expect(missing.result.detail).toContain("does not exist");

    const { STRIPE_API_BASE: _, ...realStripe } = env;
    const local = await checkLinksFile(context({ env: realStripe }), undefined);
    expect(local.result.status).toBe("fail");
    expect(local.result.detail).toContain("point at a local emulator");

    const liveFile = join(work, "live.json");
    await writeFile(liveFile, JSON.stringify({ notebook: "https://buy.stripe.com/aBc123" }));
    const live = await checkLinksFile(context({ linksPath: liveFile, env: realStripe }), undefined);
    expect(live.result.status).toBe("fail");
    expect(live.result.detail).toContain("live-mode links but the key is test mode");
  });
});

describe("Webhook endpoint", () => {
  const url = `${PUBLIC_SITE}/api/stripe-webhook`;
  const stripe = () => emulatorClient(emulator.url, { apiKey: KEY });

  it("fails when there is none, then passes once stripe:webhook created it", async () => {
    const site = context({ siteUrl: PUBLIC_SITE });
    const none = await checkWebhookEndpoint(site);
    expect(none.status).toBe("fail");
    expect(none.fix).toContain("npm run stripe:webhook -- --site-url https://shop.example");

    await ensureWebhookEndpoint(stripe(), url);
    const created = await checkWebhookEndpoint(site);
    expect(created.status).toBe("ok");
    expect(created.detail).toContain("checkout.session.completed");
  });

  it("fails when the endpoint is disabled or listens to other events", async () => {
    const site = context({ siteUrl: PUBLIC_SITE });
    const { id } = await ensureWebhookEndpoint(stripe(), url);
    await stripe().webhookEndpoints.update(id, {
      enabled_events: ["checkout.session.completed", "customer.created"],
    });
    const events = await checkWebhookEndpoint(site);
    expect(events.status).toBe("fail");
    expect(events.detail).toContain("misses checkout.session.async_payment_succeeded");
    expect(events.detail).toContain("also sends customer.created");

    await ensureWebhookEndpoint(stripe(), url);
    await stripe().webhookEndpoints.update(id, { disabled: true });
    const disabled = await checkWebhookEndpoint(site);
    expect(disabled.status).toBe("fail");
    expect(disabled.detail).toContain("disabled");
    await stripe().webhookEndpoints.update(id, { disabled: false });
  });

  it("is skipped for a local site, where events come from the emulator or stripe listen", async () => {
    expect((await checkWebhookEndpoint(context())).status).toBe("skip");
  });
});

describe("Upstash", () => {
  it("passes when the bridge answers, and fails with a wrong token", async () => {
    expect(await checkUpstash(context())).toMatchObject({ status: "ok" });
    const result = await checkUpstash(context({ env: { ...env, UPSTASH_REDIS_REST_TOKEN: "wrong" } }));
    expect(result.status).toBe("fail");
    expect(result.fix).toContain("UPSTASH_REDIS_REST_TOKEN");
  });
});

describe("Resend", () => {
  it("passes for a verified sender domain", async () => {
    expect(await checkResend(context())).toMatchObject({ status: "ok" });
  });

  it("fails for a refused key and for a sender domain that is not verified", async () => {
    const refused = await checkResend(context({ env: { ...env, RESEND_API_KEY: "re_wrong" } }));
    expect(refused.status).toBe("fail");
    expect(refused.detail).toContain("refuses the key");

    const unverified = await checkResend(context({ env: { ...env, EMAIL_FROM: "orders@other.example" } }));
    expect(unverified.status).toBe("fail");
    expect(unverified.detail).toContain("other.example is not in this Resend account");
  });
});

describe("Webhook signature", () => {
  it("passes when the function verifies and acknowledges the signed test event", async () => {
    const result = await checkWebhookSignature(context({ functionSite }));
    expect(result.status).toBe("ok");
  });

  it("fails when the function rejects events signed with the secret", async () => {
    const result = await checkWebhookSignature(
      context({ functionSite, env: { ...env, STRIPE_WEBHOOK_SECRET: "whsec_wrong" } }),
    );
    expect(result.status).toBe("fail");
    expect(result.detail).toContain("rejects events signed with this STRIPE_WEBHOOK_SECRET");
  });

  it("fails when nothing answers at the URL", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = await checkWebhookSignature(context({ functionSite: closed }));
    expect(result.status).toBe("fail");
  });
});

describe("npm run doctor", () => {
  /** A project folder with the catalog, and the configuration in .env and/or a running stack's record. */
  async function project(options: { dotenv?: Record<string, string>; stack?: Record<string, string> }) {
    const dir = await mkdtemp(join(work, "project-"));
    await copyFile(join(ROOT, "catalog.json"), join(dir, "catalog.json"));
    await symlink(join(ROOT, "public"), join(dir, "public"));
    await symlink(join(ROOT, "downloads"), join(dir, "downloads"));
    if (options.dotenv) {
      const lines = Object.entries(options.dotenv).map(([name, value]) => `${name}="${value}"`);
      await writeFile(join(dir, ".env"), `${lines.join("\n")}\n`);
    }
    if (options.stack) {
      await mkdir(join(dir, ".linkshop"));
      await writeStackRecord(join(dir, ".linkshop"), {
        pid: process.pid,
        shopUrl: functionSite,
        linksFile: localLinks,
        functionEnv: options.stack,
      });
    }
    return dir;
  }

  async function doctor(cwd: string, argv: string[], processEnv: Record<string, string> = {}) {
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line) };
    const code = await runCommand(doctorCommand, { argv, env: processEnv, io, cwd });
    return { code, out: out.join("\n") };
  }

  it("exits 0 with the running stack's configuration and no .env", async () => {
    const cwd = await project({ stack: env });
    const { code, out } = await doctor(cwd, ["--url", functionSite]);
    expect(out).toContain(
      `Checking the configuration from the environment, over the running npm start (${functionSite}), for ${functionSite}:`,
    );
    expect(out).not.toContain("FAIL");
    expect(code).toBe(0);
  });

  it("lets a variable in the environment override the running stack and .env", async () => {
    const cwd = await project({ dotenv: env, stack: env });
    const { code, out } = await doctor(cwd, ["--url", functionSite], {
      STRIPE_WEBHOOK_SECRET: "whsec_wrong",
    });
    expect(code).toBe(1);
    expect(out).toContain("FAIL  Webhook signature");
    expect(out).toContain("rejects events signed with this STRIPE_WEBHOOK_SECRET");
    expect(out).not.toContain("whsec_wrong");
  });

  it("reads .env when no stack runs, and ignores the record of a stack that ended", async () => {
    const cwd = await project({ dotenv: { ...env, PAYMENT_LINKS_FILE: localLinks } });
    // A record left by a process that is gone (pid of a finished child is not reused this fast).
    await mkdir(join(cwd, ".linkshop"));
    await writeStackRecord(join(cwd, ".linkshop"), {
      pid: 2 ** 22 + 12345,
      shopUrl: "http://localhost:1",
      functionEnv: { STRIPE_WEBHOOK_SECRET: "whsec_stale" },
    });
    const { code, out } = await doctor(cwd, ["--url", functionSite]);
    expect(out).not.toContain("the running npm start");
    expect(code).toBe(0);
  });

  it("exits 2 on a malformed --url and prints its usage for --help, checking nothing", async () => {
    const cwd = await project({ stack: env });
    const wrong = await doctor(cwd, ["--url", "shop.example"]);
    expect(wrong.code).toBe(2);
    expect(wrong.out).toBe('--url must be an http(s) URL, got "shop.example"');
    const help = await doctor(cwd, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: npm run doctor/);
    expect(help.out).not.toContain("Checking");
  });

  it("exits 1 naming every missing variable when nothing is configured", async () => {
    const cwd = await project({});
    const { code, out } = await doctor(cwd, []);
    expect(code).toBe(1);
    expect(out).toContain("FAIL  Variables: Missing STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET");
    expect(out).toContain("fix:");
  });
});
