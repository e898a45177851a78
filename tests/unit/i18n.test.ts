/** The message catalogs: every language says everything English says, with the same placeholders. */
import { describe, expect, it } from "vitest";
import { CATALOGS, translator } from "../../src/i18n/messages.ts";

const placeholders = (message: unknown): string[] =>
  [...new Set([...JSON.stringify(message).matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string))].sort();

const languages = Object.keys(CATALOGS) as (keyof typeof CATALOGS)[];
const english = CATALOGS.en;

describe("the message catalogs", () => {
  it.each(languages.filter((language) => language !== "en"))(
    "%s has every message English has, and no other",
    (language) => {
      const catalog = CATALOGS[language];
      for (const section of Object.keys(english)) {
        expect(Object.keys(catalog[section] ?? {}).sort(), section).toEqual(
          Object.keys(english[section] ?? {}).sort(),
        );
      }
    },
  );

  it.each(languages)("%s fills exactly the placeholders English fills", (language) => {
    for (const [section, messages] of Object.entries(english))
      for (const [key, message] of Object.entries(messages))
        expect(placeholders(CATALOGS[language][section]?.[key]), `${section}.${key}`).toEqual(
          placeholders(message),
        );
  });

  it.each(languages)("%s has a form for every plural category its language uses", (language) => {
    const categories = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
    for (const messages of Object.values(CATALOGS[language]))
      for (const message of Object.values(messages))
        if (typeof message === "object" && !Array.isArray(message))
          for (const category of categories.filter((c) => c === "one" || c === "other"))
            expect(Object.keys(message)).toContain(category);
  });
});

describe("translator", () => {
  it("fills placeholders, picks plural forms, and falls back to English for other languages", () => {
    expect(translator("fr-FR", "download")("left", { count: 1, limit: 5 })).toBe(
      "1 téléchargement restant sur 5",
    );
    expect(translator("fr-FR", "download")("left", { count: 3, limit: 5 })).toBe(
      "3 téléchargements restants sur 5",
    );
    expect(
      translator("en-US", "email")("noticeSubject", { number: "7KQ4-M9PX", total: "$9.00", count: 1 }),
    ).toBe("New order 7KQ4-M9PX: $9.00, 1 item");
    expect(translator("it-IT", "site")("backToShop")).toBe(translator("en-US", "site")("backToShop"));
  });

  it("refuses a message with a placeholder left unfilled, rather than sending a blank", () => {
    expect(() => translator("en-US", "email")("receiptSubject", { shop: "Fern & Fig" })).toThrow(
      "i18n: no value for {number}",
    );
  });
});
