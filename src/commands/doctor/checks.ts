/**
 * The checks of `npm run doctor`: each one asks a service for real whether the shop's configuration works, and
 * says how to fix it when it does not. Checks never throw; they return a result.
 */
import { isLiveKey, STRIPE_KEY } from "../../lib/stripe-keys.ts";
import { randomBytes, randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { Resend } from "resend";
import Stripe from "stripe";
import { createRedisClient, KEY_PREFIX, RELEASE_SCRIPT, upstashMailQueue } from "../../adapters/upstash.ts";
import type { MailQueueStatus } from "../../fulfilment/ports.ts";
import { createStripeClient } from "../../adapters/stripe.ts";
import { type PaymentLinks, readPaymentLinks } from "../../site/links-file.ts";
import { SHOP_MARKER } from "../../order/metadata.ts";
import { type Catalog, CatalogError, DOWNLOADS_DIR, loadCatalog } from "../../shop/catalog.ts";
import { HANDLED_EVENTS, WEBHOOK_PATH } from "../../order/events.ts";
import { ConfigError, readConfig, readDownloadConfig } from "../../config.ts";

/** `ok` and `skip` pass, `warn` passes with a note, `fail` makes the doctor exit 1. */
export type CheckStatus = "ok" | "warn" | "skip" | "fail";

/** One line of the report. `detail` never holds a secret or personal data. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a failure or warning. */
  fix?: string;
}

/** Everything the checks read: the merged configuration and where the site and its links file are. */
export interface DoctorContext {
  /** The functions' environment (process environment over the local stack over `.env`). */
  env: Record<string, string | undefined>;
  /** Public site origin without trailing slash, when known (`--url` or URL). */
  siteUrl: string | undefined;
  /** Absolute path of the Payment Link file the site is built from, and how to name it to people. */
  linksPath: string;
  linksLabel: string;
  /** Absolute path of catalog.json. */
  catalogPath: string;
  /** When set, a signed test event is sent to `<functionSite>/api/stripe-webhook`. */
  functionSite: string | undefined;
}

const value = (env: DoctorContext["env"], name: string): string | undefined => {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
};
const ok = (name: string, detail: string): CheckResult => ({ name, status: "ok", detail });
const skip = (name: string, detail: string): CheckResult => ({ name, status: "skip", detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: "fail",
  detail,
  fix,
});

/** Loopback hosts: a site or link there only works on this machine. */
export function isLocalUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const host = new URL(url).hostname;
  return host === "localhost" || host.endsWith(".localhost") || host.startsWith("127.") || host === "[::1]";
}

// --- configuration --------------------------------------------------------------------------------------

/** Every variable the functions need is present and well-formed (the functions' own readConfig). */
export function checkVariables(context: DoctorContext): CheckResult {
  const name = "Variables";
  try {
    readConfig(context.env);
    return ok(name, "every required variable is set and well-formed");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return fail(
      name,
      error.message.replace(/ \(see \.env\.example\)$/, ""),
      "set them in .env (or the environment) locally, and under Site configuration > Environment variables on Netlify; .env.example describes each",
    );
  }
}

/** catalog.json is valid and its pictures exist (the build would fail otherwise). */
export async function checkCatalog(
  context: DoctorContext,
): Promise<{ result: CheckResult; catalog?: Catalog }> {
  const name = "Catalog";
  try {
    const catalog = await loadCatalog(context.catalogPath, {
      siteDir: join(dirname(context.catalogPath), "public"),
      downloadsDir: join(dirname(context.catalogPath), DOWNLOADS_DIR),
    });
    return { result: ok(name, `${catalog.products.length} product(s) in catalog.json`), catalog };
  } catch (error) {
    const detail =
      error instanceof CatalogError ? error.message : `cannot read catalog.json (${String(error)})`;
    return {
      result: fail(
        name,
        detail.replace(/\n\s*/g, " "),
        "fix catalog.json as described, then run npm run build",
      ),
    };
  }
}

/**
 * A shop that sells files has the secret that signs their links (the functions' own check decides its shape):
 * without it every order with files waits as failed.
 */
