// Small progressive enhancements; every page works without them.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
// "Select all" checkboxes for bulk actions.
document.addEventListener("change", function (event) {
  const all = event.target.closest("[data-check-all]");
  if (!all) return;
  document.querySelectorAll(all.getAttribute("data-check-all")).forEach(function (box) { box.checked = all.checked; });
});
