/** The merchant's alert when a product sold more than its stock: the shop's language, escaped, no customer data. */
import { describe, expect, it } from "vitest";
import { renderOversoldAlert } from "../../src/email/templates.ts";
import { testShop } from "../support/fakes.ts";

const alert = { productId: "camp-mug", productName: "Enamel <Camp> Mug", sold: 203, stock: 200 };

describe("renderOversoldAlert", () => {
  it("names the product, its orders and its stock, and says what to do", () => {
    const email = renderOversoldAlert(alert, testShop());
    expect(email.subject).toBe("Oversold: Enamel <Camp> Mug, 203 orders for a stock of 200");
    expect(email.text.split("\n").slice(2)).toEqual([
      "More orders than stock",
      "",
      "Enamel <Camp> Mug (camp-mug) has 203 paid orders, but its stock is 200. Checkouts that were already open completed after the Payment Link's limit.",
      "",
      "Decide what to do with the extra orders (refund them, or find more units): npm run orders lists them.",
      "",
    ]);
    expect(email.html).toContain("Enamel &lt;Camp&gt; Mug (camp-mug) has 203 paid orders");
    expect(email.html).not.toContain("<Camp>");
  });

  it("speaks the shop's language", () => {
    const email = renderOversoldAlert(alert, testShop({ locale: "fr-FR" }));
    expect(email.subject).toBe("Survente : Enamel <Camp> Mug, 203 commandes pour un stock de 200");
  });
});
