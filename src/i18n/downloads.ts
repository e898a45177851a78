/** Every word of the download page, in each language the shop can choose. Values arrive formatted for the locale. */
import { type Language, languageOf } from "./languages.ts";

/** Texts of the download page. */
export interface DownloadMessages {
  title: string;
  /** `3 of 5 downloads left` */
  left: (left: number, limit: number) => string;
  until: (date: string) => string;
  size: string;
  button: string;
  /** Under the button: opening the page does not count. */
  onlyTransfersCount: string;
  invalidTitle: string;
  invalid: string;
  expiredTitle: string;
  expired: (order: string) => string;
  limitTitle: string;
  limit: (limit: number, order: string) => string;
  refundedTitle: string;
  refunded: (order: string) => string;
  disputedTitle: string;
  disputed: (order: string) => string;
  unavailableTitle: string;
  unavailable: string;
  help: string;
  order: (number: string) => string;
}

const en: DownloadMessages = {
  title: "Your download",
  left: (left, limit) => `${left} of ${limit} downloads left`,
  until: (date) => `Link valid until ${date}`,
  size: "Size",
  button: "Download",
  onlyTransfersCount: "Only the download itself counts; opening this page does not.",
  invalidTitle: "This link is not valid",
  invalid: "Check that the whole link from your receipt was opened; a changed or cut-off link does not work.",
  expiredTitle: "This link has expired",
  expired: (order) => `Write to us with your order number ${order} and we will send you a new link.`,
  limitTitle: "Download limit reached",
  limit: (limit, order) =>
    `This file has been downloaded ${limit} times, the limit for one order. Write to us with your order number ${order} if you need it again.`,
  refundedTitle: "This order was refunded",
  refunded: (order) => `Order ${order} was refunded, so its files are no longer available.`,
  disputedTitle: "This order is under review",
  disputed: (order) =>
    `A payment dispute for order ${order} is open; its files are unavailable until it is resolved.`,
  unavailableTitle: "Download unavailable",
  unavailable: "The file cannot be delivered right now. Please try again in a minute.",
  help: "Questions? Write to",
  order: (number) => `Order ${number}`,
};

const de: DownloadMessages = {
  title: "Ihr Download",
  left: (left, limit) => `Noch ${left} von ${limit} Downloads`,
  until: (date) => `Link gültig bis ${date}`,
  size: "Größe",
  button: "Herunterladen",
  onlyTransfersCount: "Nur das Herunterladen selbst zählt, nicht das Öffnen dieser Seite.",
  invalidTitle: "Dieser Link ist ungültig",
  invalid:
    "Bitte öffnen Sie den vollständigen Link aus Ihrer Bestellbestätigung; ein veränderter oder abgeschnittener Link funktioniert nicht.",
  expiredTitle: "Dieser Link ist abgelaufen",
  expired: (order) =>
    `Schreiben Sie uns mit Ihrer Bestellnummer ${order}, dann senden wir Ihnen einen neuen Link.`,
  limitTitle: "Download-Limit erreicht",
  limit: (limit, order) =>
    `Diese Datei wurde ${limit}-mal heruntergeladen, das Limit für eine Bestellung. Schreiben Sie uns mit Ihrer Bestellnummer ${order}, wenn Sie sie erneut benötigen.`,
  refundedTitle: "Diese Bestellung wurde erstattet",
  refunded: (order) =>
    `Die Bestellung ${order} wurde erstattet, ihre Dateien sind daher nicht mehr verfügbar.`,
  disputedTitle: "Diese Bestellung wird geprüft",
  disputed: (order) =>
    `Zur Bestellung ${order} ist eine Zahlungsanfechtung offen; ihre Dateien sind bis zur Klärung nicht verfügbar.`,
  unavailableTitle: "Download nicht verfügbar",
  unavailable: "Die Datei kann gerade nicht geliefert werden. Bitte versuchen Sie es in einer Minute erneut.",
  help: "Fragen? Schreiben Sie an",
  order: (number) => `Bestellung ${number}`,
};

const fr: DownloadMessages = {
  title: "Votre téléchargement",
  left: (left, limit) =>
    `${left} téléchargement${left > 1 ? "s" : ""} restant${left > 1 ? "s" : ""} sur ${limit}`,
  until: (date) => `Lien valable jusqu’au ${date}`,
  size: "Taille",
  button: "Télécharger",
  onlyTransfersCount: "Seul le téléchargement compte\u00a0; ouvrir cette page ne compte pas.",
  invalidTitle: "Ce lien n’est pas valide",
  invalid:
    "Vérifiez que le lien complet de votre reçu a été ouvert\u00a0; un lien modifié ou tronqué ne fonctionne pas.",
  expiredTitle: "Ce lien a expiré",
  expired: (order) =>
    `Écrivez-nous avec votre numéro de commande ${order} et nous vous enverrons un nouveau lien.`,
  limitTitle: "Limite de téléchargements atteinte",
  limit: (limit, order) =>
    `Ce fichier a été téléchargé ${limit}\u00a0fois, la limite pour une commande. Écrivez-nous avec votre numéro de commande ${order} si vous en avez encore besoin.`,
  refundedTitle: "Cette commande a été remboursée",
  refunded: (order) => `La commande ${order} a été remboursée\u00a0; ses fichiers ne sont plus disponibles.`,
  disputedTitle: "Cette commande est en cours d’examen",
  disputed: (order) =>
    `Un litige de paiement est ouvert pour la commande ${order}\u00a0; ses fichiers sont indisponibles jusqu’à sa résolution.`,
  unavailableTitle: "Téléchargement indisponible",
  unavailable: "Le fichier ne peut pas être livré pour le moment. Réessayez dans une minute.",
  help: "Des questions\u00a0? Écrivez à",
  order: (number) => `Commande ${number}`,
};

const es: DownloadMessages = {
  title: "Tu descarga",
  left: (left, limit) => `Quedan ${left} de ${limit} descargas`,
  until: (date) => `Enlace válido hasta el ${date}`,
  size: "Tamaño",
  button: "Descargar",
  onlyTransfersCount: "Solo cuenta la descarga en sí; abrir esta página no cuenta.",
  invalidTitle: "Este enlace no es válido",
  invalid:
    "Comprueba que abriste el enlace completo de tu recibo; un enlace modificado o cortado no funciona.",
  expiredTitle: "Este enlace ha caducado",
  expired: (order) => `Escríbenos con tu número de pedido ${order} y te enviaremos un enlace nuevo.`,
  limitTitle: "Límite de descargas alcanzado",
  limit: (limit, order) =>
    `Este archivo se ha descargado ${limit} veces, el límite para un pedido. Escríbenos con tu número de pedido ${order} si lo necesitas de nuevo.`,
  refundedTitle: "Este pedido fue reembolsado",
  refunded: (order) => `El pedido ${order} fue reembolsado, así que sus archivos ya no están disponibles.`,
  disputedTitle: "Este pedido está en revisión",
  disputed: (order) =>
    `Hay una disputa de pago abierta para el pedido ${order}; sus archivos no están disponibles hasta que se resuelva.`,
  unavailableTitle: "Descarga no disponible",
  unavailable: "No se puede entregar el archivo en este momento. Vuelve a intentarlo en un minuto.",
  help: "¿Preguntas? Escribe a",
  order: (number) => `Pedido ${number}`,
};

const MESSAGES: Record<Language, DownloadMessages> = { en, de, fr, es };

/** The download page's texts for a locale; English for languages without texts. */
export function downloadMessagesFor(locale: string): DownloadMessages {
  return MESSAGES[languageOf(locale)];
}
