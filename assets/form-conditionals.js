// Live show/hide of form-js conditions in the forms web/forms_html.py renders (optional: the
// server renders the right state and decides what is valid; this only saves a round trip).
//
// Conditions are evaluated with feelin, the FEEL implementation form-js uses, the way form-js's
// ConditionChecker does: `unaryTest(condition)` with the form's data, hidden when the result is
// true. Components whose condition names only the form's own fields carry data-hide-live;
// others (they read case data the page does not hold) stay as the server rendered them.
// It also moves the focus to the error summary after a failed submission.
//
// tests/fixtures/feel_cases.json runs against `window.lotseFeel` (tests/browser/test_feel.py)
// and against the server's evaluator (engine/feel.py).

import { evaluate, unaryTest } from '@bpmn-io/feelin';

function source(expression) {
  return String(expression).replace(/^\s*=/, '');
}

// form-js: FeelExpressionLanguage.evaluateUnaryTest + ConditionChecker._checkHideCondition
function conditionMet(expression, data) {
  try {
    return unaryTest(source(expression), data || {}).value === true;
  } catch (error) {
    return false;
  }
}

function valueOf(expression, data) {
  return evaluate(source(expression), data || {}).value;
}

function optionValue(input) {
  // options whose value is not a string carry it as JSON (numbers, booleans)
  const json = input.getAttribute('data-json');
  return json ? JSON.parse(json) : input.value;
}

function readValue(el) {
  const type = el.getAttribute('data-form-type');
  const inputs = Array.from(el.querySelectorAll('input, select, textarea'));
  if (type === 'checkbox') {
    const box = inputs.find((x) => x.type === 'checkbox');
    return box ? box.checked : false;
  }
  if (type === 'checklist' || type === 'taglist') {
    return inputs.filter((x) => x.checked).map(optionValue);
  }
  if (type === 'radio') {
    const chosen = inputs.find((x) => x.checked);
    return chosen ? optionValue(chosen) : null;
  }
  if (type === 'select') {
    const option = inputs.length ? inputs[0].selectedOptions[0] : null;
    return option && option.value !== '' ? optionValue(option) : null;
  }
  if (!inputs.length) {
    return null;
  }
  const text = inputs[0].value.trim();
  if (text === '') {
    return null;
  }
  if (type === 'number') {
    // as engine/forms/values.py:parse_number: spaces dropped, a lone comma is the decimal point
    let n = text.replace(/\s/g, '');
    if (n.includes(',') && !n.includes('.')) {
      n = n.replace(',', '.');
    }
    return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(n) ? parseFloat(n) : text;
  }
  return text;
}

function setup(root) {
  const parts = Array.from(root.querySelectorAll('[data-form-component]'));
  const fields = parts.filter((el) => el.hasAttribute('data-form-key'));
  if (!parts.some((el) => el.hasAttribute('data-hide-live'))) {
    return;
  }

  function apply() {
    const data = {};
    fields.forEach((el) => { data[el.getAttribute('data-form-key')] = readValue(el); });
    const hidden = [];

    // document order, as form-js: a hidden field's value is gone for the conditions after it
    parts.forEach((el) => {
      let own;
      if (el.hasAttribute('data-hide-live')) {
        own = conditionMet(el.getAttribute('data-hide'), data);
        el.hidden = own;
      } else {
        own = el.hasAttribute('data-hide') && el.hidden; // a condition left to the server
      }
      if (own || hidden.some((h) => h.contains(el))) {
        hidden.push(el);
        if (el.hasAttribute('data-form-key')) {
          delete data[el.getAttribute('data-form-key')];
        }
      }
    });
  }
  root.addEventListener('input', apply);
  root.addEventListener('change', apply);
  apply();
}

window.lotseFeel = { evaluate: valueOf, conditionMet };

function init() {
  document.querySelectorAll('[data-lotse-form]').forEach(setup);
  const summary = document.querySelector('[data-error-summary]');
  if (summary) {
    summary.focus();
  }
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', init);
} else {
  init();
}
