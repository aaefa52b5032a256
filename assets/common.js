// Shared helpers for the Lotse front-end bundles (no framework, no globals).

const STRINGS = {
  de: {
    zoomIn: 'Vergrößern',
    zoomOut: 'Verkleinern',
    zoomFit: 'Diagramm einpassen',
    zoomCurrent: 'Zum aktuellen Schritt',
    toolbar: 'Diagramm-Werkzeuge',
    diagram: 'Prozessdiagramm',
    loading: 'Diagramm wird geladen …',
    loadFailed: 'Das Diagramm konnte nicht geladen werden.',
    save: 'Speichern / bereitstellen',
    deploy: 'Bereitstellen',
    check: 'Prüfen',
    download: 'Herunterladen',
    decisionEditor: 'Entscheidungstabellen-Editor',
    saving: 'Wird gespeichert …',
    saved: 'Gespeichert.',
    saveFailed: 'Speichern fehlgeschlagen',
    lint: 'Modellprüfung',
    messages: 'Meldungen',
    showElement: 'Element anzeigen',
    error: 'Fehler',
    warning: 'Warnung',
    info: 'Hinweis',
    legend: 'Status im Diagramm',
    completed: 'Erledigt',
    active: 'Aktiv',
    waiting: 'Wartet',
    failed: 'Fehler',
    added: 'Neu',
    removed: 'Entfernt',
    changed: 'Geändert',
    formEditor: 'Formular-Editor',
    properties: 'Eigenschaften'
  },
  en: {
    zoomIn: 'Zoom in',
    zoomOut: 'Zoom out',
    zoomFit: 'Fit diagram to view',
    zoomCurrent: 'Go to the current step',
    toolbar: 'Diagram tools',
    diagram: 'Process diagram',
    loading: 'Loading diagram …',
    loadFailed: 'The diagram could not be loaded.',
    save: 'Save / deploy',
    deploy: 'Deploy',
    check: 'Check',
    download: 'Download',
    decisionEditor: 'Decision table editor',
    saving: 'Saving …',
    saved: 'Saved.',
    saveFailed: 'Saving failed',
    lint: 'Model check',
    messages: 'Messages',
    showElement: 'Show element',
    error: 'Error',
    warning: 'Warning',
    info: 'Note',
    legend: 'Status in the diagram',
    completed: 'Completed',
    active: 'Active',
    waiting: 'Waiting',
    failed: 'Error',
    added: 'Added',
    removed: 'Removed',
    changed: 'Changed',
    formEditor: 'Form editor',
    properties: 'Properties'
  }
};

/** UI strings for the page language (German first, English otherwise if the page says so). */
export function strings(el) {
  const lang = ((el && el.closest('[lang]') && el.closest('[lang]').getAttribute('lang')) ||
    document.documentElement.lang || 'de').toLowerCase();
  return lang.startsWith('de') || !lang.startsWith('en') ? STRINGS.de : STRINGS.en;
}

/** Parse a data-* attribute holding a JSON list; tolerate absent/invalid values and comma lists. */
export function parseList(value) {
  if (!value) {
    return [];
  }
  try {
    const parsed = JSON.parse(value);
    if (Array.isArray(parsed)) {
      return parsed.filter((v) => typeof v === 'string' && v);
    }
    if (typeof parsed === 'string') {
      return [ parsed ];
    }
    return [];
  } catch (e) {
    return value.split(/[\s,]+/).filter(Boolean);
  }
}

/** Parse a data-* attribute holding a JSON object; {} on anything else. */
export function parseObject(value) {
  if (!value) {
    return {};
  }
  try {
    const parsed = JSON.parse(value);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  } catch (e) {
    return {};
  }
}

/** Create an element with attributes and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [ key, value ] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (key === 'class') {
      el.className = value;
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    el.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

/** GET a URL as text (same-origin credentials). */
export async function fetchText(url) {
  const response = await fetch(url, {
    credentials: 'same-origin',
    headers: { Accept: 'application/xml, application/json, text/plain, */*' }
  });
  if (!response.ok) {
    throw new Error(`HTTP ${response.status} ${response.statusText} (${url})`);
  }
  return response.text();
}

