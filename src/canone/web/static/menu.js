// The user menu in the top bar is a <details> disclosure: it opens and closes with the
// keyboard without this script. Here: Escape closes it (focus back on the name), and so
// does a click or focus anywhere outside it.
"use strict";

(function () {
  function closeMenus(except) {
    document.querySelectorAll("details.user-menu[open]").forEach((menu) => {
      if (menu !== except) menu.open = false;
    });
  }

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const menu = event.target.closest && event.target.closest("details.user-menu[open]");
    if (!menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });
  document.addEventListener("click", (event) => {
    closeMenus(event.target.closest("details.user-menu"));
  });
  document.addEventListener("focusin", (event) => {
    closeMenus(event.target.closest("details.user-menu"));
  });
})();
