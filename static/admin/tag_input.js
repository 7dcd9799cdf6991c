/* Tag completion and suggestions in the story form.
 *
 * Typing in the tags field lists existing tags and aliases that contain the
 * last name typed (a combobox: arrow keys, Enter, Escape); choosing one puts
 * the tag's own name in. "Suggested from the text" lists existing tags whose
 * names appear in the headline, standfirst or text as typed, before the
 * story is ever saved. Without JavaScript the field and the server's
 * "Suggested tags" checkboxes work as before.
 */
(function () {
  "use strict";

  const input = document.getElementById("id_tags");
  const config = document.getElementById("tag-input-config");
  if (!input || !config) {
    return;
  }
  const form = input.form;
  const token = form.querySelector("[name=csrfmiddlewaretoken]").value;

  // --- Completion --------------------------------------------------------------

  const list = document.createElement("ul");
  list.id = "tag-completions";
  list.className = "tag-completions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Existing tags");
  list.hidden = true;
  input.insertAdjacentElement("afterend", list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("autocomplete", "off");

  let active = -1;
  let timer = null;
  let asked = 0;

  function names() {
    return input.value.split(",").map(function (name) { return name.trim(); });
  }

  function lastName() {
    const parts = names();
    return parts[parts.length - 1];
  }

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function choose(name) {
    const parts = input.value.split(",");
    parts[parts.length - 1] = (parts.length > 1 ? " " : "") + name;
    input.value = parts.join(",") + ", ";
    close();
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true }));
    refreshSuggestions();
  }

  function highlight(index) {
    const options = list.querySelectorAll("[role=option]");
    options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    active = index;
    if (index >= 0 && options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function show(results) {
    list.replaceChildren();
    results.forEach(function (result, index) {
      const option = document.createElement("li");
      option.id = "tag-completion-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.name = result.name;
      option.textContent = result.alias ? result.alias + " → " + result.name : result.name;
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();  // keep the focus in the field
        choose(result.name);
      });
      list.appendChild(option);
    });
    list.hidden = results.length === 0;
    input.setAttribute("aria-expanded", results.length ? "true" : "false");
    highlight(-1);
  }

  function complete() {
    const typed = lastName();
    if (typed.length < 2) {
      close();
      return;
    }
    const number = ++asked;
    fetch(config.dataset.completionsUrl + "?q=" + encodeURIComponent(typed), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (number === asked) {
          const taken = names().slice(0, -1).map(function (n) { return n.toLowerCase(); });
          show(answer.results.filter(function (r) { return taken.indexOf(r.name.toLowerCase()) === -1; }));
        }
      })
      .catch(close);
  }

  input.addEventListener("input", function (event) {
    if (event.isTrusted === false && !list.hidden) {
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(complete, 250);
  });
  input.addEventListener("keydown", function (event) {
    const count = list.querySelectorAll("[role=option]").length;
    if (event.key === "ArrowDown" && count) {
      event.preventDefault();
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight((active + 1) % count);
    } else if (event.key === "ArrowUp" && count) {
      event.preventDefault();
      highlight((active - 1 + count) % count);
    } else if (event.key === "Enter" && !list.hidden && active >= 0) {
      event.preventDefault();  // choose, do not submit the form
      choose(list.querySelectorAll("[role=option]")[active].dataset.name);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", function () {
    setTimeout(close, 150);
  });

  // --- Suggestions from the text, before the story is saved ---------------------

  const suggestions = document.createElement("div");
  suggestions.className = "tag-suggestions";
  suggestions.setAttribute("role", "group");
  suggestions.setAttribute("aria-label", "Suggested from the text");
  suggestions.hidden = true;
  list.insertAdjacentElement("afterend", suggestions);

  let suggestTimer = null;
  function refreshSuggestions() {
    const data = new FormData();
    ["headline", "standfirst", "body"].forEach(function (name) {
      const element = form.querySelector("[name=" + name + "]");
      data.append(name, element ? element.value : "");
    });
    data.append("tags", input.value);
    fetch(config.dataset.suggestionsUrl, {
      method: "POST",
      body: data,
      headers: { "X-CSRFToken": token },
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        suggestions.replaceChildren();
        if (!answer.results.length) {
          suggestions.hidden = true;
          return;
        }
        const label = document.createElement("span");
        label.textContent = "Suggested from the text: ";
        suggestions.appendChild(label);
        answer.results.forEach(function (name) {
          const add = document.createElement("button");
          add.type = "button";
          add.className = "tag-suggestion";
          add.textContent = "+ " + name;
          add.setAttribute("aria-label", "Add the tag " + name);
          add.addEventListener("click", function () {
            const current = names().filter(function (n) { return n; });
            current.push(name);
            input.value = current.join(", ") + ", ";
            input.dispatchEvent(new Event("change", { bubbles: true }));
            input.focus();  // ready for the next name, typed at the end
            input.setSelectionRange(input.value.length, input.value.length);
            refreshSuggestions();
          });
          suggestions.appendChild(add);
        });
        suggestions.hidden = false;
      })
      .catch(function () {});
  }
  ["headline", "standfirst", "body"].forEach(function (name) {
    const element = form.querySelector("[name=" + name + "]");
    if (element) {
      element.addEventListener("input", function () {
        clearTimeout(suggestTimer);
        suggestTimer = setTimeout(refreshSuggestions, 800);
      });
    }
  });
})();
