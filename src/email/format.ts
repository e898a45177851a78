/** Locale-aware formats of the emails: money, dates and postal addresses. Pure. */
import { formatAddress } from "localized-address-format";
import { formatMoney } from "../lib/money.ts";
import type { ShippingAddress } from "../order/model.ts";

/** The formats of one locale. */
export interface Formats {
  money: (amountMinor: number) => string;
  date: (ms: number) => string;
  /** The address as printed on a parcel in its country, the country name last (in the shop's language). */
  address: (address: ShippingAddress) => string[];
}

/** Formats for `locale` and the order's `currency`. Dates are in UTC, so every path renders the same text. */
export function formatsFor(locale: string, currency: string): Formats {
  const dates = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" });
  const countries = new Intl.DisplayNames([locale], { type: "region" });
  return {
    money: (amount) => formatMoney(amount, currency, locale),
    date: (ms) => dates.format(new Date(ms)),
    address: (address) => {
      const lines = formatAddress({
        ...(address.country && { postalCountry: address.country }),
        ...(address.state && { administrativeArea: address.state }),
        ...(address.city && { locality: address.city }),
        ...(address.postalCode && { postalCode: address.postalCode }),
        ...(address.name && { name: address.name }),
        addressLines: [address.line1, address.line2].filter((line): line is string => Boolean(line)),
      }).filter((line) => line.trim() !== "");
      const country = address.country && (countries.of(address.country) ?? address.country);
      return country ? [...lines, country] : lines;
    },
  };
}
