/** Every word the emails say, in each language the shop can choose (the catalog's `locale`). */

import { type Language, languageOf } from "./languages.ts";

/** The texts of one language. Functions take values already formatted for the locale. */
export interface Messages {
  /** Between a label and its value: ": ", or " : " with French spacing (no-break space). */
  colon: string;
  receiptSubject: (shop: string, number: string, total: string) => string;
  receiptHeading: string;
  receiptIntro: string;
  orderNumber: string;
  orderDate: string;
  item: string;
  quantity: string;
  unitPrice: string;
  amount: string;
  subtotal: string;
  discount: string;
  shipping: string;
  tax: string;
  taxIncluded: (amount: string) => string;
  total: string;
  downloads: string;
  /** Under the download links: how long they work and how often. */
  downloadsNote: (until: string, limit: number) => string;
  shippingTo: string;
  questions: (support: string) => string;
  visitShop: string;
  noticeSubject: (number: string, total: string, items: number) => string;
  noticeHeading: string;
  testOrder: string;
  customer: string;
  noContact: string;
  noReceipt: string;
  openInStripe: string;
  checkoutSession: string;
  failedSubject: (shop: string) => string;
  failedHeading: string;
  failedBody: (amount: string, shop: string) => string;
  failedRetryAt: (url: string) => string;
  failedRetryLink: string;
  failedRetryRest: string;
  failedRetry: string;
  reference: string;
  /** Stripe's id of the checkout, for the rare case the shop's support needs it. */
  paymentReference: string;
  /** The merchant's alert about an order that could not be fulfilled; reason codes and commands stay as they are. */
  alertSubject: (reason: string) => string;
  alertHeading: string;
  alertReason: string;
  alertOrder: (number: string, sessionId: string) => string;
  alertNoSession: (key: string) => string;
  alertRetry: string;
  alertByHand: string;
  /** The merchant's notice of a refund. */
  refundSubject: (number: string, amount: string) => string;
  refundHeading: string;
  refundAmount: (refunded: string, total: string) => string;
  refundFull: string;
  refundPartial: string;
  accessRevoked: string;
  accessKept: string;
  /** The merchant's notice of a dispute, opened or closed. */
  disputeSubject: (number: string, amount: string, status: string) => string;
  disputeHeading: (status: string) => string;
  disputeStatus: (status: string) => string;
  disputeReason: string;
  disputeDueBy: string;
  disputeAccess: (status: string) => string;
  /** The customer's refund confirmation. */
  refundedSubject: (shop: string, number: string) => string;
  refundedHeading: string;
  refundedBody: (amount: string, number: string) => string;
  refundedTiming: string;
  refundedDownloads: string;
}

