// BPMN modeler for process owners: bpmn-js Modeler + properties panel with the
// Camunda 7 (Camunda Platform) provider + bpmnlint (config from .bpmnlintrc).
//
// Contract (see docs/frontend.md):
//   <div class="bpmn-modeler"
//        data-xml-url="/processes/onboarding/draft.bpmn"   (omit/empty: start a new diagram)
//        data-save-url="/processes/onboarding/deploy"
//        data-csrf="{{ csrf_token() }}"
//        data-properties="#props"                          (optional selector)
//        data-height="640px"></div>                        (optional canvas height)
//   <div class="bpmn-properties"></div>                    (optional; else created)
//
// Save / deploy POSTs JSON {"xml": "<bpmn:definitions …>"} with header X-CSRFToken
// and shows the response messages (errors with element ids are clickable). Optional:
// data-deploy-url (a second button), data-fields (a form whose fields join the body),
// data-download-name (a download button). A diagram without layout (no BPMN DI, e.g.
// written by hand or generated) is laid out with bpmn-auto-layout before it is shown.

import './style-nonce.js';
import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule
} from 'bpmn-js-properties-panel';
import CamundaPlatformBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import lintModule from 'bpmn-js-bpmnlint';
import { layoutProcess } from 'bpmn-auto-layout';
import bpmnlintConfig from 'virtual:bpmnlint-config';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';   // font files, not data: URLs (the CSP's font-src is 'self')
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';
import './viewer.css';
import './modeler.css';

import {
  autoInit, fetchText, h, showLoadFailure, strings, xmlEditorActions
} from './common.js';
import { buildZoomControls } from './zoom.js';

/** Whether a BPMN file carries diagram interchange (shapes to draw); Camunda Modeler always writes it. */
function hasLayout(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  return doc.getElementsByTagNameNS('http://www.omg.org/spec/BPMN/20100524/DI', 'BPMNShape').length > 0;
}

function findPropertiesContainer(el) {
  if (el.dataset.properties) {
    const target = document.querySelector(el.dataset.properties);
    if (target) {
      return { container: target, external: true };
    }
  }
  const inside = el.querySelector('.bpmn-properties');
  if (inside) {
    return { container: inside, external: false };
  }
  const sibling = el.parentElement && el.parentElement.querySelector(':scope > .bpmn-properties');
  if (sibling) {
    return { container: sibling, external: true };
  }
  return { container: h('div', { class: 'bpmn-properties' }), external: false };
}

async function initModeler(el) {
  const t = strings(el);
  const { container: propsEl, external } = findPropertiesContainer(el);
  propsEl.classList.add('lotse-modeler__properties');
  if (!propsEl.getAttribute('aria-label')) {
    propsEl.setAttribute('role', 'region');
    propsEl.setAttribute('aria-label', t.properties);
  }

  el.classList.add('lotse-bpmn', 'lotse-modeler');
  const canvasEl = h('div', { class: 'lotse-bpmn__canvas lotse-modeler__canvas' });
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
  const body = h('div', { class: `lotse-modeler__body${external ? ' lotse-modeler__body--external' : ''}` },
    canvasEl, external ? null : propsEl);
  el.replaceChildren(toolbar, body, messages);

  const modeler = new BpmnModeler({
    container: canvasEl,
    propertiesPanel: { parent: propsEl },
    linting: { bpmnlint: bpmnlintConfig, active: true },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaPlatformBehaviorsModule,
      lintModule
    ],
    moddleExtensions: { camunda: camundaModdle }
  });
  el.lotseModeler = modeler;
  toolbar.appendChild(buildZoomControls(modeler, t));

  const select = (id) => {
    const registry = modeler.get('elementRegistry');
    const canvas = modeler.get('canvas');
    const element = registry.get(id);
    if (!element) {
      return false;
    }
    try {
      const root = canvas.findRoot(element);
      if (root && root !== canvas.getRootElement()) {
        canvas.setRootElement(root);
      }
    } catch (e) { /* older diagram-js: single root */ }
    modeler.get('selection').select(element);
    if (element.waypoints || element.width !== undefined) {
      canvas.scrollToElement(element);
    }
    canvasEl.querySelector('.djs-container svg') && canvasEl.querySelector('.djs-container svg').focus();
    return true;
  };
  el.lotseSelect = select;

  let dirty = false;
  modeler.on('commandStack.changed', () => { dirty = true; });
  window.addEventListener('beforeunload', (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = '';
    }
  });

  const xmlUrl = el.dataset.xmlUrl;
  try {
    if (xmlUrl) {
      let xml = await fetchText(xmlUrl);
      if (!hasLayout(xml)) {
        xml = await layoutProcess(xml);
        dirty = true;
      }
      const { warnings } = await modeler.importXML(xml);
      if (warnings && warnings.length) {
        console.warn('[lotse] bpmn import warnings', warnings);
      }
    } else {
      await modeler.createDiagram();
    }
    modeler.get('canvas').zoom('fit-viewport', 'auto');
  } catch (err) {
    showLoadFailure(messages, t, 'diagram', xmlUrl, err);
    return modeler;
  }

  toolbar.prepend(...xmlEditorActions(el, t, modeler, { select, messages, onSaved: () => { dirty = false; } }));

  return modeler;
}

window.LotseModeler = {
  init: autoInit('.bpmn-modeler', initModeler)
};
