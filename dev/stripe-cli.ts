/** The Stripe CLI commands that drive a running local stack: `stripe listen` and `stripe trigger`, no account. */

/** What the commands need to know about the stack. */
export interface StripeCliTarget {
  /** The Stripe emulator, e.g. http://127.0.0.1:12111. */
  stripeUrl: string;
  /** A test-mode key the emulator accepts (it is not a secret: the emulator holds no account). */
  apiKey: string;
  /** The shop's webhook URL the CLI forwards to, e.g. http://localhost:8888/api/stripe-webhook. */
  webhookUrl: string;
  /** Event types to forward (the CLI requires a list). */
  events: readonly string[];
}

/** Arguments after `stripe` (none contain spaces, so joining them with spaces gives a command to paste). */
export interface StripeCliCommands {
  listen: string[];
  trigger: (event: string) => string[];
}

/** `--api-base` and `--api-key` point the CLI at the emulator; `--forward-to` names the shop's function. */
export function stripeCliCommands(target: StripeCliTarget): StripeCliCommands {
  const api = ["--api-base", target.stripeUrl, "--api-key", target.apiKey];
  const webhook = new URL(target.webhookUrl);
  return {
    listen: [
      "listen",
      ...api,
      "--events",
      target.events.join(","),
      "--forward-to",
      `${webhook.host}${webhook.pathname}`,
    ],
    trigger: (event) => ["trigger", event, ...api],
  };
}
