// Webhook delivery as Stripe does it: signed JSON POSTs, retried on non-2xx or network errors, all logged.
import { createHmac } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pLimit, { type LimitFunction } from "p-limit";
import type { EventObject } from "./objects.ts";

/** One delivery attempt of one event to one endpoint. */
export interface Delivery {
  eventId: string;
  type: string;
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  /** HTTP status the endpoint answered, or null when it could not be reached. */
  status: number | null;
  error?: string;
  /** ISO timestamp of the attempt. */
  at: string;
  /** The endpoint's URL. */
  url: string;
  /** How long the attempt waited for a free slot before it was sent (see `maxInFlight`). Milliseconds. */
  queuedMs: number;
  /** When the attempt failed: the wait before the next one, ms; null when none follows (accepted, or given up). */
  retryInMs: number | null;
}

/** Where events go: the emulator's configured endpoint, or one created through the webhook_endpoints API. */
export interface WebhookTarget {
  url: string;
  /** whsec_... signing secret. */
  secret: string;
  enabledEvents: readonly string[];
  /** Written into the delivered event's `api_version`; null keeps the event's own. */
  apiVersion: string | null;
}

/** `Stripe-Signature` header value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload" keyed by the secret>`. */
export function signatureHeader(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

/** Whether an endpoint subscribed to `type`: exact names, `*`, or a `prefix.*` wildcard. */
export function eventEnabled(enabledEvents: readonly string[], type: string): boolean {
  return enabledEvents.some(
    (pattern) =>
      pattern === "*" ||
      pattern === type ||
      (pattern.endsWith(".*") && type.startsWith(pattern.slice(0, -1))),
  );
}

/** Tracks background work (deliveries, retry waits, delayed payments) so tests can await quiet and close can stop it. */
export class BackgroundTasks {
  readonly #pending = new Set<Promise<unknown>>();
  readonly #stop = new AbortController();

  get closed(): boolean {
    return this.#stop.signal.aborted;
  }

  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /**
   * Runs `work` in the background and returns its completion; its errors are swallowed here, so `work`
   * must record its own outcome.
   */
  run(work: () => Promise<void>): Promise<void> {
    const task = work().catch(() => undefined);
    this.#pending.add(task);
    void task.finally(() => this.#pending.delete(task));
    return task;
  }

  /** Waits `ms`; returns false when the emulator closed meanwhile. */
  async wait(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.#stop.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves once no background work is left, including work started by work that finished meanwhile. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Cancels waits and in-flight requests, then lets everything unwind. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.idle();
  }
}

export interface DelivererOptions {
  /** Waits before each retry, ms; a delivery is tried `retryDelaysMs.length + 1` times at most. */
  retryDelaysMs: readonly number[];
  /** How long one attempt may take before it counts as failed, ms. */
  timeoutMs: number;
  /**
   * At most this many requests in flight per endpoint URL; further attempts wait in order for a free slot. Real
   * Stripe sends many at once and Netlify runs each invocation in isolation; `netlify dev` starts a worker thread per
   * invocation on one machine, so a bounded number keeps a large redelivery drill answerable on a laptop.
   */
  maxInFlight: number;
  /** Told about every attempt as it is logged (e.g. to print progress). */
  onDelivery?: (delivery: Delivery) => void;
}

/** Queues, signs, sends and retries event deliveries, keeping a log of every attempt. */
export class WebhookDeliverer {
  readonly #tasks: BackgroundTasks;
  readonly #options: DelivererOptions;
  readonly #log: Delivery[] = [];
  /** One queue per endpoint URL. */
  readonly #lanes = new Map<string, LimitFunction>();
  #peakInFlight = 0;

  constructor(tasks: BackgroundTasks, options: DelivererOptions) {
    this.#tasks = tasks;
    this.#options = options;
  }

  /** The most requests in flight to one endpoint at a time. */
  get maxInFlight(): number {
    return this.#options.maxInFlight;
  }

  /**
   * Requests being sent now and attempts waiting for a free slot, over all endpoints, and the most requests that
   * were ever in flight to one endpoint at the same moment.
   */
  queue(): { inFlight: number; queued: number; peakInFlight: number } {
    let inFlight = 0;
    let queued = 0;
    for (const lane of this.#lanes.values()) {
      inFlight += lane.activeCount;
      queued += lane.pendingCount;
    }
    return { inFlight, queued, peakInFlight: this.#peakInFlight };
  }

  /** Every attempt so far, oldest first. */
  log(): Delivery[] {
    return this.#log.map((delivery) => ({ ...delivery }));
  }

  /**
   * Starts delivering `event` to each target (in the background) and returns when all of them have
   * finished; `onSuccess` runs once per target that accepts it.
   */
  deliver(
    event: EventObject,
    targets: readonly WebhookTarget[],
    onSuccess: () => void = () => {},
  ): Promise<void> {
    const jobs = targets.map((target) =>
      this.#tasks.run(async () => {
        if (await this.#deliverWithRetries(event, target)) onSuccess();
      }),
    );
    return Promise.all(jobs).then(() => undefined);
  }

  /** Delivers to `target` until it answers 2xx or the retries run out; true on success. */
  async #deliverWithRetries(event: EventObject, target: WebhookTarget): Promise<boolean> {
    for (let attempt = 1; !this.#tasks.closed; attempt += 1) {
      const outcome = await this.#queued(target.url, () => this.#attempt(event, target));
      if (this.#tasks.closed) return false;
      const delay = outcome.error === undefined ? undefined : this.#options.retryDelaysMs[attempt - 1];
      const delivery: Delivery = {
        eventId: event.id,
        type: event.type,
        attempt,
        at: new Date().toISOString(),
        url: target.url,
        ...outcome,
        retryInMs: delay ?? null,
      };
      this.#log.push(delivery);
      this.#options.onDelivery?.({ ...delivery });
      if (outcome.error === undefined) return true;
      if (delay === undefined || !(await this.#tasks.wait(delay))) return false;
    }
    return false;
  }

  /** Runs `send` once a slot to `url` is free; reports how long it waited. */
  async #queued<T extends object>(url: string, send: () => Promise<T>): Promise<T & { queuedMs: number }> {
    let lane = this.#lanes.get(url);
    if (!lane) {
      lane = pLimit(this.#options.maxInFlight);
      this.#lanes.set(url, lane);
    }
    const queuedAt = performance.now();
    const slots = lane;
    return lane(async () => {
      this.#peakInFlight = Math.max(this.#peakInFlight, slots.activeCount);
      const queuedMs = Math.round(performance.now() - queuedAt);
      return { ...(await send()), queuedMs };
    });
  }

  async #attempt(
    event: EventObject,
    target: WebhookTarget,
  ): Promise<{ status: number | null; error?: string }> {
    if (this.#tasks.closed) return { status: null, error: "emulator closed" };
    // Stripe sends pretty-printed JSON; receivers must verify the raw bytes, not a re-serialisation.
    const payload = JSON.stringify(
      { ...event, api_version: target.apiVersion ?? event.api_version },
      null,
      2,
    );
    try {
      const response = await fetch(target.url, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
          "stripe-signature": signatureHeader(payload, target.secret, Math.floor(Date.now() / 1000)),
          "cache-control": "no-cache",
          accept: "*/*; q=0.5, application/xml",
        },
        body: payload,
        // Stripe does not follow redirects: a 3xx is a failed delivery.
        redirect: "manual",
        signal: AbortSignal.any([this.#tasks.signal, AbortSignal.timeout(this.#options.timeoutMs)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return { status: response.status };
      return { status: response.status, error: `HTTP ${response.status}` };
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      return { status: null, error: `${error instanceof Error ? error.message : String(error)}${cause}` };
    }
  }
}
