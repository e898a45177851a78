/** Shop and thank-you pages: escaping is automatic, links and "Unavailable" come from the link file, words from the catalog's language. */
import { describe, expect, it } from "vitest";
import {
  type AssetPaths,
  renderShopPage,
  renderThanksPage,
  THANKS_SCRIPT_KEYS,
} from "../../src/site/render.ts";
import { languageOf } from "../../src/i18n/languages.ts";
import { CATALOGS, translator } from "../../src/i18n/messages.ts";
import { parseCatalog } from "../../src/shop/catalog.ts";
import { escapeHtml, html, SafeHtml } from "../../src/lib/html.ts";

const assets: AssetPaths = {
  stylesheet: "/assets/styles.1.css",
  shopScript: "/assets/shop.1.js",
  thanksScript: "/assets/thanks.1.js",
  favicon: "/favicon.svg",
};

const catalog = parseCatalog({
  shop: { name: 'Bits & "Bobs"', currency: "usd", supportEmail: "help@bits.example" },
  products: [
    {
      id: "evil",
      name: "<script>alert(1)</script>",
      description: "Fish & chips <b>bold</b>",
      price: { amount: 1234 },
      images: [{ src: "images/a.png", alt: 'A "quoted" <img>' }],
      files: ["evil.zip"],
    },
    {
      id: "mug",
      name: "Mug",
      description: "A mug.",
      price: { amount: 500, currency: "jpy" },
      paymentLink: { collectShipping: { allowedCountries: ["US", "GB"] } },
    },
  ],
});

describe("html", () => {
  it("escapes interpolated text and attribute values, but not SafeHtml", () => {
    const name = `"><script>x</script>'`;
    expect(html`<a title="${name}">${name}</a>${new SafeHtml("<br>")}`.value).toBe(
      '<a title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;&#39;">&quot;&gt;&lt;script&gt;x&lt;/script&gt;&#39;</a><br>',
    );
  });

  it("joins arrays and drops null, undefined and false", () => {
    expect(
      html`<ul>${["a&", "b"].map((x) => html`<li>${x}</li>`)}${null}${undefined}${false}</ul>`.value,
    ).toBe("<ul><li>a&amp;</li><li>b</li></ul>");
    expect(escapeHtml("0")).toBe("0");
  });
});

describe("renderShopPage", () => {
  const page = renderShopPage(catalog, { evil: "https://buy.stripe.com/test_evil?x=1&y=2" }, assets);

  it("escapes everything that comes from the catalog", () => {
    expect(page).not.toContain("<script>alert(1)</script>");
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page).toContain("Fish &amp; chips &lt;b&gt;bold&lt;/b&gt;");
    expect(page).toContain('alt="A &quot;quoted&quot; &lt;img&gt;"');
    expect(page).toContain("<title>Bits &amp; &quot;Bobs&quot;</title>");
  });

  it("links Buy to the Payment Link and shows the price in the product's currency", () => {
    expect(page).toContain(
      '<a class="button" href="https://buy.stripe.com/test_evil?x=1&amp;y=2" data-payment-link>',
    );
    expect(page).toContain("$12.34");
    expect(page).toContain("¥500");
  });

  it('shows "Unavailable" instead of a link for a product without one', () => {
    const mugCard = page.slice(page.indexOf('id="product-mug"'));
    expect(mugCard).toContain('<p class="unavailable">Unavailable</p>');
    expect(mugCard).not.toContain("data-payment-link");
  });

  it("asks for the stock only when a product has one, and carries its Sold out hidden beside Buy", () => {
    expect(page).not.toContain("data-stock-url");
    expect(page).not.toContain("data-product-id");
    const stocked = parseCatalog({
      shop: { name: "Laden", currency: "eur", supportEmail: "hilfe@laden.example", locale: "de-DE" },
      products: [
        { id: "tasse", name: "Tasse", description: "Emaille.", price: { amount: 2400 }, stock: 50 },
        { id: "karte", name: "Karte", description: "Papier.", price: { amount: 300 }, stock: 5 },
        { id: "heft", name: "Heft", description: "Papier.", price: { amount: 900 } },
      ],
    });
    const links = {
      tasse: "https://buy.stripe.com/t",
      karte: "https://buy.stripe.com/k",
      heft: "https://buy.stripe.com/h",
    };
    const shop = renderShopPage(stocked, links, assets, new Set(["karte"]));
    const cardOf = (id: string) =>
      shop.slice(shop.indexOf(`id="product-${id}"`) - 120).split("</article>")[0] ?? "";
    expect(shop).toContain('<ul class="products" data-stock-url="/api/stock">');
    expect(cardOf("tasse")).toContain('data-product-id="tasse"');
    expect(cardOf("tasse")).toContain('href="https://buy.stripe.com/t" data-payment-link>');
    expect(cardOf("tasse")).toContain('<p class="sold-out" hidden data-sold-out>Ausverkauft</p>');
    // Sold when the site was built: "Sold out" in the shop's language, and no Buy at all.
    expect(cardOf("karte")).toContain('<p class="sold-out">Ausverkauft</p>');
    expect(cardOf("karte")).not.toContain("data-payment-link");
    expect(cardOf("heft")).not.toContain("sold-out");
  });

  it("says how the product is delivered", () => {
    expect(page).toContain("Digital download, emailed to you right after payment.");
    expect(page).toContain("Ships to United States and United Kingdom.");
  });

  it("has the landmarks and skip link, and loads only its own assets", () => {
    expect(page).toMatch(/^<!doctype html>\n<html lang="en-US">/);
    for (const landmark of ["<header", '<main id="main">', "<footer"]) expect(page).toContain(landmark);
    expect(page).toContain('<a class="skip-link" href="#main">');
    const urls = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? "");
    const external = urls.filter((url) => /^(https?:)?\/\//.test(url));
    expect(external).toEqual(["https://buy.stripe.com/test_evil?x=1&amp;y=2"]);
  });
});

