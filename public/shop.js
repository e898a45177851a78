// Shop page: carries ?email= and ?ref= from this page's URL onto every Buy link as Stripe's prefilled_email and
// client_reference_id, so a link shared from a newsletter or an affiliate arrives at checkout pre-filled.
const params = new URLSearchParams(window.location.search);
const email = params.get("email");
const ref = params.get("ref");
// Stripe rejects malformed values at checkout; dropping them here keeps the Buy link working.
const validEmail = email !== null && email.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);
const validRef = ref !== null && /^[A-Za-z0-9_-]{1,200}$/.test(ref);

if (validEmail || validRef) {
  for (const link of document.querySelectorAll("a[data-payment-link]")) {
    const url = new URL(link.href);
    if (validEmail) url.searchParams.set("prefilled_email", email);
    if (validRef) url.searchParams.set("client_reference_id", ref);
    link.href = url.href;
  }
}
