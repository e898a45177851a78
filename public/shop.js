// Shop page: carries ?email= and ?ref= from this page's URL onto every Buy link as Stripe's prefilled_email and
// client_reference_id, so a link shared from a newsletter or an affiliate arrives at checkout pre-filled.
const params = new URLSearchParams(window.location.search);
const email = params.get("email");
const ref = params.get("ref");
// Stripe rejects malformed values at checkout; dropping them here keeps the Buy link working.
const validEmail = email !== null && email.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);
const validRef = ref !== null && /^[A-Za-z0-9_-]{1,200}$/.test(ref);

if (validEmail || validRef) {
  for (const link of document.querySelectorAll("a[data-payment-link]")) {
    const url = new URL(link.href);
    if (validEmail) url.searchParams.set("prefilled_email", email);
    if (validRef) url.searchParams.set("client_reference_id", ref);
    link.href = url.href;
  }
}

// Products with stock: the list names where to ask which are sold out (a small answer the CDN keeps for a while).
// Their Buy gives way to "Sold out" once the last one is sold; if the answer never comes, Buy stays, and Stripe's own
// page says when a link has stopped. Asked on load, every 25 s while the page is in view, and on coming back to it:
// with the answer at most 30 s old (src/stock/handler.ts), a sale shows within a minute.
const stockList = document.querySelector("[data-stock-url]");
const STOCK_EVERY_MS = 25_000;

async function refreshStock() {
  try {
    const response = await fetch(stockList.dataset.stockUrl, { headers: { accept: "application/json" } });
    if (!response.ok) return;
    const { soldOut } = await response.json();
    if (!Array.isArray(soldOut)) return;
    for (const card of stockList.querySelectorAll("[data-product-id]")) {
      if (!soldOut.includes(card.dataset.productId)) continue;
      const buy = card.querySelector("a[data-payment-link]");
      const label = card.querySelector("[data-sold-out]");
      if (!buy || !label) continue;
      label.hidden = false;
      buy.remove();
    }
  } catch {
    // Offline or blocked: the page stays as it was built.
  }
}

if (stockList) {
  refreshStock();
  setInterval(() => {
    if (document.visibilityState === "visible") refreshStock();
  }, STOCK_EVERY_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refreshStock();
  });
}
