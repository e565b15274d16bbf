/* The bell in the top bar: its unread count kept live by server-sent events.
 *
 * The server ends each stream after some seconds (it holds a thread while open) and says in
 * "retry:" when to come back; EventSource reconnects by itself, also after a network error.
 * Each "count" event carries {unread, latest, text?}: the count is replaced, and a new
 * notification's text is announced in a polite live region for a few seconds.
 */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var bell = document.getElementById("bell");
    if (!bell || !window.EventSource) return;
    var count = bell.querySelector(".bell-count");
    var live = document.getElementById("bell-live");
    var latest = null;
    var hideTimer = null;
    var source = new EventSource(bell.getAttribute("data-stream"));
    source.addEventListener("count", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      count.textContent = data.unread > 99 ? "99+" : String(data.unread);
      bell.classList.toggle("has-unread", data.unread > 0);
      bell.setAttribute("aria-label", "Thông báo: " + data.unread + " chưa đọc");
      bell.setAttribute("data-unread", String(data.unread));
      if (latest !== null && data.latest > latest && data.text && live) {
        live.textContent = (data.kind ? data.kind + ": " : "") + data.text;
        live.hidden = false;
        if (hideTimer) clearTimeout(hideTimer);
        hideTimer = setTimeout(function () { live.hidden = true; }, 8000);
      }
      latest = data.latest;
    });
  });
})();
