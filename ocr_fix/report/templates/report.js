(function () {
  "use strict";
  var findings = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  var boxes = Array.prototype.slice.call(document.querySelectorAll("svg .box"));
  var filters = Array.prototype.slice.call(document.querySelectorAll("input[data-filter]"));
  var count = document.getElementById("visible-count");
  var help = document.getElementById("help");
  var current = null;

  function allowed(kind) {
    var set = {};
    filters.forEach(function (input) {
      if (input.dataset.filter === kind && input.checked) { set[input.value] = true; }
    });
    return set;
  }

  function apply() {
    var sev = allowed("severity");
    var kinds = allowed("kind");
    var hasKindFilter = filters.some(function (i) { return i.dataset.filter === "kind"; });
    var shown = 0;
    findings.forEach(function (f) {
      var visible = !!sev[f.dataset.severity] && (!hasKindFilter || !!kinds[f.dataset.kind]);
      f.hidden = !visible;
      if (visible) { shown += 1; }
    });
    boxes.forEach(function (b) {
      var target = document.getElementById(b.dataset.finding);
      b.classList.toggle("off", !target || target.hidden);
    });
    count.textContent = shown + " of " + findings.length + " findings shown";
    if (current && current.hidden) { select(null, false); }
  }

  function select(el, scroll) {
    if (current) { current.classList.remove("current"); }
    boxes.forEach(function (b) { b.classList.remove("current"); });
    current = el;
    if (!el) { return; }
    el.classList.add("current");
    boxes.forEach(function (b) {
      if (b.dataset.finding === el.id) { b.classList.add("current"); }
    });
    el.focus({ preventScroll: true });
    if (scroll) { el.scrollIntoView({ block: "center" }); }
  }

  function step(delta) {
    var visible = findings.filter(function (f) { return !f.hidden; });
    if (!visible.length) { return; }
    var i = current ? visible.indexOf(current) : -1;
    if (i < 0) {
      i = delta > 0 ? 0 : visible.length - 1;
    } else {
      i = Math.min(visible.length - 1, Math.max(0, i + delta));
    }
    select(visible[i], true);
  }

  function toggleHelp(show) {
    help.hidden = show === undefined ? !help.hidden : !show;
  }

  filters.forEach(function (input) { input.addEventListener("change", apply); });
  findings.forEach(function (f) {
    f.addEventListener("click", function () { select(f, false); });
  });
  boxes.forEach(function (b) {
    b.addEventListener("click", function (event) {
      var target = document.getElementById(b.dataset.finding);
      if (target && !target.hidden) {
        event.preventDefault();
        select(target, true);
      }
    });
  });
  document.getElementById("help-button").addEventListener("click", function () { toggleHelp(); });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var tag = event.target && event.target.tagName;
    if ((tag === "INPUT" && event.target.type !== "checkbox") || tag === "TEXTAREA") { return; }
    switch (event.key) {
      case "j": case "n": step(1); break;
      case "k": case "p": step(-1); break;
      case "?": toggleHelp(); break;
      case "Escape": toggleHelp(false); break;
      default: return;
    }
    event.preventDefault();
  });
  if (location.hash) {
    var initial = document.getElementById(location.hash.slice(1));
    if (initial && initial.classList.contains("finding")) { select(initial, true); }
  }
  apply();
}());
