/** Shop and thank-you pages: escaping is automatic, links and "Unavailable" come from the link file. */
import { describe, expect, it } from "vitest";
import { type AssetPaths, renderShopPage, renderThanksPage } from "../../src/site/render.ts";
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