export function checkDownloadSecret(context: DoctorContext, catalog: Catalog | undefined): CheckResult {
  const name = "Download links";
  const files = catalog?.products.reduce((sum, product) => sum + product.files.length, 0) ?? 0;
  if (!catalog) return skip(name, "catalog.json unusable (see Catalog)");
  if (files === 0) {
    // No file to sign, but the same secret keys the customers' own pages (/orders): without it nobody finds theirs.
    const secret = value(context.env, "LINKSHOP_DOWNLOAD_SECRET");
    if (secret && secret.length >= 32)
      return ok(name, "no product delivers files; the secret keys the customer pages");
    return {
      name,
      status: "warn",
      detail:
        "no product delivers files, but without LINKSHOP_DOWNLOAD_SECRET customers cannot find their orders (/orders)",
      fix: "set LINKSHOP_DOWNLOAD_SECRET to at least 32 random characters (openssl rand -hex 32), then npm run orders -- index",
    };
  }
  try {
    if (readDownloadConfig(context.env).downloadSecret)
      return ok(name, `LINKSHOP_DOWNLOAD_SECRET signs the links of ${files} file(s)`);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (error.missing.includes("LINKSHOP_DOWNLOAD_SECRET") || error.malformed.has("LINKSHOP_DOWNLOAD_SECRET"))
      return fail(
        name,
        `${files} file(s) to deliver, but LINKSHOP_DOWNLOAD_SECRET is ${error.missing.includes("LINKSHOP_DOWNLOAD_SECRET") ? "not set" : error.malformed.get("LINKSHOP_DOWNLOAD_SECRET")}`,
        "set LINKSHOP_DOWNLOAD_SECRET to at least 32 random characters (openssl rand -hex 32), and keep it: a new one breaks the links already sent",
      );
    return skip(name, "the download function's other variables are unusable (see Variables)");
  }
  return ok(name, "set");
}

// --- Stripe -----------------------------------------------------------------------------------------------

/** The Stripe client the functions would build, or why there is none. */
export function stripeFrom(
  env: DoctorContext["env"],
): { stripe: Stripe; live: boolean; local: boolean } | undefined {
  const key = value(env, "STRIPE_SECRET_KEY");
  if (!key || !STRIPE_KEY.test(key)) return undefined;
  const base = value(env, "STRIPE_API_BASE");
  const apiBase = base && URL.canParse(base) ? new URL(base) : undefined;
  return {
    stripe: createStripeClient(key, apiBase),
    live: isLiveKey(key),
    local: apiBase !== undefined,
  };
}

const statusOf = (error: unknown): number | undefined =>
  error instanceof Stripe.errors.StripeError ? error.statusCode : undefined;

function stripeProblem(error: unknown): string {
  const status = statusOf(error);
  if (status === 401) return "Stripe rejects the key (401: unknown, revoked or mistyped)";
  if (status === 403) return "the key lacks permission (403)";
  if (error instanceof Stripe.errors.StripeConnectionError) return "Stripe cannot be reached";
  return `Stripe answered ${status ?? "with an error"}`;
}

/** The key authenticates; reports its mode. A restricted key without any read access still authenticates. */
export async function checkStripeKey(context: DoctorContext): Promise<CheckResult> {
  const name = "Stripe key";
  const client = stripeFrom(context.env);
  if (!client) return skip(name, "no usable STRIPE_SECRET_KEY (see Variables)");
  const mode = `${client.live ? "live" : "test"} mode${client.local ? ` (local emulator ${value(context.env, "STRIPE_API_BASE")})` : ""}`;
  try {
    await client.stripe.checkout.sessions.list({ limit: 1 });
    return ok(name, `works, ${mode}`);
  } catch (error) {
    if (statusOf(error) === 403) return ok(name, `authenticates, ${mode} (restricted key)`);
    return fail(
      name,
      stripeProblem(error),
      "copy the secret key again from Dashboard > Developers > API keys (sk_test_... or sk_live_...) into STRIPE_SECRET_KEY",
    );
  }
}

