import { describe, expect, it } from "vitest";
import { formatMoney, stripeExponent } from "../../src/lib/money.ts";

describe("formatMoney", () => {
  it.each([
    [1500, "usd", "$15.00"],
    [1500, "USD", "$15.00"],
    [999, "eur", "€9.99"],
    [840, "gbp", "£8.40"],
    [1500, "jpy", "¥1,500"],
    [52000, "krw", "₩52,000"],
    [1500, "kwd", "KWD 1.500"],
    [12345, "bhd", "BHD 12.345"],
    [-250, "usd", "-$2.50"],
    [0, "usd", "$0.00"],
    [123456789, "usd", "$1,234,567.89"],
    // Stripe sends ISK in two-decimal minor units, though it displays without decimals.
    [150000, "isk", "ISK 1,500"],
    [150000, "huf", "HUF 1,500"],
    [5, "usd", "$0.05"],
  ])("%i %s -> %s", (amount, currency, expected) => {
    expect(formatMoney(amount, currency).replace(/\u00a0/g, " ")).toBe(expected);
  });

  it("follows Stripe's exponent table rather than ISO 4217", () => {
    expect(stripeExponent("ugx")).toBe(0);
    expect(stripeExponent("jpy")).toBe(0);
    expect(stripeExponent("tnd")).toBe(3);
    expect(stripeExponent("huf")).toBe(2);
  });

  it("formats for another locale", () => {
    expect(formatMoney(1999, "eur", "de-DE").replace(/\u00a0/g, " ")).toBe("19,99 €");
  });
});
