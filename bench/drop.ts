/**
 * The launch-day drop for `npm run bench`: the whole local stack (netlify dev, Stripe emulator, Upstash bridge, an
 * outbox refusing more than Resend's 2 requests per second) on free ports with its own Redis prefix, then the drop
 * drill of `npm run trigger -- drop` against it: 200 orders over 120 s unless LINKSHOP_BENCH_DROP_ORDERS and
 * LINKSHOP_BENCH_DROP_SECONDS ask for another.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import { defaultDropProduct, type DropReport, formatDropReport, runDrop } from "../dev/drop.ts";
import { freePort } from "../dev/ports.ts";
import { startStack } from "../dev/stack.ts";
import { loadCatalog } from "../src/shop/catalog.ts";

/** Every receipt within 2 minutes of its payment (issue 16's launch day). Milliseconds. */
const LATENCY_TARGET_MS = 120_000;

/** One line of the bench's table. */
export interface BenchRow {
  name: string;
  value: number;
  target: number;
  unit: string;
}

function whole(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

/** Starts a stack of its own, runs the drop against it, stops it, and returns the report. */
export async function benchDrop(root = process.cwd()): Promise<DropReport> {
  const orders = whole("LINKSHOP_BENCH_DROP_ORDERS", 200);
  const seconds = whole("LINKSHOP_BENCH_DROP_SECONDS", 120);
  const product = defaultDropProduct(
    (await loadCatalog(join(root, "catalog.json"), { siteDir: join(root, "public") })).products,
  );
  if (product === undefined) throw new Error("catalog.json has no product without stock to drop");
  const [shop, stripe, upstash, outbox] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const work = await mkdtemp(join(tmpdir(), "linkshop-bench-drop-"));
  const prefix = `bench-drop-${randomUUID()}:`;
  const output: string[] = [];
  const stack = await startStack({
    root,
    ports: { shop, stripe, upstash, outbox },
    // No credentials: every service is the local stand-in.
    env: { REDIS_URL: process.env.REDIS_URL },
    say: (line) => output.push(line),
    showNetlifyOutput: false,
    outboxDir: join(work, "outbox"),
    outDir: join(work, "site"),
    workDir: join(work, "linkshop"),
    watch: false,
    functionEnv: { LINKSHOP_REDIS_PREFIX: prefix },
    outboxLimits: { requestsPerSecond: 2 },
  }).catch(async (error: unknown) => {
    await rm(work, { recursive: true, force: true });
    throw error;
  });
  const { functionEnv } = stack;
  try {
    return await runDrop({
      orders,
      seconds,
      product,
      stripeUrl: functionEnv.STRIPE_API_BASE as string,
      outboxUrl: functionEnv.RESEND_BASE_URL as string,
    });
  } catch (error) {
    console.error(output.slice(-40).join("\n"));
    throw error;
  } finally {
    // Ledger records never expire: this run's leave the shared Redis with it.
    const redis = new Redis({
      url: functionEnv.UPSTASH_REDIS_REST_URL as string,
      token: functionEnv.UPSTASH_REDIS_REST_TOKEN as string,
    });
    const keys = await redis.keys(`${prefix}*`).catch(() => []);
    if (keys.length > 0) await redis.del(...keys).catch(() => 0);
    await stack.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** The drop's rows for the bench's table: receipt latency, and orders that went wrong (target none). */
export async function dropRows(root = process.cwd()): Promise<BenchRow[]> {
  const report = await benchDrop(root);
  // The drill's own summary, the outbox's 429s included, ahead of the table.
  console.log(formatDropReport(report).join("\n"));
  const name = `drop ${report.orders} in ${report.seconds} s`;
  const latency = report.latency ?? { p50: Number.NaN, p95: Number.NaN, max: Number.NaN };
  return [
    { name: `${name}: receipt p50`, value: latency.p50, target: LATENCY_TARGET_MS, unit: "ms" },
    { name: `${name}: receipt p95`, value: latency.p95, target: LATENCY_TARGET_MS, unit: "ms" },
    { name: `${name}: receipt max`, value: latency.max, target: LATENCY_TARGET_MS, unit: "ms" },
    { name: `${name}: receipts missing`, value: report.missing, target: 0, unit: "orders" },
    { name: `${name}: receipts sent twice`, value: report.duplicates, target: 0, unit: "orders" },
    { name: `${name}: orders not made`, value: report.failedPurchases, target: 0, unit: "orders" },
  ];
}
