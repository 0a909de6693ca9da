// The review page's script: send one action as a POST with the page's token, then
// let livereload reload the page once the rebuild is done. No framework, no network
// beyond this server. Keys: j/k next/previous paper, 1-9 and 0 toggle a theme,
// h hide, f feature, n note, u undo.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="review-token"]').content;
  var endpoint = document.body.dataset.endpoint;
  var status = document.getElementById("status");
  var items = Array.prototype.slice.call(document.querySelectorAll("article.item"));

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "bad" : "";
  }

  function post(path, body) {
    return fetch(endpoint + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Review-Token": token },
      body: JSON.stringify(body),
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return { message: response.statusText }; })
        .then(function (data) {
          if (!response.ok) { throw new Error(data.message || response.statusText); }
          return data;
        });
    });
  }

  function act(item, action, value) {
    if (action === "hidden" || action === "featured") { value = value === "true"; }
    say("Saving…");
    // The reload after the rebuild comes back to this paper.
    history.replaceState(null, "", "#" + item.id);
    return post("action", { slug: item.dataset.slug, digest: item.dataset.digest,
                            action: action, value: value })
      .then(function (data) {
        if (data.digest) { item.dataset.digest = data.digest; }
        say(data.message + " — rebuilding…");
      })
      .catch(function (error) { say(error.message, true); });
  }

  document.getElementById("undo").addEventListener("click", function () {
    say("Undoing…");
    post("undo", {}).then(function (data) { say(data.message + " — rebuilding…"); })
      .catch(function (error) { say(error.message, true); });
  });

  items.forEach(function (item) {
    item.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action]");
      if (button) { act(item, button.dataset.action, button.dataset.value); }
    });
    item.addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target;
      act(item, form.dataset.action, form.elements.value.value);
    });
    item.addEventListener("focusin", function () { current = items.indexOf(item); mark(); });
  });

  var current = 0;
  if (location.hash) {
    var found = items.indexOf(document.getElementById(location.hash.slice(1)));
    if (found >= 0) { current = found; }
  }
  function mark() {
    items.forEach(function (item, index) { item.classList.toggle("current", index === current); });
  }
  function go(index) {
    if (!items.length) { return; }
    current = Math.max(0, Math.min(items.length - 1, index));
    mark();
    items[current].focus();
    items[current].scrollIntoView({ block: "start" });
  }
  if (items.length) {
    mark();
    if (location.hash) { go(current); }
  }

  document.addEventListener("keydown", function (event) {
    var tag = event.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || event.ctrlKey || event.metaKey || event.altKey) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    var item = items[current];
    if (event.key === "j" || event.key === "ArrowDown" && event.shiftKey) { go(current + 1); }
    else if (event.key === "k" || event.key === "ArrowUp" && event.shiftKey) { go(current - 1); }
    else if (event.key === "u") { document.getElementById("undo").click(); }
    else if (!item) { return; }
    else if (/^[0-9]$/.test(event.key)) {
      var button = item.querySelector('button.theme[data-key="' + event.key + '"]');
      if (button) { button.click(); }
    }
    else if (event.key === "h") { item.querySelector("button.hide").click(); }
    else if (event.key === "f") { item.querySelector("button.feature").click(); }
    else if (event.key === "n") { item.querySelector("form.note textarea").focus(); }
    else { return; }
    event.preventDefault();
  });
})();
