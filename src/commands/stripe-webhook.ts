/** `npm run stripe:webhook`: one Stripe webhook endpoint for the site's function, created once, kept in shape. */
import Stripe from "stripe";
import { CliError, defineCommand, EXIT, type Io, stripeTarget } from "./kit.ts";
import { HANDLED_EVENTS, WEBHOOK_PATH } from "../order/events.ts";

type EnabledEvent = Stripe.WebhookEndpointCreateParams.EnabledEvent;

/** What ensureWebhookEndpoint did (or, in a dry run, would do). */
export type EndpointOutcome =
  | { action: "created"; id: string; url: string /** Only present after a real creation. */; secret?: string }
  | { action: "updated"; id: string; url: string; changes: string[] }
  | { action: "unchanged"; id: string; url: string };

/** Options for ensureWebhookEndpoint. */
export interface EnsureOptions {
  events?: readonly string[];
  dryRun?: boolean;
  /** Hears about other endpoints with the same URL, which are left alone. */
  warn?: (message: string) => void;
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((item, index) => item === [...b].sort()[index]);

/**
 * Finds the endpoint for `url` among all endpoints; creates it when missing, otherwise updates its events (and
 * re-enables it) only when they differ. Never creates a second endpoint for the same URL.
 */
export async function ensureWebhookEndpoint(
  stripe: Stripe,
  url: string,
  { events = HANDLED_EVENTS, dryRun = false, warn = () => {} }: EnsureOptions = {},
): Promise<EndpointOutcome> {
  const matches: Stripe.WebhookEndpoint[] = [];
  for await (const endpoint of stripe.webhookEndpoints.list({ limit: 100 })) {
    if (endpoint.url === url) matches.push(endpoint);
  }
  const [existing, ...extra] = matches;
  if (extra.length > 0)
    warn(`other endpoints also use ${url} and were left alone: ${extra.map((e) => e.id).join(", ")}`);

  if (!existing) {
    if (dryRun) return { action: "created", id: "(new)", url };
    const created = await stripe.webhookEndpoints.create({
      url,
      enabled_events: [...events] as EnabledEvent[],
      description: "Linkshop order fulfilment",
      // Events arrive in the API version this SDK types, whatever the account's default is.
      api_version: Stripe.API_VERSION as Stripe.WebhookEndpointCreateParams.ApiVersion,
    });
    return { action: "created", id: created.id, url, ...(created.secret && { secret: created.secret }) };
  }

  const changes: string[] = [];
  const params: Stripe.WebhookEndpointUpdateParams = {};
  if (!sameSet(existing.enabled_events, events)) {
    params.enabled_events = [...events] as EnabledEvent[];
    changes.push(`events (${existing.enabled_events.join(", ") || "none"} -> ${events.join(", ")})`);
  }
  if (existing.status === "disabled") {
    params.disabled = false;
    changes.push("re-enabled");
  }
  if (changes.length === 0) return { action: "unchanged", id: existing.id, url };
  if (!dryRun) await stripe.webhookEndpoints.update(existing.id, params);
  return { action: "updated", id: existing.id, url, changes };
}

const USAGE = `Usage: npm run stripe:webhook -- [options]

Creates or updates the Stripe webhook endpoint <site URL>${WEBHOOK_PATH} for:
  ${HANDLED_EVENTS.join("\n  ")}

Options:
  --site-url <url>   public site URL (default: SITE_URL, URL, http://localhost:8888)
  --dry-run          say what would change; change nothing
  --live             with a live key (sk_live_/rk_live_): go ahead without asking (on a terminal you are asked
                     after seeing the change; without one, a live key needs --live)
  -h, --help         show this help

Environment: STRIPE_SECRET_KEY (required), STRIPE_API_BASE (optional).`;

/** `npm run stripe:webhook`. */
export const stripeWebhookCommand = defineCommand({
  usage: USAGE,
  options: {
    "site-url": { type: "string" },
    "dry-run": { type: "boolean", default: false },
    live: { type: "boolean", default: false },
  },
  async run(context) {
    const { values, io } = context;
    const dryRun = values["dry-run"];
    const target = stripeTarget(context, {
      siteUrl: values["site-url"],
      live: values.live,
      dryRun,
      effect: "changes where Stripe sends the shop's orders",
      action: "change the webhook endpoint",
    });
    const url = `${target.siteUrl}${WEBHOOK_PATH}`;
    // Stripe itself cannot reach a development machine; only a local emulator (STRIPE_API_BASE) can.
    if (!target.access.apiBase && /^https?:\/\/(localhost|127\.|\[::1\])/.test(url)) {
      throw new CliError(
        `Stripe cannot deliver events to ${url}. Pass --site-url with your public site (or set URL). ` +
          `To receive test events locally, run: stripe listen --events ${HANDLED_EVENTS.join(",")} --forward-to ${url}`,
        EXIT.usage,
      );
    }
    const { consent, stripe: client } = target;
    const warn = (message: string) => io.err(`warning: ${message}`);
    if (consent.pending) {
      const preview = await ensureWebhookEndpoint(client, url, { dryRun: true });
      if (preview.action !== "unchanged") {
        await consent.confirm({
          summary: `${preview.action === "created" ? "Create" : "Update"} the webhook endpoint for ${url}:`,
          details: preview.action === "created" ? [...HANDLED_EVENTS] : preview.changes,
        });
      }
    }
    const outcome = await ensureWebhookEndpoint(client, url, { dryRun, warn });
    report(outcome, url, dryRun, io);
    return EXIT.ok;
  },
});

function report(outcome: EndpointOutcome, url: string, dryRun: boolean, io: Io): void {
  const prefix = dryRun ? "Dry run: would have " : "";
  switch (outcome.action) {
    case "created":
      io.out(`${prefix}${prefix ? "created" : "Created"} webhook endpoint ${outcome.id} for ${url}`);
      io.out(`Events: ${HANDLED_EVENTS.join(", ")}`);
      if (outcome.secret) {
        // Stripe reveals the signing secret only in this response: print it once, with the next step.
        io.out(
          "Signing secret (Stripe shows it only now; store it as the function's STRIPE_WEBHOOK_SECRET):",
        );
        io.out(`  ${outcome.secret}`);
        io.out(`Next: netlify env:set STRIPE_WEBHOOK_SECRET ${outcome.secret}`);
      }
      break;
    case "updated":
      io.out(
        `${prefix}${prefix ? "updated" : "Updated"} webhook endpoint ${outcome.id} for ${url}: ${outcome.changes.join("; ")}`,
      );
      io.out(
        "The signing secret is unchanged (Stripe reveals it only when an endpoint is created): keep your " +
          "STRIPE_WEBHOOK_SECRET. To rotate it, roll the secret in the Stripe Dashboard.",
      );
      break;
    case "unchanged":
      io.out(`Webhook endpoint ${outcome.id} for ${url} is up to date; the signing secret is unchanged.`);
      break;
  }
}
