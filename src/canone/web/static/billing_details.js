// The billing details form: shows only the fields the chosen kind and country use (the VAT
// number for a business, the codice fiscale in Italy, SDI code and PEC for an Italian
// business), and marks the ones required there. Without script every field shows and the
// server says which ones are wrong; hidden fields are disabled, so they are not sent.
"use strict";

(function () {
  const form = document.querySelector("form[data-billing-details]");
  if (!form) return;

  function situation() {
    const kind = (form.querySelector("input[name=kind]:checked") || {}).value || "";
    const italy = form.querySelector("select[name='address.country']").value === "IT";
    return {
      business: kind === "business",
      italy: italy,
      "italy-business": italy && kind === "business",
      "italy-consumer": italy && kind === "consumer",
    };
  }

  function sync() {
    const now = situation();
    form.querySelectorAll("[data-show-for]").forEach((part) => {
      const shown = Boolean(now[part.dataset.showFor]);
      part.hidden = !shown;
      part.querySelectorAll("input").forEach((input) => { input.disabled = !shown; });
    });
    form.querySelectorAll("[data-required-for]").forEach((part) => {
      const input = part.querySelector("input");
      if (now[part.dataset.requiredFor]) input.setAttribute("aria-required", "true");
      else input.removeAttribute("aria-required");
    });
  }

  form.addEventListener("change", sync);
  sync();

  // A link of the error summary puts the cursor in its field (not only scrolls to it).
  document.querySelectorAll(".error-summary a[href^='#']").forEach((link) => {
    link.addEventListener("click", (event) => {
      const field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      event.preventDefault();
      field.focus();
      field.scrollIntoView({ block: "center" });
    });
  });
})();
