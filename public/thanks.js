// Thank-you page: asks /api/order-status about the Checkout Session in ?session_id= and says what it means.
// Text is always set with textContent: nothing from the response is parsed as HTML.
const POLL_INTERVAL_MS = 1500;
const POLL_LIMIT_MS = 30000;
// A delayed payment (bank debit) can settle while the page is open: ask again, slowly, for a few minutes.
const PENDING_INTERVAL_MS = 15000;
const PENDING_LIMIT_MS = 5 * 60 * 1000;

const region = document.getElementById("order-status");
const sessionId = new URLSearchParams(window.location.search).get("session_id");
const startedAt = Date.now();
// The static title ends with the shop's name: "Your order · Shop".
const shopName = document.title.split(" · ").pop();

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** Replaces the status region with a heading, paragraphs and optional extra nodes, and records the state. */
function show(state, heading, paragraphs, extra = []) {
  region.replaceChildren(element("h1", heading), ...paragraphs.map((text) => element("p", text)), ...extra);
  region.dataset.state = state;
  document.title = `${heading} · ${shopName}`;
}

function itemList(items) {
  const list = element("ul", undefined, "order-items");
  for (const item of Array.isArray(items) ? items : []) {
    const quantity = Number.isInteger(item?.quantity) ? item.quantity : 1;
    list.append(element("li", `${quantity} × ${String(item?.name ?? "Item")}`));
  }
  return list;
}

/** The items and the total, when the answer has them. */
function orderSummary(order) {
  const extra = [];
  if (Array.isArray(order.items) && order.items.length > 0) extra.push(itemList(order.items));
  if (typeof order.total?.formatted === "string")
    extra.push(element("p", `Total: ${order.total.formatted}`, "total"));
  return extra;
}

function showPaid(order) {
  const extra = [itemList(order.items)];
  if (typeof order.total?.formatted === "string")
    extra.push(element("p", `Total: ${order.total.formatted}`, "total"));
  const receipt =
    typeof order.email === "string" && order.email !== ""
      ? `A receipt is on its way to ${order.email}.`
      : "A receipt is on its way to your email.";
  extra.push(element("p", receipt));
  show("paid", "Thank you, your order is confirmed", [], extra);
}

function showUnpaid(order) {
  show(
    "unpaid",
    "Your payment is pending",
    [
      "You chose a payment method that takes a little while to clear, such as a bank debit.",
      "We'll email your receipt as soon as the payment goes through. There's nothing else you need to do.",
    ],
    orderSummary(order),
  );
}

function showFailed(order) {
  const again = element("p");
  const link = element("a", "Place your order again");
  link.href = "/";
  again.append(link, " and choose another payment method.");
  show(
    "failed",
    "Your payment did not go through",
    ["Your payment could not be completed, so your order was not placed and you have not been charged."],
    [...orderSummary(order), again],
  );
}

function showSlow() {
  show("slow", "Your payment is still being confirmed", [
    "This is taking longer than usual, but your payment is safe with Stripe.",
    "We'll email your receipt as soon as it's confirmed. You can close this page.",
  ]);
}

function showNotFound() {
  show("not_found", "We couldn't find that order", [
    "If you've just paid, your receipt will arrive by email shortly.",
    "If it doesn't, reply to the receipt or contact us using the address below, and we'll sort it out.",
  ]);
}

function showBadLink() {
  show("invalid", "This link doesn't look right", [
    "The order reference in the address is missing or incomplete. If you've just paid, your receipt will arrive by email.",
  ]);
}

function showUnreachable() {
  show("error", "We couldn't check your order right now", [
    "Your payment is handled by Stripe and isn't affected. Please refresh this page in a minute, or watch your email for the receipt.",
  ]);
}

function scheduleRetry(onGiveUp, interval = POLL_INTERVAL_MS, limit = POLL_LIMIT_MS) {
  if (Date.now() - startedAt + interval > limit) onGiveUp();
  else setTimeout(check, interval);
}

/** Asks once and shows the answer; `data-checks` counts answers handled (tests wait on it, not on time). */
async function check() {
  await checkOnce();
  region.dataset.checks = String(Number(region.dataset.checks ?? 0) + 1);
}

async function checkOnce() {
  let response;
  let body;
  try {
    response = await fetch(`/api/order-status?session_id=${encodeURIComponent(sessionId)}`, {
      headers: { accept: "application/json" },
      cache: "no-store",
    });
    body = await response.json();
  } catch {
    // Network trouble or a non-JSON answer: keep trying quietly within the same time limit.
    scheduleRetry(showUnreachable);
    return;
  }
  if (response.status === 400) return showBadLink();
  if (response.status === 404) return showNotFound();
  if (!response.ok) return scheduleRetry(showUnreachable);
  switch (body?.status) {
    case "paid":
      return showPaid(body);
    case "unpaid":
      // Re-rendered only when the state changes, so assistive technology does not re-announce it on every poll.
      if (region.dataset.state !== "unpaid") showUnpaid(body);
      // After a few minutes the page stops asking; the email still follows whenever the payment settles.
      return scheduleRetry(() => {}, PENDING_INTERVAL_MS, PENDING_LIMIT_MS);
    case "failed":
      return showFailed(body);
    case "processing":
      if (region.dataset.state !== "processing") {
        show("processing", "Confirming your payment…", [
          "This usually takes a few seconds. Please keep this page open.",
        ]);
      }
      return scheduleRetry(showSlow);
    default:
      return showUnreachable();
  }
}

region.hidden = false;
if (sessionId) {
  region.dataset.state = "checking";
  check();
} else {
  showBadLink();
}
