/* The library image's focal point: click on the picture (admin change form).
 *
 * The two number fields below the picture stay the way to set it by keyboard
 * (and without JavaScript); a click fills them, and typing moves the mark.
 * No inline script or style attribute: positions are set through the CSSOM.
 */
(function () {
  "use strict";

  function start() {
    const picker = document.querySelector(".focal-picker");
    const across = document.getElementById("id_focal_x");
    const down = document.getElementById("id_focal_y");
    if (!picker || !across || !down) {
      return;
  }
  const image = picker.querySelector("img");
  const mark = picker.querySelector(".focal-picker__mark");

  function clamp(value) {
    return Math.min(1, Math.max(0, value));
  }

  function show() {
    const x = clamp(parseFloat(across.value));
    const y = clamp(parseFloat(down.value));
    if (Number.isNaN(x) || Number.isNaN(y)) {
      mark.hidden = true;
      return;
    }
    mark.hidden = false;
    mark.style.left = (x * 100).toFixed(2) + "%";
    mark.style.top = (y * 100).toFixed(2) + "%";
  }

  image.addEventListener("click", function (event) {
    const box = image.getBoundingClientRect();
    across.value = clamp((event.clientX - box.left) / box.width).toFixed(3);
    down.value = clamp((event.clientY - box.top) / box.height).toFixed(3);
    across.dispatchEvent(new Event("change", { bubbles: true }));
    show();
  });
  across.addEventListener("input", show);
  down.addEventListener("input", show);
  picker.classList.add("focal-picker--active");
  show();
  }

  // The admin puts its scripts in <head>: wait for the form.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
