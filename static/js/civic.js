/* civic: small enhancements on top of working server-rendered forms.
   Loaded with `defer`; no framework, no inline script. Listeners are
   delegated from `document`, so content htmx swaps in works too. */
(function () {
  "use strict";

  // (a) Send the CSRF token with every htmx request.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });

  // (a2) A form swapped back with its errors: as when the whole page reloads, the title starts
  // "Error: " and focus moves to the error summary, so a screen reader hears what went wrong
  // (the button that had focus was replaced). A page swapped in with its own title keeps it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var summary = document.querySelector(".govuk-error-summary");
    if (!summary || !event.detail.xhr || event.detail.xhr.status !== 422) {
      return;
    }
    if (document.title.indexOf("Error: ") !== 0) {
      document.title = "Error: " + document.title;
    }
    if (!summary.hasAttribute("tabindex")) {
      summary.setAttribute("tabindex", "-1");
    }
    summary.focus();
  });

  // (b) Share controls: [−] [number] [+]. Without JavaScript the buttons
  // submit name="step" value="<priority_id>:+1" and the server adjusts;
  // with it, adjust the number here and let the page react to the events.
  function bound(value, fallback) {
    return value === "" || isNaN(Number(value)) ? fallback : Number(value);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".app-share-control button[data-step]");
    if (!button) {
      return;
    }
    var control = button.closest(".app-share-control");
    var input = control.querySelector('input[type="number"]');
    var step = parseInt(button.getAttribute("data-step"), 10);
    if (!input || isNaN(step) || input.disabled || input.readOnly) {
      return;
    }
    event.preventDefault();
    var min = bound(input.min, -Infinity);
    var max = bound(input.max, Infinity);
    var current = isNaN(input.valueAsNumber) ? Math.max(0, min) : input.valueAsNumber;
    var next = Math.min(max, Math.max(min, current + step));
    if (next === current && input.value !== "") {
      return;
    }
    input.value = String(next);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // Enter in a share input submits the form as a plain save. Left alone, the
  // browser would "click" the form's first submit button, which may be a −.
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches(".app-share-control input") || !input.form) {
      return;
    }
    event.preventDefault();
    if (input.form.requestSubmit) {
      input.form.requestSubmit();
    } else {
      input.form.submit();
    }
  });

  // (c) Character count on a GOV.UK character-count textarea: "You have 120
  // characters remaining". Without JavaScript the hint states the limit and
  // the server says how much is too much. Screen readers hear the count once
  // typing pauses, not at every key.
  var countTimer;
  document.addEventListener("input", function (event) {
    var box = event.target.closest && event.target.closest('[data-module="govuk-character-count"]');
    if (!box || event.target.tagName !== "TEXTAREA") {
      return;
    }
    var limit = parseInt(box.getAttribute("data-maxlength"), 10);
    var message = box.querySelector(".govuk-character-count__message");
    var status = box.querySelector(".govuk-character-count__status");
    var left = limit - event.target.value.length;
    var text = left >= 0
      ? "You have " + left.toLocaleString("en-GB") + " character" + (left === 1 ? "" : "s") + " remaining"
      : "You have " + (-left).toLocaleString("en-GB") + " character" + (left === -1 ? "" : "s") + " too many";
    message.textContent = text;
    message.classList.toggle("govuk-error-message", left < 0);
    message.classList.toggle("govuk-hint", left >= 0);
    clearTimeout(countTimer);
    countTimer = setTimeout(function () { if (status) { status.textContent = text; } }, 1000);
  });
  // (d) "Exit this page" on the concern form, without GOV.UK Frontend's script: leave at once for the
  // neutral site, taking this page out of the history and hiding it while the other site loads; pressing
  // Shift three times within 5 seconds does the same. Without JavaScript it is a plain link.
  var EXIT_BUTTON = ".govuk-js-exit-this-page-button";
  function exitThisPage(button) {
    document.body.classList.add("govuk-exit-this-page-hide-content");
    window.location.replace(button.href);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(EXIT_BUTTON);
    if (button) {
      event.preventDefault();
      exitThisPage(button);
    }
  });
  var shiftPresses = 0;
  var shiftTimer;
  document.addEventListener("keyup", function (event) {
    var button = document.querySelector(EXIT_BUTTON);
    if (!button || event.key !== "Shift") {
      shiftPresses = 0;
      return;
    }
    shiftPresses += 1;
    clearTimeout(shiftTimer);
    shiftTimer = setTimeout(function () { shiftPresses = 0; }, 5000);
    if (shiftPresses >= 3) {
      exitThisPage(button);
    }
  });
  // Coming back with the Back button may show the page from the browser's cache, still hidden.
  window.addEventListener("pageshow", function () {
    document.body.classList.remove("govuk-exit-this-page-hide-content");
  });

  // (e) The menu: GOV.UK Frontend's service navigation, without its script. Below GOV.UK's tablet
  // breakpoint the list hides behind the "Menu" button, so a phone sees the page's content first;
  // from the breakpoint up the list shows in a row and the button hides. Without JavaScript the
  // button keeps its `hidden` attribute and the whole list shows.
  function serviceNavigation(root) {
    var button = root.querySelector(".govuk-js-service-navigation-toggle");
    var menu = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) {
      return;
    }
    var tablet = getComputedStyle(document.documentElement).getPropertyValue("--govuk-breakpoint-tablet").trim();
    var wide = window.matchMedia("(min-width: " + (tablet || "40.0625rem") + ")");
    var open = false;
    function show() {
      if (wide.matches) {
        menu.removeAttribute("hidden");
        button.setAttribute("hidden", "");
        button.setAttribute("aria-hidden", "true");  // VoiceOver lists a hidden button otherwise
      } else {
        button.removeAttribute("hidden");
        button.removeAttribute("aria-hidden");
        button.setAttribute("aria-expanded", String(open));
        menu.hidden = !open;
      }
    }
    button.addEventListener("click", function () {
      open = !open;
      show();
    });
    if (wide.addEventListener) {
      wide.addEventListener("change", show);
    } else {
      wide.addListener(show);  // Safari before 14
    }
    show();
  }
  document.querySelectorAll('[data-module="govuk-service-navigation"]').forEach(serviceNavigation);
})();
