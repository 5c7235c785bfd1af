// PagerDuty: the Events API v2 request body (POST /v2/enqueue) against
// PagerDuty's own OpenAPI description.
"use strict";
const path = require("path");
const { openapiBody, messages } = require("./formats.cjs");

const validate = openapiBody(
  require(path.join(__dirname, "..", "specs", "pagerduty-events-v2.openapiv3.json")),
  "/enqueue",
);

exports.check = (payload) =>
  validate(payload) ? [] : messages(validate.errors, payload).map((m) => `schema: ${m}`);
