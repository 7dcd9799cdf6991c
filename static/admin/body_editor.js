/* The story body's toolbar and live preview (the story form in the admin).
 *
 * The body stays the same plain Markdown subset in the same textarea: the
 * toolbar only writes the marks (**bold**, ## subheading, [figure N] ...)
 * for the writer, and the preview is the server's own rendering (body.py),
 * fetched from the desk's body-preview endpoint. Without JavaScript the
 * textarea works as before. No inline script, no third-party code.
 */
(function () {
  "use strict";

  const body = document.getElementById("id_body");
  const config = document.getElementById("body-editor-config");
  if (!body || !config) {
    return;
  }
  const form = body.form;
  const EMBED = /^https?:\/\/(?:www\.|m\.)?(?:youtube\.com\/(?:watch\?v=|shorts\/)[\w-]{6,20}|youtu\.be\/[\w-]{6,20}|vimeo\.com\/\d{4,12}|(?:twitter|x)\.com\/\w{1,15}\/status\/\d{5,25})\S*$/i;
  const LINK = /^(?:https?:\/\/\S+|mailto:\S+@\S+)$/i;

  // --- Editing the text --------------------------------------------------

  function changed() {
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function replaceSelection(text, selectFrom, selectTo) {
    const start = body.selectionStart;
    body.setRangeText(text, start, body.selectionEnd, "end");
    if (selectFrom !== undefined) {
      body.setSelectionRange(start + selectFrom, start + selectTo);
    }
    body.focus();
    changed();
  }

  function wrap(mark, placeholder) {
    const selected = body.value.slice(body.selectionStart, body.selectionEnd);
    const inner = selected || placeholder;
    replaceSelection(mark + inner + mark, mark.length, mark.length + inner.length);
  }

  function prefixLines(prefix) {
    // Whole lines from the start of the first selected line.
    const value = body.value;
    const start = value.lastIndexOf("\n", body.selectionStart - 1) + 1;
    let end = value.indexOf("\n", body.selectionEnd);
    if (end === -1) {
      end = value.length;
    }
    body.setSelectionRange(start, end);
    const lines = value.slice(start, end).split("\n");
    const text = lines.map(function (line) {
      return line.startsWith(prefix) ? line : prefix + line.replace(/^(#+|>|-)\s+/, "");
    }).join("\n");
    replaceSelection(text);
  }

  function insertBlock(line) {
    // A line of its own, with a blank line before and after it.
    const before = body.value.slice(0, body.selectionStart);
    const after = body.value.slice(body.selectionEnd);
    const lead = before === "" ? "" : before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
    const tail = after.startsWith("\n\n") ? "" : after.startsWith("\n") ? "\n" : "\n\n";
    replaceSelection(lead + line + tail);
  }

  // --- A small dialog for addresses and figures ----------------------------

  const dialog = document.createElement("dialog");
  dialog.className = "body-dialog";
  dialog.setAttribute("aria-labelledby", "body-dialog-title");
  document.body.appendChild(dialog);

  function openDialog(title, build) {
    dialog.replaceChildren();
    const heading = document.createElement("h2");
    heading.id = "body-dialog-title";
    heading.textContent = title;
    const box = document.createElement("form");
    box.method = "dialog";
    box.noValidate = true;
    dialog.append(heading, box);
    build(box);
    const cancel = button("Cancel", function () {
      dialog.close();
    });
    box.appendChild(cancel);
    dialog.showModal();
  }

  function button(label, onClick, className) {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.className = className || "button";
    element.addEventListener("click", onClick);
    return element;
  }

  function addressForm(box, label, check, problem, done) {
    const id = "body-dialog-address";
    const field = document.createElement("p");
    const caption = document.createElement("label");
    caption.htmlFor = id;
    caption.textContent = label;
    const input = document.createElement("input");
    input.type = "url";
    input.id = id;
    input.className = "vURLField";
    input.setAttribute("aria-describedby", "body-dialog-error");
    const error = document.createElement("p");
    error.id = "body-dialog-error";
    error.className = "errornote";
    error.hidden = true;
    field.append(caption, document.createElement("br"), input);
    const ok = button("Insert", function () {
      const value = input.value.trim();
      if (!check.test(value)) {
        error.textContent = problem;
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      const selection = [body.selectionStart, body.selectionEnd];
      dialog.close();
      body.setSelectionRange(selection[0], selection[1]);
      done(value);
    }, "button default");
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        ok.click();
      }
    });
    box.append(field, error, ok);
    setTimeout(function () { input.focus(); }, 0);
  }

  function insertLink() {
    const start = body.selectionStart;
    const end = body.selectionEnd;
    openDialog("Add a link", function (box) {
      addressForm(box, "Web address (https://…)", LINK,
        "Give a full address starting with https:// or http:// (or mailto:).",
        function (url) {
          body.setSelectionRange(start, end);
          const text = body.value.slice(start, end) || url;
          replaceSelection("[" + text + "](" + url + ")", 1, 1 + text.length);
        });
    });
  }

  function insertEmbed() {
    const start = body.selectionStart;
    const end = body.selectionEnd;
    openDialog("Embed a video or post", function (box) {
      addressForm(box, "YouTube, Vimeo or X address", EMBED,
        "Only a YouTube or Vimeo video or an X post can be embedded.",
        function (url) {
          body.setSelectionRange(start, end);
          insertBlock(url);
        });
    });
  }

  // --- Figures: chosen by their picture, placed with a [figure N] line -----

  function figureRows() {
    const rows = [];
    document.querySelectorAll("#figures-group .inline-related:not(.empty-form)").forEach(function (row) {
      const field = function (name) {
        return row.querySelector("[name$='-" + name + "']");
      };
      const deleted = field("DELETE");
      if (deleted && deleted.checked) {
        return;
      }
      const place = field("place");
      const position = field("position");
      if (!place || !position || place.value !== "body") {
        return;
      }
      const image = field("image");
      const thumbnail = row.querySelector("img.figure-thumbnail");
      rows.push({
        position: position.value,
        caption: (field("caption") || {}).value || "",
        file: image && image.files && image.files.length ? image.files[0].name : "",
        thumbnail: thumbnail ? thumbnail.getAttribute("src") : "",
        alt: thumbnail ? thumbnail.getAttribute("alt") : "",
      });
    });
    return rows;
  }

  function newFigure(choice) {
    const add = document.querySelector("#figures-group .add-row a");
    if (!add) {
      return;
    }
    const positions = figureRows().map(function (row) { return parseInt(row.position, 10) || 0; });
    const next = positions.length ? Math.max.apply(null, positions) + 1 : 1;
    add.click();
    const rows = document.querySelectorAll("#figures-group .inline-related:not(.empty-form)");
    const row = rows[rows.length - 1];
    row.querySelector("[name$='-place']").value = "body";
    row.querySelector("[name$='-position']").value = String(next);
    insertBlock("[figure " + next + "]");
    const library = row.querySelector("input.image-chooser-input");
    if (choice && library) {
      // A picture from the library: the row takes its number.
      library.value = choice.id;
      const holder = library.closest(".image-chooser");
      if (holder && window.briefingsImageChooser) {
        window.briefingsImageChooser.showChoice(holder, choice);
      }
      return;
    }
    const file = row.querySelector("input[type=file]");
    if (file) {
      file.focus();
      file.click();
    }
  }

  function insertFigure() {
    const start = body.selectionStart;
    const end = body.selectionEnd;
    openDialog("Place a picture", function (box) {
      const rows = figureRows();
      const list = document.createElement("ul");
      list.className = "figure-chooser";
      rows.forEach(function (row) {
        const item = document.createElement("li");
        const choose = button("", function () {
          dialog.close();
          body.setSelectionRange(start, end);
          insertBlock("[figure " + row.position + "]");
        }, "figure-chooser__choice");
        if (row.thumbnail) {
          const img = document.createElement("img");
          img.src = row.thumbnail;
          img.alt = "";
          img.width = 120;
          choose.appendChild(img);
        }
        const label = document.createElement("span");
        label.textContent = "Figure " + row.position + ": " + (row.caption || row.alt || row.file || "no caption yet");
        choose.appendChild(label);
        item.appendChild(choose);
        list.appendChild(item);
      });
      if (!rows.length) {
        const none = document.createElement("p");
        none.textContent = "This story has no body figures yet.";
        box.appendChild(none);
      } else {
        box.appendChild(list);
      }
      if (window.briefingsImageChooser) {
        box.appendChild(button("Choose from the library…", function () {
          dialog.close();
          window.briefingsImageChooser.open(function (choice) {
            body.setSelectionRange(start, end);
            newFigure(choice);
          });
        }));
      }
      box.appendChild(button("Upload a new picture…", function () {
        dialog.close();
        body.setSelectionRange(start, end);
        newFigure();
      }));
    });
  }

  // --- The toolbar -----------------------------------------------------------

  const tools = [
    ["Bold", function () { wrap("**", "bold text"); }],
    ["Italic", function () { wrap("*", "italic text"); }],
    ["Link", insertLink],
    ["Subheading", function () { prefixLines("## "); }],
    ["Quotation", function () { prefixLines("> "); }],
    ["List", function () { prefixLines("- "); }],
    ["Figure", insertFigure],
    ["Embed", insertEmbed],
  ];
  const toolbar = document.createElement("div");
  toolbar.className = "body-toolbar";
  toolbar.setAttribute("role", "toolbar");
  toolbar.setAttribute("aria-label", "Text formatting");
  toolbar.setAttribute("aria-controls", body.id);
  tools.forEach(function (tool, index) {
    const element = button(tool[0], tool[1], "body-toolbar__button");
    element.tabIndex = index === 0 ? 0 : -1;  // one tab stop; arrows move
    toolbar.appendChild(element);
  });
  toolbar.addEventListener("keydown", function (event) {
    const buttons = Array.from(toolbar.querySelectorAll("button"));
    const at = buttons.indexOf(document.activeElement);
    let next = null;
    if (event.key === "ArrowRight") { next = (at + 1) % buttons.length; }
    if (event.key === "ArrowLeft") { next = (at - 1 + buttons.length) % buttons.length; }
    if (event.key === "Home") { next = 0; }
    if (event.key === "End") { next = buttons.length - 1; }
    if (next !== null) {
      event.preventDefault();
      buttons.forEach(function (b, i) { b.tabIndex = i === next ? 0 : -1; });
      buttons[next].focus();
    }
  });
  body.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey)) { return; }
    if (event.key === "b") { event.preventDefault(); wrap("**", "bold text"); }
    if (event.key === "i") { event.preventDefault(); wrap("*", "italic text"); }
  });

  // --- The live preview ------------------------------------------------------

  const preview = document.createElement("section");
  preview.className = "body-preview";
  preview.setAttribute("aria-labelledby", "body-preview-title");
  const previewTitle = document.createElement("h3");
  previewTitle.id = "body-preview-title";
  previewTitle.textContent = "Preview: what readers will see";
  const previewContent = document.createElement("div");
  previewContent.className = "body-preview__content story__body";
  preview.append(previewTitle, previewContent);

  const editor = document.createElement("div");
  editor.className = "body-editor";
  body.parentNode.insertBefore(editor, body);
  const writing = document.createElement("div");
  writing.className = "body-editor__text";
  writing.append(toolbar, body);
  editor.append(writing, preview);

  let timer = null;
  let sent = 0;
  function refresh() {
    const data = new FormData();
    data.append("body", body.value);
    data.append("story", config.dataset.story || "");
    const token = form.querySelector("[name=csrfmiddlewaretoken]").value;
    const number = ++sent;
    fetch(config.dataset.previewUrl, {
      method: "POST",
      body: data,
      headers: { "X-CSRFToken": token },
      credentials: "same-origin",
    }).then(function (response) {
      return response.text().then(function (text) {
        if (number !== sent) { return; }  // a newer preview is on its way
        if (!response.ok) {
          previewContent.replaceChildren(document.createTextNode(
            response.status === 400 ? text : "The preview is not available just now."));
          return;
        }
        previewContent.innerHTML = text;  // body.py's sanitised rendering
        preview.dataset.rendered = String(number);
      });
    }).catch(function () {
      previewContent.textContent = "The preview is not available just now.";
    });
  }
  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  refresh();
})();
