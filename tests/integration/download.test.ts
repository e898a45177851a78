/**
 * The download endpoint over real HTTP, with the real adapters: counts in a real Redis (through the Upstash bridge)
 * and files in a real Netlify Blobs server (the one `netlify dev` runs), filled the way a build leaves them.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { BlobsServer } from "@netlify/blobs/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEPLOY_BLOBS_DIR, netlifyFileStore } from "../../src/adapters/blobs.ts";
import { createRedisClient, upstashDownloadCounter, upstashLedger } from "../../src/adapters/upstash.ts";
import { createDownloadHandler, type DownloadDeps } from "../../src/download/handler.ts";
import type { DownloadCounter, Ledger } from "../../src/fulfilment/ports.ts";
import { fileBlobKey, fileId, grantFor, type OrderFile, signDownload } from "../../src/order/downloads.ts";
import { emptyRecord, type OrderState } from "../../src/order/ledger.ts";
import { orderNumber } from "../../src/order/number.ts";
import { startUpstashBridge, type UpstashBridge } from "../../dev/upstash-bridge.ts";
import { testShop } from "../support/fakes.ts";
import { redisBackend } from "../support/redis.ts";

const SECRET = randomBytes(32).toString("hex");
const NOW = Date.UTC(2026, 11, 4, 12);
const CONTENT = randomBytes(300_000);
const FILE: OrderFile = {
  id: fileId("trail-maps", "trail-maps.pdf"),
  name: "trail-maps.pdf",
  productId: "trail-maps",
};
const prefix = `linkshop-test:${randomUUID()}:`;

let root: string;
let bridge: UpstashBridge;
let blobs: BlobsServer;
let ledger: Ledger;
let counter: DownloadCounter;
let baseUrl: string;
let close: () => void;
/** Store requests the endpoint made, by method. */
const calls: string[] = [];
let clock = NOW;

function counted<T extends object>(name: string, target: T): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(`${name}.${String(property)}`);
        return value.apply(object, args);
      };
    },
  });
}

/** A fulfilled (or otherwise) order with the trail maps, and a link to its file. */
async function order(state: OrderState = "fulfilled", days = 30) {
  const sessionId = `cs_test_${randomUUID().replaceAll("-", "")}`;
  await ledger.put(sessionId, "absent", { ...emptyRecord(sessionId, NOW), state, files: [FILE] });
  const token = signDownload(grantFor(sessionId, FILE, NOW, days), SECRET);
  return { sessionId, url: `${baseUrl}/download/${token}`, number: orderNumber(sessionId) };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "linkshop-download-"));
  // What `npm run build` leaves for Netlify to upload with the deploy.
  const blobFile = join(root, DEPLOY_BLOBS_DIR, fileBlobKey(FILE.id));
  await mkdir(join(blobFile, ".."), { recursive: true });
  await writeFile(blobFile, CONTENT);

  // The local Blobs sandbox as netlify dev runs it: no deploy, a site-wide store.
  const token = randomUUID();
  blobs = new BlobsServer({ directory: join(root, "blobs-serve"), token });
  const { port } = await blobs.start();
  process.env.NETLIFY_BLOBS_CONTEXT = Buffer.from(
    JSON.stringify({
      edgeURL: `http://localhost:${port}`,
      uncachedEdgeURL: `http://localhost:${port}`,
      token,
      siteID: "local",
    }),
  ).toString("base64");

  bridge = await startUpstashBridge({ token: randomUUID(), backend: redisBackend, onWarning: () => {} });
  const redis = createRedisClient(bridge.url, bridge.token);
  ledger = upstashLedger(redis, prefix);
  counter = upstashDownloadCounter(redis, prefix);

  const deps: DownloadDeps = {
    ledger: counted("ledger", ledger),
    counter: counted("counter", counter),
    files: netlifyFileStore(root),
    shop: testShop({ name: "Trailhead", supportEmail: "help@trailhead.example" }),
    secret: SECRET,
    now: () => clock,
    log: () => {},
  };
  const handle = createDownloadHandler(deps, () => {});
  const server = serve({ fetch: handle, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  close = () => server.close();
});

afterAll(async () => {
  close?.();
  const redis = createRedisClient(bridge.url, bridge.token);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await bridge?.close();
  await blobs?.stop();
  delete process.env.NETLIFY_BLOBS_CONTEXT;
  await rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  calls.length = 0;
  clock = NOW;
});

