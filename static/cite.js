// Paper pages: the "Copy BibTeX" button of the Cite block. The entry is plain text on
// the page, so without this script it can still be selected and copied; the button is
// hidden until the script runs. No framework, no network: the Clipboard API where the
// page may use it (a secure context), else the entry is selected for Ctrl+C.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) { return; }
    var status = button.parentNode.querySelector(".copy-status");
    var say = function (text) { if (status) { status.textContent = text; } };
    var select = function () {
      var range = document.createRange();
      range.selectNodeContents(target);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      say("Selected: press Ctrl+C (or ⌘C) to copy.");
    };
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = target.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { say("Copied."); }, select);
      } else {
        select();
      }
    });
  });
});
