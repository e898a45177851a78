// Auto-escaping HTML templates and money formatting for the emulator's pages.

/** Markup that is already safe; only `html` produces it, so interpolated strings are always escaped. */
export class SafeHtml {
  readonly value: string;

  constructor(value: string) {
    this.value = value;
  }

  toString(): string {
    return this.value;
  }
}

/** Values a template accepts: text (escaped), safe markup, lists of either, and nothing (false/null/undefined). */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false || value === true) return "";
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<p>${name}</p>\`` escapes `name` unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? "");
  });
  return new SafeHtml(out);
}

// Stripe's zero-decimal currencies: amounts are whole units (e.g. 500 JPY is ¥500, not ¥5.00).
const ZERO_DECIMAL = new Set([
  "bif",
  "clp",
  "djf",
  "gnf",
  "jpy",
  "kmf",
  "krw",
  "mga",
  "pyg",
  "rwf",
  "ugx",
  "vnd",
  "vuv",
  "xaf",
  "xof",
  "xpf",
]);
// Stripe's three-decimal currencies (minor unit = 1/1000).
const THREE_DECIMAL = new Set(["bhd", "jod", "kwd", "omr", "tnd"]);

/** How many minor units make one major unit in Stripe's representation of `currency`, as a power of ten. */
export function minorUnitExponent(currency: string): number {
  const code = currency.toLowerCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  // Everything else, including ISK, HUF and TWD which Stripe represents with two decimals.
  return 2;
}

/** Formats an amount in minor units, e.g. (1500, "usd") -> "$15.00", (500, "jpy") -> "¥500". */
export function formatMoney(amountMinor: number, currency: string, locale = "en-US"): string {
  const major = amountMinor / 10 ** minorUnitExponent(currency);
  return new Intl.NumberFormat(locale, { style: "currency", currency: currency.toUpperCase() }).format(major);
}
