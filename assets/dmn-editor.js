// DMN editor for process owners (dmn-js Modeler): the decision tables (path, body and partner
// tables) are edited as tables. Contract as the BPMN modeler (docs/frontend.md):
//   <div class="dmn-editor"
//        data-xml-url="/processes/dmn/worker_path/source"
//        data-save-url="…" data-deploy-url="…" data-fields="#editor-fields"
//        data-download-name="worker_path.dmn" data-csrf="{{ csrf_token() }}"></div>
// Save and deploy POST {"xml": "<definitions …>"}; a message naming a rule or column id
// (also as "…/Rule_3") opens its table and scrolls that row or column into view.

import './style-nonce.js';
import DmnModeler from 'dmn-js/lib/Modeler';

import 'dmn-js/dist/assets/diagram-js.css';
import 'dmn-js/dist/assets/dmn-js-shared.css';
import 'dmn-js/dist/assets/dmn-js-drd.css';
import 'dmn-js/dist/assets/dmn-js-decision-table.css';
import 'dmn-js/dist/assets/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-js-literal-expression.css';
import 'dmn-js/dist/assets/dmn-font/css/dmn.css';   // font files, not data: URLs (the CSP's font-src is 'self')
import './modeler.css';

import {
  autoInit, fetchText, h, showLoadFailure, strings, xmlEditorActions
} from './common.js';

async function initDmnEditor(el) {
  const t = strings(el);
  el.classList.add('lotse-dmn-editor');
  const tabs = h('div', { class: 'lotse-dmn-editor__tabs', role: 'group', 'aria-label': t.decisionEditor });
  const canvasEl = h('div', {
    class: 'lotse-dmn-editor__canvas',
    role: 'region',
    'aria-label': el.dataset.label || t.decisionEditor
  });
  const messages = h('div', { class: 'lotse-messages', role: 'status', 'aria-live': 'polite', 'aria-label': t.messages });
  const toolbar = h('div', { class: 'lotse-toolbar' });
  el.replaceChildren(toolbar, tabs, canvasEl, messages);

  const modeler = new DmnModeler({ container: canvasEl, common: { keyboard: { bindTo: window } } });
  el.lotseDmnEditor = modeler;

  let dirty = false;
  modeler.on('views.changed', () => renderTabs());
  window.addEventListener('beforeunload', (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = '';
    }
  });

  function renderTabs() {
    const active = modeler.getActiveView();
    tabs.replaceChildren(...modeler.getViews().filter((view) => view.type !== 'drd').map((view) => {
      const button = h('button', {
        type: 'button',
        class: 'lotse-dmn-editor__tab',
        'aria-pressed': active && active.element === view.element ? 'true' : 'false'
      }, view.element.name || view.element.id);
      button.addEventListener('click', () => modeler.open(view));
      return button;
    }));
    const viewer = modeler.getActiveViewer();
    if (viewer && !viewer.lotseWatched) {
      viewer.lotseWatched = true;
      viewer.on('elements.changed', () => { dirty = true; });
    }
  }

  const select = async (id) => {
    const wanted = String(id).split(/[/→ ]+/).filter(Boolean).pop();
    for (const view of modeler.getViews()) {
      if (view.type !== 'decisionTable') {
        continue;
      }
      const table = view.element.decisionLogic;
      const parts = [ ...(table.rule || []), ...(table.input || []), ...(table.output || []) ];
      if (view.element.id === wanted || table.id === wanted || parts.some((p) => p.id === wanted)) {
        await modeler.open(view);
        const node = canvasEl.querySelector(`[data-row-id="${CSS.escape(wanted)}"], [data-col-id="${CSS.escape(wanted)}"]`);
        if (node) {
          node.scrollIntoView({ block: 'center' });
          node.classList.add('lotse-dmn-editor__selected');
          const cell = node.matches('td, th') ? node : node.querySelector('td, th');
          if (cell) {
            cell.focus();
          }
        }
        return true;
      }
    }
    return false;
  };
  el.lotseSelect = select;

  const xmlUrl = el.dataset.xmlUrl;
  try {
    await modeler.importXML(await fetchText(xmlUrl));
    const table = modeler.getViews().find((view) => view.type === 'decisionTable');
    if (table) {
      await modeler.open(table);
    }
    renderTabs();
  } catch (err) {
    showLoadFailure(messages, t, 'decisions', xmlUrl, err);
    return modeler;
  }

  toolbar.append(...xmlEditorActions(el, t, modeler, { select, messages, onSaved: () => { dirty = false; } }));
  return modeler;
}

window.LotseDmnEditor = {
  init: autoInit('.dmn-editor', initDmnEditor)
};
