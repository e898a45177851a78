import { describe, expect, it } from "vitest";
import {
  renderFailureAlert,
  renderMerchantNotice,
  renderPaymentFailed,
  renderReceipt,
} from "../../src/email/templates.ts";
import type { Order } from "../../src/order/model.ts";

const shop = { name: "Fern & Fig", siteUrl: "https://shop.example" };

const order: Order = {
  sessionId: "cs_test_a1",
  currency: "usd",
  customerEmail: "jenny@example.com",
  customerName: "Jenny Rosen",
  items: [
    { name: "Ceramic mug", quantity: 2, unitAmount: 1500, amount: 3000, deliveryUrl: undefined },
    {
      name: "Field guide (PDF)",
      quantity: 1,
      unitAmount: 900,
      amount: 900,
      deliveryUrl: "https://files.example/guide.pdf",
    },
  ],
  subtotal: 3900,
  discount: 500,
  shipping: 490,
  tax: 120,
  total: 4010,
  shippingAddress: { name: "Jenny Rosen", lines: ["510 Townsend St", "94103 San Francisco CA", "US"] },
  livemode: false,
};

describe("renderReceipt", () => {
  it("lists every item, the totals, the downloads and the address in plain text", () => {
    const email = renderReceipt(order, shop);
    expect(email.subject).toBe("Your Fern & Fig order: $40.10");
    expect(email.text).toMatchInlineSnapshot(`
      "Fern & Fig

      Thank you for your order
      We have received your payment. Here is your receipt.

      2 x Ceramic mug @ $15.00 = $30.00
      1 x Field guide (PDF) @ $9.00 = $9.00

      Subtotal: $39.00
      Discount: -$5.00
      Shipping: $4.90
      Tax: $1.20
      Total: $40.10

      Your downloads:
      - Field guide (PDF): https://files.example/guide.pdf

      Shipping to:
      Jenny Rosen
      510 Townsend St
      94103 San Francisco CA
      US

      Order reference: cs_test_a1
      "
    `);
  });

  it("shows the same content in HTML", () => {
    const { html } = renderReceipt(order, shop);
    for (const text of [
      "Ceramic mug",
      "$15.00",
      "$30.00",
      "-$5.00",
      "$4.90",
      "$1.20",
      "$40.10",
      "510 Townsend St",
    ]) {
      expect(html).toContain(text);
    }
    expect(html).toContain('<a href="https://files.example/guide.pdf">Field guide (PDF)</a>');
    expect(html).toContain("Fern &amp; Fig");
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
            deliveryUrl: 'https://x.example/"><script>',
          },
        ],
        shippingAddress: { name: "<b>Jenny</b>", lines: ["<script>alert(2)</script>"] },
      },
      { name: "<Shop>", siteUrl: undefined },
    );
    expect(email.html).not.toMatch(/<img|<script|<b>|<Shop>/);
    expect(email.html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(email.html).toContain('href="https://x.example/&quot;&gt;&lt;script&gt;"');
    expect(email.text).toContain(hostile);
  });

  it("omits discount, shipping and tax rows when they are zero, and formats zero-decimal currencies", () => {
    const yen = renderReceipt(
      {
        ...order,
        currency: "jpy",
        items: [{ name: "Tea", quantity: 3, unitAmount: 1200, amount: 3600, deliveryUrl: undefined }],
        subtotal: 3600,
        discount: 0,
        shipping: 0,
        tax: 0,
        total: 3600,
        shippingAddress: undefined,
      },
      shop,
    );
    expect(yen.text).toContain("3 x Tea @ ¥1,200 = ¥3,600");
    expect(yen.text).toContain("Subtotal: ¥3,600\nTotal: ¥3,600");
    expect(yen.text).not.toMatch(/Shipping|Discount|Tax/);
  });
});

describe("renderMerchantNotice", () => {
  it("names the customer, the items and totals", () => {
    const email = renderMerchantNotice(order, shop);
    expect(email.subject).toBe("New order: $40.10, 3 items");
    expect(email.text).toContain("New order (test mode)");
    expect(email.text).toContain("Customer: Jenny Rosen · jenny@example.com");
    expect(email.text).toContain("2 x Ceramic mug @ $15.00 = $30.00");
    expect(email.text).toContain("Ship to:\nJenny Rosen\n510 Townsend St");
  });

  it("says when no receipt could be sent", () => {
    const email = renderMerchantNotice({ ...order, customerEmail: undefined, customerName: undefined }, shop);
    expect(email.text).toContain("Customer: No contact details");
    expect(email.text).toContain("The customer left no email address: no receipt was sent.");
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

      Reference: cs_test_b2
      "
    `);
    expect(email.html).toContain('<a href="https://shop.example">place your order again</a>');
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
      Checkout Session: cs_test_c3

      Look the order up in the Stripe Dashboard, fix the cause, then run: npm run orders -- retry cs_test_c3
      "
    `);
  });

  it("escapes what it shows and copes with an event that had no usable session id", () => {
    const email = renderFailureAlert({ sessionId: null, key: "ab12", reason: "<missing_session>" }, shop);
    expect(email.html).toContain("&lt;missing_session&gt;");
    expect(email.html).not.toContain("<missing_session>");
    expect(email.text).toContain("ledger key ab12");
  });
});
