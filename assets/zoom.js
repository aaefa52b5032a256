// Keyboard-accessible zoom buttons (+ / − / fit) for bpmn-js viewers and modelers.

import { h } from './common.js';

function stepZoom(viewer, direction) {
  const canvas = viewer.get('canvas');
  try {
    viewer.get('zoomScroll').stepZoom(direction);
  } catch (e) {
    canvas.zoom(canvas.zoom() * (direction > 0 ? 1.25 : 0.8));
  }
}

export function fit(viewer) {
  viewer.get('canvas').zoom('fit-viewport', 'auto');
}

export function buildZoomControls(viewer, t) {
  const button = (label, text, onclick, cls) => h('button', {
    type: 'button',
    class: `lotse-zoom__btn ${cls}`,
    'aria-label': label,
    title: label,
    onclick
  }, h('span', { 'aria-hidden': 'true' }, text));
  return h('div', { class: 'lotse-zoom', role: 'toolbar', 'aria-label': t.toolbar },
    button(t.zoomIn, '+', () => stepZoom(viewer, 1), 'lotse-zoom__in'),
    button(t.zoomOut, '\u2212', () => stepZoom(viewer, -1), 'lotse-zoom__out'),
    button(t.zoomFit, '\u2922', () => fit(viewer), 'lotse-zoom__fit')
  );
}

