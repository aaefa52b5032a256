// Starts Swagger UI on /api/v1/docs with the document the page names (data-spec-url).
// A separate file, not an inline script: the Content-Security-Policy allows scripts from 'self' only.

// What Swagger UI's own layout lacks for axe (colours are in assets/api-docs.css):
// - the document's title and description are the page's banner, and the authorize button a named
//   region, so that all content sits in a landmark around Swagger UI's <main id="operations">;
// - an h2 heads the operations, whose groups are h3 (after the title's h1);
// - deepLinking stays off: it puts a link inside each operation's expand button (nested controls).
function LandmarksPlugin(system) {
  var h = system.React.createElement;
  return {
    wrapComponents: {
      InfoContainer: function (Original) {
        // role: Swagger UI's column is a <section>, in which a bare <header> is no banner
        return function (props) { return h('header', { role: 'banner' }, h(Original, props)); };
      },
      AuthorizeBtnContainer: function (Original) {
        return function (props) {
          return h('section', { 'aria-label': 'Authorization', className: 'lotse-authorize' }, h(Original, props));
        };
      },
      operations: function (Original) {
        return function (props) {
          return h(system.React.Fragment, null, h('h2', { className: 'lotse-operations-title' }, 'Operations'),
                   h(Original, props));
        };
      }
    }
  };
}

// What only Swagger UI's markup can carry, set as its parts appear (React leaves attributes it did not
// change alone): names for each operation's responses table (a region; several open operations need
// names to tell them apart), the request body's text area and the dialog's close button; focus for examples; the dialog's
// heading levels; and buttons whose name does not contain what they show (axe's label-content-name-mismatch).
function repair() {
  document.querySelectorAll('.responses-table:not([aria-label])').forEach(function (table) {
    var operation = table.closest('.opblock');
    var method = operation && operation.querySelector('.opblock-summary-method');
    var path = operation && operation.querySelector('.opblock-summary-path');
    table.setAttribute('aria-label', 'Responses' + (method && path
      ? ' of ' + method.textContent + ' ' + path.getAttribute('data-path') : ''));
  });
  document.querySelectorAll('textarea.body-param__text:not([aria-label])').forEach(function (area) {
    area.setAttribute('aria-label', 'Request body');
  });
  // an example longer than its box scrolls (at most 400 px high): reachable by keyboard
  document.querySelectorAll('.highlight-code > pre:not([tabindex])').forEach(function (example) {
    example.setAttribute('tabindex', '0');
  });
  document.querySelectorAll('.close-modal:not([aria-label])').forEach(function (button) {
    button.setAttribute('aria-label', 'Close');
  });
  document.querySelectorAll('.modal-ux-header h3:not([aria-level])').forEach(function (heading) {
    heading.setAttribute('aria-level', '2');       // the dialog sits after the title's h1
  });
  document.querySelectorAll('.modal-ux-content h4:not([aria-level])').forEach(function (heading) {
    heading.setAttribute('aria-level', '3');
  });
  document.querySelectorAll('button[aria-label]').forEach(function (button) {
    var text = button.textContent.trim(), label = button.getAttribute('aria-label');
    if (text && label.toLowerCase().indexOf(text.toLowerCase()) === -1) {
      button.setAttribute('aria-label', text + ' (' + label + ')');
    }
  });
}

window.addEventListener('DOMContentLoaded', function () {
  new MutationObserver(repair).observe(document.body, { childList: true, subtree: true });
  var root = document.getElementById('swagger-ui');
  window.SwaggerUIBundle({
    url: root.getAttribute('data-spec-url'),
    domNode: root,
    deepLinking: false,
    persistAuthorization: false,
    withCredentials: false,
    plugins: [LandmarksPlugin]
  });
});
