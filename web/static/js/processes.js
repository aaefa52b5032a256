// The editor pages (web/processes/templates/processes/editor.html).
(function () {
  'use strict';
  // A draft saved from the newest version becomes the page's draft: deploying it then deletes it.
  document.addEventListener('lotse:saved', function (event) {
    var data = event.detail && event.detail.data;
    var field = document.querySelector('#editor-fields input[name="draft_id"]');
    if (event.detail.ok && data && data.draft_id && field) {
      field.value = String(data.draft_id);
    }
  });

  // The form editor: "Vorschau aktualisieren" sends the editor's schema to the server, which renders it
  // as advisors will see it (web/forms_html.py) in German and English, and shows both.
  var button = document.getElementById('form-preview-button');
  if (!button) {
    return;
  }
  var status = document.getElementById('form-preview-status');
  button.addEventListener('click', function () {
    var editorEl = document.querySelector('.form-editor');
    var editor = editorEl && editorEl.lotseFormEditor;
    if (!editor) {
      return;
    }
    status.textContent = '…';
    fetch(button.dataset.previewUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': button.dataset.csrf },
      body: JSON.stringify({ schema: editor.saveSchema() })
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (answer) {
      if (!answer.ok) {
        status.textContent = (answer.data.errors || []).map(function (e) { return e.message; }).join('; ');
        return;
      }
      // the server's own renderer output (escaped by it), as on the task page
      document.getElementById('form-preview-de').innerHTML = answer.data.html.de;
      document.getElementById('form-preview-en').innerHTML = answer.data.html.en;
      status.textContent = document.documentElement.lang === 'en' ? 'Preview updated.' : 'Vorschau aktualisiert.';
    }).catch(function (err) {
      status.textContent = String(err);
    });
  });
}());
