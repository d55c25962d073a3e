// Inlined by landing.html, allowed by its SHA-256 in the CSP (handlers/web/security.py).
// The beacon URL comes from the script element's data-beacon attribute.
(function () {
  var url = document.currentScript.getAttribute("data-beacon"), start = Date.now(), depth = 0, clicks = {};
  function scrolled() {
    var doc = document.documentElement, max = doc.scrollHeight - window.innerHeight;
    depth = Math.max(depth, max <= 0 ? 100 : Math.round(100 * window.scrollY / max));
  }
  function send() {
    var body = JSON.stringify({dwell_ms: Date.now() - start, scroll_pct: depth, clicks: Object.keys(clicks)});
    if (navigator.sendBeacon) { navigator.sendBeacon(url, new Blob([body], {type: "application/json"})); }
  }
  window.addEventListener("scroll", scrolled, {passive: true});
  document.addEventListener("click", function (e) {
    var el = e.target.closest && e.target.closest("[data-track]");
    if (el) { clicks[el.getAttribute("data-track")] = 1; }
  });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") send(); });
  scrolled();
})();