describe("the download page", () => {
  it("shows the file, its size, the downloads left and until when, in a form that works without JavaScript", async () => {
    const { url, number } = await order();
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const page = await response.text();
    expect(page).toContain("trail-maps.pdf");
    expect(page).toContain("300 kB");
    expect(page).toContain("5 of 5 downloads left");
    expect(page).toContain("January 3, 2027");
    expect(page).toContain(`Order ${number}`);
    expect(page).toMatch(/<form method="post"><button type="submit">Download<\/button><\/form>/);
    expect(page).not.toContain("<script");
  });

  it("uses no download when opened, fetched by a link scanner or asked with HEAD", async () => {
    const { url, sessionId } = await order();
    for (let i = 0; i < 3; i++) expect((await fetch(url)).status).toBe(200);
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect(await counter.used(sessionId, FILE.id)).toBe(0);
    expect(await (await fetch(url)).text()).toContain("5 of 5 downloads left");
  });

  it("costs two store requests and no more, whatever the answer", async () => {
    const { url } = await order();
    await fetch(url);
    expect(calls).toEqual(["ledger.get", "counter.used"]);
    calls.length = 0;
    await (await fetch(url, { method: "POST" })).arrayBuffer();
    expect(calls).toEqual(["ledger.get", "counter.take"]);
  });
});

describe("a download", () => {
  it("streams exactly the stored bytes as an attachment and counts once", async () => {
    const { url, sessionId } = await order();
    const response = await fetch(url, { method: "POST" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename="trail-maps.pdf"; filename*=UTF-8''trail-maps.pdf`,
    );
    expect(response.headers.get("content-length")).toBe(String(CONTENT.byteLength));
    expect(Buffer.from(await response.arrayBuffer()).equals(CONTENT)).toBe(true);
    expect(await counter.used(sessionId, FILE.id)).toBe(1);
    expect(await (await fetch(url)).text()).toContain("4 of 5 downloads left");
  });

  it("never exceeds the limit, even with 20 transfers at once", async () => {
    const { url, sessionId } = await order();
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await fetch(url, { method: "POST" });
        const body = Buffer.from(await response.arrayBuffer());
        return { status: response.status, complete: body.equals(CONTENT) };
      }),
    );
    expect(answers.filter(({ status }) => status === 200)).toHaveLength(5);
    expect(answers.filter(({ status, complete }) => status === 200 && complete)).toHaveLength(5);
    expect(answers.filter(({ status }) => status === 410)).toHaveLength(15);
    expect(await counter.used(sessionId, FILE.id)).toBe(5);
    const next = await fetch(url);
    expect(next.status).toBe(410);
    expect(await next.text()).toContain("Download limit reached");
  });
});

describe("a link that does not work", () => {
  it("with one character changed: a clear page, no bytes and no store request", async () => {
    const { url } = await order();
    const altered = url.slice(0, -1) + (url.endsWith("A") ? "B" : "A");
    for (const method of ["GET", "POST"]) {
      const response = await fetch(altered, { method });
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(await response.text()).toContain("This link is not valid");
    }
    expect(calls).toEqual([]);
  });

  it("once expired: says so and how to get a new one, without a store request", async () => {
    const { url, number } = await order("fulfilled", 1);
    clock = NOW + 2 * 86_400_000;
    const response = await fetch(url, { method: "POST" });
    expect(response.status).toBe(410);
    const page = await response.text();
    expect(page).toContain("This link has expired");
    expect(page).toContain(number);
    expect(page).toContain("help@trailhead.example");
    expect(calls).toEqual([]);
  });

  it.each([
    ["refunded", 410, "This order was refunded"],
    ["disputed", 423, "This order is under review"],
  ] as const)("of a %s order: refused (%i) with a page saying so, no bytes", async (state, status, words) => {
    const { url, sessionId } = await order(state);
    for (const method of ["GET", "POST"]) {
      const response = await fetch(url, { method });
      expect(response.status).toBe(status);
      expect(await response.text()).toContain(words);
    }
    expect(await counter.used(sessionId, FILE.id)).toBe(0);
  });

  it("for a path that is no link at all: the same invalid page", async () => {
    for (const path of ["/download/", "/download/x", "/download/../../etc/passwd", "/download/a.b.c.d"]) {
      const response = await fetch(`${baseUrl}${path}`);
      expect(response.status).toBe(404);
    }
  });
});

describe("the page in the shop's language", () => {
  it("speaks German for a de-DE shop", async () => {
    const handle = createDownloadHandler(
      {
        ledger,
        counter,
        files: netlifyFileStore(root),
        shop: testShop({ locale: "de-DE" }),
        secret: SECRET,
        now: () => NOW,
        log: () => {},
      },
      () => {},
    );
    const { url } = await order();
    const page = await (await handle(new Request(url))).text();
    expect(page).toContain('<html lang="de-DE">');
    expect(page).toContain("Noch 5 von 5 Downloads");
    expect(page).toContain("Herunterladen");
    expect(page).toContain("3. Januar 2027");
  });
});
