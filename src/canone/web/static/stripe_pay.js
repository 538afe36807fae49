// canone pages with Stripe (SPEC §9), loaded after Stripe.js and only in Stripe mode.
// - The card dialog holds Stripe's own card field (Elements): saving asks canone for a
//   SetupIntent of the account, Stripe.js confirms it with the card, and the page sends
//   canone only the resulting payment method; no card number ever reaches canone. The
//   SEPA dialog (EUR accounts) does the same with Stripe's IBAN field.
// - A plan change or "Pay now" whose payment the bank wants confirmed (3-D Secure): canone
//   answers `requires_action` with the PaymentIntent's client secret, Stripe.js runs the
//   bank's challenge from the same dialog, then the page submits the same form again,
//   which finishes that payment: the change applies (the invoice is paid) once, when the
//   payment has succeeded.
"use strict";

(function () {
  const script = document.currentScript;
  const texts = script.dataset;
  if (typeof window.Stripe !== "function") {
    // Stripe.js did not load (offline, blocked): say so instead of a dead card field.
    document.addEventListener("DOMContentLoaded", () => {
      document.querySelectorAll("[data-stripe-error]").forEach((el) => { el.textContent = texts.unavailable; });
    });
    return;
  }
  const stripe = window.Stripe(texts.key, { locale: texts.locale });

  // Stripe.js shows the bank's challenge in a frame over the page, which a modal <dialog>
  // (the browser's top layer) would cover and make inert (stripe/stripe-js#599). While
  // Stripe acts, the dialog stays on screen, but not modal; dialog.js leaves a dialog
  // closed this way as it is (data-keep), and it is modal again afterwards.
  async function outsideModal(dialog, act) {
    const modal = dialog && dialog.open && dialog.matches(":modal");
    if (modal) reopen(dialog, "show");
    try {
      return await act();
    } finally {
      if (modal && dialog.open) reopen(dialog, "showModal");
    }
  }

  function reopen(dialog, how) {
    const acting = how === "show";
    dialog.dataset.keep = String(Number(dialog.dataset.keep || 0) + 1);
    dialog.classList.toggle("stripe-acting", acting);
    // Meanwhile the dialog cannot be closed: the payment it started is being decided.
    dialog.querySelectorAll("[data-close]").forEach((b) => { b.disabled = acting; });
    dialog.close();
    dialog[how]();
  }

  function postJSON(url, form, body) {
    return fetch(url, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRF-Token": form.elements.csrf.value },
      body: body,
      credentials: "same-origin",
    }).then((response) => response.json().catch(() => ({})));
  }

  function setBusy(form, busy) {
    form.querySelectorAll("button[type=submit]").forEach((b) => {
      b.disabled = busy;
      b.toggleAttribute("aria-busy", busy);
    });
  }

  // -- the card dialog --------------------------------------------------------------------

  function cardError(form, error) {
    // A refused card gets canone's words, in the page's language; Stripe's own message
    // (in the locale Stripe.js was given) for a field filled in wrong, e.g. an expiry past
    // or an IBAN incomplete.
    if (error && error.type === "validation_error" && error.message) return error.message;
    if (sepa(form)) return texts.sepaFailed;
    if (error && error.code === "setup_intent_authentication_failure") return texts.unauthenticated;
    if (error && (error.code === "card_declined" || error.type === "card_error")) return texts.declined;
    return texts.failed;
  }

  // SEPA Direct Debit (EUR accounts): the IBAN field, saved on a SetupIntent for
  // sepa_debit with the account holder's name and email; saving gives the mandate the
  // dialog shows.
  const sepa = (form) => form.dataset.stripeKind === "sepa_debit";

  function stripeField(form) {
    const elements = stripe.elements({ locale: texts.locale });
    const field = sepa(form)
      // The placeholder shows an Italian IBAN: canone's sellers bill from Italy.
      ? elements.create("iban", { supportedCountries: ["SEPA"], placeholderCountry: "IT" })
      : elements.create("card", { hidePostalCode: true });
    field.mount(form.querySelector("[data-stripe-field]"));
    return field;
  }

  function confirmSetup(form, secret, field) {
    if (!sepa(form)) return stripe.confirmCardSetup(secret, { payment_method: { card: field } });
    return stripe.confirmSepaDebitSetup(secret, { payment_method: {
      sepa_debit: field,
      billing_details: { name: form.elements.holder_name.value.trim(),
                         email: form.elements.holder_email.value.trim() },
    } });
  }

  function cardForm(form) {
    const card = stripeField(form);
    const say = (text) => { form.querySelector("[data-stripe-error]").textContent = text; };
    const dialog = form.closest("dialog");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (form.dataset.submitted) return;
      form.dataset.submitted = "1";
      setBusy(form, true);
      say("");
      const failed = sepa(form) ? texts.sepaFailed : texts.failed;
      const done = await saveCard(form, dialog, card).catch(() => failed);
      if (done !== true) {
        say(done);
        setBusy(form, false);
        delete form.dataset.submitted;
      }
    });
  }

  // True once the page is on its way to save the payment method; else what went wrong.
  async function saveCard(form, dialog, card) {
    const setup = await postJSON(form.dataset.stripeCard, form, null);
    if (!setup.client_secret) return setup.error || texts.failed;
    const result = await outsideModal(dialog, () => confirmSetup(form, setup.client_secret, card));
    if (result.error || !result.setupIntent) return cardError(form, result.error);
    form.elements.stripe_payment_method.value = result.setupIntent.payment_method;
    form.submit();  // canone saves it and comes back to the page with the outcome
    return true;
  }

  document.querySelectorAll("form[data-stripe-card]").forEach(cardForm);

  // -- paying: confirming a plan change, "Pay now" -----------------------------------------

  const PAYING = /^\/billing\/(confirm|invoices\/[^/]+\/pay)$/;

  // dialog.js has marked the form submitted (data-once) by the time this listener runs;
  // a second submission it refused is left alone.
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (event.defaultPrevented || !PAYING.test(form.getAttribute("action") || "")) return;
    event.preventDefault();
    const body = new FormData(form);  // now: dialog.js disables the buttons right after
    // The form's dialog, or the dialog inside the form (the bundle page's review).
    const dialog = form.closest("dialog") || form.querySelector("dialog[open]");
    try {
      let answer = await postJSON(form.action, form, body);
      if (answer.status === "requires_action") {
        const status = form.querySelector("[data-stripe-status]");
        if (status) status.textContent = texts.confirming;
        await outsideModal(dialog, () => stripe.confirmCardPayment(answer.client_secret));
        // Whatever Stripe.js says, canone asks Stripe for the payment's outcome: the same
        // form submitted again applies the change (pays the invoice) if, and only if, the
        // payment succeeded.
        answer = await postJSON(form.action, form, body);
      }
      // No `next`: an error page instead of an answer (e.g. the form expired); the page
      // shows where the account stands.
      window.location.assign(answer.next || "/billing");
    } catch (error) {
      // The answer was lost on the way: the payment may be going through; never pay again.
      window.location.assign("/billing?error=payment_pending");
    }
  });
})();