const en: Messages = {
  colon: ": ",
  receiptSubject: (shop, number, total) => `Your ${shop} order ${number}: ${total}`,
  receiptHeading: "Thank you for your order",
  receiptIntro: "We have received your payment. Here is your receipt.",
  orderNumber: "Order number",
  orderDate: "Order date",
  item: "Item",
  quantity: "Qty",
  unitPrice: "Unit price",
  amount: "Amount",
  subtotal: "Subtotal",
  discount: "Discount",
  shipping: "Shipping",
  tax: "Tax",
  taxIncluded: (amount) => `Includes ${amount} tax`,
  total: "Total",
  downloads: "Your downloads",
  downloadsNote: (until, limit) =>
    `Each link opens a download page. The links work until ${until}, for ${limit} downloads of each file.`,
  shippingTo: "Shipping to",
  questions: (support) => `Questions about your order? Reply to this email or write to ${support}.`,
  visitShop: "Visit the shop",
  noticeSubject: (number, total, items) =>
    `New order ${number}: ${total}, ${items} item${items === 1 ? "" : "s"}`,
  noticeHeading: "New order",
  testOrder: "TEST ORDER: no real payment was made",
  customer: "Customer",
  noContact: "No contact details",
  noReceipt: "The customer left no email address: no receipt was sent.",
  openInStripe: "Open in the Stripe Dashboard",
  checkoutSession: "Checkout Session",
  failedSubject: (shop) => `Your ${shop} payment did not go through`,
  failedHeading: "Your payment did not go through",
  failedBody: (amount, shop) =>
    `Your payment of ${amount} to ${shop} could not be completed, so your order was not placed and you have not been charged.`,
  failedRetryAt: (url) => `You can place your order again at ${url} and choose another payment method.`,
  failedRetryLink: "place your order again",
  failedRetryRest: "and choose another payment method.",
  failedRetry: "You can place your order again from our shop and choose another payment method.",
  reference: "Reference",
  paymentReference: "Payment reference",
  alertSubject: (reason) => `Order not fulfilled: ${reason}`,
  alertHeading: "An order could not be fulfilled",
  alertReason: "Reason",
  alertOrder: (number, sessionId) => `Order ${number}, Checkout Session ${sessionId}`,
  alertNoSession: (key) => `The payment event carried no usable Checkout Session id (ledger key ${key}).`,
  alertRetry: "Look the order up in the Stripe Dashboard, fix the cause, then run:",
  alertByHand:
    "Look for the payment in the Stripe Dashboard (Developers > Events) and fulfil it by hand if it is an order.",
  refundSubject: (number, amount) => `Refund for order ${number}: ${amount}`,
  refundHeading: "Refund recorded",
  refundAmount: (refunded, total) => `${refunded} of ${total} refunded`,
  refundFull: "The order is fully refunded.",
  refundPartial: "The order is partly refunded.",
  accessRevoked: "Its download links no longer work.",
  accessKept: "Its download links keep working.",
  disputeSubject: (number, amount, status) => `Dispute ${status} for order ${number}: ${amount}`,
  disputeHeading: (status) => `Payment dispute ${status}`,
  disputeStatus: (status) => ({ opened: "opened", won: "won", lost: "lost" })[status] ?? status,
  disputeReason: "Reason",
  disputeDueBy: "Evidence due by",
  disputeAccess: (status) =>
    status === "won"
      ? "The order's download links work again."
      : status === "lost"
        ? "The order's download links stay disabled."
        : "The order's download links are disabled until the dispute is resolved.",
  refundedSubject: (shop, number) => `Your refund from ${shop} (order ${number})`,
  refundedHeading: "Your refund is on its way",
  refundedBody: (amount, number) => `We have refunded ${amount} for order ${number}.`,
  refundedTiming: "Depending on your bank, it appears on your statement within 5 to 10 business days.",
  refundedDownloads: "The download links of this order no longer work.",
};

