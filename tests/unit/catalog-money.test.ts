/** Shop prices: minor units to text, with Stripe's zero- and three-decimal currencies. */
import { describe, expect, it } from "vitest";
import { currencyExponent, formatMoney } from "../../src/catalog/money.ts";

describe("formatMoney", () => {
  it.each([
    [{ amount: 1800, currency: "usd" }, "$18.00"],
    [{ amount: 5, currency: "usd" }, "$0.05"],
    [{ amount: 1800, currency: "jpy" }, "¥1,800"],
    [{ amount: 1500, currency: "kwd" }, "KWD 1.500"],
    [{ amount: 123456, currency: "eur" }, "€1,234.56"],
    // Stripe counts HUF in hundredths although people see whole forints.
    [{ amount: 150000, currency: "huf" }, "HUF 1,500"],
  ])("formats %o as %s", (money, text) => {
    expect(formatMoney(money).replace(/\u00a0/g, " ")).toBe(text);
  });

  it("follows the locale", () => {
    expect(formatMoney({ amount: 123456, currency: "eur" }, "de-DE").replace(/\u00a0/g, " ")).toBe(
      "1.234,56 €",
    );
  });
});

describe("currencyExponent", () => {
  it("knows Stripe's zero- and three-decimal currencies, case-insensitively", () => {
    expect([
      currencyExponent("JPY"),
      currencyExponent("krw"),
      currencyExponent("kwd"),
      currencyExponent("gbp"),
    ]).toEqual([0, 0, 3, 2]);
  });
});
