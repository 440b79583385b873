// Samspil's own script: start Det Fælles Designsystem's components, and send the
// session's CSRF token with every htmx request (read from the page, never inline JS).
document.documentElement.classList.remove('no-js');
document.addEventListener('DOMContentLoaded', function () {
  if (window.DKFDS && typeof window.DKFDS.init === 'function') { window.DKFDS.init(); }
  var token = document.querySelector('meta[name="csrf-token"]');
  if (token) {
    document.body.addEventListener('htmx:configRequest', function (event) {
      event.detail.headers['X-CSRF-Token'] = token.getAttribute('content');
    });
  }
  var summary = document.getElementById('error-summary');
  if (summary) { summary.focus(); }
});
