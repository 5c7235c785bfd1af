// Jira: the description against the Atlassian Document Format
// schema Atlassian publishes with its editor (@atlaskit/adf-schema).
"use strict";
const { ajv04, messages } = require("./formats.cjs");

const validate = ajv04().compile(require("@atlaskit/adf-schema/dist/json-schema/v1/full.json"));

exports.check = (payload) => {
  const description = payload && payload.fields && payload.fields.description;
  if (description === undefined) return ["fields.description: missing"];
  return validate(description)
    ? []
    : messages(validate.errors, description).map((m) => `adf: fields.description${m}`);
};
