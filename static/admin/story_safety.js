/* Safety nets of the story form (briefings/editing.py).
 *
 * - Leaving with unsaved changes asks first.
 * - While there are unsaved changes, the form's fields are autosaved every
 *   30 seconds (not as a revision); an autosave newer than the story is
 *   offered back when the story is opened again.
 * - A heartbeat every 15 seconds says the story is open here and shows who
 *   else has it open.
 */
(function () {
  "use strict";

  const config = document.getElementById("story-safety");
  const form = document.getElementById("article_form");
  if (!config || !form) {
    return;
  }
  const token = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const status = document.getElementById("autosave-status");
  let dirty = false;
  let changedSinceAutosave = false;

  // One request at a time: a heartbeat never races an autosave.
  let queue = Promise.resolve();
  function post(url, fields) {
    const data = new FormData();
    Object.keys(fields).forEach(function (key) { data.append(key, fields[key]); });
    const sent = queue.then(function () {
      return fetch(url, {
        method: "POST",
        body: data,
        headers: { "X-CSRFToken": token },
        credentials: "same-origin",
      });
    });
    queue = sent.catch(function () {});
    return sent;
  }

  function skipped(element) {
    return !element.name || element.type === "file" || element.type === "submit" ||
      element.type === "button" || element.name === "csrfmiddlewaretoken" ||
      element.name === "loaded_version";
  }

  // --- Unsaved changes -------------------------------------------------------

  function markDirty(event) {
    if (event.target && event.target.name === "csrfmiddlewaretoken") {
      return;
    }
    dirty = true;
    changedSinceAutosave = true;
  }
  form.addEventListener("input", markDirty);
  form.addEventListener("change", markDirty);
  form.addEventListener("submit", function () {
    dirty = false;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";  // the browser shows its own "Leave site?" question
    }
  });

  // --- Autosave --------------------------------------------------------------

  function fields() {
    const data = {};
    Array.from(form.elements).forEach(function (element) {
      if (skipped(element)) {
        return;
      }
      if (element.type === "checkbox" || element.type === "radio") {
        data[element.name] = data[element.name] || [];
        if (element.checked) {
          data[element.name].push(element.value);
        }
      } else if (element.type === "select-multiple") {
        data[element.name] = Array.from(element.selectedOptions).map(function (o) { return o.value; });
      } else {
        data[element.name] = element.value;
      }
    });
    return data;
  }

  function autosave() {
    if (!changedSinceAutosave) {
      return;
    }
    changedSinceAutosave = false;
    post(config.dataset.autosaveUrl, { data: JSON.stringify(fields()) })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        status.textContent = answer.saved_at
          ? "Draft autosaved at " + answer.saved_at + " (not yet saved as the story)."
          : answer.error || "";
      })
      .catch(function () {
        changedSinceAutosave = true;
        status.textContent = "Autosave failed; keep this page open and save when you can.";
      });
  }
  setInterval(autosave, 1000 * parseInt(config.dataset.autosaveSeconds, 10));

  function restore(data) {
    Object.keys(data).forEach(function (name) {
      const value = data[name];
      form.querySelectorAll("[name='" + CSS.escape(name) + "']").forEach(function (element) {
        if (skipped(element)) {
          return;
        }
        if (element.type === "checkbox" || element.type === "radio") {
          element.checked = Array.isArray(value) && value.indexOf(element.value) !== -1;
        } else if (element.type === "select-multiple") {
          Array.from(element.options).forEach(function (option) {
            option.selected = Array.isArray(value) && value.indexOf(option.value) !== -1;
          });
        } else if (typeof value === "string") {
          element.value = value;
        }
        element.dispatchEvent(new Event("input", { bubbles: true }));
        element.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  }

  const offer = document.getElementById("autosave-offer");
  const saved = document.getElementById("autosave-data");
  if (offer && saved) {
    const restoreButton = document.getElementById("autosave-restore");
    const discardButton = document.getElementById("autosave-discard");
    restoreButton.hidden = false;
    discardButton.hidden = false;
    restoreButton.addEventListener("click", function () {
      restore(JSON.parse(saved.textContent));
      offer.hidden = true;
      status.textContent = "Your autosaved changes are back in the form. Save to keep them.";
      const body = document.getElementById("id_body");
      if (body) {
        body.focus();
      }
    });
    discardButton.addEventListener("click", function () {
      post(config.dataset.discardUrl, {}).then(function () {
        offer.hidden = true;
        status.textContent = "The autosaved changes were discarded.";
      });
    });
  }

  // --- Someone else is editing ----------------------------------------------

  const presence = document.getElementById("story-presence");
  function heartbeat() {
    if (!config.dataset.heartbeatUrl) {
      return;
    }
    post(config.dataset.heartbeatUrl, {})
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        const names = answer.others.map(function (other) {
          return other.name + " (seen at " + other.seen + ")";
        });
        presence.querySelector(".story-presence__names").textContent = names.join(", ");
        presence.hidden = names.length === 0;
      })
      .catch(function () {});
  }
  // Opening the form counted as the first heartbeat (on the server).
  setInterval(heartbeat, 1000 * parseInt(config.dataset.heartbeatSeconds, 10));
})();
