// Disputes: opened by Stripe's dispute test cards or the emulator's dev route, then listed, updated (metadata,
// evidence) and closed through the API, with the charge.dispute.* events Stripe sends for each step.
import { invalidParam, invalidState, StripeError } from "./errors.ts";
import { listOfPayments } from "./lists.ts";
import {
  type ChargeObject,
  type DisputeObject,
  type EventObject,
  type Json,
  type ListObject,
  newId,
  unixNow,
} from "./objects.ts";
import { mergeMetadata, type Params } from "./params.ts";
import { type EmulatorState, NO_REQUEST, type RequestInfo } from "./state.ts";

/** How long the merchant has to answer, seconds (the networks give 7 to 21 days; Stripe's earliest). */
const RESPONSE_WINDOW_S = 7 * 24 * 60 * 60;

/** Stripe's dispute reason codes. */
export const DISPUTE_REASONS = [
  "bank_cannot_process",
  "check_returned",
  "credit_not_processed",
  "customer_initiated",
  "debit_not_authorized",
  "duplicate",
  "fraudulent",
  "general",
  "incorrect_account_details",
  "insufficient_funds",
  "noncompliant",
  "product_not_received",
  "product_unacceptable",
  "subscription_canceled",
  "unrecognized",
] as const;

/** The evidence a merchant can submit (fixtures3.json's `dispute.evidence`, without `enhanced_evidence`). */
const EVIDENCE_FIELDS = [
  "access_activity_log",
  "billing_address",
  "cancellation_policy",
  "cancellation_policy_disclosure",
  "cancellation_rebuttal",
  "customer_communication",
  "customer_email_address",
  "customer_name",
  "customer_purchase_ip",
  "customer_signature",
  "duplicate_charge_documentation",
  "duplicate_charge_explanation",
  "duplicate_charge_id",
  "product_description",
  "receipt",
  "refund_policy",
  "refund_policy_disclosure",
  "refund_refusal_explanation",
  "service_date",
  "service_documentation",
  "shipping_address",
  "shipping_carrier",
  "shipping_date",
  "shipping_documentation",
  "shipping_tracking_number",
  "uncategorized_file",
  "uncategorized_text",
] as const;

/** Statuses of a dispute the merchant can still answer; every other one is closed. */
const OPEN_STATUSES = new Set<DisputeObject["status"]>([
  "warning_needs_response",
  "warning_under_review",
  "needs_response",
  "under_review",
]);

export const isOpen = (dispute: DisputeObject): boolean => OPEN_STATUSES.has(dispute.status);

/** A dispute and the event that reported its latest change. */
export interface DisputeChange {
  dispute: DisputeObject;
  event: EventObject;
}

/** What the cardholder claims: a chargeback for `reason` (default `fraudulent`), or an inquiry (`general`). */
export interface OpenDisputeOptions {
  reason?: string;
  inquiry?: boolean;
}

/**
 * Opens a dispute on a succeeded charge for what is left of it: `charge.dispute.created`, then for a chargeback
 * (which takes the money back at once, unlike an inquiry) `charge.dispute.funds_withdrawn`. A charge has one dispute
 * at most, as on Stripe.
 */
export function openDispute(
  state: EmulatorState,
  charge: ChargeObject,
  options: OpenDisputeOptions = {},
  request: RequestInfo = NO_REQUEST,
): DisputeChange {
  const inquiry = options.inquiry ?? false;
  const reason = options.reason ?? (inquiry ? "general" : "fraudulent");
  if (!(DISPUTE_REASONS as readonly string[]).includes(reason)) {
    throw invalidParam("reason", `Invalid reason: must be one of ${DISPUTE_REASONS.join(", ")}.`);
  }
  const existing = [...state.disputes.values()].find((dispute) => dispute.charge === charge.id);
  if (existing) throw invalidState(`Charge ${charge.id} already has a dispute (${existing.id}).`, "charge");
  const amount = charge.amount_captured - charge.amount_refunded;
  if (amount <= 0) throw invalidState(`Charge ${charge.id} is fully refunded: nothing is left to dispute.`);
  const now = unixNow();
  const details = charge.payment_method_details as { type?: string; card?: { brand?: string } } | null;
  const brand = details?.card?.brand ?? "visa";
  const dispute: DisputeObject = {
    id: newId("dp"),
    object: "dispute",
    amount,
    balance_transactions: [],
    charge: charge.id,
    created: now,
    currency: charge.currency,
    evidence: { ...Object.fromEntries(EVIDENCE_FIELDS.map((field) => [field, null])), enhanced_evidence: {} },
    evidence_details: {
      due_by: now + RESPONSE_WINDOW_S,
      enhanced_eligibility: {},
      has_evidence: false,
      past_due: false,
      submission_count: 0,
    },
    enhanced_eligibility_types: [],
    is_charge_refundable: inquiry,
    livemode: false,
    metadata: {},
    payment_intent: charge.payment_intent,
    payment_method_details:
      details?.type === "card"
        ? {
            card: {
              brand,
              case_type: inquiry ? "inquiry" : "chargeback",
              network_reason_code: reason === "fraudulent" ? "10.4" : null,
              network: brand,
            },
            type: "card",
          }
        : { type: details?.type ?? "card" },
    reason,
    status: inquiry ? "warning_needs_response" : "needs_response",
  };
  state.disputes.set(dispute.id, dispute);
  charge.disputed = true;
  const event = state.emit("charge.dispute.created", dispute, request);
  if (!inquiry) state.emit("charge.dispute.funds_withdrawn", dispute, request);
  return { dispute, event };
}

