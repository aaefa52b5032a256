// Keyboard-accessible zoom buttons (+ / − / fit, and "current step" when the diagram has one) for bpmn-js
// viewers and modelers, and opening a diagram on the step that matters at a size people can read.

import { h } from './common.js';

const STEP = 1.25;
const MIN_SCALE = 0.2;
const MAX_SCALE = 4;
// Below this the names in a task box are too small to read; a case opens on its active step at LEGIBLE instead.
const READABLE = 0.75;
const LEGIBLE = 1;

export function fit(viewer) {
  viewer.get('canvas').zoom('fit-viewport', 'auto');
}

/** The bounding box of the given elements (diagram coordinates), or null. */
export function boundsOf(elements) {
  const shapes = elements.filter((e) => e && !e.waypoints && e.width !== undefined);
  if (!shapes.length) {
    return null;
  }
  const x = Math.min(...shapes.map((e) => e.x));
  const y = Math.min(...shapes.map((e) => e.y));
  return {
    x, y,
    width: Math.max(...shapes.map((e) => e.x + e.width)) - x,
    height: Math.max(...shapes.map((e) => e.y + e.height)) - y
  };
}

/** Show `box` (diagram coordinates) in the middle of the canvas at `scale`. */
export function centreOn(viewer, box, scale) {
  const canvas = viewer.get('canvas');
  const { outer } = canvas.viewbox();
  const width = outer.width / scale;
  const height = outer.height / scale;
  canvas.viewbox({
    x: box.x + box.width / 2 - width / 2,
    y: box.y + box.height / 2 - height / 2,
    width, height
  });
}

/**
 * Open the diagram: the whole of it when it is readable that way and shows the focus, else centred on
 * the focus (the active steps) at a legible size.
 */
export function openOn(viewer, focus) {
  fit(viewer);
  const box = focus && focus();
  const canvas = viewer.get('canvas');
  if (box && canvas.zoom() < READABLE) {
    centreOn(viewer, box, LEGIBLE);
  }
}

/** The point on screen (container pixels) of the centre of `box`, if it is in view. */
function onScreen(viewer, box) {
  const viewbox = viewer.get('canvas').viewbox();
  const x = (box.x + box.width / 2 - viewbox.x) * viewbox.scale;
  const y = (box.y + box.height / 2 - viewbox.y) * viewbox.scale;
  const inside = x >= 0 && y >= 0 && x <= viewbox.outer.width && y <= viewbox.outer.height;
  return inside ? { x, y } : null;
}

function stepZoom(viewer, direction, focus) {
  const canvas = viewer.get('canvas');
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, canvas.zoom() * (direction > 0 ? STEP : 1 / STEP)));
  const box = focus && focus();
  // Zoom around the active step while it is in view, so that it stays there; else around the middle.
  const point = box && onScreen(viewer, box);
  canvas.zoom(scale, point || undefined);
}

export function buildZoomControls(viewer, t, focus) {
  const button = (label, text, onclick, cls) => h('button', {
    type: 'button',
    class: `lotse-zoom__btn ${cls}`,
    'aria-label': label,
    title: label,
    onclick
  }, h('span', { 'aria-hidden': 'true' }, text));
  const controls = h('div', { class: 'lotse-zoom', role: 'toolbar', 'aria-label': t.toolbar },
    button(t.zoomIn, '+', () => stepZoom(viewer, 1, focus), 'lotse-zoom__in'),
    button(t.zoomOut, '\u2212', () => stepZoom(viewer, -1, focus), 'lotse-zoom__out'),
    button(t.zoomFit, '\u2922', () => fit(viewer), 'lotse-zoom__fit')
  );
  if (focus) {
    const current = button(t.zoomCurrent, '\u25ce', () => {
      const box = focus();
      if (box) {
        centreOn(viewer, box, Math.max(viewer.get('canvas').zoom(), LEGIBLE));
      }
    }, 'lotse-zoom__current');
    controls.appendChild(current);
  }
  return controls;
}
