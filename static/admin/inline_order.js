/* Ordering bylines, figures and related links by drag and drop, or by keyboard.
 *
 * Each row gets a handle: drag it, or focus it and press the up and down
 * arrow keys. Positions are written into the rows' position fields as they
 * move (and for new rows), so nobody types numbers. Moving body figures also
 * renumbers the "[figure N]" lines in the text, so each line keeps its
 * picture. Without JavaScript the position fields are typed as before; the
 * server renumbers bylines and related links on save (admin.OrderedFormSet).
 */
(function () {
  "use strict";

  const GROUPS = [
    { prefix: "bylines", noun: "byline", start: 0, tabular: true },
    { prefix: "related_links", noun: "related link", start: 0, tabular: true },
    { prefix: "figures", noun: "figure", start: 1, tabular: false },
  ];

  const live = document.createElement("p");
  live.className = "visually-hidden";
  live.setAttribute("role", "status");
  live.setAttribute("aria-live", "polite");
  document.body.appendChild(live);

  function rowsOf(group) {
    const container = document.getElementById(group.prefix + "-group");
    if (!container) {
      return [];
    }
    const selector = group.tabular ? "tr.form-row:not(.empty-form)" : ".inline-related:not(.empty-form)";
    return Array.from(container.querySelectorAll(selector)).filter(function (row) {
      return row.id && row.id.indexOf(group.prefix + "-") === 0 && row.id !== group.prefix + "-empty";
    });
  }

  function field(row, name) {
    return row.querySelector("[name$='-" + name + "']");
  }

  function describe(group, row) {
    const author = field(row, "author");
    if (author && author.selectedOptions && author.selectedOptions.length && author.value) {
      return author.selectedOptions[0].textContent.trim();
    }
    const title = field(row, "title") || field(row, "caption");
    return title && title.value ? title.value.trim().slice(0, 60) : "new " + group.noun;
  }

  function renumberMarkers(mapping) {
    const body = document.getElementById("id_body");
    if (!body || !Object.keys(mapping).length) {
      return;
    }
    const updated = body.value.replace(/^([ \t]*)\[figure[ \t]+(\d{1,4})\]([ \t]*)$/gim, function (line, lead, number, tail) {
      return number in mapping ? lead + "[figure " + mapping[number] + "]" + tail : line;
    });
    if (updated !== body.value) {
      body.value = updated;
      body.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function renumber(group) {
    const mapping = {};
    let number = group.start;
    rowsOf(group).forEach(function (row) {
      const position = field(row, "position");
      if (!position) {
        return;
      }
      if (!group.tabular) {
        const place = field(row, "place");
        if (place && place.value !== "body") {
          return;  // the hero's position means nothing
        }
      }
      if (position.value !== String(number)) {
        if (position.value !== "") {
          mapping[position.value] = String(number);
        }
        position.value = String(number);
        position.dispatchEvent(new Event("change", { bubbles: true }));
      }
      number += 1;
    });
    if (!group.tabular) {
      renumberMarkers(mapping);
    }
  }

  function moveRow(group, row, offset) {
    const rows = rowsOf(group);
    const at = rows.indexOf(row);
    const to = at + offset;
    if (to < 0 || to >= rows.length) {
      return false;
    }
    if (offset < 0) {
      rows[to].parentNode.insertBefore(row, rows[to]);
    } else {
      rows[to].parentNode.insertBefore(row, rows[to].nextSibling);
    }
    renumber(group);
    announce(group, row);
    return true;
  }

  function announce(group, row) {
    const rows = rowsOf(group);
    live.textContent = describe(group, row) + ": position " + (rows.indexOf(row) + 1) + " of " + rows.length + ".";
  }

  function addHandle(group, row) {
    if (row.querySelector(".order-handle")) {
      return;
    }
    const handle = document.createElement("button");
    handle.type = "button";
    handle.className = "order-handle";
    handle.textContent = "↕";
    const label = function () {
      handle.setAttribute("aria-label", "Move " + group.noun + " “" + describe(group, row) + "” (drag, or use the up and down arrow keys)");
    };
    label();
    handle.addEventListener("focus", label);
    handle.addEventListener("keydown", function (event) {
      const offset = event.key === "ArrowUp" ? -1 : event.key === "ArrowDown" ? 1 : 0;
      if (offset) {
        event.preventDefault();
        moveRow(group, row, offset);
        handle.focus();
      }
    });
    handle.addEventListener("mousedown", function () {
      row.draggable = true;
    });
    row.addEventListener("dragstart", function (event) {
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.id);
      row.classList.add("order-dragging");
    });
    row.addEventListener("dragend", function () {
      row.draggable = false;
      row.classList.remove("order-dragging");
    });
    row.addEventListener("dragover", function (event) {
      event.preventDefault();
    });
    row.addEventListener("drop", function (event) {
      event.preventDefault();
      const moved = document.getElementById(event.dataTransfer.getData("text/plain"));
      if (!moved || moved === row || rowsOf(group).indexOf(moved) === -1) {
        return;
      }
      const rows = rowsOf(group);
      if (rows.indexOf(moved) < rows.indexOf(row)) {
        row.parentNode.insertBefore(moved, row.nextSibling);
      } else {
        row.parentNode.insertBefore(moved, row);
      }
      renumber(group);
      announce(group, moved);
    });
    const cell = group.tabular ? row.querySelector("td.original") : row.querySelector("h3");
    (cell || row).prepend(handle);
  }

  function setUp(group) {
    rowsOf(group).forEach(function (row) { addHandle(group, row); });
    const container = document.getElementById(group.prefix + "-group");
    if (container) {
      container.classList.add("order-enabled");
    }
  }

  document.addEventListener("formset:added", function (event) {
    const group = GROUPS.find(function (g) { return g.prefix === event.detail.formsetName; });
    if (!group) {
      return;
    }
    const row = event.target;
    if (!group.tabular) {
      const place = field(row, "place");
      if (place && !place.value) {
        place.value = "body";
      }
    }
    // A new row goes last: the next free position.
    const position = field(row, "position");
    if (position) {
      position.value = "";
    }
    addHandle(group, row);
    let number = group.start;
    rowsOf(group).forEach(function (other) {
      const value = parseInt((field(other, "position") || {}).value, 10);
      if (other !== row && !isNaN(value) && value >= number) {
        number = value + 1;
      }
    });
    if (position) {
      position.value = String(number);
    }
  });

  // Django's autocomplete boxes (select2) name their combobox after an empty
  // element inside table rows; give it the select's own accessible name.
  function labelAutocompletes() {
    document.querySelectorAll("select.admin-autocomplete[aria-label]").forEach(function (select) {
      const box = select.parentNode.querySelector(".select2-selection");
      if (box) {
        box.setAttribute("aria-label", select.getAttribute("aria-label"));
        const shown = box.querySelector(".select2-selection__rendered");
        if (shown) {
          shown.setAttribute("aria-label", select.getAttribute("aria-label"));
        }
      }
    });
  }
  document.addEventListener("formset:added", function () {
    setTimeout(labelAutocompletes, 0);
  });

  function start() {
    GROUPS.forEach(setUp);
    setTimeout(labelAutocompletes, 0);
  }
  // The autocomplete boxes are built when the document is ready.
  window.addEventListener("load", labelAutocompletes);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
