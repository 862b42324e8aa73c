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
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
