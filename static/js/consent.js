// Cookie consent without a page reload. Without JavaScript the same forms POST
// and the server sends the reader back; this script only improves on that.
// The banner closes only after the server confirmed the choice.
(function () {
  "use strict";

  function submit(form, choice) {
    var data = new FormData(form);
    data.set("choice", choice);
    return fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Consent-Fetch": "1" },
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("consent not saved: " + response.status);
      }
      return response.json();
    });
  }

  function loadEmbed(placeholder) {
    var frame = document.createElement("iframe");
    frame.src = placeholder.getAttribute("data-embed-src");
    frame.title = placeholder.getAttribute("data-embed-title");
    frame.loading = "lazy";
    frame.allow = "fullscreen; picture-in-picture";
    frame.className = "embed__frame";
    placeholder.replaceWith(frame);
  }

  function loadAllEmbeds() {
    document.querySelectorAll("[data-embed-src]").forEach(loadEmbed);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-consent-form]");
    if (!form || !window.fetch) {
      return;
    }
    event.preventDefault();
    var choice = event.submitter ? event.submitter.value : "save";
    var error = form.parentElement.querySelector("[data-consent-error]");
    var saved = form.querySelector("[data-consent-saved]");
    submit(form, choice)
      .then(function (answer) {
        if (error) { error.hidden = true; }
        var banner = document.querySelector("[data-consent-banner]");
        if (banner && form.closest("[data-consent-banner]")) {
          banner.remove();
          var main = document.getElementById("main");
          if (main) { main.setAttribute("tabindex", "-1"); main.focus(); }
        }
        if (saved) { saved.hidden = false; }
        form.querySelectorAll("input[name=groups]").forEach(function (box) {
          box.checked = answer.accepted.indexOf(box.value) !== -1;
        });
        if (answer.accepted.indexOf("embeds") !== -1) {
          loadAllEmbeds();
        }
      })
      .catch(function () {
        if (error) { error.hidden = false; }
      });
  });

  // The per-embed "Load" buttons need this script, so they start hidden.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-embed-load]").forEach(function (button) {
      button.hidden = false;
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-embed-load]");
    if (button) {
      loadEmbed(button.closest("[data-embed-src]"));
    }
  });
})();
