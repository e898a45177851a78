/** In-memory stand-ins for the stock ports: the same rules as the Redis script, and a notifier that remembers. */
import type { OversoldNotifier, SaleCount, SalesStore } from "../../src/stock/sales.ts";

/** Sales per run in memory; counts each order once and marks the alert once, like `upstashSales`. */
export class MemorySales implements SalesStore {
  readonly orders = new Map<string, Set<string>>();
  readonly alerted = new Set<string>();

  async record(run: string, orderKey: string, stock: number): Promise<SaleCount> {
    const orders = this.orders.get(run) ?? new Set<string>();
    orders.add(orderKey);
    this.orders.set(run, orders);
    const alert = orders.size > stock && !this.alerted.has(`${run}:${stock}`);
    if (alert) this.alerted.add(`${run}:${stock}`);
    return { sold: orders.size, alert };
  }

  async clearAlert(run: string, stock: number): Promise<void> {
    this.alerted.delete(`${run}:${stock}`);
  }

  async counts(runs: string[]): Promise<number[]> {
    return runs.map((run) => this.orders.get(run)?.size ?? 0);
  }
}

/** Remembers every alert; `failNext` makes the next one throw, as an outbox that cannot queue. */
export class RecordingNotifier implements OversoldNotifier {
  readonly alerts: { productId: string; run: string; sold: number; stock: number }[] = [];
  failNext = false;

  async notifyOversold(productId: string, run: string, sold: number, stock: number): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error("outbox unavailable");
    }
    this.alerts.push({ productId, run, sold, stock });
  }
}
