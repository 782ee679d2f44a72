// The staff pages' progressive enhancement: every page works and shows its figures without this script.
// 1. Progress of runs in progress: elements with data-progress-url are refreshed every few seconds.
// 2. The campaign form: presets fill the cron field, and the next firing times appear as you type.
(function () {
  "use strict";

  function setText(root, selector, value) {
    var el = root.querySelector(selector);
    if (el) { el.textContent = String(value); }
  }

  function pollRun(el) {
    var url = el.getAttribute("data-progress-url");
    var timer = null;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) {
          if (!p) { return; }
          ["sent", "waiting", "failed", "skipped", "audience"].forEach(function (k) {
            setText(el, "[data-count=" + k + "]", p[k]);
          });
          var bar = el.querySelector("progress");
          if (bar) {
            bar.max = Math.max(p.audience, 1);
            bar.value = p.sent + p.failed + p.skipped;
          }
          if (p.done && timer) { clearInterval(timer); }
        })
        .catch(function () { /* the figures shown stay; the next poll tries again */ });
    }
    timer = setInterval(tick, 5000);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-progress-url]"), pollRun);

  var form = document.getElementById("campaign-form");
  if (!form) { return; }
  var cron = document.getElementById("cron");
  var at = document.getElementById("at");
  var preset = document.getElementById("preset");
  var list = document.getElementById("next-firings");
  var error = document.getElementById("schedule-live-error");
  var pending = null;

  function kind() {
    var checked = form.querySelector("input[name=kind]:checked");
    return checked ? checked.value : "cron";
  }

  function refresh() {
    var params = new URLSearchParams();
    if (kind() === "at") { params.set("at", at.value); } else { params.set("cron", cron.value); }
    fetch("/staff/schedule/preview?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        list.textContent = "";
        (p.times || []).forEach(function (t) {
          var li = document.createElement("li");
          li.textContent = t;
          list.appendChild(li);
        });
        error.textContent = p.error || "";
      })
      .catch(function () { /* keep what is shown */ });
  }

  function later() {
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(refresh, 300);
  }

  if (preset) {
    preset.addEventListener("change", function () {
      if (preset.value) {
        cron.value = preset.value;
        var cronKind = form.querySelector("input[name=kind][value=cron]");
        if (cronKind) { cronKind.checked = true; }
        refresh();
      }
    });
  }
  [cron, at].forEach(function (el) { if (el) { el.addEventListener("input", later); } });
  // A cron typed by hand shows the preset it equals, or none: the two never disagree on the page.
  if (preset && cron) {
    cron.addEventListener("input", function () {
      var typed = cron.value.trim();
      var match = Array.prototype.some.call(preset.options, function (o) { return o.value && o.value === typed; });
      preset.value = match ? typed : "";
    });
  }
  Array.prototype.forEach.call(form.querySelectorAll("input[name=kind]"), function (el) {
    el.addEventListener("change", refresh);
  });
})();
