// The pages' only script: copy buttons, and pages that follow a thread or the inbox as it
// changes (poll a version text; when it moves, fetch the page again and swap the parts
// marked data-live, except one where the person is typing).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    var label = button.getAttribute("aria-label");
    var done = function () {
      button.textContent = "copied";
      button.setAttribute("aria-label", "copied");
      setTimeout(function () {
        button.textContent = "copy";
        button.setAttribute("aria-label", label);
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { select(button); });
    } else {
      select(button);
    }
  });

  // Without the clipboard API (plain http away from localhost): select the id to copy by hand.
  function select(button) {
    var code = button.previousElementSibling;
    if (!code) return;
    var range = document.createRange();
    range.selectNodeContents(code);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest("form");
    if (form) form.setAttribute("data-dirty", "1");
  });

  var source = document.querySelector("[data-version-src]");
  if (source) {
    var url = source.getAttribute("data-version-src");
    var version = source.getAttribute("data-version");
    var busy = false;
    var poll = function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : version; })
        .then(function (seen) {
          if (seen === version) return null;
          version = seen;
          return refresh();
        })
        .catch(function () { /* the server is away for a moment: the next poll retries */ })
        .then(function () { busy = false; });
    };
    setInterval(poll, 1000);
  }

  function refresh() {
    return fetch(location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (region) {
          var busyHere = region.querySelector("form[data-dirty]") ||
            (region.contains(document.activeElement) && document.activeElement !== document.body);
          var next = fresh.getElementById(region.id);
          if (next && !busyHere) region.replaceWith(carried(region, next));
        });
        var said = document.getElementById("live-status");
        var status = document.querySelector(".facts .badge");
        if (said) said.textContent = "Updated" + (status ? ": " + status.textContent : "");
      });
  }

  // What the person had set on the old region, kept on the new one: where a list was
  // scrolled to, which sections were open.
  function carried(old, next) {
    var scrolled = old.querySelectorAll("[data-keep-scroll]");
    next.querySelectorAll("[data-keep-scroll]").forEach(function (el, i) {
      if (scrolled[i]) el.scrollTop = scrolled[i].scrollTop;
    });
    var opened = old.querySelectorAll("details");
    next.querySelectorAll("details").forEach(function (el, i) {
      if (opened[i]) el.open = opened[i].open;
    });
    return next;
  }

  // The selected step in view, in a long history.
  var selected = document.querySelector(".timeline tr.selected");
  if (selected && selected.scrollIntoView) selected.scrollIntoView({ block: "nearest" });
})();
