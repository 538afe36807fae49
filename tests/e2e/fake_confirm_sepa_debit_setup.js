// FAKE of Stripe.js's `confirmSepaDebitSetup`, for the e2e tests only: appended by
// tests/e2e/test_stripe_sepa_page.py to localstripe's fake Stripe.js, never served by canone.
//
// Stands for: Stripe.js confirming a SetupIntent for sepa_debit with the IBAN Element and
// the account holder's billing_details, answering `{setupIntent}` (status succeeded, its
// payment_method a `pm_…` of type sepa_debit) or `{error}`.
// Why: localstripe's fake Stripe.js renders every Element as its card inputs and sends the
// Element object itself as the IBAN, which it cannot serialise. This fake sends the IBAN
// typed into the field's first input (placeholder "number") to localstripe's own
// confirmSepaDebitSetup, so localstripe confirms the SetupIntent for real.
// Source: the call and answer shapes of Stripe.js's reference (docs.stripe.com/js); not
// captured from Stripe.
(function () {
  const makeStripe = window.Stripe;
  window.Stripe = function (key, options) {
    const stripe = makeStripe(key, options);
    const confirm = stripe.confirmSepaDebitSetup;
    stripe.confirmSepaDebitSetup = (clientSecret, data) => {
      const { sepa_debit: field, ...rest } = data.payment_method;
      const iban = field._inputs.number.value;
      return confirm(clientSecret, { payment_method: { ...rest, sepa_debit: { iban } } });
    };
    return stripe;
  };
})();
