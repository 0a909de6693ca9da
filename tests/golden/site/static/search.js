// Search page: mount Pagefind's UI and run the query from the header form (?q=...).
// The bundle path comes from the page (data-bundle), so it works under any base path.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("search");
  if (!root || typeof PagefindUI === "undefined") { return; }
  var ui = new PagefindUI({
    element: "#search",
    bundlePath: root.getAttribute("data-bundle"),
    showSubResults: false,
    showImages: false,
    resetStyles: false,
    translations: { placeholder: "Search papers" }
  });
  // Pagefind labels its input with a title only; tie it to the page's visible label.
  var labelInput = function () {
    var input = root.querySelector("input");
    if (!input) { return false; }
    input.id = "search-input";
    input.setAttribute("aria-labelledby", "search-label");
    return true;
  };
  if (!labelInput()) {
    new MutationObserver(function (changes, observer) {
      if (labelInput()) { observer.disconnect(); }
    }).observe(root, { childList: true, subtree: true });
  }
  var query = new URLSearchParams(window.location.search).get("q");
  var header = document.getElementById("site-search-q");
  if (query) {
    ui.triggerSearch(query);
    if (header) { header.value = query; }
  }
});
