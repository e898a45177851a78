/** What a Stripe secret key says about itself: its shape, and whether it moves real money. */

/** A secret or restricted key of either mode: `sk_test_…`, `sk_live_…`, `rk_test_…`, `rk_live_…`. */
export const STRIPE_KEY = /^(sk|rk)_(test|live)_\S+$/;

/** What a config error says when a key does not have that shape. */
export const STRIPE_KEY_HINT = "must start with sk_test_, sk_live_, rk_test_ or rk_live_";

/** Whether a key (untrimmed input welcome) is a live-mode key: it charges real cards and emails real customers. */
export function isLiveKey(key: string | undefined): boolean {
  return /^(sk|rk)_live_/.test(key?.trim() ?? "");
}