const de: Messages = {
  colon: ": ",
  receiptSubject: (shop, number, total) => `Ihre Bestellung ${number} bei ${shop}: ${total}`,
  receiptHeading: "Vielen Dank für Ihre Bestellung",
  receiptIntro: "Wir haben Ihre Zahlung erhalten. Hier ist Ihre Quittung.",
  orderNumber: "Bestellnummer",
  orderDate: "Bestelldatum",
  item: "Artikel",
  quantity: "Menge",
  unitPrice: "Einzelpreis",
  amount: "Betrag",
  subtotal: "Zwischensumme",
  discount: "Rabatt",
  shipping: "Versand",
  tax: "Steuer",
  taxIncluded: (amount) => `Enthaltene Steuer: ${amount}`,
  total: "Gesamt",
  downloads: "Ihre Downloads",
  downloadsNote: (until, limit) =>
    `Jeder Link öffnet eine Download-Seite. Die Links gelten bis ${until}, für ${limit} Downloads je Datei.`,
  shippingTo: "Lieferadresse",
  questions: (support) =>
    `Fragen zu Ihrer Bestellung? Antworten Sie auf diese E-Mail oder schreiben Sie an ${support}.`,
  visitShop: "Zum Shop",
  noticeSubject: (number, total, items) => `Neue Bestellung ${number}: ${total}, ${items} Artikel`,
  noticeHeading: "Neue Bestellung",
  testOrder: "TESTBESTELLUNG: Es wurde keine echte Zahlung geleistet",
  customer: "Kunde",
  noContact: "Keine Kontaktdaten",
  noReceipt: "Der Kunde hat keine E-Mail-Adresse angegeben: Es wurde keine Quittung gesendet.",
  openInStripe: "Im Stripe-Dashboard öffnen",
  checkoutSession: "Checkout-Sitzung",
  failedSubject: (shop) => `Ihre Zahlung bei ${shop} ist nicht durchgegangen`,
  failedHeading: "Ihre Zahlung ist nicht durchgegangen",
  failedBody: (amount, shop) =>
    `Ihre Zahlung von ${amount} an ${shop} konnte nicht abgeschlossen werden. Ihre Bestellung wurde daher nicht aufgegeben und Ihnen wurde nichts berechnet.`,
  failedRetryAt: (url) =>
    `Sie können Ihre Bestellung unter ${url} erneut aufgeben und eine andere Zahlungsart wählen.`,
  failedRetryLink: "Bestellung erneut aufgeben",
  failedRetryRest: "und eine andere Zahlungsart wählen.",
  failedRetry:
    "Sie können Ihre Bestellung in unserem Shop erneut aufgeben und eine andere Zahlungsart wählen.",
  reference: "Referenz",
  paymentReference: "Zahlungsreferenz",
  alertSubject: (reason) => `Bestellung nicht ausgeführt: ${reason}`,
  alertHeading: "Eine Bestellung konnte nicht ausgeführt werden",
  alertReason: "Grund",
  alertOrder: (number, sessionId) => `Bestellung ${number}, Checkout-Session ${sessionId}`,
  alertNoSession: (key) =>
    `Das Zahlungsereignis enthielt keine verwendbare Checkout-Session-ID (Schlüssel im Auftragsbuch: ${key}).`,
  alertRetry:
    "Suchen Sie die Bestellung im Stripe-Dashboard, beheben Sie die Ursache und führen Sie dann aus:",
  alertByHand:
    "Suchen Sie die Zahlung im Stripe-Dashboard (Entwickler > Ereignisse) und führen Sie sie von Hand aus, falls es eine Bestellung ist.",
  refundSubject: (number, amount) => `Erstattung für Bestellung ${number}: ${amount}`,
  refundHeading: "Erstattung erfasst",
  refundAmount: (refunded, total) => `${refunded} von ${total} erstattet`,
  refundFull: "Die Bestellung ist vollständig erstattet.",
  refundPartial: "Die Bestellung ist teilweise erstattet.",
  accessRevoked: "Ihre Download-Links funktionieren nicht mehr.",
  accessKept: "Ihre Download-Links funktionieren weiterhin.",
  disputeSubject: (number, amount, status) =>
    `Zahlungsanfechtung ${status} – Bestellung ${number}: ${amount}`,
  disputeHeading: (status) => `Zahlungsanfechtung ${status}`,
  disputeStatus: (status) => ({ opened: "eröffnet", won: "gewonnen", lost: "verloren" })[status] ?? status,
  disputeReason: "Grund",
  disputeDueBy: "Nachweise fällig bis",
  disputeAccess: (status) =>
    status === "won"
      ? "Die Download-Links der Bestellung funktionieren wieder."
      : status === "lost"
        ? "Die Download-Links der Bestellung bleiben gesperrt."
        : "Die Download-Links der Bestellung sind gesperrt, bis die Anfechtung geklärt ist.",
  refundedSubject: (shop, number) => `Ihre Erstattung von ${shop} (Bestellung ${number})`,
  refundedHeading: "Ihre Erstattung ist unterwegs",
  refundedBody: (amount, number) => `Wir haben ${amount} für die Bestellung ${number} erstattet.`,
  refundedTiming: "Je nach Bank erscheint sie innerhalb von 5 bis 10 Werktagen auf Ihrem Kontoauszug.",
  refundedDownloads: "Die Download-Links dieser Bestellung funktionieren nicht mehr.",
};

