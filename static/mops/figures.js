// Draw every server-built Plotly figure on the page (see mops/figures.py: to_html).
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll(".mops-figure[data-figure]").forEach(function (el) {
      var spec = JSON.parse(el.dataset.figure);
      window.Plotly.newPlot(el, spec.data, spec.layout, { displaylogo: false, responsive: true });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
