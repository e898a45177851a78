/** The languages the shop's pages and emails speak, chosen by the catalog's `locale`. */

/** The languages with a full set of texts; any other locale falls back to English words with its own formats. */
export type Language = "en" | "de" | "fr" | "es";

/** The language of a BCP 47 locale that has texts, English otherwise: `de-AT` -> `de`, `it-IT` -> `en`. */
export function languageOf(locale: string): Language {
  const language = locale.split("-")[0]?.toLowerCase();
  return language === "de" || language === "fr" || language === "es" ? language : "en";
}