/** The key can read what fulfilment reads: Checkout Sessions, their line items' Prices and Products. */
export async function checkStripeAccess(context: DoctorContext): Promise<CheckResult> {
  const name = "Stripe access";
  const client = stripeFrom(context.env);
  if (!client) return skip(name, "no usable STRIPE_SECRET_KEY (see Variables)");
  const reads: [string, () => Promise<unknown>][] = [
    ["Checkout Sessions", () => client.stripe.checkout.sessions.list({ limit: 1 })],
    ["Products", () => client.stripe.products.list({ limit: 1 })],
    ["Prices", () => client.stripe.prices.list({ limit: 1 })],
  ];
  const denied: string[] = [];
  for (const [resource, read] of reads) {
    try {
      await read();
    } catch (error) {
      if (statusOf(error) !== 403) return fail(name, stripeProblem(error), "see Stripe key above");
      denied.push(resource);
    }
  }
  if (denied.length === 0)
    return ok(name, "reads Checkout Sessions, Products and Prices, as fulfilment does");
  return fail(
    name,
    `the key cannot read ${denied.join(", ")}: every order would fail to fulfil`,
    `give the restricted key Read access to ${denied.join(", ")} (Dashboard > Developers > API keys > edit key), or use the secret key`,
  );
}

/** `test`, `live` or `local` (an emulator), from a Payment Link URL; undefined when it cannot tell. */
export function linkMode(url: string): "test" | "live" | "local" | undefined {
  if (isLocalUrl(url)) return "local";
  if (!URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  if (parsed.hostname !== "buy.stripe.com") return undefined;
  return parsed.pathname.startsWith("/test_") ? "test" : "live";
}

/** The links file exists, names every catalog product, and its links are of the key's mode. */
export async function checkLinksFile(
  context: DoctorContext,
  catalog: Catalog | undefined,
): Promise<{ result: CheckResult; links?: PaymentLinks }> {
  const name = "Links file";
  const rerun = `run npm run catalog:sync -- --site-url <your site> with the key you deploy, then commit and deploy ${context.linksLabel}`;
  let links: PaymentLinks | undefined;
  try {
    links = await readPaymentLinks(context.linksPath);
  } catch (error) {
    return { result: fail(name, error instanceof Error ? error.message : String(error), rerun) };
  }
  if (!links)
    return {
      result: fail(name, `${context.linksLabel} does not exist: every product shows "Unavailable"`, rerun),
    };
  const problems: string[] = [];
  const missing = catalog?.products.map((product) => product.id).filter((id) => !(id in links)) ?? [];
  if (missing.length > 0) problems.push(`no link for ${missing.join(", ")}`);

  const client = stripeFrom(context.env);
  const keyMode = client ? (client.live ? "live" : "test") : undefined;
  const modes = new Map<string, string[]>();
  for (const [id, url] of Object.entries(links)) {
    const mode = linkMode(url) ?? "unknown";
    modes.set(mode, [...(modes.get(mode) ?? []), id]);
  }
  const local = modes.get("local");
  if (local && !client?.local) {
    problems.push(
      `${local.join(", ")} point at a local emulator (${new URL(links[local[0] ?? ""] ?? "http://127.0.0.1").origin})`,
    );
  }
  for (const mode of ["test", "live"] as const) {
    const ids = modes.get(mode);
    if (ids && keyMode && mode !== keyMode)
      problems.push(`${ids.join(", ")} are ${mode}-mode links but the key is ${keyMode} mode`);
  }
  if (problems.length > 0)
    return { result: fail(name, `${context.linksLabel}: ${problems.join("; ")}`, rerun), links };
  const count = Object.keys(links).length;
  return {
    result: ok(
      name,
      `${context.linksLabel} names ${count} link(s)${keyMode ? `, ${keyMode} mode like the key` : ""}`,
    ),
    links,
  };
}

/** Every link in the file exists in this account and mode, is active, and redirects to the site's /thanks. */
export async function checkPaymentLinks(
  context: DoctorContext,
  links: PaymentLinks | undefined,
): Promise<CheckResult> {
  const name = "Payment Links";
  const client = stripeFrom(context.env);
  if (!client) return skip(name, "no usable STRIPE_SECRET_KEY (see Variables)");
  if (!links || Object.keys(links).length === 0) return skip(name, "no links to check (see Links file)");
  const byUrl = new Map<string, Stripe.PaymentLink>();
  try {
    for await (const link of client.stripe.paymentLinks.list({ limit: 100 })) byUrl.set(link.url, link);
  } catch (error) {
    return fail(
      name,
      `cannot list Payment Links: ${stripeProblem(error)}`,
      "give the key Read access to Payment Links, or use the secret key",
    );
  }
  const thanks = context.siteUrl ? `${context.siteUrl}/thanks` : undefined;
  const problems: string[] = [];
  for (const [id, url] of Object.entries(links)) {
    const link = byUrl.get(url);
    if (!link)
      problems.push(`${id}: not a Payment Link of this account in ${client.live ? "live" : "test"} mode`);
    else if (!link.active) problems.push(`${id}: deactivated (buyers see "This link is no longer active")`);
    else if (link.livemode !== client.live)
      problems.push(`${id}: ${link.livemode ? "live" : "test"}-mode link`);
    else if (thanks) {
      const target =
        link.after_completion.type === "redirect" ? link.after_completion.redirect?.url : undefined;
      if (!target?.startsWith(`${thanks}?`) && target !== thanks)
        problems.push(
          `${id}: after payment goes to ${target ?? "Stripe's own confirmation page"}, not ${thanks}`,
        );
    }
  }
  const rerun = `run npm run catalog:sync -- --site-url ${context.siteUrl ?? "<your site>"} with this key, then commit and deploy ${context.linksLabel}`;
  if (problems.length > 0) return fail(name, problems.join("; "), rerun);
  const count = Object.keys(links).length;
  if (!thanks)
    return {
      ...ok(name, `${count} link(s) exist and are active; their redirect was not checked (site URL unknown)`),
      status: "warn",
      fix: "pass --url <your site> (or set URL) to check where customers land after paying",
    };
  // Links catalog:sync made that the file no longer names: left active for the deployed site until a prune.
  const named = new Set(Object.values(links));
  const old = [...byUrl.values()].filter(
    (link) => link.active && link.metadata?.[SHOP_MARKER] && !named.has(link.url),
  );
  if (old.length > 0) {
    return {
      name,
      status: "warn",
      detail: `${count} link(s) exist, are active and return customers to ${thanks}; ${old.length} older link(s) of the shop are still active`,
      fix: `once ${context.linksLabel} is deployed, retire them: npm run catalog:sync -- --prune --site-url ${context.siteUrl}`,
    };
  }
  return ok(name, `${count} link(s) exist, are active and return customers to ${thanks}`);
}

/** A webhook endpoint for the site exists, is enabled and listens to exactly the handled events. */
export async function checkWebhookEndpoint(context: DoctorContext): Promise<CheckResult> {
  const name = "Webhook endpoint";
  const client = stripeFrom(context.env);
  if (!client) return skip(name, "no usable STRIPE_SECRET_KEY (see Variables)");
  if (!context.siteUrl) {
    return fail(
      name,
      "site URL unknown, so the endpoint cannot be looked up",
      "pass --url <your site> (or set URL)",
    );
  }
  const url = `${context.siteUrl}${WEBHOOK_PATH}`;
  if (isLocalUrl(url)) {
    return skip(
      name,
      `local site: events reach ${url} from ${client.local ? "the emulator" : "stripe listen"}, not an endpoint`,
    );
  }
  const setup = `npm run stripe:webhook -- --site-url ${context.siteUrl}${client.live ? " --live" : ""}`;
  const endpoints: Stripe.WebhookEndpoint[] = [];
  try {
    for await (const endpoint of client.stripe.webhookEndpoints.list({ limit: 100 })) {
      if (endpoint.url === url) endpoints.push(endpoint);
    }
  } catch (error) {
    return fail(
      name,
      `cannot list webhook endpoints: ${stripeProblem(error)}`,
      "give the key Read access to Webhook Endpoints, or use the secret key",
    );
  }
  const endpoint = endpoints.find((candidate) => candidate.status === "enabled") ?? endpoints[0];
  if (!endpoint)
    return fail(
      name,
      `no endpoint for ${url}: Stripe sends the function nothing`,
      `${setup}, then store the secret it prints as STRIPE_WEBHOOK_SECRET`,
    );
  if (endpoint.status !== "enabled") return fail(name, `${endpoint.id} for ${url} is disabled`, setup);
  const handled: readonly string[] = HANDLED_EVENTS;
  const missing = handled.filter((event) => !endpoint.enabled_events.includes(event));
  const extra = endpoint.enabled_events.filter((event) => !handled.includes(event));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [
      ...(missing.length > 0 ? [`misses ${missing.join(", ")}`] : []),
      ...(extra.length > 0 ? [`also sends ${extra.join(", ")}`] : []),
    ];
    return fail(name, `${endpoint.id} for ${url} ${parts.join(" and ")}`, setup);
  }
  return ok(name, `${endpoint.id} for ${url} is enabled for exactly ${handled.join(", ")}`);
}

