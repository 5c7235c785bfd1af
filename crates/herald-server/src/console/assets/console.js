// Herald console: the only script the pages load (no inline script; the
// Content-Security-Policy allows this file alone). Every page works without
// it; it adds local times, confirmations and progress on slow forms.
"use strict";

// Times arrive in UTC; show them in the reader's zone, UTC on hover.
function localTimes() {
  const format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  for (const el of document.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) {
      el.textContent = format.format(when);
    }
  }
}

// A form marked data-confirm asks first; a form marked data-busy shows
// that it is working (a test send waits for the destination's answer).
function forms() {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    const busy = form.getAttribute("data-busy");
    if (busy) {
      for (const button of form.querySelectorAll("button[type=submit]")) {
        button.disabled = true;
        button.textContent = busy;
      }
      form.setAttribute("aria-busy", "true");
    }
  });
  // "Select all" boxes tick every box of their list.
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    all.addEventListener("change", () => {
      const name = all.getAttribute("data-select-all");
      for (const box of document.querySelectorAll(`input[name="${name}"]`)) {
        box.checked = all.checked;
      }
    });
  }
  // A provider picker reloads the form with that provider's settings.
  for (const picker of document.querySelectorAll("select[data-reload]")) {
    picker.addEventListener("change", () => {
      const url = new URL(window.location.href);
      url.searchParams.set(picker.name, picker.value);
      window.location.assign(url.toString());
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes();
  forms();
});
