import { describe, expect, it } from "vitest";
import { type LineItemPayload, type SessionPayload, toOrder } from "../../src/order/model.ts";
import { normalizeOrderNumber, ORDER_NUMBER, orderNumber } from "../../src/order/number.ts";
import { isCustomerEmail, orderProblem, sessionProblem } from "../../src/order/session.ts";
import { checkoutSession, fixture, lineItem } from "../support/stripe-payloads.ts";

const session = (overrides: Record<string, unknown> = {}) =>
  checkoutSession(overrides) as unknown as SessionPayload;
const items = (...list: Record<string, unknown>[]) => list as unknown as LineItemPayload[];

describe("toOrder", () => {
  it("maps items with quantities, unit and line amounts, and the totals", () => {
    const order = toOrder(
      session({
        amount_subtotal: 4000,
        amount_total: 4090,
        total_details: { amount_discount: 500, amount_shipping: 490, amount_tax: 100 },
      }),
      items(
        lineItem({ name: "Mug", unitAmount: 1500, quantity: 2 }),
        lineItem({ name: "Poster", unitAmount: 1000 }),
      ),
    );
    expect(
      order.items.map(({ name, quantity, unitAmount, amount }) => [name, quantity, unitAmount, amount]),
    ).toEqual([
      ["Mug", 2, 1500, 3000],
      ["Poster", 1, 1000, 1000],
    ]);
    expect([order.subtotal, order.discount, order.shipping, order.tax, order.total]).toEqual([
      4000, 500, 490, 100, 4090,
    ]);
    expect(order.customerEmail).toBe("jenny@example.com");
    expect(order.customerName).toBe("Jenny Rosen");
  });

  it("falls back to the line item's description for deleted products and unexpanded ids", () => {
    const order = toOrder(
      session(),
      items(
        lineItem({
          name: "Gone",
          unitAmount: 100,
          product: { id: "prod_1", object: "product", deleted: true },
        }),
        lineItem({ name: "By id", unitAmount: 200, product: "prod_2" }),
        lineItem({ name: "Null", unitAmount: 300, product: null }),
      ),
    );
    expect(order.items.map((item) => item.name)).toEqual(["Gone", "By id", "Null"]);
  });

  it("never carries a public download link from product metadata: files are delivered by signed links", () => {
    const product = {
      object: "product",
      name: "Ebook",
      metadata: { download_url: "https://files.example/e.pdf" },
    };
    const order = toOrder(session(), items(lineItem({ name: "a", unitAmount: 1, product })));
    expect(JSON.stringify(order)).not.toContain("files.example");
  });

  it("reads the shipping address from every API version's field", () => {
    const address = {
      line1: "510 Townsend St",
      line2: null,
      city: "San Francisco",
      state: "CA",
      postal_code: "94103",
      country: "US",
    };
    const expected = {
      name: "Jenny Rosen",
      line1: "510 Townsend St",
      line2: undefined,
      city: "San Francisco",
      state: "CA",
      postalCode: "94103",
      country: "US",
    };
    const current = session({
      collected_information: { shipping_details: { name: "Jenny Rosen", address } },
    });
    const older = session({
      collected_information: null,
      shipping_details: { name: "Jenny Rosen", address },
    });
    const oldest = session({ collected_information: null, shipping: { name: "Jenny Rosen", address } });
    for (const s of [current, older, oldest]) expect(toOrder(s, []).shippingAddress).toEqual(expected);
    expect(toOrder(session({ collected_information: null }), []).shippingAddress).toBeUndefined();
  });

  it("uses customer_email when customer_details has none", () => {
    const order = toOrder(session({ customer_details: null, customer_email: "old@example.com" }), []);
    expect(order.customerEmail).toBe("old@example.com");
    expect(toOrder(session({ customer_details: { email: null } }), []).customerEmail).toBeUndefined();
  });

  it("maps a real retrieved session with its expanded line items", () => {
    const real = fixture<SessionPayload>("events/aichat_session.json");
    const list = fixture<{ data: LineItemPayload[] }>("events/aichat_line_items.json");
    const order = toOrder(real, list.data);
    expect(order).toMatchObject({
      currency: "usd",
      total: 2500,
      items: [{ name: "Pay as you go (300,000 characters)", quantity: 1, unitAmount: 2500, amount: 2500 }],
    });
  });

  it("tells inclusive tax from added tax as Stripe reports them", () => {
    // Prices with tax included: the tax is inside the subtotal, the total does not grow (a live EUR order).
    const inclusive = toOrder(
      fixture<{ data: { object: SessionPayload } }>("events/sync_eur_live.json").data.object,
      [],
    );
    expect([inclusive.subtotal, inclusive.tax, inclusive.total, inclusive.taxIncluded]).toEqual([
      999,
      65,
      999,
      true,
    ]);
    // Tax added at checkout: subtotal + tax = total.
    const added = toOrder(
      fixture<{ data: { object: SessionPayload } }>("events/jam_gbp_tax.json").data.object,
      [],
    );
    expect([added.subtotal, added.tax, added.total, added.taxIncluded]).toEqual([700, 140, 840, false]);
  });

  it("gives every session one order number, and the order date", () => {
    const order = toOrder(session({ id: "cs_test_a1", created: 1773480413 }), []);
    expect(order.orderNumber).toBe(orderNumber("cs_test_a1"));
    expect(order.createdAt).toBe(1773480413000);
  });
});

