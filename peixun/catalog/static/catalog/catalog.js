// Catalog pages: small enhancements; every page works without them.
document.addEventListener("change", function (event) {
  // Selects marked data-autosubmit submit their form (e.g. the term picker).
  if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
  // The change-request form shows only the fields of the chosen kind.
  if (event.target.matches("select[name=kind][data-kind-switch]")) showKind(event.target.value);
});
function showKind(kind) {
  document.querySelectorAll("[data-kind]").forEach(function (group) {
    group.hidden = group.getAttribute("data-kind").split(" ").indexOf(kind) === -1;
  });
}
document.addEventListener("DOMContentLoaded", function () {
  const select = document.querySelector("select[name=kind][data-kind-switch]");
  if (select) showKind(select.value);
});
