/**
 * Refunds and disputes as the shop reads them, mapped once from Stripe's Charge and Dispute objects (signed, but
 * still input: every field is checked before it names a record or reaches an email).
 */
import { isKnownCurrency } from "../lib/money.ts";
import { isCustomerEmail, PAYMENT_INTENT_ID } from "./session.ts";

/** A charge's refund state as `charge.refunded` reports it. Amounts in minor units. */
export interface ChargeRefund {
  chargeId: string;
  paymentIntent: string;
  currency: string;
  amount: number;
  amountRefunded: number;
  /** Stripe's `refunded`: true once the whole charge is refunded. */
  full: boolean;
  /** The address the charge names (billing details or receipt email), for the customer's confirmation. */
  customerEmail: string | undefined;
  livemode: boolean;
}

/** A dispute as `charge.dispute.created` / `.closed` report it. Amount in minor units. */
export interface DisputeChange {
  disputeId: string;
  paymentIntent: string;
  currency: string;
  amount: number;
  /** Stripe's reason code, e.g. `fraudulent`. */
  reason: string;
  /** Stripe's status: `needs_response`, `under_review`, `won`, `lost`, `warning_closed`... */
  status: string;
  closed: boolean;
  /** When the evidence is due (ms), if Stripe says. */
  dueBy: number | undefined;
  livemode: boolean;
}

/** The parts of a Charge we read. */
interface ChargePayload {
  id?: unknown;
  amount?: unknown;
  amount_refunded?: unknown;
  currency?: unknown;
  payment_intent?: unknown;
  refunded?: unknown;
  receipt_email?: unknown;
  billing_details?: { email?: unknown } | null;
  livemode?: unknown;
}

/** The parts of a Dispute we read. */
interface DisputePayload {
  id?: unknown;
  amount?: unknown;
  currency?: unknown;
  payment_intent?: unknown;
  reason?: unknown;
  status?: unknown;
  evidence_details?: { due_by?: unknown } | null;
  livemode?: unknown;
}

/** What came out of a payload: the mapped value, or why it is not one of this shop's (`ignore`) or unusable. */
export type Mapped<T> = { value: T } | { ignore: string } | { problem: string };

const CHARGE_ID = /^(ch|py)_[A-Za-z0-9]{1,250}$/;
const DISPUTE_ID = /^(dp|du)_[A-Za-z0-9]{1,250}$/;
const CODE = /^[a-z_]{1,64}$/;

/** The fields a charge and a dispute share, checked: its own id, the PaymentIntent, the currency and amount. */
function common(
  payload: { id?: unknown; payment_intent?: unknown; currency?: unknown; amount?: unknown },
  ids: RegExp,
  invalid: string,
): Mapped<{ id: string; paymentIntent: string; currency: string; amount: number }> {
  // A payment without a PaymentIntent (the old Charges API) was not made by a Payment Link.
  if (payload.payment_intent === null || payload.payment_intent === undefined)
    return { ignore: "no_payment_intent" };
  const paymentIntent = idOf(payload.payment_intent);
  if (typeof payload.id !== "string" || !ids.test(payload.id) || !paymentIntent) return { problem: invalid };
  const currency = currencyOf(payload.currency);
  if (!currency) return { problem: "invalid_currency" };
  if (!isMinor(payload.amount)) return { problem: "invalid_amount" };
  return { value: { id: payload.id, paymentIntent, currency, amount: payload.amount } };
}

/** Maps a `charge.refunded` object. */
export function toChargeRefund(object: unknown): Mapped<ChargeRefund> {
  const charge = (object ?? {}) as ChargePayload;
  const checked = common(charge, CHARGE_ID, "invalid_charge");
  if (!("value" in checked)) return checked;
  const { id, paymentIntent, currency, amount } = checked.value;
  if (!isMinor(charge.amount_refunded)) return { problem: "invalid_amount" };
  const email = [charge.billing_details?.email, charge.receipt_email].find((value) => isCustomerEmail(value));
  return {
    value: {
      chargeId: id,
      paymentIntent,
      currency,
      amount,
      amountRefunded: charge.amount_refunded,
      full: charge.refunded === true,
      customerEmail: email as string | undefined,
      livemode: charge.livemode === true,
    },
  };
}

/** Maps a `charge.dispute.*` object; `closed` for `charge.dispute.closed`. */
export function toDisputeChange(object: unknown, closed: boolean): Mapped<DisputeChange> {
  const dispute = (object ?? {}) as DisputePayload;
  const checked = common(dispute, DISPUTE_ID, "invalid_dispute");
  if (!("value" in checked)) return checked;
  const { id, paymentIntent, currency, amount } = checked.value;
  const due = dispute.evidence_details?.due_by;
  return {
    value: {
      disputeId: id,
      paymentIntent,
      currency,
      amount,
      reason: typeof dispute.reason === "string" && CODE.test(dispute.reason) ? dispute.reason : "unknown",
      status: typeof dispute.status === "string" && CODE.test(dispute.status) ? dispute.status : "unknown",
      closed,
      dueBy: typeof due === "number" && Number.isSafeInteger(due) && due > 0 ? due * 1000 : undefined,
      livemode: dispute.livemode === true,
    },
  };
}

/** The PaymentIntent id of a field that holds the id or the expanded object, when it has Stripe's format. */
function idOf(value: unknown): string | undefined {
  const id = typeof value === "object" && value !== null ? (value as { id?: unknown }).id : value;
  return typeof id === "string" && PAYMENT_INTENT_ID.test(id) ? id : undefined;
}

function currencyOf(value: unknown): string | undefined {
  return typeof value === "string" && /^[a-zA-Z]{3}$/.test(value) && isKnownCurrency(value)
    ? value.toLowerCase()
    : undefined;
}

function isMinor(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
