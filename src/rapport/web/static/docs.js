// Starts Swagger UI on /docs. A file rather than an inline script, so the page's
// Content-Security-Policy allows scripts from 'self' only.
"use strict";

window.ui = SwaggerUIBundle({
  url: document.getElementById("swagger-ui").dataset.openapiUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  // The default validator badge asks validator.swagger.io about the document: never.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
