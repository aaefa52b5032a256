// Read-only BPMN diagram with case state for the case page.
//
// Contract (see docs/frontend.md):
//   <div class="bpmn-viewer"
//        data-xml-url="/cases/42/diagram.bpmn"
//        data-completed='["StartEvent_1","Task_a"]'
//        data-active='["Task_b"]'
//        data-waiting='["Timer_1"]'
//        data-error='["Task_c"]'
//        data-counts='{"Task_b": 3}'            (optional count badges)
//        data-added / data-removed / data-changed  (optional: comparing versions)
//        data-legend="Änderungen"                (optional legend title)
//        data-height="420px"></div>             (optional canvas height)

import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import './viewer.css';

import { autoInit, fetchText, h, parseList, parseObject, strings } from './common.js';
import { buildZoomControls, fit } from './zoom.js';

const STATES = [
  { key: 'completed', attr: 'completed', marker: 'lotse-completed' },
  { key: 'active', attr: 'active', marker: 'lotse-active' },
  { key: 'waiting', attr: 'waiting', marker: 'lotse-waiting' },
  { key: 'failed', attr: 'error', marker: 'lotse-error' },
  // comparing two versions (process owners): what one version adds, removes or changes
  { key: 'added', attr: 'added', marker: 'lotse-added' },
  { key: 'removed', attr: 'removed', marker: 'lotse-removed' },
  { key: 'changed', attr: 'changed', marker: 'lotse-changed' }
];

function elementLabel(element) {
  const bo = element.businessObject || {};
  return bo.name ? `${bo.name}` : element.id;
}

async function initViewer(el) {
  const t = strings(el);
  const xmlUrl = el.dataset.xmlUrl;

  el.classList.add('lotse-bpmn');
  // a group, not an img: bpmn-js makes the canvas focusable (keyboard panning), and an img may hold
  // nothing interactive (axe: nested-interactive); the legend below says in words what is marked
  const canvasEl = h('div', {
    class: 'lotse-bpmn__canvas',
    role: 'group',
    'aria-label': el.dataset.label || t.diagram
  });
  if (el.dataset.height) {
    canvasEl.style.height = el.dataset.height;
  }
  const status = h('p', { class: 'lotse-bpmn__status', role: 'status' }, t.loading);
  const legend = h('div', { class: 'lotse-legend' });
  el.replaceChildren(canvasEl, status, legend);

  const viewer = new NavigatedViewer({ container: canvasEl });
  el.lotseViewer = viewer;
  const zoomControls = buildZoomControls(viewer, t);
  el.prepend(zoomControls);
  const failed = () => {
    status.textContent = t.loadFailed;
    status.classList.add('lotse-bpmn__status--error');
    canvasEl.hidden = true;
    zoomControls.hidden = true;
    legend.hidden = true;
    return viewer;
  };

  if (!xmlUrl) {
    return failed();
  }

  try {
    const xml = await fetchText(xmlUrl);
    const { warnings } = await viewer.importXML(xml);
    if (warnings && warnings.length) {
      console.warn('[lotse] bpmn import warnings', warnings);
    }
  } catch (err) {
    console.error('[lotse] could not load diagram', xmlUrl, err);
    return failed();
  }
  status.textContent = '';
  status.hidden = true;

  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  const overlays = viewer.get('overlays');

  // state markers + a text summary (legend) so the state is not told by colour alone
  for (const state of STATES) {
    const ids = parseList(el.getAttribute(`data-${state.attr}`));
    const names = [];
    for (const id of ids) {
      const element = registry.get(id);
      if (!element) {
        continue;
      }
      canvas.addMarker(id, state.marker);
      if (!element.waypoints && element.type !== 'label') {
        names.push(elementLabel(element));
      }
    }
    if (names.length) {
      legend.appendChild(h('div', { class: `lotse-legend__item lotse-legend__item--${state.key}` },
        h('span', { class: 'lotse-legend__swatch', 'aria-hidden': 'true' }),
        h('span', { class: 'lotse-legend__label' }, `${t[state.key]}: `),
        h('span', { class: 'lotse-legend__names' }, names.join(', '))
      ));
    }
  }
  if (legend.childElementCount) {
    legend.prepend(h('span', { class: 'lotse-legend__title' }, `${el.dataset.legend || t.legend}:`));
  } else {
    legend.hidden = true;
  }

  // optional count badges
  const counts = parseObject(el.dataset.counts);
  for (const [ id, count ] of Object.entries(counts)) {
    if (!registry.get(id) || count === null || count === undefined || count === '') {
      continue;
    }
    overlays.add(id, 'lotse-count', {
      position: { top: -10, right: 10 },
      html: h('span', { class: 'lotse-count-badge' }, String(count))
    });
  }

  fit(viewer);
  return viewer;
}

window.LotseViewer = {
  init: autoInit('.bpmn-viewer', initViewer)
};
