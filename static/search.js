// Search page: mount Pagefind's UI over every shard of the index and run the query from
// the header form (?q=...). The bundle path comes from the page (data-bundle), so it
// works under any base path; the shards are listed in the bundle's shards.json (one
// Pagefind index each, build/search_shards.py): the first is loaded as the main index,
// the others merged into it, and their results ranked together.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("search");
  if (!root || typeof PagefindUI === "undefined") { return; }
  var bundle = root.getAttribute("data-bundle");
  // Pagefind labels its input with a title only; tie it to the page's visible label.
  var labelInput = function () {
    var input = root.querySelector("input");
    if (!input) { return false; }
    input.id = "search-input";
    input.setAttribute("aria-labelledby", "search-label");
    return true;
  };
  var mount = function (shards) {
    var paths = shards.map(function (shard) { return bundle + shard.path; });
    var ui = new PagefindUI({
      element: "#search",
      bundlePath: bundle,
      basePath: paths[0],
      mergeIndex: paths.slice(1).map(function (path) { return { bundlePath: path }; }),
      showSubResults: false,
      showImages: false,
      resetStyles: false,
      translations: { placeholder: "Search papers" }
    });
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
  };
  var say = function (text) {
    var message = document.createElement("p");
    message.className = "search-message";
    message.textContent = text;
    root.appendChild(message);
  };
  // no-cache: revalidated on each visit, so a republished index is never half old.
  fetch(bundle + "shards.json", { cache: "no-cache" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (manifest) {
      if (manifest.shards.length) { mount(manifest.shards); } else { say("No papers to search yet."); }
    })
    .catch(function (error) { say("The search index could not be loaded (" + error.message + ")."); });
});