const fr: Messages = {
  colon: "\u00a0: ",
  receiptSubject: (shop, number, total) => `Votre commande ${number} chez ${shop} : ${total}`,
  receiptHeading: "Merci pour votre commande",
  receiptIntro: "Nous avons bien reçu votre paiement. Voici votre reçu.",
  orderNumber: "Numéro de commande",
  orderDate: "Date de commande",
  item: "Article",
  quantity: "Qté",
  unitPrice: "Prix unitaire",
  amount: "Montant",
  subtotal: "Sous-total",
  discount: "Remise",
  shipping: "Livraison",
  tax: "Taxes",
  taxIncluded: (amount) => `Dont ${amount} de taxes`,
  total: "Total",
  downloads: "Vos téléchargements",
  downloadsNote: (until, limit) =>
    `Chaque lien ouvre une page de téléchargement. Les liens sont valables jusqu’au ${until}, pour ${limit}\u00a0téléchargements par fichier.`,
  shippingTo: "Adresse de livraison",
  questions: (support) => `Une question sur votre commande ? Répondez à cet e-mail ou écrivez à ${support}.`,
  visitShop: "Visiter la boutique",
  noticeSubject: (number, total, items) =>
    `Nouvelle commande ${number} : ${total}, ${items} article${items === 1 ? "" : "s"}`,
  noticeHeading: "Nouvelle commande",
  testOrder: "COMMANDE DE TEST : aucun paiement réel n'a été effectué",
  customer: "Client",
  noContact: "Aucune coordonnée",
  noReceipt: "Le client n'a laissé aucune adresse e-mail : aucun reçu n'a été envoyé.",
  openInStripe: "Ouvrir dans le Dashboard Stripe",
  checkoutSession: "Session Checkout",
  failedSubject: (shop) => `Votre paiement chez ${shop} n'a pas abouti`,
  failedHeading: "Votre paiement n'a pas abouti",
  failedBody: (amount, shop) =>
    `Votre paiement de ${amount} à ${shop} n'a pas pu être effectué : votre commande n'a pas été passée et rien ne vous a été débité.`,
  failedRetryAt: (url) =>
    `Vous pouvez repasser votre commande sur ${url} et choisir un autre moyen de paiement.`,
  failedRetryLink: "repasser votre commande",
  failedRetryRest: "et choisir un autre moyen de paiement.",
  failedRetry:
    "Vous pouvez repasser votre commande sur notre boutique et choisir un autre moyen de paiement.",
  reference: "Référence",
  paymentReference: "Référence de paiement",
  alertSubject: (reason) => `Commande non traitée : ${reason}`,
  alertHeading: "Une commande n'a pas pu être traitée",
  alertReason: "Motif",
  alertOrder: (number, sessionId) => `Commande ${number}, session Checkout ${sessionId}`,
  alertNoSession: (key) =>
    `L'événement de paiement ne contenait aucun identifiant de session Checkout utilisable (clé du registre : ${key}).`,
  alertRetry: "Retrouvez la commande dans le Dashboard Stripe, corrigez la cause, puis lancez :",
  alertByHand:
    "Cherchez le paiement dans le Dashboard Stripe (Développeurs > Événements) et traitez-le à la main s'il s'agit d'une commande.",
  refundSubject: (number, amount) => `Remboursement de la commande ${number}\u00a0: ${amount}`,
  refundHeading: "Remboursement enregistré",
  refundAmount: (refunded, total) => `${refunded} remboursés sur ${total}`,
  refundFull: "La commande est entièrement remboursée.",
  refundPartial: "La commande est partiellement remboursée.",
  accessRevoked: "Ses liens de téléchargement ne fonctionnent plus.",
  accessKept: "Ses liens de téléchargement restent valables.",
  disputeSubject: (number, amount, status) => `Litige ${status} pour la commande ${number}\u00a0: ${amount}`,
  disputeHeading: (status) => `Litige de paiement ${status}`,
  disputeStatus: (status) => ({ opened: "ouvert", won: "gagné", lost: "perdu" })[status] ?? status,
  disputeReason: "Motif",
  disputeDueBy: "Preuves à fournir avant le",
  disputeAccess: (status) =>
    status === "won"
      ? "Les liens de téléchargement de la commande fonctionnent de nouveau."
      : status === "lost"
        ? "Les liens de téléchargement de la commande restent désactivés."
        : "Les liens de téléchargement de la commande sont désactivés jusqu’à la résolution du litige.",
  refundedSubject: (shop, number) => `Votre remboursement de ${shop} (commande ${number})`,
  refundedHeading: "Votre remboursement est en route",
  refundedBody: (amount, number) => `Nous avons remboursé ${amount} pour la commande ${number}.`,
  refundedTiming: "Selon votre banque, il apparaît sur votre relevé sous 5 à 10\u00a0jours ouvrés.",
  refundedDownloads: "Les liens de téléchargement de cette commande ne fonctionnent plus.",
};