// --- Upstash ----------------------------------------------------------------------------------------------

/** Upstash answers SET NX EX, GET and EVAL, as the function's claims use them, on a key of its own. */
export async function checkUpstash(context: DoctorContext): Promise<CheckResult> {
  const name = "Upstash";
  const url = value(context.env, "UPSTASH_REDIS_REST_URL");
  const token = value(context.env, "UPSTASH_REDIS_REST_TOKEN");
  if (!url || !token || !URL.canParse(url))
    return skip(name, "UPSTASH_REDIS_REST_URL or _TOKEN unusable (see Variables)");
  const redis = createRedisClient(url, token);
  const key = `linkshop:doctor:${randomUUID()}`;
  const claimToken = randomBytes(8).toString("hex");
  try {
    const set = await redis.set(key, claimToken, { nx: true, ex: 60 });
    const got = await redis.get<string>(key);
    const deleted = await redis.eval<string[], number>(RELEASE_SCRIPT, [key], [claimToken]);
    if (set !== "OK" || got !== claimToken || deleted !== 1)
      return fail(
        name,
        "answers, but not as Redis does (SET NX / GET / EVAL gave unexpected replies)",
        "check that the URL is an Upstash Redis REST endpoint",
      );
    return ok(name, "answers SET NX EX, GET and EVAL as the function uses them");
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0]?.slice(0, 160) : String(error);
    return fail(
      name,
      `${new URL(url).host}: ${message}`,
      "copy UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN again from console.upstash.com > your database > REST API",
    );
  } finally {
    await redis.del(key).catch(() => 0);
  }
}

