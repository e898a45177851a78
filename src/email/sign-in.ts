/** The sign-in email of the customer's pages: a link to their orders, how long it works, in the shop's language. */
import { html } from "../lib/html.ts";
import { translator } from "../i18n/messages.ts";
import { SIGN_IN_MINUTES } from "../order/sign-in.ts";
import type { ShopInfo } from "../shop/info.ts";
import type { RenderedEmail } from "./templates.ts";

// The receipt's colours and type, so the shop's emails look alike.
const INK = "#1a1a1a";
const MUTED = "#5f6368";
const DEFAULT_ACCENT = "#1f5f8b";
const FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";

/** The email with the sign-in link `url` (the customer's orders page). */
export function renderSignIn(url: string, shop: ShopInfo): RenderedEmail {
  const t = translator(shop.locale, "customer");
  const accent = shop.accentColor ?? DEFAULT_ACCENT;
  const subject = t("signInSubject", { shop: shop.name });
  const body = t("signInBody", { shop: shop.name });
  const validity = t("signInValidity", { minutes: SIGN_IN_MINUTES });
  const help = `${t("help")} ${shop.supportEmail}`;
  const page = html`<!doctype html>
<html lang="${shop.locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark"><title>${subject}</title></head>
<body style="margin:0;padding:0;background:#f4f4f4;${FONT};color:${INK}">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f4f4"><tr><td align="center" style="padding:16px 8px">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background:#ffffff;border-collapse:collapse;${FONT};font-size:15px;line-height:1.5;color:${INK}">
  <tr><td style="padding:20px 24px;border-bottom:3px solid ${accent}"><span style="font-size:18px;font-weight:bold;color:${accent}">${shop.name}</span></td></tr>
  <tr><td style="padding:24px">
    <h1 style="margin:0 0 8px;font-size:22px;line-height:1.3;color:${accent}">${t("signInHeading")}</h1>
    <p style="margin:0 0 20px">${body}</p>
    <p style="margin:0 0 20px"><a href="${url}" style="display:inline-block;padding:12px 20px;background:${accent};color:#ffffff;font-weight:bold;text-decoration:none;border-radius:6px">${t("signInButton")}</a></p>
    <p style="margin:0 0 12px;color:${MUTED}">${validity}</p>
    <p style="margin:0;font-size:12px;color:${MUTED};word-break:break-all">${url}</p>
  </td></tr>
  <tr><td style="padding:16px 24px;border-top:1px solid #e3e3e3;font-size:13px;color:${MUTED}">${t("help")} <a href="mailto:${shop.supportEmail}" style="color:${accent}">${shop.supportEmail}</a></td></tr>
</table>
</td></tr></table>
</body></html>`;
  const text = [shop.name, "", t("signInHeading"), body, "", url, "", validity, "", "--", help, ""];
  return { subject, html: page.value, text: text.join("\n") };
}
