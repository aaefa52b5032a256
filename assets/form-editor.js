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

import { FormEditor } from '@bpmn-io/form-js-editor';

import '@bpmn-io/form-js-viewer/dist/assets/form-js.css';
import '@bpmn-io/form-js-editor/dist/assets/form-js-editor.css';
import './viewer.css';
import './modeler.css';

import {
  autoInit, fetchText, h, normaliseMessages, postJSON, renderMessages, strings
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
  const saveBtn = h('button', { type: 'button', class: 'lotse-modeler__save' }, t.save);
  const messages = h('div', {
    class: 'lotse-messages',
    role: 'status',
    'aria-live': 'polite',
    'aria-label': t.messages
  });
  el.replaceChildren(h('div', { class: 'lotse-toolbar' }, saveBtn), canvasEl, messages);

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
    console.error('[lotse] could not load form schema', schemaUrl, err);
    renderMessages(messages, [ { level: 'error', message: `${t.loadFailed} ${err.message || ''}`.trim() } ], t);
    saveBtn.disabled = true;
    return editor;
  }

  saveBtn.addEventListener('click', async () => {
    const saveUrl = el.dataset.saveUrl;
    if (!saveUrl) {
      return;
    }
    saveBtn.disabled = true;
    saveBtn.setAttribute('aria-busy', 'true');
    renderMessages(messages, [ { level: 'info', message: t.saving } ], t);
    try {
      const schema = editor.saveSchema();
      const { ok, status, data } = await postJSON(saveUrl, { schema }, el.dataset.csrf);
      const list = normaliseMessages(data, ok);
      if (ok) {
        dirty = false;
        if (!list.length) {
          list.push({ level: 'success', message: t.saved });
        }
      } else if (!list.some((m) => m.level === 'error')) {
        list.unshift({ level: 'error', message: `${t.saveFailed} (HTTP ${status})` });
      }
      renderMessages(messages, list, t, select);
      el.dispatchEvent(new CustomEvent('lotse:saved', { bubbles: true, detail: { ok, status, data } }));
    } catch (err) {
      console.error('[lotse] save failed', err);
      renderMessages(messages, [ { level: 'error', message: `${t.saveFailed}: ${err.message || err}` } ], t);
    } finally {
      saveBtn.disabled = false;
      saveBtn.removeAttribute('aria-busy');
    }
  });

  return editor;
}

window.LotseFormEditor = {
  init: autoInit('.form-editor', initFormEditor)
};