describe("renderThanksPage", () => {
  const page = renderThanksPage(catalog, assets);

  it("starts with a hidden status region for the script and a noscript explanation", () => {
    expect(page).toContain('<div id="order-status" role="status" hidden>');
    expect(page).toMatch(/<noscript>[\s\S]*Turn on JavaScript[\s\S]*help@bits\.example[\s\S]*<\/noscript>/);
    expect(page).toContain('<script src="/assets/thanks.1.js" defer></script>');
    expect(page).toContain("<title>Your order · Bits &amp; &quot;Bobs&quot;</title>");
  });
});

describe("the storefront in the catalog's language", () => {
  const localized = (locale: string) =>
    parseCatalog({
      shop: { name: "Laden", currency: "eur", supportEmail: "hilfe@laden.example", locale },
      products: [
        {
          id: "karten",
          name: "Karten",
          description: "PDF.",
          price: { amount: 900 },
          files: ["karten.pdf"],
        },
        {
          id: "tasse",
          name: "Tasse",
          description: "Emaille.",
          price: { amount: 2400 },
          paymentLink: { collectShipping: { allowedCountries: ["DE", "AT"] } },
        },
        { id: "heft", name: "Heft", description: "Papier.", price: { amount: 300 } },
      ],
    });
  const links = { karten: "https://buy.stripe.com/k", tasse: "https://buy.stripe.com/t" };
  /** The words English says on these pages: none of them may show through on another language's page. */
  const ENGLISH = [
    "Skip to main content",
    "Pick something you like",
    ">Buy<",
    "Price:",
    "Unavailable",
    "Digital download",
    "Ships to",
    "Questions about an order?",
    "Find your order",
    "Payments are processed securely",
    "Your order",
    "Thank you for your order",
    "Back to the shop",
  ];

  /** The words the thank-you page hands its script, parsed as the script parses them. */
  function scriptTexts(page: string): Record<string, string> {
    const block = page.match(/<script type="application\/json" id="thanks-texts">([^]*?)<\/script>/);
    expect(block, "the thank-you page's JSON block").not.toBeNull();
    return JSON.parse(block?.[1] ?? "null") as Record<string, string>;
  }

  it("speaks German on a de-DE shop: lang, every word, the footer's find-my-order link", () => {
    const shop = renderShopPage(localized("de-DE"), links, assets);
    expect(shop).toMatch(/^<!doctype html>\n<html lang="de-DE">/);
    expect(shop).toContain('<a class="skip-link" href="#main">Zum Inhalt springen</a>');
    expect(shop).toContain(
      "<p>Suchen Sie sich etwas aus und bezahlen Sie sicher über Stripe. Die Quittung kommt per E-Mail.</p>",
    );
    expect(shop).toContain(
      '<a class="button" href="https://buy.stripe.com/k" data-payment-link>Kaufen<span class="visually-hidden"> Karten für 9,00\u00a0€</span></a>',
    );
    expect(shop).toContain('<span class="visually-hidden">Preis: </span>9,00\u00a0€');
    expect(shop).toContain('<p class="unavailable">Nicht erhältlich</p>');
    expect(shop).toContain("Digitaler Download, direkt nach der Zahlung per E-Mail.");
    expect(shop).toContain("Versand in folgende Länder: Deutschland und Österreich.");
    expect(shop).toContain('<p><a href="/orders">Quittung verloren? Bestellung finden</a></p>');
    expect(shop).toContain("Fragen zu einer Bestellung?");
    for (const english of ENGLISH) expect(shop).not.toContain(english);

    const thanks = renderThanksPage(localized("de-DE"), assets);
    expect(thanks).toMatch(/^<!doctype html>\n<html lang="de-DE">/);
    expect(thanks).toContain("<title>Ihre Bestellung · Laden</title>");
    expect(thanks).toContain("<h1>Vielen Dank für Ihre Bestellung</h1>");
    // In the page's body and in its footer, as on every page.
    expect(thanks.match(/<a href="\/orders">Quittung verloren\? Bestellung finden<\/a>/g)).toHaveLength(2);
    for (const english of ENGLISH) expect(thanks).not.toContain(english);
    expect(scriptTexts(thanks)).toMatchObject({
      paidHeading: "Vielen Dank, Ihre Bestellung ist bestätigt",
      orderNumber: "Bestellnummer: {number}",
      pending: "Sie haben eine Zahlungsart gewählt, die etwas Zeit braucht, zum Beispiel eine Lastschrift.",
      item: "Artikel",
    });
  });

  it.each(["en-US", "de-DE", "fr-FR", "es-ES", "de-AT", "it-IT"])(
    "%s: lang follows the locale, and every word comes from that language's catalog",
    (locale) => {
      const catalog = localized(locale);
      const t = translator(locale, "site");
      const shop = renderShopPage(catalog, links, assets);
      const thanks = renderThanksPage(catalog, assets);
      for (const page of [shop, thanks]) {
        expect(page).toMatch(new RegExp(`^<!doctype html>\\n<html lang="${locale}">`));
        for (const key of ["skipLink", "questions", "securePayments"] as const)
          expect(page).toContain(escapeHtml(t(key)));
        expect(page).toContain(`<a href="/orders">${escapeHtml(t("findOrder"))}</a>`);
      }
      for (const key of ["intro", "buy", "unavailable", "digitalDownload"] as const)
        expect(shop).toContain(escapeHtml(t(key)));
      for (const key of ["noscriptHeading", "noscript", "backToShop", "thanksTitle"] as const)
        expect(thanks).toContain(escapeHtml(t(key)));
      // The script gets exactly its words, unfilled, in this language (English for a language without texts).
      const texts = scriptTexts(thanks);
      expect(Object.keys(texts)).toEqual([...THANKS_SCRIPT_KEYS]);
      const language = languageOf(locale);
      for (const key of THANKS_SCRIPT_KEYS) expect(texts[key]).toBe(CATALOGS[language].site?.[key]);
      if (language !== "en") for (const english of ENGLISH) expect(shop + thanks).not.toContain(english);
    },
  );

  it("hands the script its words as data that cannot end the block or open markup", () => {
    const thanks = renderThanksPage(localized("fr-FR"), assets);
    const block = thanks.slice(thanks.indexOf('id="thanks-texts">') + 18, thanks.lastIndexOf("</script>"));
    expect(block).not.toMatch(/[<>&]/);
    // French spacing survives as it is written in the catalog.
    expect(scriptTexts(thanks).orderNumber).toBe("Numéro de commande\u00a0: {number}");
  });
});