/**
 * POST a JSON body with the CSRF token and return { ok, status, data }, where
 * data is the parsed JSON response (or { message: text } for a non-JSON one).
 */
export async function postJSON(url, body, csrf) {
  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/json'
  };
  if (csrf) {
    headers['X-CSRFToken'] = csrf;
  }
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers,
    body: JSON.stringify(body)
  });
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : {};
  } catch (e) {
    data = { message: text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 500) };
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    data = { messages: Array.isArray(data) ? data : [ String(data) ] };
  }
  return { ok: response.ok && data.ok !== false, status: response.status, data };
}

/**
 * Normalise a save response into a flat list of { level, message, elementId }.
 *
 * Accepted server shapes (all optional, combinable):
 *   { ok: bool, message: "text",
 *     errors:   [ "text" | { message, element_id | elementId | element | id, level } ],
 *     warnings: [ same ],
 *     messages: [ same, level defaults to "info" ] }
 */
export function normaliseMessages(data, ok) {
  const out = [];
  const push = (items, level) => {
    if (!items) {
      return;
    }
    if (!Array.isArray(items)) {
      items = [ items ];
    }
    for (const item of items) {
      if (item === null || item === undefined) {
        continue;
      }
      if (typeof item !== 'object') {
        out.push({ level, message: String(item), elementId: null });
        continue;
      }
      out.push({
        level: item.level || item.category || item.severity || level,
        message: String(item.message || item.msg || item.text || item.error || JSON.stringify(item)),
        elementId: item.element_id || item.elementId || item.element || item.id || null
      });
    }
  };
  push(data.errors, 'error');
  push(data.warnings, 'warning');
  push(data.messages, 'info');
  if (data.message) {
    out.unshift({ level: ok ? 'info' : 'error', message: String(data.message), elementId: null });
  }
  return out;
}

/**
 * Render messages into an aria-live region. onSelect(elementId) is called when
 * the user activates a message that names an element.
 */
export function renderMessages(region, messages, t, onSelect) {
  region.replaceChildren();
  if (!messages.length) {
    return;
  }
  const list = h('ul', { class: 'lotse-messages__list' });
  for (const msg of messages) {
    const level = [ 'error', 'warning', 'info', 'success' ].includes(msg.level) ? msg.level : 'info';
    const label = { error: t.error, warning: t.warning, info: t.info, success: t.info }[level];
    const text = [ h('span', { class: 'lotse-messages__level' }, `${label}: `), msg.message ];
    let body;
    if (msg.elementId && onSelect) {
      body = h('button', {
        type: 'button',
        class: 'lotse-messages__link',
        'data-element-id': msg.elementId,
        title: `${t.showElement}: ${msg.elementId}`,
        onclick: () => onSelect(msg.elementId)
      }, ...text, h('code', {}, ` (${msg.elementId})`));
    } else {
      body = h('span', {}, ...text, msg.elementId ? h('code', {}, ` (${msg.elementId})`) : null);
    }
    list.appendChild(h('li', { class: `lotse-messages__item lotse-messages__item--${level}` }, body));
  }
  region.appendChild(list);
}

/** Run init(el) for every matching element now, and again after htmx swaps in new content. */
export function autoInit(selector, init) {
  const run = (root) => {
    const scope = root && root.querySelectorAll ? root : document;
    const found = [];
    if (scope !== document && scope.matches && scope.matches(selector)) {
      found.push(scope);
    }
    found.push(...scope.querySelectorAll(selector));
    for (const el of found) {
      if (el.dataset.lotseInit) {
        continue;
      }
      el.dataset.lotseInit = '1';
      try {
        Promise.resolve(init(el)).catch((err) => console.error(`[lotse] ${selector}:`, err));
      } catch (err) {
        console.error(`[lotse] ${selector}:`, err);
      }
    }
  };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => run(document));
  } else {
    run(document);
  }
  document.addEventListener('htmx:load', (event) => run(event.target));
  return run;
}

