// Countdowns tick each second between the page's refreshes; htmx swaps bring new due times.
(function () {
  function format(seconds) {
    var sign = seconds < 0 ? "-" : "";
    var rest = Math.abs(seconds);
    var h = Math.floor(rest / 3600), m = Math.floor((rest % 3600) / 60), s = rest % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (h) return sign + h + "h " + pad(m) + "m";
    if (m) return sign + m + "m " + pad(s) + "s";
    return sign + s + "s";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = Math.round((due - now) / 1000);
      el.textContent = format(left);
      el.classList.toggle("overdue", left < 0);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();