const es: Messages = {
  colon: ": ",
  receiptSubject: (shop, number, total) => `Tu pedido ${number} en ${shop}: ${total}`,
  receiptHeading: "Gracias por tu pedido",
  receiptIntro: "Hemos recibido tu pago. Aquí tienes tu recibo.",
  orderNumber: "Número de pedido",
  orderDate: "Fecha del pedido",
  item: "Artículo",
  quantity: "Cant.",
  unitPrice: "Precio unitario",
  amount: "Importe",
  subtotal: "Subtotal",
  discount: "Descuento",
  shipping: "Envío",
  tax: "Impuestos",
  taxIncluded: (amount) => `Incluye ${amount} de impuestos`,
  total: "Total",
  downloads: "Tus descargas",
  downloadsNote: (until, limit) =>
    `Cada enlace abre una página de descarga. Los enlaces son válidos hasta el ${until}, para ${limit} descargas de cada archivo.`,
  shippingTo: "Dirección de envío",
  questions: (support) => `¿Preguntas sobre tu pedido? Responde a este correo o escribe a ${support}.`,
  visitShop: "Visitar la tienda",
  noticeSubject: (number, total, items) =>
    `Nuevo pedido ${number}: ${total}, ${items} artículo${items === 1 ? "" : "s"}`,
  noticeHeading: "Nuevo pedido",
  testOrder: "PEDIDO DE PRUEBA: no se realizó ningún pago real",
  customer: "Cliente",
  noContact: "Sin datos de contacto",
  noReceipt: "El cliente no dejó ninguna dirección de correo: no se envió ningún recibo.",
  openInStripe: "Abrir en el Dashboard de Stripe",
  checkoutSession: "Sesión de Checkout",
  failedSubject: (shop) => `Tu pago en ${shop} no se ha completado`,
  failedHeading: "Tu pago no se ha completado",
  failedBody: (amount, shop) =>
    `No se pudo completar tu pago de ${amount} a ${shop}, así que tu pedido no se realizó y no se te ha cobrado nada.`,
  failedRetryAt: (url) => `Puedes volver a hacer tu pedido en ${url} y elegir otro método de pago.`,
  failedRetryLink: "volver a hacer tu pedido",
  failedRetryRest: "y elegir otro método de pago.",
  failedRetry: "Puedes volver a hacer tu pedido desde nuestra tienda y elegir otro método de pago.",
  reference: "Referencia",
  paymentReference: "Referencia de pago",
  alertSubject: (reason) => `Pedido no completado: ${reason}`,
  alertHeading: "No se pudo completar un pedido",
  alertReason: "Motivo",
  alertOrder: (number, sessionId) => `Pedido ${number}, sesión de Checkout ${sessionId}`,
  alertNoSession: (key) =>
    `El evento de pago no incluía un identificador de sesión de Checkout utilizable (clave del registro: ${key}).`,
  alertRetry: "Busca el pedido en el Dashboard de Stripe, corrige la causa y luego ejecuta:",
  alertByHand:
    "Busca el pago en el Dashboard de Stripe (Desarrolladores > Eventos) y complétalo a mano si es un pedido.",
  refundSubject: (number, amount) => `Reembolso del pedido ${number}: ${amount}`,
  refundHeading: "Reembolso registrado",
  refundAmount: (refunded, total) => `${refunded} de ${total} reembolsados`,
  refundFull: "El pedido está reembolsado por completo.",
  refundPartial: "El pedido está reembolsado en parte.",
  accessRevoked: "Sus enlaces de descarga ya no funcionan.",
  accessKept: "Sus enlaces de descarga siguen funcionando.",
  disputeSubject: (number, amount, status) => `Disputa ${status} del pedido ${number}: ${amount}`,
  disputeHeading: (status) => `Disputa de pago ${status}`,
  disputeStatus: (status) => ({ opened: "abierta", won: "ganada", lost: "perdida" })[status] ?? status,
  disputeReason: "Motivo",
  disputeDueBy: "Pruebas hasta el",
  disputeAccess: (status) =>
    status === "won"
      ? "Los enlaces de descarga del pedido vuelven a funcionar."
      : status === "lost"
        ? "Los enlaces de descarga del pedido siguen desactivados."
        : "Los enlaces de descarga del pedido están desactivados hasta que se resuelva la disputa.",
  refundedSubject: (shop, number) => `Tu reembolso de ${shop} (pedido ${number})`,
  refundedHeading: "Tu reembolso está en camino",
  refundedBody: (amount, number) => `Hemos reembolsado ${amount} del pedido ${number}.`,
  refundedTiming: "Según tu banco, aparecerá en tu extracto en un plazo de 5 a 10 días hábiles.",
  refundedDownloads: "Los enlaces de descarga de este pedido ya no funcionan.",
};

const MESSAGES: Record<Language, Messages> = { en, de, fr, es };

/** The email texts for a locale; English for languages without texts. */
export function messagesFor(locale: string): Messages {
  return MESSAGES[languageOf(locale)];
}
