/*
 * Live show/hide for form-js conditions rendered by web/forms_html.py (optional: the server
 * renders the right state and decides what is valid; this only saves a round trip).
 *
 * Components with a condition carry data-hide="=<FEEL expression>". This file evaluates the
 * same small FEEL subset as engine/forms.py (comparisons, and/or, not(), is null, between,
 * in, list contains(), count(), string length(), is defined(), + - * /, paths a.b) against the
 * form's current values and toggles the `hidden` attribute. An expression that names
 * anything other than the form's own fields is left as the server rendered it.
 * It also moves focus to the error summary after a failed submission.
 */
(function () {
  "use strict";

  var KEYWORDS = { and: 1, or: 1, "true": 1, "false": 1, "null": 1, is: 1, "in": 1, not: 1, between: 1 };
  var TOKEN = /\s+|(\d+(?:\.\d+)?|\.\d+)|("(?:[^"\\]|\\.)*")|(!=|<=|>=|=|<|>|\(|\)|\[|\]|,|\.|\+|-|\*|\/)|([A-Za-z_\u00C0-\uFFFF][\w\u00C0-\uFFFF]*)/y;

  function tokenize(src) {
    var out = [], pos = 0, m;
    while (pos < src.length) {
      TOKEN.lastIndex = pos;
      m = TOKEN.exec(src);
      if (!m) throw new Error("bad character");
      pos = TOKEN.lastIndex;
      if (m[1] !== undefined) out.push(["num", parseFloat(m[1])]);
      else if (m[2] !== undefined) out.push(["str", m[2].slice(1, -1).replace(/\\(.)/g, "$1")]);
      else if (m[3] !== undefined) out.push(["op", m[3]]);
      else if (m[4] !== undefined) out.push(["name", m[4]]);
    }
    out.push(["end", null]);
    return out;
  }

  function parse(src) {
    var t = tokenize(src), i = 0, names = {};
    function peek(k) { return t[Math.min(i + (k || 0), t.length - 1)]; }
    function at(kind, val, k) { var x = peek(k); return x[0] === kind && (val == null || x[1] === val); }
    function expect(kind, val) { if (!at(kind, val)) throw new Error("syntax"); return t[i++]; }
    function list(close) {
      var items = [];
      if (at("op", close)) { i++; return items; }
      for (;;) {
        items.push(disj());
        if (at("op", ",")) { i++; continue; }
        expect("op", close);
        return items;
      }
    }
    function disj() { var n = conj(); while (at("name", "or")) { i++; n = ["or", n, conj()]; } return n; }
    function conj() { var n = cmp(); while (at("name", "and")) { i++; n = ["and", n, cmp()]; } return n; }
    function cmp() {
      var n = add(), x = peek();
      if (x[0] === "op" && /^(=|!=|<|<=|>|>=)$/.test(x[1])) { i++; return ["cmp", x[1], n, add()]; }
      if (at("name", "is")) {
        i++;
        var neg = at("name", "not"); if (neg) i++;
        expect("name", "null");
        return neg ? ["not", ["isnull", n]] : ["isnull", n];
      }
      if (at("name", "between")) {
        i++; var lo = add(); expect("name", "and"); var hi = add();
        return ["and", ["cmp", ">=", n, lo], ["cmp", "<=", n, hi]];
      }
      if (at("name", "in")) {
        i++;
        if (at("op", "(")) { i++; return ["in", n, ["list", list(")")]]; }
        return ["in", n, add()];
      }
      return n;
    }
    function add() { var n = mul(); while (at("op", "+") || at("op", "-")) { var o = t[i++][1]; n = ["arith", o, n, mul()]; } return n; }
    function mul() { var n = unary(); while (at("op", "*") || at("op", "/")) { var o = t[i++][1]; n = ["arith", o, n, unary()]; } return n; }
    function unary() { if (at("op", "-")) { i++; return ["neg", unary()]; } return post(); }
    function post() { var n = prim(); while (at("op", ".")) { i++; n = ["get", n, expect("name")[1]]; } return n; }
    function args(count) { expect("op", "("); var a = list(")"); if (a.length !== count) throw new Error("args"); return a; }
    function prim() {
      var x = peek();
      if (x[0] === "num" || x[0] === "str") { i++; return ["lit", x[1]]; }
      if (at("op", "(")) { i++; var n = disj(); expect("op", ")"); return n; }
      if (at("op", "[")) { i++; return ["list", list("]")]; }
      if (x[0] !== "name") throw new Error("syntax");
      var v = x[1];
      if (v === "true" || v === "false") { i++; return ["lit", v === "true"]; }
      if (v === "null") { i++; return ["lit", null]; }
      if (v === "not" && at("op", "(", 1)) { i++; return ["not", args(1)[0]]; }
      if (v === "list" && at("name", "contains", 1) && at("op", "(", 2)) { i += 2; var a = args(2); return ["in", a[1], a[0]]; }
      if (v === "count" && at("op", "(", 1)) { i++; return ["count", args(1)[0]]; }
      if (v === "string" && at("name", "length", 1) && at("op", "(", 2)) { i += 2; return ["strlen", args(1)[0]]; }
      if (v === "is" && at("name", "defined", 1) && at("op", "(", 2)) { i += 2; return ["not", ["isnull", args(1)[0]]]; }
      if (KEYWORDS[v] || at("op", "(", 1)) throw new Error("syntax");
      i++;
      names[v] = true;
      return ["var", v];
    }
    var tree = disj();
    expect("end");
    return { tree: tree, names: Object.keys(names) };
  }

  function isNum(v) { return typeof v === "number" && isFinite(v); }
  function eq(a, b) {
    if (a == null || b == null) return a == null && b == null;
    if (typeof a === "boolean" || typeof b === "boolean") return typeof a === typeof b ? a === b : null;
    if (isNum(a) && isNum(b)) return a === b;
    if (typeof a === "string" && typeof b === "string") return a === b;
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) return false;
      var unknown = false;
      for (var k = 0; k < a.length; k++) { var r = eq(a[k], b[k]); if (r === false) return false; if (r !== true) unknown = true; }
      return unknown ? null : true;
    }
    return null;
  }
  function ev(n, d) {
    var a, b, r;
    switch (n[0]) {
      case "lit": return n[1];
      case "var": return Object.prototype.hasOwnProperty.call(d, n[1]) ? d[n[1]] : null;
      case "get": a = ev(n[1], d); return a && typeof a === "object" && !Array.isArray(a) && n[2] in a ? a[n[2]] : null;
      case "list": return n[1].map(function (x) { return ev(x, d); });
      case "and": a = ev(n[1], d); if (a === false) return false; b = ev(n[2], d); if (b === false) return false; return a === true && b === true ? true : null;
      case "or": a = ev(n[1], d); if (a === true) return true; b = ev(n[2], d); if (b === true) return true; return a === false && b === false ? false : null;
      case "not": a = ev(n[1], d); return typeof a === "boolean" ? !a : null;
      case "isnull": return ev(n[1], d) == null;
      case "cmp":
        a = ev(n[2], d); b = ev(n[3], d);
        if (n[1] === "=") return eq(a, b);
        if (n[1] === "!=") { r = eq(a, b); return r == null ? null : !r; }
        if (!((isNum(a) && isNum(b)) || (typeof a === "string" && typeof b === "string"))) return null;
        return n[1] === "<" ? a < b : n[1] === "<=" ? a <= b : n[1] === ">" ? a > b : a >= b;
      case "in":
        a = ev(n[1], d); b = ev(n[2], d);
        if (!Array.isArray(b)) return null;
        var all = true;
        for (var k = 0; k < b.length; k++) { r = eq(b[k], a); if (r === true) return true; if (r !== false) all = false; }
        return all ? false : null;
      case "count": a = ev(n[1], d); return Array.isArray(a) ? a.length : null;
      case "strlen": a = ev(n[1], d); return typeof a === "string" ? a.length : null;
      case "neg": a = ev(n[1], d); return isNum(a) ? -a : null;
      case "arith":
        a = ev(n[2], d); b = ev(n[3], d);
        if (n[1] === "+" && typeof a === "string" && typeof b === "string") return a + b;
        if (!isNum(a) || !isNum(b)) return null;
        if (n[1] === "+") return a + b;
        if (n[1] === "-") return a - b;
        if (n[1] === "*") return a * b;
        return b === 0 ? null : a / b;
    }
    return null;
  }

  function readValue(el) {
    var type = el.getAttribute("data-form-type");
    var inputs = el.querySelectorAll("input, select, textarea");
    if (type === "checkbox") return inputs.length ? inputs[0].checked : false;
    if (type === "checklist" || type === "taglist") {
      var out = [];
      inputs.forEach(function (x) { if (x.checked) out.push(x.value); });
      return out;
    }
    if (type === "radio") {
      var val = null;
      inputs.forEach(function (x) { if (x.checked) val = x.value; });
      return val;
    }
    if (!inputs.length) return null;
    var s = inputs[0].value.trim();
    if (s === "") return null;
    if (type === "number") {
      var t = s.replace(/\s/g, "");
      if (t.indexOf(",") >= 0 && t.indexOf(".") < 0) t = t.replace(",", ".");
      return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(t) ? parseFloat(t) : s;
    }
    return s;
  }

  function setup(root) {
    var parts = Array.prototype.slice.call(root.querySelectorAll("[data-form-component]"));
    var keys = {};
    parts.forEach(function (el) { var k = el.getAttribute("data-form-key"); if (k) keys[k] = el; });
    var rules = [];
    parts.forEach(function (el) {
      var src = el.getAttribute("data-hide");
      if (!src) return;
      try {
        var compiled = parse(src.replace(/^\s*=/, ""));
        if (compiled.names.every(function (n) { return keys[n]; })) rules.push({ el: el, expr: compiled });
      } catch (e) { /* leave the server's decision */ }
    });
    if (!rules.length) return;

    function apply() {
      var data = {};
      Object.keys(keys).forEach(function (k) { data[k] = readValue(keys[k]); });
      var hiddenEls = [];
      parts.forEach(function (el) {
        var rule = null;
        for (var r = 0; r < rules.length; r++) if (rules[r].el === el) rule = rules[r];
        var parentHidden = hiddenEls.some(function (h) { return h.contains(el); });
        var own;
        if (rule) {
          own = ev(rule.expr.tree, data) === true;
          el.hidden = own;
        } else {
          own = el.hasAttribute("data-hide") && el.hidden; // a condition left to the server
        }
        if (parentHidden || own) {
          hiddenEls.push(el);
          var k = el.getAttribute("data-form-key");
          if (k) delete data[k];
        }
      });
    }
    root.addEventListener("input", apply);
    root.addEventListener("change", apply);
    apply();
  }

  // for tests and other scripts: evaluate("=a > 3", {a: 4}) -> true
  (typeof window !== "undefined" ? window : globalThis).lotseFeel = {
    parse: parse,
    evaluate: function (src, data) { return ev(parse(String(src).replace(/^\s*=/, "")).tree, data || {}); }
  };

  function init() {
    document.querySelectorAll("[data-lotse-form]").forEach(setup);
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
