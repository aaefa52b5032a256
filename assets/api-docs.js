// Starts Swagger UI on /api/v1/docs with the document the page names (data-spec-url).
// A separate file, not an inline script: the Content-Security-Policy allows scripts from 'self' only.
window.addEventListener('DOMContentLoaded', function () {
  var root = document.getElementById('swagger-ui');
  window.SwaggerUIBundle({
    url: root.getAttribute('data-spec-url'),
    domNode: root,
    deepLinking: true,
    persistAuthorization: false,
    withCredentials: false
  });
});
