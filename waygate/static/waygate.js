// waygate dashboard: modals, error toasts and live row updates.
//
// Live updates use a tiny EventSource script rather than the htmx SSE extension (one file
// less to vendor): the server sends `event: waygate:update:{slug}` with the route's new
// row; we replace the element with id `row-{slug}`, if this page shows it.
(function () {
  "use strict";

  // Modals: `data-open="id"` opens `<dialog id>`, `data-close` closes its dialog.
  document.addEventListener("click", function (e) {
    var opener = e.target.closest("[data-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open"));
      var menu = opener.closest("details");
      if (menu) menu.open = false;
      if (dialog) dialog.showModal();
      return;
    }
    var closer = e.target.closest("[data-close]");
    if (closer) closer.closest("dialog").close();
  });

  // Errors from actions: a toast with the server's message (text, never HTML).
  var toastTimer;
  function toast(message) {
    var el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 5000);
  }
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr, message = xhr.responseText;
    try { message = JSON.parse(message).error || message; } catch (_) { /* plain text */ }
    toast((xhr.status === 403 ? "Forbidden: " : "") + message);
  });
  document.addEventListener("htmx:sendError", function () { toast("The server cannot be reached."); });

  // Replaces the element `id` with `html` and lets htmx wire up the new content.
  function swap(id, html) {
    var old = document.getElementById(id);
    if (!old) return;
    var holder = document.createElement(old.tagName === "TR" ? "tbody" : "div");
    holder.innerHTML = html;
    var fresh = holder.firstElementChild;
    if (!fresh) return;
    // Nothing changed (a reload resends every row): leave it alone.
    var was = old.cloneNode(true);
    was.classList.remove("flash");
    if (!was.classList.length) was.removeAttribute("class");
    if (was.outerHTML === fresh.outerHTML) return;
    old.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    fresh.classList.add("flash");
  }

  // When htmx last swapped in the answer of one of the user's actions.
  var lastLocalSwap = 0;
  document.addEventListener("htmx:afterSwap", function () { lastLocalSwap = Date.now(); });

  function live() {
    var table = document.querySelector("[data-events]");
    if (!table || !window.EventSource) return;
    var source = new EventSource(table.getAttribute("data-events"));
    // The refused-requests charts (routes page strip, traffic page), re-sent when they change.
    source.addEventListener("waygate:chart-strip", function (e) { swap("chart-strip", e.data); });
    source.addEventListener("waygate:charts", function (e) { swap("charts", e.data); });
    table.querySelectorAll("tr[data-slug]").forEach(function (row) {
      var slug = row.getAttribute("data-slug");
      source.addEventListener("waygate:update:" + slug, function (e) { swap("row-" + slug, e.data); });
    });
    source.addEventListener("waygate:global", function (e) { swap("global", e.data); });
    source.addEventListener("waygate:summary", function (e) { swap("summary", e.data); });
    // Flag and segment pages: re-read each part that says where it comes from, unless the
    // user is typing in it (their input would be lost).
    source.addEventListener("waygate:flags", function () {
      document.querySelectorAll("[data-refresh]").forEach(function (part) {
        if (part.contains(document.activeElement) && document.activeElement.matches("input, textarea, select")) return;
        var url = part.getAttribute("data-refresh");
        var filters = document.querySelector("form.filters");
        if (filters) url += "?" + new URLSearchParams(new FormData(filters)).toString();
        var asked = Date.now();
        fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            var current = document.getElementById(part.id);
            // The answer of the user's own action, swapped in meanwhile, is as new.
            if (!html || !current || lastLocalSwap >= asked) return;
            // Keep the outcome of the user's own action (a notice) over the re-read.
            var notice = current.querySelector(".notice");
            if (notice && html.indexOf('class="notice"') < 0) {
              var holder = document.createElement("div");
              holder.innerHTML = html;
              var bar = holder.querySelector(".card > .bar");
              if (bar) bar.after(notice.cloneNode(true));
              html = holder.innerHTML;
            }
            swap(part.id, html);
          });
      });
    });
    var badge = document.querySelector(".live");
    source.onopen = function () { if (badge) badge.classList.add("on"); };
    source.onerror = function () { if (badge) badge.classList.remove("on"); };
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", live);
  else live();
})();
