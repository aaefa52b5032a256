// Form editor for process owners (@bpmn-io/form-js-editor).
//
// Contract (see docs/frontend.md):
//   <div class="form-editor"
//        data-schema-url="/forms/intake.form"     (omit/empty: start an empty form)
//        data-save-url="/forms/intake"
//        data-csrf="{{ csrf_token() }}"
//        data-height="640px"></div>               (optional)
//
// Save POSTs JSON {"schema": {...}} with header X-CSRFToken and shows the response
// messages (errors naming a field id or key are clickable and select that field).

import './style-nonce.js';
import { FormEditor } from '@bpmn-io/form-js-editor';

import '@bpmn-io/form-js-viewer/dist/assets/form-js.css';
import '@bpmn-io/form-js-editor/dist/assets/form-js-editor.css';
import './viewer.css';
import './modeler.css';

import {
  autoInit, editorActions, fetchText, h, showLoadFailure, strings
} from './common.js';

const EMPTY_SCHEMA = {
  type: 'default',
  components: []
};

async function initFormEditor(el) {
  const t = strings(el);
  el.classList.add('lotse-form-editor');
  const canvasEl = h('div', {
    class: 'lotse-form-editor__canvas',
    role: 'region',
    'aria-label': el.dataset.label || t.formEditor
  });
  if (el.dataset.height) {
    canvasEl.style.height = el.dataset.height;
  }
  const messages = h('div', {
    class: 'lotse-messages',
    role: 'status',
    'aria-live': 'polite',
    'aria-label': t.messages
  });
  const toolbar = h('div', { class: 'lotse-toolbar' });
  el.replaceChildren(toolbar, canvasEl, messages);

  const editor = new FormEditor({ container: canvasEl });
  el.lotseFormEditor = editor;

  const select = (idOrKey) => {
    const registry = editor.get('formFieldRegistry');
    const field = registry.get(idOrKey) ||
      registry.getAll().find((f) => f.key === idOrKey || f.id === idOrKey);
    if (!field) {
      return false;
    }
    editor.get('selection').set(field);
    const node = canvasEl.querySelector(`[data-id="${CSS.escape(field.id)}"]`);
    if (node) {
      node.scrollIntoView({ block: 'center' });
      if (node.focus) {
        node.focus();
      }
    }
    return true;
  };
  el.lotseSelect = select;

  let dirty = false;
  editor.on('changed', () => { dirty = true; });
  window.addEventListener('beforeunload', (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = '';
    }
  });

  const schemaUrl = el.dataset.schemaUrl;
  try {
    let schema = EMPTY_SCHEMA;
    if (schemaUrl) {
      const text = await fetchText(schemaUrl);
      const parsed = text.trim() ? JSON.parse(text) : EMPTY_SCHEMA;
      // accept either the bare schema or an envelope {"schema": {...}}
      schema = parsed && parsed.schema && parsed.schema.components ? parsed.schema : parsed;
    }
    await editor.importSchema(schema);
    dirty = false;
  } catch (err) {
    showLoadFailure(messages, t, 'form schema', schemaUrl, err);
    return editor;
  }

  const schemaText = () => JSON.stringify(editor.saveSchema(), null, 2);
  toolbar.append(...editorActions(el, t, {
    content: async () => ({ schema: editor.saveSchema() }),
    download: async () => ({ text: schemaText(), type: 'application/json' }),
    select,
    messages,
    onSaved: () => { dirty = false; }
  }));

  return editor;
}

window.LotseFormEditor = {
  init: autoInit('.form-editor', initFormEditor)
};
