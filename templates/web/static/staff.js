// The staff pages' progressive enhancement: every page works and shows its figures without this script.
// 1. The dashboard's runs: the set of runs to watch is polled every 5 s; runs appear, move and go.
// 2. The campaign form: presets fill the cron field, and the next firing times appear as you type.
(function () {
  "use strict";

  function setText(root, selector, value) {
    var el = root.querySelector(selector);
    if (el) { el.textContent = String(value); }
  }

  function fillCard(li, run) {
    var name = li.querySelector("[data-field=name]");
    if (name) {
      name.textContent = run.name;
      name.setAttribute("href", "/staff/campaigns/" + run.campaign);
    }
    setText(li, "[data-field=number]", "#" + run.run);
    setText(li, "[data-field=scheduled_for]", run.scheduled_for);
    ["sent", "waiting", "failed", "skipped", "audience"].forEach(function (k) {
      setText(li, "[data-count=" + k + "]", run.text[k]);
    });
    var bar = li.querySelector("progress");
    if (bar) {
      bar.max = run.max;
      bar.value = run.finished;
      bar.textContent = run.finished + " / " + run.audience;
    }
  }

  function finishedRow(run, labels) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-run", String(run.run));
    var cells = [null, run.finished_at, run.text.audience, run.text.sent, run.text.failed, run.text.skipped];
    cells.forEach(function (value, i) {
      var td = document.createElement("td");
      td.setAttribute("data-label", labels[i] || "");
      if (i === 0) {
        var a = document.createElement("a");
        a.setAttribute("href", "/staff/campaigns/" + run.campaign);
        a.textContent = run.name;
        var number = document.createElement("span");
        number.className = "note";
        number.textContent = "#" + run.run;
        td.appendChild(a);
        td.appendChild(document.createTextNode(" "));
        td.appendChild(number);
      } else {
        td.className = "num";
        td.textContent = value;
        if (i === 3) { td.setAttribute("data-count", "sent"); }
      }
      tr.appendChild(td);
    });
    return tr;
  }

  // The runs to watch: one poll for the set, so a run started after the page loaded appears, and one that
  // finished moves to the finished table. Text goes in as text, never as markup.
  function liveRuns(section) {
    var url = section.getAttribute("data-live-url");
    var list = document.getElementById("runs-active");
    var empty = document.getElementById("runs-active-empty");
    var template = document.getElementById("run-card");
    var table = document.getElementById("runs-finished");
    var box = document.getElementById("runs-finished-box");
    var none = document.getElementById("runs-finished-empty");
    var labels = Array.prototype.map.call(table.tHead.rows[0].cells, function (th) { return th.textContent; });
    function show(runs) {
      var keep = {};
      runs.active.forEach(function (run) {
        keep[run.run] = true;
        var li = list.querySelector("li[data-run='" + run.run + "']");
        if (!li) {
          li = template.content.firstElementChild.cloneNode(true);
          li.setAttribute("data-run", String(run.run));
          li.setAttribute("data-progress-url", "/staff/runs/" + run.run + "/progress");
          li.querySelector("label").setAttribute("for", "progress-" + run.run);
          li.querySelector("progress").id = "progress-" + run.run;
          list.appendChild(li);
        }
        fillCard(li, run);
      });
      Array.prototype.forEach.call(list.querySelectorAll("li[data-run]"), function (li) {
        if (!keep[li.getAttribute("data-run")]) { list.removeChild(li); }
      });
      empty.hidden = runs.active.length > 0;
      var body = table.tBodies[0];
      body.textContent = "";
      runs.finished.forEach(function (run) { body.appendChild(finishedRow(run, labels)); });
      box.hidden = runs.finished.length === 0;
      none.hidden = runs.finished.length > 0;
    }
    function tick() {
      if (document.hidden) { return; }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (runs) { if (runs) { show(runs); } })
        .catch(function () { /* what is shown stays; the next poll tries again */ });
    }
    setInterval(tick, 5000);
  }

  var live = document.getElementById("live-runs");
  if (live) { liveRuns(live); }

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
