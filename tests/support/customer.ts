/**
 * The customer's pages over real HTTP, with the real adapters on the local stand-ins: Redis through the Upstash
 * bridge, Stripe's emulator (read over `fetch`), the outbox as Resend. Orders are paid on the emulator and fulfilled
 * through the shop's own path, which lists them under their customer. The download page is served next to them.
 */
import { createServer } from "node:http";
import { getRequestListener } from "@hono/node-server";
import type Stripe from "stripe";
import { type LocalServices, startLocalServices } from "../../dev/local-services.ts";
import { customerFromEnv } from "../../src/app/customer.ts";
import { services, type Services } from "../../src/app/services.ts";
import { readConfig } from "../../src/config.ts";
import { createDownloadHandler } from "../../src/download/handler.ts";
import { fulfilOrder } from "../../src/fulfilment/fulfil.ts";
import { drainMail } from "../../src/fulfilment/mail.ts";
import type { FileStore } from "../../src/fulfilment/ports.ts";
import { fileBlobKey } from "../../src/order/downloads.ts";
import { type LocalServer, listenLocally } from "./http.ts";
import { redisBackend } from "./redis.ts";
import { emulatorClient } from "./stripe-emulator.ts";
import { TRAIL_MAPS } from "./trail-maps.ts";

/** The trail maps' bytes, as the download page delivers them. */
export const TRAIL_MAPS_BYTES = Buffer.from("%PDF-1.4 trail maps\n");

const files: FileStore = {
  async open(key) {
    if (key !== fileBlobKey(TRAIL_MAPS.id)) return undefined;
    return { body: new Blob([TRAIL_MAPS_BYTES]).stream(), size: TRAIL_MAPS_BYTES.byteLength };
  },
  async size(key) {
    return key === fileBlobKey(TRAIL_MAPS.id) ? TRAIL_MAPS_BYTES.byteLength : undefined;
  },
};

export interface CustomerShop {
  /** The site's base URL: `/orders` and `/download/*` are served there. */
  url: string;
  local: LocalServices;
  stripe: Stripe;
  /** The shop's services, as the webhook runs them. */
  shop: Services;
  /** Pays an order of `lines` (catalog product ids) as `email` and fulfils it as the webhook would. */
  buy(email: string, products?: string[]): Promise<string>;
  /** Waits for every drain the pages started after their responses. */
  settle(): Promise<void>;
  /** Emails sent to `address` whose subject contains `subject`. */
  emailsTo(address: string, subject: string): { subject: string; text: string; html: string }[];
  stop(): Promise<void>;
}

/** Header the test server reads as the client's address (Netlify's `context.ip`). */
export const CLIENT_HEADER = "x-test-client";

/** Starts the stand-ins and serves the customer's pages (and the download page) over them. */
export async function startCustomerShop(): Promise<CustomerShop> {
  // The server starts first: its URL is the site's URL the pages link to.
  const route: { handle?: (req: Request) => Promise<Response> } = {};
  const server: LocalServer = await listenLocally(
    createServer(
      getRequestListener((req) => (route.handle ? route.handle(req) : new Response("", { status: 503 }))),
    ),
  );
  const local = await startLocalServices({
    redisBackend,
    env: { URL: server.url, LINKSHOP_FULFIL_SESSIONS: "all", LINKSHOP_EMAIL_RATE: "50" },
  });
  const config = readConfig(local.env);
  const log = () => {};
  const shop = services(config, log);
  const pages = customerFromEnv(local.env, log);
  const download = createDownloadHandler(
    {
      ledger: shop.ledger,
      counter: shop.downloads,
      files,
      shop: shop.shop,
      secret: local.env.LINKSHOP_DOWNLOAD_SECRET,
      now: Date.now,
      log,
    },
    log,
  );
  const drains: Promise<unknown>[] = [];
  route.handle = (req) => {
    if (new URL(req.url).pathname.startsWith("/download/")) return download(req);
    return pages(req, {
      ip: req.headers.get(CLIENT_HEADER) ?? "203.0.113.1",
      waitUntil: (promise) => drains.push(promise),
    });
  };
  const stripe = emulatorClient(local.stripe.url);

  async function buy(email: string, products = ["trail-maps"]): Promise<string> {
    const lineItems = [];
    for (const id of products) {
      const product = await stripe.products.create({ name: id, metadata: { linkshop_id: id } });
      const price = await stripe.prices.create({ product: product.id, unit_amount: 900, currency: "usd" });
      lineItems.push({ price: price.id, quantity: 1 });
    }
    const created = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: lineItems,
      success_url: `${server.url}/thanks?session_id={CHECKOUT_SESSION_ID}`,
    });
    const paid = await fetch(`${local.stripe.url}/_emulator/checkout/sessions/${created.id}/complete`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, name: "Jenny Rosen", payment: "card" }),
    });
    if (!paid.ok) throw new Error(`the emulator did not complete the session: ${await paid.text()}`);
    const session = await shop.sessions.retrieve(created.id);
    if (!session) throw new Error("the emulator lost the session");
    const result = await fulfilOrder(session, shop, { by: "webhook", fresh: true });
    if (result.outcome !== "queued") throw new Error(`not fulfilled: ${result.outcome} ${result.reason}`);
    await drainMail(shop.drain, 20_000);
    return created.id;
  }

  async function settle(): Promise<void> {
    while (drains.length > 0) await Promise.all(drains.splice(0));
  }

  return {
    url: server.url,
    local,
    stripe,
    shop,
    buy,
    settle,
    emailsTo: (address, subject) =>
      local.outbox
        .emails()
        .filter((email) => email.to.includes(address) && email.subject.includes(subject))
        .map((email) => ({ subject: email.subject, text: email.text ?? "", html: email.html ?? "" })),
    async stop() {
      await server.close();
      await local.stop();
    },
  };
}

/** The sign-in link of an email's text part. */
export function signInLink(text: string): string {
  const link = /https?:\/\/\S+\/orders\/[0-9a-f]{64}\.\d+\.[A-Za-z0-9_-]{43}/.exec(text)?.[0];
  if (!link) throw new Error(`no sign-in link in:\n${text}`);
  return link;
}
