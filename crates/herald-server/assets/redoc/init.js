// Renders the spec into the page. A file of its own (not an inline
// script) so that the page's Content-Security-Policy allows only 'self'.
Redoc.init(
  "/api/v1/openapi.json",
  { disableSearch: true, hideDownloadButton: false },
  document.getElementById("redoc"),
);
