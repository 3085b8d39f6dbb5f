// Qipan's only script of its own: asks before irreversible form submissions, and sends a form
// once. A form with data-confirm="question" is sent only when the user agrees; a POST form that
// is on its way is not sent a second time by a double click (the next page replaces it). Kept
// out of the HTML so that the Content-Security-Policy can forbid inline scripts.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form || !form.getAttribute) {
    return;
  }
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if ((form.getAttribute("method") || "").toLowerCase() === "post") {
    if (form.getAttribute("data-sending") === "1") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sending", "1");
  }
}, true);
// Coming back with the browser's back button shows the page from its cache: let it send again.
window.addEventListener("pageshow", function () {
  var forms = document.querySelectorAll("form[data-sending]");
  for (var i = 0; i < forms.length; i++) {
    forms[i].removeAttribute("data-sending");
  }
});
