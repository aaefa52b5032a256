// Imported first by the bundles whose libraries insert <style> elements (CodeMirror's StyleModule in
// the properties panel, form-js, dmn-js): each <style> created from now on carries the nonce of the
// <script> element that loaded the bundle, which the page's Content-Security-Policy allows in
// style-src (web/security.py, style_nonce). Without a nonce nothing changes; 'unsafe-inline' is never needed.
const nonce = document.currentScript && document.currentScript.nonce;

if (nonce) {
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function createElement(tag, options) {
    const el = create.call(this, tag, options);
    if (typeof tag === 'string' && tag.toLowerCase() === 'style') {
      el.setAttribute('nonce', nonce);
    }
    return el;
  };
}
