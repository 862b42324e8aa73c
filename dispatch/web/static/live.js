// Progressive enhancement: refresh a region marked data-live="SECONDS" in
// place, so the status is current without reloading the page. Without
// JavaScript the page works the same; it is just as fresh as its last load.
(function () {
  "use strict";
  document.querySelectorAll("[data-live]").forEach(function (region) {
    var seconds = Math.max(10, parseInt(region.getAttribute("data-live"), 10) || 30);
    window.setInterval(function () {
      if (document.hidden || region.contains(document.activeElement)) { return; }
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live": "1" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
          if (fresh && fresh.innerHTML !== region.innerHTML) { region.innerHTML = fresh.innerHTML; }
        })
        .catch(function () { /* offline for a moment: try again next time */ });
    }, seconds * 1000);
  });
  // An action that cannot be undone asks first. Said yes to here, the form says so
  // (sure=yes), so the server does not ask again; without a script the server asks
  // on a page of its own (dispatch/web/sure.py).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (!question) { return; }
    if (!window.confirm(question)) { event.preventDefault(); return; }
    var sure = form.querySelector("input[name='sure']");
    if (!sure) {
      sure = document.createElement("input");
      sure.type = "hidden";
      sure.name = "sure";
      form.appendChild(sure);
    }
    sure.value = "yes";
  });
})();
