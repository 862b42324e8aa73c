// Progressive enhancement for the request form: the place fields only matter
// for in-person appointments, and the address fields only for "other address".
// Without JavaScript every field is shown and the server ignores what is not needed.
(function () {
  "use strict";
  var form = document.querySelector(".request-form");
  if (!form) { return; }
  var where = document.getElementById("where");
  var connection = document.getElementById("connection-fields");
  var place = document.getElementById("place");
  var addressField = document.getElementById("address-field");
  function update() {
    var mode = form.querySelector("input[name=mode]:checked");
    var inPerson = !mode || mode.value === "in_person";
    where.hidden = !inPerson;
    if (connection) { connection.hidden = inPerson; }
    var other = place.value === "address";
    addressField.hidden = !other;
  }
  form.addEventListener("change", update);
  update();
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
