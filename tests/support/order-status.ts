/** The order-status endpoint's own ports as in-memory fakes, over the fulfilment fakes of tests/support/fakes.ts. */
import type { FulfilmentDeps } from "../../src/fulfilment/fulfil.ts";
import type {
  CheckoutReader,
  ClientLimiter,
  OrderStatusDeps,
  StatusStore,
} from "../../src/order-status/handler.ts";

/** Remembered answers on a Map, with their TTL on the deps' clock; reads the record from the deps' ledger. */
export class MemoryStatusStore implements StatusStore {
  readonly answers = new Map<string, { answer: string; until: number }>();
  /** Calls made, as store commands: one per look, one per remember. */
  commands = 0;
  constructor(private readonly deps: Pick<FulfilmentDeps, "ledger" | "now">) {}
  async look(key: string) {
    this.commands++;
    const record = await this.deps.ledger.get(key);
    const kept = this.answers.get(key);
    const remembered = kept && kept.until > this.deps.now() ? kept.answer : undefined;
    return { record, remembered };
  }
  async remember(key: string, answer: string, ttlSeconds: number) {
    this.commands++;
    this.answers.set(key, { answer, until: this.deps.now() + ttlSeconds * 1000 });
  }
}

/** A fixed-window budget per client on the deps' clock; `requests` defaults to no limit at all. */
export class MemoryLimiter implements ClientLimiter {
  readonly windows = new Map<string, { start: number; used: number }>();
  /** Clients seen by `take`, in order. */
  readonly taken: (string | undefined)[] = [];
  constructor(
    private readonly now: () => number,
    private readonly requests = Number.POSITIVE_INFINITY,
    private readonly windowMs = 60_000,
  ) {}
  blocked(client: string | undefined) {
    const window = this.windows.get(client ?? "");
    if (!window || window.used < this.requests || this.now() >= window.start + this.windowMs)
      return undefined;
    return { allowed: false, retryAfterSeconds: this.retryAfter(window.start) };
  }
  async take(client: string | undefined) {
    this.taken.push(client);
    const now = this.now();
    let window = this.windows.get(client ?? "");
    if (!window || now >= window.start + this.windowMs) window = { start: now, used: 0 };
    this.windows.set(client ?? "", window);
    if (window.used >= this.requests)
      return { allowed: false, retryAfterSeconds: this.retryAfter(window.start) };
    window.used++;
    return { allowed: true, retryAfterSeconds: 0 };
  }
  private retryAfter(start: number) {
    return Math.max(1, Math.ceil((start + this.windowMs - this.now()) / 1000));
  }
}

/** Reads a session and its items through the fulfilment fakes' sessions and line items (their call counts). */
export function fakeCheckout(deps: Pick<FulfilmentDeps, "sessions" | "lineItems">): CheckoutReader {
  return {
    async readSession(sessionId) {
      const session = await deps.sessions.retrieve(sessionId);
      return session && { session, lineItems: await deps.lineItems.listLineItems(sessionId) };
    },
  };
}

/** The endpoint's deps over fulfilment deps: in-memory status store, unlimited budget, test mode. */
export function pageDeps(deps: FulfilmentDeps, overrides: Partial<OrderStatusDeps> = {}): OrderStatusDeps {
  return {
    ...deps,
    status: new MemoryStatusStore(deps),
    checkout: fakeCheckout(deps),
    limiter: new MemoryLimiter(deps.now),
    livemode: false,
    ...overrides,
  };
}
