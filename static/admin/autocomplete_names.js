/* Names for empty autocomplete boxes.
 *
 * select2 shows a box's text in a role="textbox" element and names the
 * combobox after it; a chosen value carries a title, but an empty box shows
 * only its placeholder, so a screen reader met an unnamed field. Each empty
 * box is named after its select ("Story, row 2: Choose a story"); a chosen
 * one keeps select2's own title.
 */
(function () {
  "use strict";

  function nameBox(rendered) {
    const match = /^select2-(.+)-container$/.exec(rendered.id || "");
    const select = match && document.getElementById(match[1]);
    if (!select) {
      return;
    }
    const placeholder = rendered.querySelector(".select2-selection__placeholder");
    if (placeholder) {
      const label = select.getAttribute("aria-label");
      const text = placeholder.textContent;
      rendered.setAttribute("aria-label", label ? `${label}: ${text}` : text);
    } else {
      rendered.removeAttribute("aria-label");
    }
  }

  function nameAll(root) {
    root.querySelectorAll(".select2-selection__rendered").forEach(nameBox);
  }

  function start() {
    nameAll(document);
    new MutationObserver(function (mutations) {
      for (const mutation of mutations) {
        const target = mutation.target;
        if (target.nodeType !== Node.ELEMENT_NODE) {
          continue;
        }
        const rendered = target.closest(".select2-selection__rendered");
        if (rendered) {
          nameBox(rendered);
        } else {
          nameAll(target);
        }
      }
    }).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["title"],
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
