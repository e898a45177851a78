/** Whether a request comes from this machine: what the local stand-ins check before answering a browser. */

/** localhost, 127.0.0.1 or [::1], with or without a port: the names the emulator is reached by on this machine. */
const LOCAL_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;

/** Whether a Host header names this machine (so a DNS-rebinding name pointed at 127.0.0.1 does not pass). */
export function isLocalHost(host: string | undefined): boolean {
  return host !== undefined && LOCAL_HOST.test(host);
}

/**
 * Whether an Origin header leaves the request to this machine: absent (curl, the SDKs, the trigger command and tests
 * send none) or a local http origin. A page of any other site, and an opaque `null` origin, do not.
 */
export function isLocalOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    const url = new URL(origin);
    return url.protocol === "http:" && isLocalHost(url.host);
  } catch {
    return false;
  }
}
