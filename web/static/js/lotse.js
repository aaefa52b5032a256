/*
 * Small progressive enhancements of the workspace; every page works without this file.
 * - After htmx swaps the inbox results, announce nothing extra (the summary is aria-live)
 *   but keep the focus where it was; if it was inside the swapped part, move it to the results.
 * - Filter forms without htmx (deadlines) submit when a select changes.
 */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    var form = el && el.form;
    if (!form || !form.hasAttribute("data-autosubmit") || form.hasAttribute("hx-get")) return;
    if (el.tagName === "SELECT" || el.type === "checkbox") form.submit();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || document.activeElement && document.activeElement !== document.body) return;
    var results = document.getElementById("inbox-results");
    if (results) {
      results.setAttribute("tabindex", "-1");
      results.focus({ preventScroll: true });
    }
  });
})();
