/* The menu on a phone: the button in the top bar folds and unfolds the menu.
 *
 * Loaded in <head> (not deferred) so the "js" class is on <html> before the page is drawn: only
 * then does app.css fold the menu on a narrow screen. Without JavaScript the menu stays unfolded
 * and the button stays hidden. The button is a real <button> (Enter and Space work) and tells
 * its state in aria-expanded; Escape folds the menu and gives the focus back to the button.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setOpen(button, open) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (menu) menu.classList.toggle("open", open);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector(".menu-toggle");
    if (!button) return;
    button.addEventListener("click", function () {
      setOpen(button, button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(button, false);
        button.focus();
      }
    });
  });
})();
