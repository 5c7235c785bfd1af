// GitHub: the create-issue and create-comment request bodies against
// GitHub's own OpenAPI description as Octokit ships it.
"use strict";
const { openapiBody, messages } = require("./formats.cjs");

let validators;
function load() {
  if (!validators) {
    const spec = require("@octokit/openapi/generated/api.github.com.json");
    validators = {
      issue: openapiBody(spec, "/repos/{owner}/{repo}/issues"),
      comment: openapiBody(spec, "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    };
  }
  return validators;
}

/** `variant` is "comment" for comments, else an issue. */
exports.check = (payload, variant) => {
  const validate = load()[variant === "comment" ? "comment" : "issue"];
  return validate(payload) ? [] : messages(validate.errors, payload).map((m) => `openapi: ${m}`);
};
