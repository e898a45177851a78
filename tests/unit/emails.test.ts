/* eslint no-irregular-whitespace: ["error", { "skipTemplates": true }] -- the snapshots hold the no-break spaces Intl puts in money and French punctuation */
import { describe, expect, it } from "vitest";
import {
  dashboardUrl,
  renderFailureAlert,
  renderMerchantNotice,
  renderPaymentFailed,
  renderReceipt,
  type ReceiptDownloads,
} from "../../src/email/templates.ts";
import type { Order } from "../../src/order/model.ts";
import { orderNumber } from "../../src/order/number.ts";
import { testShop } from "../support/fakes.ts";

const shop = testShop({
  name: "Fern & Fig",
  supportEmail: "help@fernfig.example",
  siteUrl: "https://shop.example",
  productImages: { "ceramic-mug": { src: "images/mug.png", alt: "A blue ceramic mug" } },
});

// 2026-03-14 09:26:53 UTC
const CREATED = 1773480413000;

/** The guide's download link, as fulfilment signs it (the token is opaque to the receipt). */
const guideLinks: ReceiptDownloads = {
  links: [
    { name: "field-guide.pdf", itemName: "Field guide (PDF)", url: "https://shop.example/download/t0k3n" },
  ],
  expiresAt: CREATED / 1000 + 30 * 86_400,
  limit: 5,
};

const order: Order = {
  sessionId: "cs_test_a1",
  orderNumber: orderNumber("cs_test_a1"),
  createdAt: CREATED,
  currency: "usd",
  customerEmail: "jenny@example.com",
  customerName: "Jenny Rosen",
  items: [
    {
      name: "Ceramic mug",
      quantity: 2,
      unitAmount: 1500,
      amount: 3000,
      productId: "ceramic-mug",
    },
    {
      name: "Field guide (PDF)",
      quantity: 1,
      unitAmount: 900,
      amount: 900,
      productId: undefined,
    },
  ],
  subtotal: 3900,
  discount: 500,
  shipping: 490,
  tax: 120,
  taxIncluded: false,
  total: 4010,
  shippingAddress: {
    name: "Jenny Rosen",
    line1: "1200 Pearl St",
    line2: undefined,
    city: "Boulder",
    state: "CO",
    postalCode: "80302",
    country: "US",
  },
  livemode: false,
};

/** A German shop's order in euros, tax included in the prices, shipped within Germany. */
const euroOrder: Order = {
  ...order,
  sessionId: "cs_test_b2",
  orderNumber: orderNumber("cs_test_b2"),
  currency: "eur",
  items: [
    {
      name: "Ceramic mug",
      quantity: 2,
      unitAmount: 1500,
      amount: 3000,
      productId: "ceramic-mug",
    },
  ],
  subtotal: 3000,
  discount: 0,
  shipping: 0,
  tax: 479,
  taxIncluded: true,
  total: 3000,
  shippingAddress: {
    name: "Jana Schmidt",
    line1: "Hauptstraße 5",
    line2: undefined,
    city: "Berlin",
    state: undefined,
    postalCode: "10115",
    country: "DE",
  },
};

