/**
 * The local stack's stand-in for Netlify's scheduler: one run at a time on its interval, nothing after stop, and a
 * quiet stack's one-line news of what the scheduled drain sent or that a drain failed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { drainNews, every } from "../../dev/stack.ts";

describe("every", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs on each interval, skips a turn while a run is still going, and stops", async () => {
    const signals: AbortSignal[] = [];
    let finish: () => void = () => {};
    const scheduler = every(60_000, (signal) => {
      signals.push(signal);
      return new Promise<void>((resolve) => {
        finish = resolve;
        signal.addEventListener("abort", () => resolve());
      });
    });
    await vi.advanceTimersByTimeAsync(59_999);
    expect(signals).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(signals).toHaveLength(1);
    // Still running at the next minute: that turn is skipped.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(signals).toHaveLength(1);
    finish();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(signals).toHaveLength(2);
    // Stopping aborts the run in progress and waits for it; no run follows.
    await scheduler.stop();
    expect(signals[1]?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(180_000);
    expect(signals).toHaveLength(2);
  });

  it("keeps its schedule after a run that failed", async () => {
    let runs = 0;
    const scheduler = every(1_000, async () => {
      runs++;
      throw new Error("the function did not answer");
    });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(runs).toBe(3);
    await scheduler.stop();
  });
});

describe("drainNews", () => {
  const news = (line: string) => {
    const said: string[] = [];
    drainNews(line, (text) => said.push(text));
    return said;
  };
  const drained = (fields: object) =>
    JSON.stringify({ event: "mail.drained", requests: 2, sent: 0, fulfilled: 0, failed: 0, ...fields });

  it("tells what the scheduled drain sent, and why what is left waits", () => {
    expect(news(drained({ sent: 4, stopped: "empty" }))).toEqual(["Scheduled email drain: 4 emails sent."]);
    expect(news(drained({ sent: 0, stopped: "paused" }))).toEqual([
      "Scheduled email drain: 0 emails sent, the rest waits: the email provider's daily quota is spent (npm run doctor).",
    ]);
  });

  it("stays quiet when the drain sent nothing and nothing waits for a reason", () => {
    expect(news(drained({ sent: 0, stopped: "busy" }))).toEqual([]);
    expect(news(drained({ sent: 0, stopped: "deadline" }))).toEqual([]);
  });

  it("names a failed drain by its reason code", () => {
    const line = JSON.stringify({ event: "mail.drain_failed", level: "error", reason: "store_unavailable" });
    expect(news(line)).toEqual([
      "An email drain failed: store_unavailable; what it left waits for the next one.",
    ]);
    const scheduled = JSON.stringify({
      event: "mail.drain.failed",
      level: "error",
      reason: "internal_error",
    });
    expect(news(scheduled)).toEqual([
      "An email drain failed: internal_error; what it left waits for the next one.",
    ]);
  });

  it("leaves every other line out", () => {
    expect(news('{"event":"webhook.fulfilled","sessionId":"cs_test_1"}')).toEqual([]);
    expect(news("◈ Loaded function email-drain")).toEqual([]);
    expect(news('{"event":"mail.drained", broken')).toEqual([]);
  });
});
