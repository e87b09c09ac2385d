// waygate: follows the OpenAPI document and shows route state on the docs page.
(function () {
  "use strict";
  var body = document.body;
  var OPENAPI_URL = body.getAttribute("data-openapi-url") || "/openapi.json";
  var POLL_INTERVAL_MS = parseInt(body.getAttribute("data-poll-ms"), 10) || 5000;
  var METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  var lastText = null;
  var maintenance = {};

  function el(tag, id, text) {
    var node = document.createElement(tag);
    if (id) node.id = id;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function remove(id) {
    var node = document.getElementById(id);
    if (node) node.parentNode.removeChild(node);
  }

  function showGlobal(global) {
    remove("waygate-global-banner");
    remove("waygate-ok-chip");
    if (global && global.enabled) {
      var banner = el("div", "waygate-global-banner");
      banner.setAttribute("role", "alert");
      banner.appendChild(el("strong", null, "Site-Wide Maintenance In Progress"));
      banner.appendChild(el("div", "waygate-global-reason", global.reason || "Temporarily unavailable"));
      var exempt = global.exempt_paths || [];
      if (exempt.length) {
        var list = el("div", null, "Exempt: " + exempt.join(", "));
        list.className = "waygate-exempt";
        banner.appendChild(list);
      }
      body.insertBefore(banner, body.firstChild);
    } else {
      body.appendChild(el("div", "waygate-ok-chip", "All systems operational"));
    }
  }

  function decorate() {
    var blocks = document.querySelectorAll(".opblock");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      var methodNode = block.querySelector(".opblock-summary-method");
      // Deprecated operations name their path `.opblock-summary-path__deprecated`.
      var pathNode = block.querySelector(".opblock-summary-path, .opblock-summary-path__deprecated");
      if (!methodNode || !pathNode) continue;
      var path = pathNode.getAttribute("data-path") || pathNode.textContent.replace(/\u200b/g, "");
      var reason = maintenance[methodNode.textContent.trim().toLowerCase() + " " + path];
      var badge = block.querySelector(".waygate-badge");
      if (reason !== undefined) {
        block.classList.add("waygate-maintenance");
        if (!badge) {
          badge = el("span", null, "\uD83D\uDD27 MAINTENANCE");
          badge.className = "waygate-badge";
          pathNode.parentNode.insertBefore(badge, pathNode.nextSibling);
        }
        badge.title = reason;
      } else {
        block.classList.remove("waygate-maintenance");
        if (badge) badge.parentNode.removeChild(badge);
      }
    }
  }

  function apply(text) {
    if (text === lastText) return;
    var spec;
    try { spec = JSON.parse(text); } catch (e) { return; }
    var first = lastText === null;
    lastText = text;
    maintenance = {};
    var paths = spec.paths || {};
    Object.keys(paths).forEach(function (path) {
      METHODS.forEach(function (method) {
        var op = paths[path][method];
        if (op && op["x-waygate-status"] === "maintenance") {
          maintenance[method + " " + path] = op["x-waygate-reason"] || "";
        }
      });
    });
    showGlobal((spec.info || {})["x-waygate-global-maintenance"]);
    // Swagger UI loaded the first version itself; later ones re-render its operations.
    if (!first && window.ui && window.ui.specActions) {
      window.ui.specActions.updateSpec(text);
    }
    decorate();
    body.setAttribute("data-waygate-state", "loaded");
  }

  function refresh() {
    // `no-cache`: the browser revalidates with If-None-Match; an unchanged document is a 304.
    fetch(OPENAPI_URL, { cache: "no-cache", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) { if (text !== null) apply(text); })
      .catch(function () {});
  }

  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; decorate(); });
  }).observe(document.getElementById("swagger-ui") || body, { childList: true, subtree: true });

  setTimeout(refresh, 300);
  setInterval(function () { if (!document.hidden) refresh(); }, POLL_INTERVAL_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
})();
