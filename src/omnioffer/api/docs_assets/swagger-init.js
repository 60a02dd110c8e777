// Starts Swagger UI on the page docs_ui.py renders: the document comes from this
// service (data-spec), the online validator is off, and no script is inline (the
// page's Content-Security-Policy allows scripts from this service only).
(function () {
  var spec = document.currentScript.getAttribute("data-spec");
  window.addEventListener("load", function () {
    window.ui = SwaggerUIBundle({
      url: spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
    });
  });
})();
