/* Choosing a library picture for a figure (the story form).
 *
 * Each "Library picture" input (figures' rows, new rows included) gets a
 * "Choose from the library" button: a dialog searches the library (the
 * chooser endpoint answers with HTML made by the server) and a click puts
 * the picture's number in the input. The body toolbar's Figure dialog uses
 * the same chooser through window.briefingsImageChooser.open(callback).
 * Without JavaScript the input takes a number from the library's pages.
 */
(function () {
  "use strict";

  const dialog = document.createElement("dialog");
  dialog.className = "body-dialog image-chooser-dialog";
  dialog.setAttribute("aria-labelledby", "image-chooser-title");
  let chosen = null;
  let timer = null;
  let sent = 0;

  function chooserUrl() {
    const holder = document.querySelector(".image-chooser[data-chooser-url]");
    return holder ? holder.dataset.chooserUrl : null;
  }

  function build() {
    const heading = document.createElement("h2");
    heading.id = "image-chooser-title";
    heading.textContent = "Choose a picture from the library";
    const label = document.createElement("label");
    label.htmlFor = "image-chooser-search";
    label.textContent = "Search the library";
    const search = document.createElement("input");
    search.type = "search";
    search.id = "image-chooser-search";
    search.autocomplete = "off";
    const results = document.createElement("div");
    results.className = "image-chooser__found";
    results.setAttribute("aria-live", "polite");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () { dialog.close(); });
    dialog.append(heading, label, search, results, cancel);

    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { load(search.value, 1); }, 250);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(timer);
        load(search.value, 1);
      }
    });
    results.addEventListener("click", function (event) {
      const choice = event.target.closest(".image-chooser__choice");
      if (choice) {
        dialog.close();
        if (chosen) {
          chosen({
            id: choice.dataset.id,
            thumbnail: choice.dataset.thumbnail,
            label: choice.dataset.label,
          });
        }
        return;
      }
      const page = event.target.closest("a[data-page]");
      if (page) {
        event.preventDefault();
        load(search.value, page.dataset.page);
      }
    });
    document.body.appendChild(dialog);
  }

  function load(query, page) {
    const url = new URL(chooserUrl(), window.location.href);
    url.searchParams.set("fragment", "1");
    url.searchParams.set("q", query || "");
    url.searchParams.set("page", String(page || 1));
    const number = ++sent;
    const results = dialog.querySelector(".image-chooser__found");
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.text().then(function (text) {
        if (number !== sent) { return; }
        if (!response.ok) {
          results.textContent = "The library is not available just now.";
          return;
        }
        results.innerHTML = text;  // the server's own escaped HTML
      });
    }).catch(function () {
      results.textContent = "The library is not available just now.";
    });
  }

  function open(callback) {
    if (!chooserUrl()) {
      return;
    }
    if (!dialog.isConnected) {
      build();
    }
    chosen = callback;
    const search = dialog.querySelector("#image-chooser-search");
    search.value = "";
    load("", 1);
    dialog.showModal();
    search.focus();
  }

  function showChoice(holder, choice) {
    let preview = holder.querySelector(".image-chooser__chosen");
    if (!preview) {
      preview = document.createElement("span");
      preview.className = "image-chooser__chosen";
      holder.appendChild(preview);
    }
    const img = document.createElement("img");
    img.src = choice.thumbnail;
    img.alt = "";
    img.width = 80;
    const text = document.createElement("span");
    text.textContent = "Chosen: " + choice.label;
    preview.replaceChildren(img, text);
  }

  function enhance(holder) {
    if (holder.dataset.enhanced || holder.closest(".empty-form")) {
      return;
    }
    holder.dataset.enhanced = "1";
    const input = holder.querySelector("input.image-chooser-input");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button image-chooser__open";
    button.textContent = "Choose from the library";
    if (input.id) {
      button.setAttribute("aria-describedby", input.id);
    }
    button.addEventListener("click", function () {
      open(function (choice) {
        input.value = choice.id;
        input.dispatchEvent(new Event("change", { bubbles: true }));
        showChoice(holder, choice);
        button.focus();
      });
    });
    input.insertAdjacentElement("afterend", button);
  }

  function enhanceAll() {
    document.querySelectorAll(".image-chooser").forEach(enhance);
  }

  window.briefingsImageChooser = { open: open, showChoice: showChoice };
  document.addEventListener("formset:added", enhanceAll);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhanceAll);
  } else {
    enhanceAll();
  }
})();
