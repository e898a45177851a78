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

// Every sentence of the page in each language a shop can choose; the page's lang (the catalog's locale) picks one.
const TEXTS = {
  en: {
    paidHeading: "Thank you, your order is confirmed",
    orderNumber: (number) => `Order number: ${number}`,
    total: (amount) => `Total: ${amount}`,
    receiptTo: (email) => `A receipt is on its way to ${email}.`,
    receipt: "A receipt is on its way to your email.",
    pendingHeading: "Your payment is pending",
    pending: [
      "You chose a payment method that takes a little while to clear, such as a bank debit.",
      "We'll email your receipt as soon as the payment goes through. There's nothing else you need to do.",
    ],
    failedHeading: "Your payment did not go through",
    failed:
      "Your payment could not be completed, so your order was not placed and you have not been charged.",
    againLink: "Place your order again",
    againRest: " and choose another payment method.",
    slowHeading: "Your payment is still being confirmed",
    slow: [
      "This is taking longer than usual, but your payment is safe with Stripe.",
      "We'll email your receipt as soon as it's confirmed. You can close this page.",
    ],
    notFoundHeading: "We couldn't find that order",
    notFound: [
      "If you've just paid, your receipt will arrive by email shortly.",
      "If it doesn't, reply to the receipt or contact us using the address below, and we'll sort it out.",
    ],
    badLinkHeading: "This link doesn't look right",
    badLink:
      "The order reference in the address is missing or incomplete. If you've just paid, your receipt will arrive by email.",
    errorHeading: "We couldn't check your order right now",
    error:
      "Your payment is handled by Stripe and isn't affected. Please refresh this page in a minute, or watch your email for the receipt.",
    downloadsHeading: "Your downloads",
    downloadsNote: "Each button opens the file's download page; the same links are in your receipt.",
    refundedHeading: "This order was refunded",
    refunded: "The payment was refunded, so the order's files are no longer available.",
    disputedHeading: "This order is under review",
    disputed: "A payment dispute is open for this order; its files are unavailable until it is resolved.",
    processingHeading: "Confirming your payment…",
    processing: "This usually takes a few seconds. Please keep this page open.",
    busyHeading: "One moment, please",
    busy: "Many orders are being checked right now. We'll look again in a few seconds; your payment is safe with Stripe.",
  },
  de: {
    paidHeading: "Vielen Dank, Ihre Bestellung ist bestätigt",
    orderNumber: (number) => `Bestellnummer: ${number}`,
    total: (amount) => `Gesamt: ${amount}`,
    receiptTo: (email) => `Eine Quittung ist unterwegs an ${email}.`,
    receipt: "Eine Quittung ist unterwegs an Ihre E-Mail-Adresse.",
    pendingHeading: "Ihre Zahlung ist in Bearbeitung",
    pending: [
      "Sie haben eine Zahlungsart gewählt, die etwas Zeit braucht, zum Beispiel eine Lastschrift.",
      "Wir senden Ihre Quittung, sobald die Zahlung eingegangen ist. Sie müssen nichts weiter tun.",
    ],
    failedHeading: "Ihre Zahlung ist nicht durchgegangen",
    failed:
      "Ihre Zahlung konnte nicht abgeschlossen werden. Ihre Bestellung wurde daher nicht aufgegeben und Ihnen wurde nichts berechnet.",
    againLink: "Bestellen Sie erneut",
    againRest: " und wählen Sie eine andere Zahlungsart.",
    slowHeading: "Ihre Zahlung wird noch bestätigt",
    slow: [
      "Das dauert länger als üblich, aber Ihre Zahlung ist bei Stripe sicher.",
      "Wir senden Ihre Quittung, sobald sie bestätigt ist. Sie können diese Seite schließen.",
    ],
    notFoundHeading: "Wir konnten diese Bestellung nicht finden",
    notFound: [
      "Wenn Sie gerade bezahlt haben, kommt Ihre Quittung in Kürze per E-Mail.",
      "Falls nicht, antworten Sie auf die Quittung oder schreiben Sie an die Adresse unten, und wir kümmern uns darum.",
    ],
    badLinkHeading: "Dieser Link scheint nicht zu stimmen",
    badLink:
      "Die Bestellreferenz in der Adresse fehlt oder ist unvollständig. Wenn Sie gerade bezahlt haben, kommt Ihre Quittung per E-Mail.",
    errorHeading: "Wir können Ihre Bestellung gerade nicht prüfen",
    error:
      "Ihre Zahlung wird von Stripe abgewickelt und ist nicht betroffen. Laden Sie die Seite in einer Minute neu oder achten Sie auf die Quittung in Ihrem Postfach.",
    downloadsHeading: "Ihre Downloads",
    downloadsNote:
      "Jede Schaltfläche öffnet die Download-Seite der Datei; dieselben Links stehen in Ihrer Quittung.",
    refundedHeading: "Diese Bestellung wurde erstattet",
    refunded: "Die Zahlung wurde erstattet, die Dateien der Bestellung sind daher nicht mehr verfügbar.",
    disputedHeading: "Diese Bestellung wird geprüft",
    disputed:
      "Zu dieser Bestellung ist eine Zahlungsanfechtung offen; ihre Dateien sind bis zur Klärung nicht verfügbar.",
    processingHeading: "Ihre Zahlung wird bestätigt…",
    processing: "Das dauert meist nur ein paar Sekunden. Bitte lassen Sie diese Seite geöffnet.",
    busyHeading: "Einen Moment bitte",
    busy: "Gerade werden viele Bestellungen geprüft. Wir sehen in ein paar Sekunden noch einmal nach; Ihre Zahlung ist bei Stripe sicher.",
  },
  fr: {
    paidHeading: "Merci, votre commande est confirmée",
    orderNumber: (number) => `Numéro de commande\u00a0: ${number}`,
    total: (amount) => `Total\u00a0: ${amount}`,
    receiptTo: (email) => `Un reçu est en route vers ${email}.`,
    receipt: "Un reçu est en route vers votre adresse e-mail.",
    pendingHeading: "Votre paiement est en attente",
    pending: [
      "Vous avez choisi un moyen de paiement qui prend un peu de temps, comme un prélèvement bancaire.",
      "Nous vous enverrons votre reçu dès que le paiement aura abouti. Vous n'avez rien d'autre à faire.",
    ],
    failedHeading: "Votre paiement n'a pas abouti",
    failed:
      "Votre paiement n'a pas pu être effectué : votre commande n'a pas été passée et rien ne vous a été débité.",
    againLink: "Repassez votre commande",
    againRest: " et choisissez un autre moyen de paiement.",
    slowHeading: "Votre paiement est toujours en cours de confirmation",
    slow: [
      "Cela prend plus de temps que d'habitude, mais votre paiement est en sécurité chez Stripe.",
      "Nous vous enverrons votre reçu dès qu'il sera confirmé. Vous pouvez fermer cette page.",
    ],
    notFoundHeading: "Nous n'avons pas trouvé cette commande",
    notFound: [
      "Si vous venez de payer, votre reçu arrivera bientôt par e-mail.",
      "Sinon, répondez au reçu ou écrivez-nous à l'adresse ci-dessous, et nous réglerons cela.",
    ],
    badLinkHeading: "Ce lien semble incorrect",
    badLink:
      "La référence de commande dans l'adresse est absente ou incomplète. Si vous venez de payer, votre reçu arrivera par e-mail.",
    errorHeading: "Nous ne pouvons pas vérifier votre commande pour le moment",
    error:
      "Votre paiement est traité par Stripe et n'est pas concerné. Actualisez cette page dans une minute, ou surveillez vos e-mails pour le reçu.",
    downloadsHeading: "Vos téléchargements",
    downloadsNote:
      "Chaque bouton ouvre la page de téléchargement du fichier\u00a0; les mêmes liens sont dans votre reçu.",
    refundedHeading: "Cette commande a été remboursée",
    refunded: "Le paiement a été remboursé\u00a0; les fichiers de la commande ne sont plus disponibles.",
    disputedHeading: "Cette commande est en cours d’examen",
    disputed:
      "Un litige de paiement est ouvert pour cette commande\u00a0; ses fichiers sont indisponibles jusqu’à sa résolution.",
    processingHeading: "Confirmation de votre paiement…",
    processing: "Cela ne prend généralement que quelques secondes. Merci de garder cette page ouverte.",
    busyHeading: "Un instant, s'il vous plaît",
    busy: "Beaucoup de commandes sont vérifiées en ce moment. Nous regarderons à nouveau dans quelques secondes\u00a0; votre paiement est en sécurité chez Stripe.",
  },
  es: {
    paidHeading: "Gracias, tu pedido está confirmado",
    orderNumber: (number) => `Número de pedido: ${number}`,
    total: (amount) => `Total: ${amount}`,
    receiptTo: (email) => `Te hemos enviado un recibo a ${email}.`,
    receipt: "Te hemos enviado un recibo a tu correo.",
    pendingHeading: "Tu pago está pendiente",
    pending: [
      "Elegiste un método de pago que tarda un poco en confirmarse, como un adeudo bancario.",
      "Te enviaremos el recibo en cuanto se complete el pago. No tienes que hacer nada más.",
    ],
    failedHeading: "Tu pago no se ha completado",
    failed: "No se pudo completar tu pago, así que tu pedido no se realizó y no se te ha cobrado nada.",
    againLink: "Vuelve a hacer tu pedido",
    againRest: " y elige otro método de pago.",
    slowHeading: "Tu pago aún se está confirmando",
    slow: [
      "Está tardando más de lo normal, pero tu pago está seguro con Stripe.",
      "Te enviaremos el recibo en cuanto se confirme. Puedes cerrar esta página.",
    ],
    notFoundHeading: "No hemos encontrado ese pedido",
    notFound: [
      "Si acabas de pagar, recibirás el recibo por correo en breve.",
      "Si no llega, responde al recibo o escríbenos a la dirección de abajo y lo solucionaremos.",
    ],
    badLinkHeading: "Este enlace no parece correcto",
    badLink:
      "Falta la referencia del pedido en la dirección o está incompleta. Si acabas de pagar, recibirás el recibo por correo.",
    errorHeading: "No podemos comprobar tu pedido ahora mismo",
    error:
      "Stripe gestiona tu pago y no se ve afectado. Actualiza esta página en un minuto o revisa tu correo para ver el recibo.",
    downloadsHeading: "Tus descargas",
    downloadsNote:
      "Cada botón abre la página de descarga del archivo; los mismos enlaces están en tu recibo.",
    refundedHeading: "Este pedido fue reembolsado",
    refunded: "El pago fue reembolsado, así que los archivos del pedido ya no están disponibles.",
    disputedHeading: "Este pedido está en revisión",
    disputed:
      "Hay una disputa de pago abierta para este pedido; sus archivos no están disponibles hasta que se resuelva.",
    processingHeading: "Confirmando tu pago…",
    processing: "Suele tardar unos segundos. Mantén esta página abierta.",
    busyHeading: "Un momento, por favor",
    busy: "Ahora mismo se están comprobando muchos pedidos. Volveremos a mirar en unos segundos; tu pago está seguro con Stripe.",
  },
};
const T = TEXTS[(document.documentElement.lang || "en").split("-")[0].toLowerCase()] ?? TEXTS.en;

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
    list.append(element("li", `${quantity} × ${String(item?.name ?? "Item")}`));
  }
  return list;
}

/** The items and the total, when the answer has them. */
function orderSummary(order) {
  const extra = [];
  if (Array.isArray(order.items) && order.items.length > 0) extra.push(itemList(order.items));
  if (typeof order.total?.formatted === "string")
    extra.push(element("p", T.total(order.total.formatted), "total"));
  return extra;
}

function showPaid(order) {
  const extra = [];
  if (typeof order.orderNumber === "string")
    extra.push(element("p", T.orderNumber(order.orderNumber), "order-number"));
  extra.push(itemList(order.items));
  if (typeof order.total?.formatted === "string")
    extra.push(element("p", T.total(order.total.formatted), "total"));
  const receipt =
    typeof order.email === "string" && order.email !== "" ? T.receiptTo(order.email) : T.receipt;
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
  show("unpaid", T.pendingHeading, T.pending, orderSummary(order));
}

function showFailed(order) {
  const again = element("p");
  const link = element("a", T.againLink);
  link.href = "/";
  again.append(link, T.againRest);
  show("failed", T.failedHeading, [T.failed], [...orderSummary(order), again]);
}

function showSlow() {
  show("slow", T.slowHeading, T.slow);
}

function showNotFound() {
  show("not_found", T.notFoundHeading, T.notFound);
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