describe("orderNumber", () => {
  it("is short, grouped, free of 0/O and 1/I/L, and the same on every call", () => {
    const numbers = Array.from({ length: 2000 }, (_, i) => orderNumber(`cs_test_${i}`));
    for (const number of numbers) expect(number).toMatch(ORDER_NUMBER);
    expect(numbers.join("")).not.toMatch(/[01OIL]/);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(orderNumber("cs_test_7")).toBe(numbers[7]);
  });

  it("reads what a person types back into the number", () => {
    const number = orderNumber("cs_test_a1");
    expect(normalizeOrderNumber(` ${number.toLowerCase().replace("-", "")} `)).toBe(number);
    expect(normalizeOrderNumber("ABCD-EFG0")).toBeUndefined();
    expect(normalizeOrderNumber("cs_test_a1")).toBeUndefined();
  });
});

describe("customer email", () => {
  it.each([
    "jenny@example.com",
    "Jenny.Rosen@Example.COM",
    "o'brien+shop@mail.example.co.uk",
    "a@b.co",
    `${"a".repeat(64)}@example.com`,
  ])("accepts %j", (address) => {
    expect(isCustomerEmail(address)).toBe(true);
  });

  it("allows at most 254 characters in all (RFC 5321)", () => {
    const domain = `${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.com`;
    const longest = `${"a".repeat(58)}@${domain}`;
    expect([longest.length, isCustomerEmail(longest)]).toEqual([254, true]);
    expect(isCustomerEmail(`a${longest}`)).toBe(false);
  });

  it.each([
    ["CR/LF and a Bcc: line", "jenny@example.com\r\nBcc: everyone@evil.example"],
    ["a trailing newline", "jenny@example.com\n"],
    ["a tab", "jenny\t@example.com"],
    ["a NUL", "jenny@example.com\u0000"],
    ["a leading space", " jenny@example.com"],
    ["markup", "<script>alert(1)</script>@example.com"],
    ["markup after it", "jenny@example.com<script>"],
    ["two addresses with a comma", "a@x.com, b@y.com"],
    ["two addresses with a semicolon", "a@x.com;b@y.com"],
    ["a display name", "Jenny <jenny@example.com>"],
    ["a quoted local part", '"jenny"@example.com'],
    ["5,000 characters", `${"j".repeat(4988)}@example.com`],
    ["a local part of 65 characters", `${"a".repeat(65)}@example.com`],
    ["no @", "not-an-email"],
    ["two @", "jenny@@example.com"],
    ["no dot in the domain", "jenny@localhost"],
    ["an empty label", "jenny@example..com"],
    ["an IP literal", "jenny@[127.0.0.1]"],
    ["a non-ASCII domain", "jenny@exämple.com"],
    ["an empty string", ""],
  ])("refuses %s", (_, address) => {
    expect(isCustomerEmail(address)).toBe(false);
  });

  it.each([42, null, {}, ["jenny@example.com"]])("refuses the non-string %j", (value) => {
    expect(isCustomerEmail(value)).toBe(false);
  });

  it("makes a session and an order unusable, while no address at all is fine", () => {
    const bad = "jenny@example.com\r\nBcc: everyone@evil.example";
    expect(sessionProblem(session({ customer_details: { email: bad } }))).toBe("invalid_customer_email");
    expect(sessionProblem(session({ customer_details: null, customer_email: bad }))).toBe(
      "invalid_customer_email",
    );
    expect(sessionProblem(session({ customer_details: { email: 7 } }))).toBe("invalid_customer_email");
    expect(sessionProblem(session({ customer_details: null, customer_email: null }))).toBeUndefined();
    expect(sessionProblem(session())).toBeUndefined();
    const order = toOrder(session(), []);
    expect(orderProblem(order)).toBeUndefined();
    expect(orderProblem({ ...order, customerEmail: bad })).toBe("invalid_customer_email");
    expect(orderProblem({ ...order, customerEmail: undefined })).toBeUndefined();
  });
});
