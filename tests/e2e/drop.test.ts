/**
 * The drop drill against the whole local stack (netlify dev, emulated Stripe, Upstash bridge, outbox limited to
 * Resend's 2 requests per second), run as `npm run trigger -- drop` runs it: every receipt arrives exactly once, and
 * the drill's own counts agree with what the outbox holds. A spent daily quota makes the drill fail, as it should.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { invokeScheduled } from "../../dev/stack.ts";
import { triggerCommand } from "../../dev/trigger.ts";
import { runCommand } from "../../src/commands/kit.ts";
import { type E2eShop, MERCHANT, printOutputOnFailure, startE2eShop } from "../support/e2e.ts";
import { scriptedIo } from "../support/io.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

let shop: E2eShop;

beforeAll(async () => {
  shop = await startE2eShop({
    retryDelaysMs: [250, 500, 1000, 2000, 4000, 8000],
    asyncPaymentDelayMs: 0,
    maxInFlight: 10,
  });
  // Resend's limit for a team; the functions pace their requests at their default, the same 2 per second.
  shop.outbox.setLimits({ requestsPerSecond: 2 });
});

afterAll(async () => {
  await shop?.stop();
});

beforeEach(() => printOutputOnFailure(() => shop));

/** `npm run trigger -- drop <args>` against this test's stack (named by the variables npm start gives commands). */
async function drop(args: string[], timing: { dropTimeoutMs?: number } = {}) {
  const { io, out, err } = scriptedIo();
  const code = await runCommand(triggerCommand({ dropSettleMs: 1_000, ...timing }), {
    argv: ["drop", ...args],
    env: {
      STRIPE_API_BASE: shop.stack.functionEnv.STRIPE_API_BASE,
      RESEND_BASE_URL: shop.stack.functionEnv.RESEND_BASE_URL,
    },
    io,
    cwd: ROOT,
    // No running npm start's record: only the stack above.
    workDir: `${ROOT}.linkshop-none`,
  });
  const output = out.join("\n");
  const runId = /^Drop ([0-9a-f]{8}):/m.exec(output)?.[1];
  if (runId === undefined) throw new Error(`The drill named no run:\n${output}\n${err.join("\n")}`);
  const customers = shop.outbox
    .emails()
    .filter((email) => email.to.some((to) => to.startsWith(`drop-${runId}-`)));
  return { code, output, errors: err.join("\n"), runId, customers };
}

describe("npm run trigger -- drop", () => {
  it("makes the orders over the seconds asked, and every receipt arrives exactly once", async () => {
    const refusedBefore = shop.outbox.refusals();
    const noticesBefore = shop.outbox.emails().filter((email) => email.to.includes(MERCHANT)).length;
    const { code, output, errors, runId, customers } = await drop(["--orders", "12", "--seconds", "4"]);
    expect(errors).toBe("");
    expect(code).toBe(0);

    // What the outbox holds, apart from what the drill says: twelve customers, one receipt each.
    const addresses = customers.map((email) => email.to.join(","));
    expect(addresses.sort()).toEqual(
      Array.from({ length: 12 }, (_, index) => `drop-${runId}-${index + 1}@example.com`).sort(),
    );
    expect(customers.every((email) => email.subject.startsWith("Your Trailhead Goods order "))).toBe(true);

    // The drill's counts match it.
    expect(output).toContain("  orders made        12 of 12");
    expect(output).toContain("  receipts received  12 of 12");
    expect(output).toContain("  duplicates         0");
    expect(output).toContain("  missing            0");
    expect(output).toMatch(/ {2}receipt latency {4}p50 [\d.]+ m?s, p95 [\d.]+ m?s, max [\d.]+ m?s/);
    expect(output).toContain("Every receipt arrived exactly once.");
    // Its refusals are the outbox's own count over the run (the drains space requests, but netlify dev's clock and
    // the outbox's arrival times can put two in one second: the drain waits and sends the batch again).
    const refused = shop.outbox.refusals();
    expect(output).toContain(
      `  outbox refusals    ${refused.rate_limit_exceeded - refusedBefore.rate_limit_exceeded} rate_limit_exceeded, 0 daily_quota_exceeded  (limits: 2 requests/s)`,
    );
    // The merchant heard of every order too (the notices leave with the receipts, in the same batches).
    await expect
      .poll(
        () => shop.outbox.emails().filter((email) => email.to.includes(MERCHANT)).length - noticesBefore,
        {
          timeout: 60_000,
        },
      )
      .toBe(12);
  });

  it("fails, naming the missing receipts, when the outbox's daily quota is spent", async () => {
    shop.outbox.setLimits({ requestsPerSecond: 2, dailyQuota: 0 });
    const { code, output, customers } = await drop(["--orders", "3", "--seconds", "1"], {
      dropTimeoutMs: 6_000,
    });
    expect(customers).toEqual([]);
    expect(code).toBe(1);
    expect(output).toContain("  orders made        3 of 3");
    expect(output).toContain("  receipts received  0 of 3");
    expect(output).toContain("  missing            3  (stopped waiting)");
    expect(output).toMatch(/outbox refusals {4}\d+ rate_limit_exceeded, [1-9]\d* daily_quota_exceeded/);
    expect(output).toContain("Not every order got exactly one receipt");
  });

  it("leaves the orders waiting, and the scheduled drain (run as Netlify's scheduler runs it) says why", async () => {
    // The queue of the test above waits for the quota; the stack's scheduler invokes the drain the same way each minute.
    const paused = () =>
      shop.output.filter(
        (line) => line.includes('"event":"mail.drained"') && line.includes('"stopped":"paused"'),
      ).length;
    const before = paused();
    expect(await invokeScheduled(shop.shopUrl, "email-drain")).toBe(200);
    await expect.poll(paused, { timeout: 60_000 }).toBe(before + 1);
  });
});
