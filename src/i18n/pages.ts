/** The static words of the site's shared layout and thank-you page, in each language the shop can choose. */
import { type Language, languageOf } from "./languages.ts";

/** Texts of the layout and the thank-you page (its script holds the texts of each order state). */
export interface PageMessages {
  skipLink: string;
  questions: string;
  securePayments: string;
  thanksTitle: string;
  thanksDescription: (shop: string) => string;
  checkingHeading: string;
  checking: string;
  noscriptHeading: string;
  noscript: string;
  noscriptQuestions: string;
  backToShop: string;
}

const PAGES: Record<Language, PageMessages> = {
  en: {
    skipLink: "Skip to main content",
    questions: "Questions about an order?",
    securePayments: "Payments are processed securely by Stripe.",
    thanksTitle: "Your order",
    thanksDescription: (shop) => `Order status at ${shop}`,
    checkingHeading: "Checking your order…",
    checking: "This takes a moment.",
    noscriptHeading: "Thank you for your order",
    noscript:
      "Turn on JavaScript to see your order's status here. If your payment went through, a receipt is on its way to your email.",
    noscriptQuestions: "Questions? Write to",
    backToShop: "Back to the shop",
  },
  de: {
    skipLink: "Zum Inhalt springen",
    questions: "Fragen zu einer Bestellung?",
    securePayments: "Zahlungen werden sicher von Stripe abgewickelt.",
    thanksTitle: "Ihre Bestellung",
    thanksDescription: (shop) => `Bestellstatus bei ${shop}`,
    checkingHeading: "Ihre Bestellung wird geprüft…",
    checking: "Das dauert einen Moment.",
    noscriptHeading: "Vielen Dank für Ihre Bestellung",
    noscript:
      "Aktivieren Sie JavaScript, um hier den Status Ihrer Bestellung zu sehen. Wenn Ihre Zahlung durchgegangen ist, ist eine Quittung per E-Mail unterwegs.",
    noscriptQuestions: "Fragen? Schreiben Sie an",
    backToShop: "Zurück zum Shop",
  },
  fr: {
    skipLink: "Aller au contenu principal",
    questions: "Une question sur une commande ?",
    securePayments: "Les paiements sont traités en toute sécurité par Stripe.",
    thanksTitle: "Votre commande",
    thanksDescription: (shop) => `Suivi de commande chez ${shop}`,
    checkingHeading: "Vérification de votre commande…",
    checking: "Cela prend un instant.",
    noscriptHeading: "Merci pour votre commande",
    noscript:
      "Activez JavaScript pour voir ici l'état de votre commande. Si votre paiement a abouti, un reçu est en route vers votre adresse e-mail.",
    noscriptQuestions: "Une question ? Écrivez à",
    backToShop: "Retour à la boutique",
  },
  es: {
    skipLink: "Saltar al contenido principal",
    questions: "¿Preguntas sobre un pedido?",
    securePayments: "Stripe procesa los pagos de forma segura.",
    thanksTitle: "Tu pedido",
    thanksDescription: (shop) => `Estado del pedido en ${shop}`,
    checkingHeading: "Comprobando tu pedido…",
    checking: "Tardará un momento.",
    noscriptHeading: "Gracias por tu pedido",
    noscript:
      "Activa JavaScript para ver aquí el estado de tu pedido. Si tu pago se completó, te hemos enviado un recibo por correo.",
    noscriptQuestions: "¿Preguntas? Escribe a",
    backToShop: "Volver a la tienda",
  },
};

/** The page texts for a locale; English for languages without texts. */
export function pageMessagesFor(locale: string): PageMessages {
  return PAGES[languageOf(locale)];
}