/**
 * Closes an open dispute as the card network decides it: `won` or `lost` (an inquiry that goes the merchant's way
 * closes as `warning_closed`), with `charge.dispute.closed`, then for a won chargeback
 * `charge.dispute.funds_reinstated`.
 */
export function decideDispute(
  state: EmulatorState,
  id: string,
  outcome: "won" | "lost",
  request: RequestInfo = NO_REQUEST,
): DisputeChange {
  const dispute = state.dispute(id);
  const inquiry = dispute.status.startsWith("warning_");
  const event = closeAs(state, dispute, outcome === "won" && inquiry ? "warning_closed" : outcome, request);
  if (outcome === "won" && !inquiry) state.emit("charge.dispute.funds_reinstated", dispute, request);
  return { dispute, event };
}

/** POST /v1/disputes/:id/close: the merchant accepts it, so a chargeback is lost and an inquiry closed. */
export function closeDispute(state: EmulatorState, id: string, request: RequestInfo): DisputeObject {
  const dispute = state.dispute(id);
  closeAs(state, dispute, dispute.status.startsWith("warning_") ? "warning_closed" : "lost", request);
  return dispute;
}

function closeAs(
  state: EmulatorState,
  dispute: DisputeObject,
  status: DisputeObject["status"],
  request: RequestInfo,
): EventObject {
  requireOpen(dispute);
  const previous = dispute.status;
  dispute.status = status;
  return state.emit("charge.dispute.closed", dispute, request, { status: previous });
}

function requireOpen(dispute: DisputeObject): void {
  if (!isOpen(dispute)) {
    throw new StripeError(400, `This dispute is already closed (status ${dispute.status}).`, {
      code: "dispute_already_closed",
    });
  }
}

/**
 * POST /v1/disputes/:id: metadata and evidence; `submit=true` (the default, as on Stripe) sends the evidence for
 * review. In test mode Stripe decides a submitted dispute whose `uncategorized_text` is `winning_evidence` or
 * `losing_evidence` at once; so does the emulator.
 */
export function updateDispute(
  state: EmulatorState,
  id: string,
  params: Params,
  request: RequestInfo,
): DisputeObject {
  params.allowOnly(["metadata", "evidence", "submit", "expand"]);
  const dispute = state.dispute(id);
  const evidence = params.map("evidence");
  if (evidence) {
    evidence.allowOnly(EVIDENCE_FIELDS);
    requireOpen(dispute);
  }
  const before = structuredClone(dispute);
  dispute.metadata = mergeMetadata(dispute.metadata, params.metadata());
  if (evidence) {
    for (const field of evidence.keys()) dispute.evidence[field] = evidence.nullableString(field) ?? null;
  }
  const submit = evidence !== undefined && (params.boolean("submit") ?? true);
  if (submit) {
    dispute.evidence_details.has_evidence = true;
    dispute.evidence_details.submission_count += 1;
    dispute.status = dispute.status.startsWith("warning_") ? "warning_under_review" : "under_review";
  }
  const previous: Record<string, Json> = {};
  for (const key of ["metadata", "evidence", "evidence_details", "status"] as const) {
    if (JSON.stringify(before[key]) !== JSON.stringify(dispute[key])) previous[key] = before[key];
  }
  if (Object.keys(previous).length > 0) state.emit("charge.dispute.updated", dispute, request, previous);
  const text = dispute.evidence.uncategorized_text;
  if (submit && (text === "winning_evidence" || text === "losing_evidence")) {
    decideDispute(state, id, text === "winning_evidence" ? "won" : "lost", request);
  }
  return dispute;
}

/** GET /v1/disputes, newest first; `charge` and `payment_intent` filter. */
export function listDisputes(state: EmulatorState, params: Params): ListObject<DisputeObject> {
  return listOfPayments(state.disputes.values(), params, "/v1/disputes", "dispute");
}
