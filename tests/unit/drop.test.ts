/** The drop drill's arithmetic: which receipts count, the latency percentiles, and the report it prints. */
import { describe, expect, it } from "vitest";
import {
  defaultDropProduct,
  type DropReport,
  formatDropReport,
  formatDuration,
  percentile,
  tallyReceipts,
} from "../../dev/drop.ts";

const at = (ms: number) => new Date(Date.UTC(2025, 0, 2, 3, 0, 0) + ms).toISOString();
const PAID = Date.UTC(2025, 0, 2, 3, 0, 0);

describe("percentile", () => {
  it("takes the nearest rank, whatever the order of the values", () => {
    const values = [50, 10, 40, 20, 30];
    expect(percentile(values, 50)).toBe(30);
    expect(percentile(values, 95)).toBe(50);
    expect(percentile(values, 0)).toBe(10);
    expect(percentile(values, 100)).toBe(50);
    // Twenty values: p95 is the 19th smallest, not the largest.
    const twenty = Array.from({ length: 20 }, (_, index) => (index + 1) * 100);
    expect(percentile(twenty, 95)).toBe(1900);
    expect(percentile(twenty, 50)).toBe(1000);
  });

  it("is NaN for no values", () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("tallyReceipts", () => {
  it("counts one receipt per paid order, and measures from the payment to the first email", () => {
    const orders = [
      { email: "drop-a-1@example.com", paidAt: PAID },
      { email: "drop-a-2@example.com", paidAt: PAID + 1000 },
      { email: "drop-a-3@example.com", paidAt: PAID + 2000 },
      { email: "drop-a-4@example.com", error: "sold out" },
    ];
    const emails = [
      { to: ["merchant@shop.localhost"], createdAt: at(500) },
      { to: ["drop-a-1@example.com"], createdAt: at(800) },
      // Two copies to the second customer: a duplicate, timed by the first.
      { to: ["DROP-A-2@example.com"], createdAt: at(4000) },
      { to: ["drop-a-2@example.com"], createdAt: at(9000) },
      // The order whose purchase failed is neither paid nor missing, even with an email.
      { to: ["drop-a-4@example.com"], createdAt: at(100) },
    ];
    expect(tallyReceipts(orders, emails)).toEqual({
      paid: 3,
      received: 2,
      duplicates: 1,
      missing: 1,
      latency: { p50: 800, p95: 3000, max: 3000 },
    });
  });

  it("has no latency when no receipt arrived", () => {
    const tally = tallyReceipts([{ email: "drop-b-1@example.com", paidAt: PAID }], []);
    expect(tally).toEqual({ paid: 1, received: 0, duplicates: 0, missing: 1, latency: undefined });
  });
});

describe("defaultDropProduct", () => {
  it("picks the first product without stock or files, else the first without stock", () => {
    expect(
      defaultDropProduct([
        { id: "limited", stock: 5, files: [] },
        { id: "maps", stock: undefined, files: ["maps.pdf"] },
        { id: "mug", stock: undefined, files: [] },
      ]),
    ).toBe("mug");
    expect(
      defaultDropProduct([
        { id: "limited", stock: 5, files: [] },
        { id: "maps", stock: undefined, files: ["maps.pdf"] },
      ]),
    ).toBe("maps");
    expect(defaultDropProduct([{ id: "limited", stock: 5, files: [] }])).toBeUndefined();
  });
});

describe("formatDropReport", () => {
  const report: DropReport = {
    runId: "f2d134f3",
    product: "field-notes",
    orders: 12,
    seconds: 4,
    paid: 12,
    received: 12,
    duplicates: 0,
    missing: 0,
    latency: { p50: 514, p95: 746, max: 1250 },
    failedPurchases: 0,
    firstFailure: undefined,
    refusals: { rate_limit_exceeded: 2, daily_quota_exceeded: 0 },
    limits: { requestsPerSecond: 2, dailyQuota: null },
    timedOut: false,
    ok: true,
  };

  it("prints every count, the latencies and the outbox's refusals", () => {
    expect(formatDropReport(report)).toMatchInlineSnapshot(`
      [
        "Drop f2d134f3: 12 orders of field-notes over 4 s",
        "  orders made        12 of 12",
        "  receipts received  12 of 12",
        "  duplicates         0",
        "  missing            0",
        "  receipt latency    p50 514 ms, p95 746 ms, max 1.3 s  (payment to outbox)",
        "  outbox refusals    2 rate_limit_exceeded, 0 daily_quota_exceeded  (limits: 2 requests/s)",
        "Every receipt arrived exactly once.",
      ]
    `);
  });

  it("says what went wrong when an order failed or a receipt is missing", () => {
    const lines = formatDropReport({
      ...report,
      paid: 11,
      received: 10,
      missing: 1,
      failedPurchases: 1,
      firstFailure: "The Stripe emulator did not open the Payment Link plink_1 (HTTP 500).",
      latency: undefined,
      refusals: undefined,
      limits: undefined,
      timedOut: true,
      ok: false,
    });
    expect(lines).toContain(
      "  orders made        11 of 12  (1 failed: The Stripe emulator did not open the Payment Link plink_1 (HTTP 500).)",
    );
    expect(lines).toContain("  missing            1  (stopped waiting)");
    expect(lines).toContain("  receipt latency    - (no receipt)");
    expect(lines).toContain("  outbox refusals    - (this outbox does not report them)");
    expect(lines.at(-1)).toMatch(/^Not every order got exactly one receipt/);
  });

  it("writes durations in ms below a second and in seconds above", () => {
    expect(formatDuration(999)).toBe("999 ms");
    expect(formatDuration(61_500)).toBe("61.5 s");
    expect(formatDuration(Number.NaN)).toBe("-");
  });
});