/** The named fields of the form `selector` names (draft name, change note) as an object. */
function formFields(selector) {
  const form = selector ? document.querySelector(selector) : null;
  if (!form) {
    return {};
  }
  const fields = {};
  for (const [ name, value ] of new FormData(form).entries()) {
    if (name !== 'csrf_token' && typeof value === 'string') {
      fields[name] = value;
    }
  }
  return fields;
}

/**
 * The editors' toolbar actions (docs/frontend.md, save contract): a button for data-save-url, one
 * for data-deploy-url and one for data-check-url (labels data-save-label / data-deploy-label /
 * data-check-label), each POSTing { ...content(), ...fields of the form data-fields names }; a
 * download button when data-download-name is set. onSaved() runs after a successful save or deploy
 * (a check stores nothing).
 */
/** An editor's content could not be loaded: say so in its message region (and in the console). */
export function showLoadFailure(messages, t, what, url, err) {
  console.error(`[lotse] could not load ${what}`, url, err);
  renderMessages(messages, [ { level: 'error', message: `${t.loadFailed} ${err.message || ''}`.trim() } ], t);
}

/** `editorActions` for an editor of XML (bpmn-js, dmn-js): save and download the formatted XML. */
export function xmlEditorActions(el, t, modeler, { select, messages, onSaved }) {
  const saveXML = async () => (await modeler.saveXML({ format: true })).xml;
  return editorActions(el, t, {
    content: async () => ({ xml: await saveXML() }),
    download: async () => ({ text: await saveXML(), type: 'application/xml' }),
    select,
    messages,
    onSaved
  });
}

export function editorActions(el, t, { content, download, select, messages, onSaved }) {
  const buttons = [];
  const post = async (button, url, stores) => {
    for (const b of buttons) {
      b.disabled = true;
    }
    button.setAttribute('aria-busy', 'true');
    renderMessages(messages, [ { level: 'info', message: t.saving } ], t);
    try {
      const body = { ...(await content()), ...formFields(el.dataset.fields) };
      const { ok, status, data } = await postJSON(url, body, el.dataset.csrf);
      const list = normaliseMessages(data, ok);
      if (ok) {
        if (stores && onSaved) {
          onSaved();
        }
        if (!list.length) {
          list.push({ level: 'success', message: t.saved });
        }
      } else if (!list.some((m) => m.level === 'error')) {
        list.unshift({ level: 'error', message: `${t.saveFailed} (HTTP ${status})` });
      }
      renderMessages(messages, list, t, select);
      el.dispatchEvent(new CustomEvent('lotse:saved', { bubbles: true, detail: { ok, status, data, url } }));
    } catch (err) {
      console.error('[lotse] save failed', err);
      renderMessages(messages, [ { level: 'error', message: `${t.saveFailed}: ${err.message || err}` } ], t);
    } finally {
      for (const b of buttons) {
        b.disabled = false;
      }
      button.removeAttribute('aria-busy');
    }
  };
  const add = (url, label, cls, stores) => {
    if (!url) {
      return;
    }
    const button = h('button', { type: 'button', class: cls }, label);
    button.addEventListener('click', () => post(button, url, stores));
    buttons.push(button);
  };
  add(el.dataset.saveUrl, el.dataset.saveLabel || t.save, 'lotse-modeler__save', true);
  add(el.dataset.deployUrl, el.dataset.deployLabel || t.deploy, 'lotse-modeler__save lotse-modeler__deploy', true);
  add(el.dataset.checkUrl, el.dataset.checkLabel || t.check, 'lotse-modeler__check', false);
  if (el.dataset.downloadName && download) {
    const button = h('button', { type: 'button', class: 'lotse-modeler__download' }, t.download);
    button.addEventListener('click', async () => {
      const { text, type } = await download();
      const link = h('a', { href: URL.createObjectURL(new Blob([ text ], { type })), download: el.dataset.downloadName });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    });
    buttons.push(button);
  }
  return buttons;
}
