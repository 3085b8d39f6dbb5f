// Qipan's only script of its own: asks before irreversible form submissions. A form with
// data-confirm="question" is sent only when the user agrees. Kept out of the HTML so that the
// Content-Security-Policy can forbid inline scripts.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);
