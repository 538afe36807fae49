// canone pages: native <dialog> modals, live price quotes, steppers and sliders.
// Prices are never computed here: every amount shown comes from the server's quote.
"use strict";

(function () {
  // -- dialogs ----------------------------------------------------------------------------
  // <button data-open="id" data-fields='{"name": "value"}'> opens <dialog id="id"> with
  // showModal (focus moves in, Escape closes); closing returns focus to the opener.

  function setFields(dialog, fields) {
    Object.entries(fields || {}).forEach(([name, value]) => {
      dialog.querySelectorAll(`[name="${name}"]`).forEach((el) => {
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = Array.isArray(value) ? value.includes(el.value) : String(value) === el.value;
        } else {
          el.value = value;
        }
      });
      dialog.querySelectorAll(`[data-show="${name}"]`).forEach((el) => { el.textContent = value; });
    });
  }

  function showStep(dialog, name) {
    const steps = dialog.querySelectorAll("[data-step-name]");
    steps.forEach((step) => { step.hidden = step.dataset.stepName !== name; });
    formsOf(dialog).forEach(syncConfirm);
    const shown = dialog.querySelector(`[data-step-name="${name}"]`);
    const target = shown && shown.querySelector("[data-step-focus], h3, button, input");
    if (target) {
      if (!target.hasAttribute("tabindex") && target.tagName === "H3") target.tabIndex = -1;
      target.focus();
    }
  }

  function openDialog(dialog, opener) {
    dialog.canoneOpener = opener || document.activeElement;
    const first = dialog.querySelector("[data-step-name]");
    if (first) showStep(dialog, first.dataset.stepName);
    if (opener && opener.dataset.fields) setFields(dialog, JSON.parse(opener.dataset.fields));
    dialog.showModal();
    // Focus the first field; a dialog without one (a review) focuses its heading, never a
    // button that is disabled while the price loads (focus would be lost).
    const focus = dialog.querySelector("[autofocus]") || dialog.querySelector(
      "input:not([type=hidden]):not([readonly]):not(:disabled), select:not(:disabled), textarea")
      || headingOf(dialog);
    if (focus) focus.focus();
    formsOf(dialog).filter((form) => form.dataset.liveQuote).forEach((form) => liveQuote(form));
  }

  function headingOf(dialog) {
    const heading = dialog.querySelector("h2");
    if (heading && !heading.hasAttribute("tabindex")) heading.tabIndex = -1;
    return heading;
  }

  // The forms a dialog's buttons belong to: its own, or the page's form around it.
  function formsOf(dialog) {
    const forms = Array.from(dialog.querySelectorAll("form"));
    const outer = dialog.parentElement && dialog.parentElement.closest("form");
    if (outer) forms.push(outer);
    return forms;
  }

  // A dialog closed by Cancel, × or Escape forgets what was chosen in it: reopened, it shows
  // the current plan and its price again, never the abandoned value.
  function resetDialog(dialog) {
    dialog.querySelectorAll("form").forEach((form) => {
      form.reset();
      form.canoneSeq = (form.canoneSeq || 0) + 1; // an answer still on its way is dropped
      clearTimeout(form.canoneTimer);
      form.canoneLoading = false;
      form.canoneReviewWanted = false;
      const token = form.querySelector("input[name=token]");
      if (token) token.value = "";
      form.querySelectorAll("input[type=range][data-values]").forEach(syncSlider);
      form.querySelectorAll("[data-quote-part]").forEach((p) => {
        p.innerHTML = "";
        p.removeAttribute("aria-busy");
      });
      form.querySelectorAll("[data-default-label]").forEach((b) => { b.textContent = b.dataset.defaultLabel; });
      form.querySelectorAll("[data-clear-on-close]").forEach((el) => { el.textContent = ""; });
    });
    const first = dialog.querySelector("[data-step-name]");
    if (first) {
      dialog.querySelectorAll("[data-step-name]").forEach((step) => { step.hidden = step !== first; });
    }
  }

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.open);
      if (dialog) {
        event.preventDefault();
        const current = opener.closest("dialog");
        if (current && current !== dialog) {
          // One dialog leads to another: focus goes back to the first one's opener later.
          dialog.canoneReturnTo = current.canoneOpener;
          current.canoneSkipReturn = true;
          current.close();
        }
        openDialog(dialog, opener);
      }
      return;
    }
    const closer = event.target.closest("[data-close]");
    if (closer) { closer.closest("dialog").close(); return; }
    const stepper = event.target.closest("[data-step]");
    if (stepper) { event.preventDefault(); showStep(stepper.closest("dialog"), stepper.dataset.step); }
  });

  document.addEventListener("close", (event) => {
    const dialog = event.target;
    if (!(dialog instanceof HTMLDialogElement)) return;
    if (dialog.dataset.keep) {
      // Closed only to be shown again at once, e.g. not modal while Stripe's 3-D Secure
      // frame is over it (stripe_pay.js): it keeps what it holds and where focus is.
      const left = Number(dialog.dataset.keep) - 1;
      if (left > 0) dialog.dataset.keep = String(left); else delete dialog.dataset.keep;
      return;
    }
    resetDialog(dialog);
    formsOf(dialog).forEach(syncConfirm);
    const back = dialog.canoneSkipReturn ? null : dialog.canoneReturnTo || dialog.canoneOpener;
    dialog.canoneReturnTo = null;
    dialog.canoneSkipReturn = false;
    if (back && document.contains(back) && typeof back.focus === "function") back.focus();
  }, true);

  // -- live quotes ------------------------------------------------------------------------
  // <form data-live-quote="/billing/quote"> sends its fields as JSON on every change, with
  // the names of its [data-quote-part=NAME] panels in `parts` (only those are rendered);
  // the answer's HTML parts go to those panels, its token to input[name=token], and
  // buttons marked data-needs-quote are enabled only when there is something to confirm.

  function formJSON(form) {
    const data = {};
    Array.from(form.elements).forEach((el) => {
      if (!el.name || el.name === "csrf" || el.name === "token" || el.disabled) return;
      if (el.type === "checkbox") {
        if (!Array.isArray(data[el.name])) data[el.name] = [];
        if (el.checked) data[el.name].push(el.value);
      } else if (el.type === "radio") {
        if (el.checked) data[el.name] = el.value;
      } else if (el.tagName !== "BUTTON") {
        data[el.name] = el.value;
      }
    });
    return data;
  }

  function csrfOf(form) {
    const field = form.querySelector("input[name=csrf]") || document.querySelector("input[name=csrf]");
    return field ? field.value : "";
  }

  function liveQuote(form, url) {
    url = url || form.dataset.liveQuote;
    const seq = (form.canoneSeq || 0) + 1;
    form.canoneSeq = seq;
    const panels = form.querySelectorAll("[data-quote-part]");
    const needs = form.querySelectorAll("[data-needs-quote]");
    panels.forEach((p) => p.setAttribute("aria-busy", "true"));
    form.canoneLoading = true;
    syncConfirm(form);
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfOf(form) },
      body: JSON.stringify(Object.assign(formJSON(form), {
        parts: Array.from(panels, (p) => p.dataset.quotePart),
      })),
      credentials: "same-origin",
    })
      .then((response) => {
        if (response.status === 401 || response.redirected) { window.location.reload(); return null; }
        return response.json();
      })
      .then((quote) => {
        if (!quote || seq !== form.canoneSeq) return; // a newer quote is on its way
        panels.forEach((p) => {
          p.innerHTML = (quote.parts || {})[p.dataset.quotePart] || "";
          p.removeAttribute("aria-busy");
        });
        const token = form.querySelector("input[name=token]");
        if (token) token.value = quote.token || "";
        needs.forEach((b) => {
          if (!b.dataset.defaultLabel) b.dataset.defaultLabel = b.textContent.trim();
          if (b.hasAttribute("data-confirm-label")) b.textContent = quote.confirm_label || b.dataset.defaultLabel;
        });
        form.dataset.quoteKind = quote.kind || "";
        form.canoneLoading = false;
        syncConfirm(form);
        reviewWhenPriced(form);
      })
      .catch(() => {
        if (seq !== form.canoneSeq) return;
        form.canoneLoading = false;
        form.canoneReviewWanted = false;
        syncConfirm(form);
        panels.forEach((p) => {
          p.removeAttribute("aria-busy");
          p.textContent = form.dataset.quoteError || "The price could not be loaded. Try again.";
        });
      });
  }
  window.liveQuote = liveQuote;

  document.addEventListener("input", (event) => {
    const form = event.target.form;
    if (form && form.dataset.liveQuote && event.target.name !== "token") {
      clearTimeout(form.canoneTimer);
      // The shown price is out of date from now on: nothing can go on with it, and an answer
      // for the old value still on its way is dropped (else, arriving within the debounce,
      // it would be shown, end the loading, and an Enter waiting for the price would act
      // on the old value's).
      form.canoneSeq = (form.canoneSeq || 0) + 1;
      form.canoneLoading = true;
      syncConfirm(form);
      // Short debounce: the slider sends one quote per position it rests on, not per pixel.
      form.canoneTimer = setTimeout(() => liveQuote(form), 60);
    }
  });

  // -- the review before a purchase -------------------------------------------------------
  // A purchase is confirmed only with the confirm button the person sees. A button marked
  // data-needs-quote works only while it is on screen (its step shown, its dialog open) and
  // the price it would act on is loaded; so the hidden "Confirm purchase" of a review step is
  // disabled and can never be the target of Enter's implicit submission. The review's
  // <input data-reviewed> goes with the form only while the review is on screen: the server
  // refuses a confirmation without it.

  function isShown(el) {
    if (el.closest("[hidden]")) return false;
    const dialog = el.closest("dialog");
    return !dialog || dialog.open;
  }

  function syncConfirm(form) {
    const token = form.querySelector("input[name=token]");
    const priced = Boolean(token && token.value) && !form.canoneLoading;
    form.querySelectorAll("[data-needs-quote]").forEach((b) => { b.disabled = !priced || !isShown(b); });
    form.querySelectorAll("input[data-reviewed]").forEach((mark) => { mark.disabled = !isShown(mark); });
  }

  // Enter in a field of a priced form goes on to the review ("Continue", "Update my plan"),
  // once the price of what is chosen has loaded; it never submits, so never buys.
  function reviewWhenPriced(form) {
    if (!form.canoneReviewWanted || form.canoneLoading) return;
    form.canoneReviewWanted = false;
    const next = Array.from(form.querySelectorAll("[data-needs-quote]:not([type=submit])"))
      .find((b) => isShown(b) && !b.disabled);
    if (next) next.click();
  }

  document.addEventListener("keydown", (event) => {
    const field = event.target;
    if (event.key !== "Enter" || !(field instanceof HTMLInputElement || field instanceof HTMLSelectElement)) return;
    const form = field.form;
    if (!form || !form.dataset.liveQuote) return;
    event.preventDefault();
    form.canoneReviewWanted = true;
    reviewWhenPriced(form);
  });

  // -- controls ---------------------------------------------------------------------------

  // A contact slider: its position indexes data-values; the chosen value goes to the hidden
  // input data-target, its label (formatted by the server) to [data-slider-label].
  function syncSlider(slider) {
    const values = JSON.parse(slider.dataset.values);
    const labels = JSON.parse(slider.dataset.labels);
    const i = Number(slider.value);
    const form = slider.form;
    form.querySelector(`[name="${slider.dataset.target}"]`).value = values[i];
    form.querySelectorAll("[data-slider-label]").forEach((el) => { el.textContent = labels[i]; });
    // Screen readers say "10,000 contacts", not the position "3" (data-valuetexts: server's).
    const texts = slider.dataset.valuetexts ? JSON.parse(slider.dataset.valuetexts) : labels;
    slider.setAttribute("aria-valuetext", texts[i]);
  }
  document.addEventListener("input", (event) => {
    if (event.target.matches("input[type=range][data-values]")) syncSlider(event.target);
  }, true);

  // − / + buttons around a number input: <div data-stepper><button data-delta="-1">…
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-delta]");
    if (!button) return;
    const input = button.closest("[data-stepper]").querySelector("input");
    const min = Number(input.min || 1);
    const max = input.max ? Number(input.max) : Infinity;
    const next = Math.min(max, Math.max(min, Number(input.value) + Number(button.dataset.delta)));
    if (next !== Number(input.value)) {
      input.value = next;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
  });

  // Forms marked data-once submit once: the buttons disable, so a double click charges once
  // (the server also confirms each quote token once).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("[data-once]")) return;
    if (form.dataset.submitted) { event.preventDefault(); return; }
    form.dataset.submitted = "1";
    setTimeout(() => {
      form.querySelectorAll("button[type=submit], button:not([type])").forEach((b) => {
        b.disabled = true;
        b.setAttribute("aria-busy", "true");
      });
    }, 0);
  });

  // After a purchase or a change the page opens on its confirmation: focus it, so screen
  // readers announce it (a status present at load is not read out by itself).
  const announced = document.querySelector("[data-announce]");
  if (announced) {
    announced.tabIndex = -1;
    announced.focus();
  }

  // Pages whose price shows without opening a dialog (the bundle configurator).
  document.querySelectorAll("form[data-live-quote][data-quote-on-load]").forEach((form) => liveQuote(form));

  window.addEventListener("pageshow", (event) => {
    // Back/forward cache: a form restored after submitting can be used again.
    if (event.persisted) {
      document.querySelectorAll("form[data-submitted]").forEach((form) => {
        delete form.dataset.submitted;
        form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
        syncConfirm(form); // buttons that need a price or the review stay as they were
      });
    }
  });
})();
