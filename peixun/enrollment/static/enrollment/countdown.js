// Counts down to the opening of a selection round by *server* time and turns the select buttons on at
// the opening second, without reloading the page (no reload storm at the opening minute).
(function () {
  const box = document.querySelector("[data-countdown]");
  if (!box) return;
  const opensAt = Number(box.getAttribute("data-opens-at")) * 1000;
  const skew = Number(box.getAttribute("data-server-now")) * 1000 - Date.now();
  const text = box.querySelector("[data-countdown-text]");
  function pad(n) { return String(n).padStart(2, "0"); }
  function tick() {
    const left = opensAt - (Date.now() + skew);
    if (left <= 0) {
      document.querySelectorAll("[data-select-button]").forEach(function (b) { b.disabled = false; });
      box.classList.replace("alert-warning", "alert-success");
      if (text) text.textContent = box.getAttribute("data-open-text") || "✓";
      return;
    }
    const s = Math.floor(left / 1000);
    const d = Math.floor(s / 86400);
    const clock = pad(Math.floor((s % 86400) / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
    if (text) text.textContent = (d ? d + " 天 " : "") + clock;
    window.setTimeout(tick, Math.min(1000, left));
  }
  tick();
})();
