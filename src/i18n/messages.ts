/**
 * Every word the shop's emails and pages say, in each language it speaks: one JSON catalog per language
 * (`messages/<language>.json`, sections `email`, `site`, `download`), with `{name}` placeholders filled in here.
 * A translator edits only those files; a test keeps every catalog in step with the English one.
 */
import de from "./messages/de.json" with { type: "json" };
import en from "./messages/en.json" with { type: "json" };
import es from "./messages/es.json" with { type: "json" };
import fr from "./messages/fr.json" with { type: "json" };
import { type Language, languageOf } from "./languages.ts";

/** A message: a text, or a text per plural category (`one`, `other`...) chosen by `{count}`. */
type Message = string | Readonly<Record<string, string>>;
type Catalog = Record<string, Record<string, Message>>;

/** The catalogs; English is the reference every other language must match. */
export const CATALOGS: Record<Language, Catalog> = { en, de, fr, es };

/** The sections of a catalog. */
export type Section = keyof typeof en;
/** The messages of a section. */
export type Key<S extends Section> = keyof (typeof en)[S] & string;
/** Values for the placeholders; `count` also picks the plural form. */
export type Params = Record<string, string | number>;

/** The texts of one section in one language: `t("receiptSubject", { shop, number, total })`. */
export type Translator<S extends Section> = (key: Key<S>, params?: Params) => string;

/** The translator of `section` for a BCP 47 locale; English words for languages without texts. */
export function translator<S extends Section>(locale: string, section: S): Translator<S> {
  const language = languageOf(locale);
  const messages = CATALOGS[language][section] as Record<string, Message>;
  const plurals = pluralRules(language);
  return (key, params = {}) => {
    const message = messages[key];
    if (typeof message === "string") return fill(message, params);
    if (message === undefined) throw new Error(`i18n: no message ${section}.${key}`);
    const form = message[plurals.select(Number(params.count ?? 0))] ?? message.other ?? "";
    return fill(form, params);
  };
}

const rules = new Map<Language, Intl.PluralRules>();
/** One PluralRules per language, built on first use (every email renders through a translator). */
function pluralRules(language: Language): Intl.PluralRules {
  let found = rules.get(language);
  if (!found) rules.set(language, (found = new Intl.PluralRules(language)));
  return found;
}

/** Replaces each `{name}` with its value; a placeholder without a value is a bug, not a blank. */
function fill(template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`i18n: no value for {${name}}`);
    return String(value);
  });
}