describe("renderReceipt", () => {
  it("names the order number in subject and body, with date, items, totals, downloads, address and support", () => {
    const email = renderReceipt(order, shop, guideLinks);
    expect(email.subject).toBe(`Your Fern & Fig order ${order.orderNumber}: $40.10`);
    expect(email.text).toMatchInlineSnapshot(`
      "Fern & Fig

      Thank you for your order
      We have received your payment. Here is your receipt.

      Order number: ENZ2-JTGN
      Order date: March 14, 2026

      2 × Ceramic mug @ $15.00 = $30.00
      1 × Field guide (PDF) @ $9.00 = $9.00

      Subtotal: $39.00
      Discount: -$5.00
      Shipping: $4.90
      Tax: $1.20
      Total: $40.10

      Your downloads:
      - field-guide.pdf (Field guide (PDF)): https://shop.example/download/t0k3n
      Each link opens a download page. The links work until April 13, 2026, for 5 downloads of each file.

      Shipping to:
      Jenny Rosen
      1200 Pearl St
      Boulder, CO 80302
      United States

      Payment reference: cs_test_a1

      --
      Questions about your order? Reply to this email or write to help@fernfig.example.
      Lost this email? Find your order: https://shop.example/orders
      Visit the shop: https://shop.example
      "
    `);
  });

  it("shows the same content in HTML, with pictures that have alt text and sizes, in a 600 px table", () => {
    const { html } = renderReceipt(order, shop, guideLinks);
    expect(html).toContain('<a href="https://shop.example/download/t0k3n"');
    expect(html).toContain("for 5 downloads of each file");
    for (const text of [
      order.orderNumber,
      "March 14, 2026",
      "$15.00",
      "$30.00",
      "-$5.00",
      "$4.90",
      "$1.20",
      "$40.10",
    ]) {
      expect(html).toContain(text);
    }
    expect(html).toContain("1200 Pearl St<br>Boulder, CO 80302<br>United States");
    expect(html).toContain(
      '<img src="https://shop.example/images/mug.png" alt="A blue ceramic mug" width="48" height="48"',
    );
    expect(html).toContain('width="600"');
    expect(html).toContain('<a href="mailto:help@fernfig.example"');
    expect(html).toContain('<a href="https://shop.example"');
    expect(html).toContain("Fern &amp; Fig");
    expect(html).not.toMatch(/<link|<style|class=/);
  });

  it("writes German, with German money, dates and address order, and tax shown as included", () => {
    const email = renderReceipt(euroOrder, { ...shop, locale: "de-DE" });
    expect(email.subject).toBe(`Ihre Bestellung ${euroOrder.orderNumber} bei Fern & Fig: 30,00\u00a0€`);
    expect(email.text).toMatchInlineSnapshot(`
      "Fern & Fig

      Vielen Dank für Ihre Bestellung
      Wir haben Ihre Zahlung erhalten. Hier ist Ihre Quittung.

      Bestellnummer: TM4V-EUWH
      Bestelldatum: 14. März 2026

      2 × Ceramic mug @ 15,00 € = 30,00 €

      Zwischensumme: 30,00 €
      Gesamt: 30,00 €
      Enthaltene Steuer: 4,79 €

      Lieferadresse:
      Jana Schmidt
      Hauptstraße 5
      10115 Berlin
      Deutschland

      Zahlungsreferenz: cs_test_b2

      --
      Fragen zu Ihrer Bestellung? Antworten Sie auf diese E-Mail oder schreiben Sie an help@fernfig.example.
      Diese E-Mail verloren? Bestellung wiederfinden: https://shop.example/orders
      Zum Shop: https://shop.example
      "
    `);
    expect(email.html).toContain('<html lang="de-DE">');
  });

  it("writes French", () => {
    const email = renderReceipt(euroOrder, { ...shop, locale: "fr-FR" });
    expect(email.subject).toBe(`Votre commande ${euroOrder.orderNumber} chez Fern & Fig : 30,00\u00a0€`);
    expect(email.text).toMatchInlineSnapshot(`
      "Fern & Fig

      Merci pour votre commande
      Nous avons bien reçu votre paiement. Voici votre reçu.

      Numéro de commande : TM4V-EUWH
      Date de commande : 14 mars 2026

      2 × Ceramic mug @ 15,00 € = 30,00 €

      Sous-total : 30,00 €
      Total : 30,00 €
      Dont 4,79 € de taxes

      Adresse de livraison :
      Jana Schmidt
      Hauptstraße 5
      10115 Berlin
      Allemagne

      Référence de paiement : cs_test_b2

      --
      Une question sur votre commande ? Répondez à cet e-mail ou écrivez à help@fernfig.example.
      Vous avez perdu cet e-mail ? Retrouvez votre commande : https://shop.example/orders
      Visiter la boutique : https://shop.example
      "
    `);
  });

  it("writes Spanish", () => {
    const email = renderReceipt(euroOrder, { ...shop, locale: "es-ES" });
    expect(email.subject).toBe(`Tu pedido ${euroOrder.orderNumber} en Fern & Fig: 30,00\u00a0€`);
    expect(email.text).toMatchInlineSnapshot(`
      "Fern & Fig

      Gracias por tu pedido
      Hemos recibido tu pago. Aquí tienes tu recibo.

      Número de pedido: TM4V-EUWH
      Fecha del pedido: 14 de marzo de 2026

      2 × Ceramic mug @ 15,00 € = 30,00 €

      Subtotal: 30,00 €
      Total: 30,00 €
      Incluye 4,79 € de impuestos

      Dirección de envío:
      Jana Schmidt
      Hauptstraße 5
      10115 Berlin
      Alemania

      Referencia de pago: cs_test_b2

      --
      ¿Preguntas sobre tu pedido? Responde a este correo o escribe a help@fernfig.example.
      ¿Perdiste este correo? Encuentra tu pedido: https://shop.example/orders
      Visitar la tienda: https://shop.example
      "
    `);
  });

  it("falls back to English words with the locale's own formats", () => {
    const email = renderReceipt(euroOrder, { ...shop, locale: "nl-NL" });
    expect(email.text).toContain("Total: €\u00a030,00");
  });

  it("puts the logo and accent colour in the header when the catalog has them", () => {
    const { html } = renderReceipt(order, {
      ...shop,
      logo: { src: "images/logo.png", alt: "Fern & Fig, home" },
      accentColor: "#2f6f4e",
    });
    expect(html).toContain(
      '<img src="https://shop.example/images/logo.png" alt="Fern &amp; Fig, home" height="40"',
    );
    expect(html).toContain("border-bottom:3px solid #2f6f4e");
  });

  it('links "Lost this email? Find your order" to the find-my-order page, in the shop\'s language', () => {
    const link = (email: { html: string }) =>
      email.html.match(/<a href="([^"]*)"[^>]*>([^<]*Find your order|[^<]*Bestellung wiederfinden)<\/a>/);
    const english = renderReceipt(order, shop, guideLinks);
    expect(link(english)?.slice(1)).toEqual([
      "https://shop.example/orders",
      "Lost this email? Find your order",
    ]);
    const german = renderReceipt(euroOrder, { ...shop, locale: "de-DE" });
    expect(link(german)?.slice(1)).toEqual([
      "https://shop.example/orders",
      "Diese E-Mail verloren? Bestellung wiederfinden",
    ]);
    // A site URL with a path keeps it: the page is under the site, as the receipt's pictures are.
    const nested = renderReceipt(order, { ...shop, siteUrl: "https://example.com/shop" });
    expect(link(nested)?.[1]).toBe("https://example.com/shop/orders");
    expect(nested.text).toContain("Lost this email? Find your order: https://example.com/shop/orders");
  });

  it("leaves pictures and shop links out when the site's URL is unknown", () => {
    const { html, text } = renderReceipt(order, { ...shop, siteUrl: undefined });
    expect(html).not.toContain("<img");
    expect(html).not.toContain("https://shop.example");
    expect(text).toContain("Reply to this email or write to help@fernfig.example.");
    expect(html).not.toContain("Find your order");
    expect(text).not.toContain("Find your order");
  });

  it("escapes markup from Stripe in every field", () => {
    const hostile = '<img src=x onerror="alert(1)">';
    const email = renderReceipt(
      {
        ...order,
        items: [
          {
            name: hostile,
            quantity: 1,
            unitAmount: 100,
            amount: 100,
            productId: undefined,
          },
        ],
        shippingAddress: {
          ...order.shippingAddress!,
          name: "<b>Jenny</b>",
          line1: "<script>alert(2)</script>",
        },
      },
      { ...shop, name: "<Shop>", siteUrl: undefined },
      { ...guideLinks, links: [{ name: "<i>.pdf", itemName: hostile, url: 'https://x.example/"><script>' }] },
    );
    expect(email.html).not.toMatch(/<img|<script|<b>|<Shop>|<i>/);
    expect(email.html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(email.html).toContain('href="https://x.example/&quot;&gt;&lt;script&gt;"');
    expect(email.text).toContain(hostile);
  });

  it("omits discount, shipping and tax rows when they are zero, and formats zero-decimal currencies", () => {
    const yen = renderReceipt(
      {
        ...order,
        currency: "jpy",
        items: [
          {
            name: "Tea",
            quantity: 3,
            unitAmount: 1200,
            amount: 3600,
            productId: undefined,
          },
        ],
        subtotal: 3600,
        discount: 0,
        shipping: 0,
        tax: 0,
        total: 3600,
        shippingAddress: undefined,
      },
      shop,
    );
    expect(yen.text).toContain("3 × Tea @ ¥1,200 = ¥3,600");
    expect(yen.text).toContain("Subtotal: ¥3,600\nTotal: ¥3,600");
    expect(yen.text).not.toMatch(/Shipping|Discount|Tax/);
  });
});