// --- Mail queue -------------------------------------------------------------------------------------------

/** Emails that wait longer than this are worth a look (the drain runs every minute). Milliseconds. */
const QUEUE_STALE_MS = 10 * 60 * 1000;

/** What waits in the mail queue: a warning when sending is paused (daily quota) or emails wait too long. */
export async function checkMailQueue(context: DoctorContext): Promise<CheckResult> {
  const name = "Mail queue";
  const url = value(context.env, "UPSTASH_REDIS_REST_URL");
  const token = value(context.env, "UPSTASH_REDIS_REST_TOKEN");
  if (!url || !token || !URL.canParse(url))
    return skip(name, "no usable Upstash configuration (see Upstash)");
  let status: MailQueueStatus;
  try {
    const prefix = value(context.env, "LINKSHOP_REDIS_PREFIX") ?? KEY_PREFIX;
    status = await upstashMailQueue(createRedisClient(url, token), prefix).status();
  } catch {
    return skip(name, "Upstash did not answer (see Upstash)");
  }
  return mailQueueResult(status, Date.now());
}

/** The check's verdict on a queue's status at `now` (ms). */
export function mailQueueResult(status: MailQueueStatus, now: number): CheckResult {
  const name = "Mail queue";
  if (status.waiting === 0) return ok(name, "empty: every email was handed to Resend");
  const minutes = status.oldestQueuedAt === null ? 0 : Math.floor((now - status.oldestQueuedAt) / 60_000);
  const waiting = `${status.waiting} email${status.waiting === 1 ? "" : "s"} waiting, the oldest for ${minutes} min`;
  if (status.pausedUntil !== null)
    return {
      name,
      status: "warn",
      detail: `${waiting}; sending is paused until ${new Date(status.pausedUntil).toISOString()}: Resend's daily quota is spent`,
      fix: "they go out by themselves when the quota resets (npm run orders lists the orders waiting); a paid Resend plan raises the quota",
    };
  if (status.oldestQueuedAt !== null && now - status.oldestQueuedAt > QUEUE_STALE_MS)
    return {
      name,
      status: "warn",
      detail: `${waiting}${status.inFlight ? ` (a batch tried ${status.inFlight.attempts} times)` : ""}`,
      fix: "Resend is refusing or failing: see the Resend check above and the function log (event mail.batch)",
    };
  return ok(name, `${waiting}: the drain sends them within a minute`);
}

// --- Resend -----------------------------------------------------------------------------------------------

