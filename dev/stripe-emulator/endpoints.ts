// Events (list, retrieve) and webhook endpoints (create, retrieve, update, list, delete).
import { invalidParam, missingParam } from "./errors.ts";
import { createdFilter, LIST_PARAMS, newestMatching, paginate } from "./lists.ts";
import { type EventObject, type ListObject, newId, unixNow, type WebhookEndpointObject } from "./objects.ts";
import { mergeMetadata, type Params } from "./params.ts";
import type { EmulatorState } from "./state.ts";

/** Whether an event type matches a `type` filter, where `*` is a wildcard (e.g. `checkout.session.*`). */
function typeMatches(filter: string, type: string): boolean {
  if (!filter.includes("*")) return filter === type;
  const pattern = new RegExp(
    `^${filter
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return pattern.test(type);
}

/** GET /v1/events, newest first. */
export function listEvents(state: EmulatorState, params: Params): ListObject<EventObject> {
  params.allowOnly([...LIST_PARAMS, "type", "types", "created", "delivery_success"]);
  const type = params.string("type");
  const types = params.stringList("types");
  if (type !== undefined && types !== undefined) {
    throw invalidParam("types", "You may only specify one of these parameters: type, types.");
  }
  if (types && types.length > 20) throw invalidParam("types", "You may pass at most 20 types.");
  const created = createdFilter(params);
  const events = newestMatching(
    state.events.values(),
    created,
    {},
    (event) =>
      (type === undefined || typeMatches(type, event.type)) &&
      (types === undefined || types.some((filter) => typeMatches(filter, event.type))),
  );
  return paginate(events, params, "/v1/events", "event");
}

function urlParam(params: Params): string {
  const url = params.requiredString("url");
  if (!/^https?:\/\/\S+$/.test(url))
    throw invalidParam("url", "Invalid URL: must be an http(s) URL.", "url_invalid");
  return url;
}

function enabledEventsParam(params: Params): string[] {
  const events = params.stringList("enabled_events");
  if (!events || events.length === 0) throw missingParam("enabled_events");
  for (const [index, event] of events.entries()) {
    if (!/^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$/.test(event)) {
      throw invalidParam(`enabled_events[${index}]`, `Invalid event type: ${event}`);
    }
  }
  return events;
}

/** POST /v1/webhook_endpoints: the only response that carries the signing `secret`. */
export function createWebhookEndpoint(state: EmulatorState, params: Params): WebhookEndpointObject {
  params.allowOnly(["url", "enabled_events", "description", "metadata", "api_version", "connect", "expand"]);
  const endpoint: WebhookEndpointObject = {
    id: newId("we"),
    object: "webhook_endpoint",
    api_version: params.nullableString("api_version") ?? null,
    application: null,
    created: unixNow(),
    description: params.nullableString("description") ?? null,
    enabled_events: enabledEventsParam(params),
    livemode: false,
    metadata: mergeMetadata({}, params.metadata()),
    status: "enabled",
    url: urlParam(params),
  };
  const secret = newId("whsec");
  state.webhookEndpoints.set(endpoint.id, { endpoint, secret });
  return { ...endpoint, secret };
}

/** POST /v1/webhook_endpoints/:id */
export function updateWebhookEndpoint(
  state: EmulatorState,
  id: string,
  params: Params,
): WebhookEndpointObject {
  params.allowOnly(["url", "enabled_events", "description", "metadata", "disabled", "expand"]);
  const { endpoint } = state.webhookEndpoint(id);
  if (params.has("url")) endpoint.url = urlParam(params);
  if (params.has("enabled_events")) endpoint.enabled_events = enabledEventsParam(params);
  const description = params.nullableString("description");
  if (description !== undefined) endpoint.description = description;
  endpoint.metadata = mergeMetadata(endpoint.metadata, params.metadata());
  const disabled = params.boolean("disabled");
  if (disabled !== undefined) endpoint.status = disabled ? "disabled" : "enabled";
  return endpoint;
}

/** DELETE /v1/webhook_endpoints/:id */
export function deleteWebhookEndpoint(
  state: EmulatorState,
  id: string,
): { id: string; object: "webhook_endpoint"; deleted: true } {
  state.webhookEndpoint(id);
  state.webhookEndpoints.delete(id);
  return { id, object: "webhook_endpoint", deleted: true };
}

/** GET /v1/webhook_endpoints, newest first. */
export function listWebhookEndpoints(
  state: EmulatorState,
  params: Params,
): ListObject<WebhookEndpointObject> {
  params.allowOnly([...LIST_PARAMS]);
  const endpoints = [...state.webhookEndpoints.values()].map((record) => record.endpoint).reverse();
  return paginate(endpoints, params, "/v1/webhook_endpoints", "webhook_endpoint");
}