describe("renderMerchantNotice", () => {
  it("marks a test order, names the customer and links the order in the Stripe Dashboard", () => {
    const email = renderMerchantNotice(order, shop);
    expect(email.subject).toBe(`[TEST] New order ${order.orderNumber}: $40.10, 3 items`);
    expect(email.text).toMatchInlineSnapshot(`
      "Fern & Fig

      TEST ORDER: no real payment was made

      New order ENZ2-JTGN
      Order number: ENZ2-JTGN
      Order date: March 14, 2026
      Customer: Jenny Rosen · jenny@example.com

      2 × Ceramic mug @ $15.00 = $30.00
      1 × Field guide (PDF) @ $9.00 = $9.00

      Subtotal: $39.00
      Discount: -$5.00
      Shipping: $4.90
      Tax: $1.20
      Total: $40.10

      Shipping to:
      Jenny Rosen
      1200 Pearl St
      Boulder, CO 80302
      United States

      Open in the Stripe Dashboard: https://dashboard.stripe.com/test/search?query=cs_test_a1
      Checkout Session: cs_test_a1
      "
    `);
    expect(email.html).toContain(`href="https://dashboard.stripe.com/test/search?query=cs_test_a1"`);
  });

  it("links live orders to the live Dashboard, without the test mark", () => {
    const email = renderMerchantNotice({ ...order, livemode: true }, shop);
    expect(email.subject).toBe(`New order ${order.orderNumber}: $40.10, 3 items`);
    expect(email.text).not.toContain("TEST");
    expect(dashboardUrl("cs_live_x", true)).toBe("https://dashboard.stripe.com/search?query=cs_live_x");
  });

  it("says when no receipt could be sent", () => {
    const email = renderMerchantNotice({ ...order, customerEmail: undefined, customerName: undefined }, shop);
    expect(email.text).toContain("Customer: No contact details");
    expect(email.text).toContain("The customer left no email address: no receipt was sent.");
  });

  it("follows the shop's language", () => {
    const email = renderMerchantNotice(euroOrder, { ...shop, locale: "de-DE" });
    expect(email.subject).toBe(`[TEST] Neue Bestellung ${euroOrder.orderNumber}: 30,00\u00a0€, 2 Artikel`);
    expect(email.text).toContain("TESTBESTELLUNG");
    expect(email.text).toContain("Lieferadresse:\nJana Schmidt\nHauptstraße 5\n10115 Berlin\nDeutschland");
  });
});

