// symbiont dashboard: relative times, live fragments, delete confirmation. No framework.
"use strict";

function relative(iso) {
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const size = Math.abs(seconds);
  const [value, unit] = size < 90 ? [size, "s"] : size < 5400 ? [Math.round(size / 60), "min"]
    : size < 129600 ? [Math.round(size / 3600), "h"] : [Math.round(size / 86400), "d"];
  if (value === 0) return "now";
  return seconds > 0 ? `in ${value} ${unit}` : `${value} ${unit} ago`;
}

function refreshTimes(root) {
  for (const el of root.querySelectorAll("time[data-rel]")) {
    let rel = el.nextElementSibling;
    if (!rel || !rel.classList.contains("rel")) {
      rel = document.createElement("small");
      rel.className = "rel";
      el.after(rel);
    }
    rel.textContent = ` (${relative(el.getAttribute("datetime"))})`;
  }
}

function poll(el) {
  const every = Number(el.dataset.every || 3000);
  const load = async () => {
    try {
      const response = await fetch(el.dataset.poll, { credentials: "same-origin" });
      if (response.ok) {
        el.innerHTML = await response.text();  // server-rendered, autoescaped HTML
        refreshTimes(el);
      }
    } catch (_) { /* the daemon may be restarting; try again next time */ }
    setTimeout(load, every);
  };
  load();
}

document.addEventListener("DOMContentLoaded", () => {
  refreshTimes(document);
  setInterval(() => refreshTimes(document), 1000);
  document.querySelectorAll("[data-poll]").forEach(poll);
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
