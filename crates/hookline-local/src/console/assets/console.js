// hookline local console: the live parts of a page and keyboard moves. Every page works
// without this script; with it, elements marked data-live follow the server every second
// (new rows appear, counts change), times show in local time, and / j k move around.
(function () {
  "use strict";
  var REFRESH_MS = 1000;

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      el.title = el.getAttribute("datetime");
      var pad = function (n, w) { return String(n).padStart(w || 2, "0"); };
      el.textContent = pad(when.getHours()) + ":" + pad(when.getMinutes()) + ":" +
        pad(when.getSeconds()) + "." + pad(when.getMilliseconds(), 3);
    });
  }

  // Replaces the children of `live` by those of `fresh`, keeping every node whose key and
  // content did not change (so focus and hover stay where they were).
  function reconcile(live, fresh) {
    var old = {};
    Array.prototype.forEach.call(live.children, function (child) {
      var key = child.getAttribute("data-key");
      if (key !== null) old[key] = child;
    });
    var next = Array.prototype.map.call(fresh.children, function (child) {
      var key = child.getAttribute("data-key");
      var kept = key !== null ? old[key] : null;
      if (kept && kept.getAttribute("data-html") === child.outerHTML) return kept;
      child.setAttribute("data-html", child.outerHTML);
      localTimes(child);
      return child;
    });
    var changed = next.length !== live.children.length ||
      next.some(function (node, i) { return live.children[i] !== node; });
    if (!changed) return;
    var focused = document.activeElement;
    Array.prototype.slice.call(live.children).forEach(function (node) {
      if (next.indexOf(node) < 0) node.remove();
    });
    next.forEach(function (node) { live.appendChild(node); });
    if (focused && focused !== document.activeElement && document.body.contains(focused)) focused.focus();
  }

  function editing() {
    var el = document.activeElement;
    return el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
  }

  var indicator = document.getElementById("live");
  var busy = false;
  function refresh() {
    var regions = document.querySelectorAll("[data-live][id]");
    if (!regions.length || busy || document.hidden || editing()) return;
    busy = true;
    fetch(location.href, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        regions.forEach(function (live) {
          var fresh = doc.getElementById(live.id);
          if (fresh) reconcile(live, fresh);
        });
        if (indicator) { indicator.hidden = false; indicator.classList.remove("paused"); indicator.textContent = "● live"; }
      })
      .catch(function () {
        if (indicator) { indicator.hidden = false; indicator.classList.add("paused"); indicator.textContent = "○ stack unreachable"; }
      })
      .then(function () { busy = false; });
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("a.row-link"));
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || editing()) return;
    if (e.key === "/") {
      var search = document.getElementById("search");
      if (search) { e.preventDefault(); search.focus(); search.select(); }
    } else if (e.key === "j" || e.key === "k") {
      var links = rows();
      if (!links.length) return;
      var at = links.indexOf(document.activeElement);
      var next = e.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
      links[next].focus();
      e.preventDefault();
    }
  });

  document.querySelectorAll("[data-live] > [data-key]").forEach(function (node) {
    node.setAttribute("data-html", node.outerHTML);
  });
  localTimes(document);
  if (document.querySelector("[data-live][id]")) {
    if (indicator) indicator.hidden = false;
    setInterval(refresh, REFRESH_MS);
  }
})();
