// Results grid: Enter / ArrowUp / ArrowDown move along a column, like a spreadsheet.
(function () {
  var grid = document.querySelector(".results-grid");
  if (!grid) return;
  function cells(col) {
    return Array.prototype.slice.call(grid.querySelectorAll('[data-col="' + col + '"]'));
  }
  grid.addEventListener("keydown", function (event) {
    var target = event.target;
    var col = target.getAttribute && target.getAttribute("data-col");
    if (!col) return;
    var step = 0;
    if (event.key === "Enter" || (event.key === "ArrowDown" && target.tagName === "INPUT")) step = 1;
    else if (event.key === "ArrowUp" && target.tagName === "INPUT") step = -1;
    if (!step) return;
    var list = cells(col);
    var next = list[list.indexOf(target) + (event.shiftKey && event.key === "Enter" ? -1 : step)];
    event.preventDefault();
    if (next) {
      next.focus();
      if (next.select) next.select();
    }
  });
})();
