// Submits the SAML HTTP-POST form as soon as the page is read. Without JavaScript the visible
// button does the same. Loaded from /static/ with the page's CSP nonce: no inline script.
(function () {
  "use strict";
  function go() {
    var f = document.querySelector("form[data-autosubmit]");
    if (f) { f.submit(); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", go);
  } else {
    go();
  }
})();