describe("renderPaymentFailed", () => {
  it("says nothing was charged and how to order again", () => {
    const email = renderPaymentFailed({ sessionId: "cs_test_b2", currency: "eur", total: 999 }, shop);
    expect(email.subject).toBe("Your Fern & Fig payment did not go through");
    expect(email.text).toMatchInlineSnapshot(`
      "Fern & Fig

      Your payment did not go through
      Your payment of €9.99 to Fern & Fig could not be completed, so your order was not placed and you have not been charged.
      You can place your order again at https://shop.example and choose another payment method.

      Reference: TM4V-EUWH
      Payment reference: cs_test_b2

      --
      Questions about your order? Reply to this email or write to help@fernfig.example.
      Visit the shop: https://shop.example
      "
    `);
    expect(email.html).toContain(
      '<a href="https://shop.example" style="color:#1f5f8b">place your order again</a>',
    );
  });

  it("in German", () => {
    const email = renderPaymentFailed(
      { sessionId: "cs_test_b2", currency: "eur", total: 999 },
      { ...shop, locale: "de-DE" },
    );
    expect(email.subject).toBe("Ihre Zahlung bei Fern & Fig ist nicht durchgegangen");
    expect(email.text).toContain("Ihre Zahlung von 9,99\u00a0€ an Fern & Fig");
  });
});

describe("renderFailureAlert", () => {
  it("names the order and the reason, and how to retry it, with nothing about the customer", () => {
    const email = renderFailureAlert(
      { sessionId: "cs_test_c3", key: "cs_test_c3", reason: "receipt:resend:422:validation_error" },
      shop,
    );
    expect(email.subject).toBe("Order not fulfilled: receipt:resend:422:validation_error");
    expect(email.text).toMatchInlineSnapshot(`
      "Fern & Fig

      An order could not be fulfilled
      Reason: receipt:resend:422:validation_error
      Order TQG7-R9KY, Checkout Session cs_test_c3

      Look the order up in the Stripe Dashboard, fix the cause, then run: npm run orders -- retry cs_test_c3
      "
    `);
  });

  it("speaks the shop's language, keeping the reason code and the command as they are", () => {
    const email = renderFailureAlert(
      { sessionId: "cs_test_c3", key: "cs_test_c3", reason: "receipt:resend:422:validation_error" },
      { ...shop, locale: "de-DE" },
    );
    expect(email.subject).toBe("Bestellung nicht ausgeführt: receipt:resend:422:validation_error");
    expect(email.text).toContain("Grund: receipt:resend:422:validation_error");
    expect(email.text).toContain(
      "Suchen Sie die Bestellung im Stripe-Dashboard, beheben Sie die Ursache und führen Sie dann aus: npm run orders -- retry cs_test_c3",
    );
    expect(email.html).toContain('<html lang="de-DE"');
  });

  it("escapes what it shows and copes with an event that had no usable session id", () => {
    const email = renderFailureAlert({ sessionId: null, key: "ab12", reason: "<missing_session>" }, shop);
    expect(email.html).toContain("&lt;missing_session&gt;");
    expect(email.html).not.toContain("<missing_session>");
    expect(email.text).toContain("ledger key ab12");
  });
});
