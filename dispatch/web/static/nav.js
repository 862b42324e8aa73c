// On a phone the staff navigation is one row that scrolls sideways (see
// sprachpool.css); a page far along that row would open with its own link out
// of sight, so the row is scrolled to put the current page's link in its middle.
// Without JavaScript the row starts at its first link and the page's heading
// still names the page.
(function () {
  "use strict";
  var row = document.querySelector("header.top .nav");
  var current = row && row.querySelector("a[aria-current=page]");
  if (!current || row.scrollWidth <= row.clientWidth) { return; }
  var box = row.getBoundingClientRect();
  var link = current.getBoundingClientRect();
  row.scrollLeft += link.left - box.left - (box.width - link.width) / 2;
})();