/** `shop.example` from `Shop <orders@shop.example>`. */
export function senderDomain(from: string): string {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  return address
    .slice(address.lastIndexOf("@") + 1)
    .trim()
    .toLowerCase();
}

/** Resend accepts the key and the sender's domain is verified. */
export async function checkResend(context: DoctorContext): Promise<CheckResult> {
  const name = "Resend";
  const key = value(context.env, "RESEND_API_KEY");
  const from = value(context.env, "EMAIL_FROM");
  if (!key || !from) return skip(name, "RESEND_API_KEY or EMAIL_FROM missing (see Variables)");
  const base = value(context.env, "RESEND_BASE_URL");
  const resend = new Resend(key, base ? { baseUrl: base } : {});
  const domain = senderDomain(from);
  const { data, error } = await resend.domains.list();
  if (error) {
    if (error.name === "restricted_api_key") {
      return {
        name,
        status: "warn",
        detail: `the key can only send, so the domain ${domain} could not be checked`,
        fix: `check that ${domain} shows "Verified" at resend.com/domains`,
      };
    }
    return fail(
      name,
      `Resend refuses the key (${error.statusCode ?? "network"} ${error.name})`,
      "create a key at resend.com/api-keys and set RESEND_API_KEY",
    );
  }
  const found = data?.data.find((candidate) => candidate.name.toLowerCase() === domain);
  if (!found)
    return fail(
      name,
      `the sender's domain ${domain} is not in this Resend account`,
      `add ${domain} at resend.com/domains and publish its DNS records, or send from a verified domain (EMAIL_FROM)`,
    );
  if (found.status !== "verified")
    return fail(
      name,
      `the sender's domain ${domain} is ${found.status.replace(/_/g, " ")}, not verified`,
      `publish the DNS records shown for ${domain} at resend.com/domains and wait for "Verified"`,
    );
  return ok(name, `accepts the key; the sender's domain ${domain} is verified`);
}

// --- the deployed function --------------------------------------------------------------------------------

/**
 * Sends the function a test event signed with STRIPE_WEBHOOK_SECRET. The event type is not one the shop acts on,
 * so a function with the same secret acknowledges it as ignored and changes nothing.
 */
export async function checkWebhookSignature(context: DoctorContext): Promise<CheckResult> {
  const name = "Webhook signature";
  if (!context.functionSite)
    return skip(name, "pass --url <deployed site> to send the function a signed test event");
  const secret = value(context.env, "STRIPE_WEBHOOK_SECRET");
  if (!secret) return skip(name, "no STRIPE_WEBHOOK_SECRET (see Variables)");
  const url = `${context.functionSite}${WEBHOOK_PATH}`;
  const payload = JSON.stringify({
    id: `evt_linkshop_doctor_${randomBytes(8).toString("hex")}`,
    object: "event",
    type: "linkshop.doctor.ping",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: { object: { object: "linkshop.doctor" } },
  });
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body: payload,
      signal: AbortSignal.timeout(20_000),
    });
  } catch (error) {
    return fail(
      name,
      `cannot reach ${url} (${error instanceof Error ? error.message : String(error)})`,
      "check the site URL and that the site is deployed",
    );
  }
  const body = (await response.json().catch(() => ({}))) as { error?: unknown; received?: unknown };
  if (response.ok && body.received === true)
    return ok(name, `${url} verified and acknowledged a test event signed with STRIPE_WEBHOOK_SECRET`);
  if (response.status === 400 && body.error === "invalid_signature") {
    return fail(
      name,
      `the function at ${url} rejects events signed with this STRIPE_WEBHOOK_SECRET: its secret differs`,
      "set STRIPE_WEBHOOK_SECRET on Netlify (and here) to the signing secret of the webhook endpoint (Dashboard > Developers > Webhooks > endpoint > Signing secret), then redeploy",
    );
  }
  if (response.status === 500 && body.error === "misconfigured")
    return fail(
      name,
      `the function at ${url} is misconfigured (missing or malformed variables)`,
      "set every variable on Netlify (see Variables), then redeploy",
    );
  return fail(
    name,
    `${url} answered ${response.status}${typeof body.error === "string" ? ` (${body.error})` : ""}`,
    `check that the site at ${context.functionSite} is Linkshop and deployed`,
  );
}
