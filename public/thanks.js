// Thank-you page: asks /api/order-status about the Checkout Session in ?session_id= and says what it means.
// Text is always set with textContent: nothing from the response is parsed as HTML.
const POLL_INTERVAL_MS = 1500;
const POLL_LIMIT_MS = 30000;
// A delayed payment (bank debit) can settle while the page is open: ask again, slowly, for a few minutes.
const PENDING_INTERVAL_MS = 15000;
const PENDING_LIMIT_MS = 5 * 60 * 1000;
// Too many requests from this address (429): wait as long as the answer says (Retry-After, seconds), within bounds,
// and ask again for a few minutes.
const BUSY_MIN_WAIT_MS = 1000;
const BUSY_MAX_WAIT_MS = 60000;
const BUSY_LIMIT_MS = 5 * 60 * 1000;

const region = document.getElementById("order-status");
const sessionId = takeSessionId();
const startedAt = Date.now();
// The static title ends with the shop's name: "Your order · Shop".
const shopName = document.title.split(" · ").pop();

// Every sentence the page may show, in the shop's language: the build hands them over in a JSON block (data the
// page reads, never runs). `{name}` placeholders are filled with `say`.
const T = JSON.parse(document.getElementById("thanks-texts").textContent);

/** The text `key` with each `{name}` replaced by its value. */
function say(key, values = {}) {
  return T[key].replace(/\{(\w+)\}/g, (placeholder, name) => String(values[name] ?? placeholder));
}

/**
 * The Checkout Session id Stripe put in the address (?session_id=cs_...), which is then taken out of the address bar
 * (history, bookmarks, screenshots and shared links do not keep it). It stays in this tab's sessionStorage, so a
 * reload still shows the order; a new tab or window starts without it. When storage is unavailable the id stays in
 * the address rather than a reload losing the order.
 */
function takeSessionId() {
  const KEY = "linkshop:session_id";
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get("session_id");
  try {
    if (fromUrl === null) return window.sessionStorage.getItem(KEY);
    window.sessionStorage.setItem(KEY, fromUrl);
  } catch {
    return fromUrl;
  }
  url.searchParams.delete("session_id");
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  return fromUrl;
}

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
    list.append(element("li", `${quantity} × ${String(item?.name ?? T.item)}`));
  }
  return list;
}

/** The items and the total, when the answer has them. */
function orderSummary(order) {
  const extra = [];
  if (Array.isArray(order.items) && order.items.length > 0) extra.push(itemList(order.items));
  if (typeof order.total?.formatted === "string")
    extra.push(element("p", say("total", { amount: order.total.formatted }), "total"));
  return extra;
}

function showPaid(order) {
  const extra = [];
  if (typeof order.orderNumber === "string")
    extra.push(element("p", say("orderNumber", { number: order.orderNumber }), "order-number"));
  extra.push(itemList(order.items));
  if (typeof order.total?.formatted === "string")
    extra.push(element("p", say("total", { amount: order.total.formatted }), "total"));
  const receipt =
    typeof order.email === "string" && order.email !== ""
      ? say("receiptTo", { email: order.email })
      : T.receipt;
  extra.push(element("p", receipt));
  extra.push(...downloadButtons(order.downloads));
  show("paid", T.paidHeading, [], extra);
}

/** A button per file of the order, each opening the file's download page (only an https or same-site link). */
function downloadButtons(downloads) {
  if (!Array.isArray(downloads) || downloads.length === 0) return [];
  const list = element("ul", undefined, "downloads");
  for (const file of downloads) {
    let url;
    try {
      url = new URL(String(file?.url), window.location.href);
    } catch {
      continue;
    }
    if (url.protocol !== "https:" && url.origin !== window.location.origin) continue;
    const link = element("a", String(file?.name ?? ""), "button");
    link.href = url.href;
    link.rel = "noreferrer";
    const item = element("li");
    item.append(link);
    list.append(item);
  }
  return [element("h2", T.downloadsHeading), list, element("p", T.downloadsNote, "note")];
}

function showUnpaid(order) {
  show("unpaid", T.pendingHeading, [T.pending, T.pendingNext], orderSummary(order));
}

function showFailed(order) {
  const again = element("p");
  const link = element("a", T.againLink);
  link.href = "/";
  again.append(link, T.againRest);
  show("failed", T.failedHeading, [T.failed], [...orderSummary(order), again]);
}

function showSlow() {
  show("slow", T.slowHeading, [T.slow, T.slowNext]);
}

function showNotFound() {
  show("not_found", T.notFoundHeading, [T.notFound, T.notFoundNext]);
}

function showBadLink() {
  show("invalid", T.badLinkHeading, [T.badLink]);
}

function showUnreachable() {
  show("error", T.errorHeading, [T.error]);
}

function scheduleRetry(onGiveUp, interval = POLL_INTERVAL_MS, limit = POLL_LIMIT_MS) {
  if (Date.now() - startedAt + interval > limit) onGiveUp();
  else setTimeout(check, interval);
}

/** The shop is asked too often from this address: a calm word, then the same question after the given wait. */
function waitAndRetry(retryAfter) {
  const seconds = Number(retryAfter);
  const wait = Math.min(
    BUSY_MAX_WAIT_MS,
    Math.max(BUSY_MIN_WAIT_MS, Number.isFinite(seconds) ? seconds * 1000 : BUSY_MIN_WAIT_MS),
  );
  if (Date.now() - startedAt + wait > BUSY_LIMIT_MS) return showUnreachable();
  // Shown once while it lasts, so assistive technology does not re-announce it.
  if (region.dataset.state !== "busy") show("busy", T.busyHeading, [T.busy]);
  setTimeout(check, wait);
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
    // A 429 may come from the platform too, without our JSON: its Retry-After is all that matters.
    if (response.status !== 429) body = await response.json();
  } catch {
    // Network trouble or a non-JSON answer: keep trying quietly within the same time limit.
    scheduleRetry(showUnreachable);
    return;
  }
  if (response.status === 429) return waitAndRetry(response.headers.get("retry-after"));
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
    case "refunded":
      return show("refunded", T.refundedHeading, [T.refunded], orderSummary(body));
    case "disputed":
      return show("disputed", T.disputedHeading, [T.disputed], orderSummary(body));
    case "processing":
      if (region.dataset.state !== "processing") {
        show("processing", T.processingHeading, [T.processing]);
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
