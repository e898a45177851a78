/** Money formatting from Stripe's minor units. */

// Stripe's own exponent table (docs.stripe.com/currencies), which is not ISO 4217's: e.g. Stripe treats UGX as
// zero-decimal, while ISK, HUF and TWD are sent in two-decimal minor units even though they display without cents.
const ZERO_DECIMAL = new Set("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split(" "));
const THREE_DECIMAL = new Set("bhd jod kwd omr tnd".split(" "));

/** An amount of money as Stripe states it. */
export interface Money {
  /** Integer amount in minor units (cents for USD, yen for JPY, fils for KWD). */
  amount: number;
  /** ISO 4217 code, lowercase as Stripe sends it. */
  currency: string;
}

/** Number of decimal places in Stripe's minor units for `currency` (0, 2 or 3). */
export function stripeExponent(currency: string): number {
  const code = currency.toLowerCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** True when Intl can format `currency` (any case). */
export function isKnownCurrency(currency: string): boolean {
  return Intl.supportedValuesOf("currency").includes(currency.toUpperCase());
}

const formatters = new Map<string, Intl.NumberFormat>();

/**
 * Formats an amount given in Stripe minor units, e.g. (1500, "usd") -> "$15.00", (1500, "jpy") -> "¥1,500",
 * (1500, "kwd") -> "KWD 1.500". Intl picks the displayed decimals for the currency.
 */
export function formatMoney(amountMinor: number, currency: string, locale = "en-US"): string {
  const code = currency.toUpperCase();
  const key = `${locale}:${code}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, { style: "currency", currency: code });
    formatters.set(key, formatter);
  }
  return formatter.format(amountMinor / 10 ** stripeExponent(code));
}
