// One Ajv setup for every JSON Schema and OpenAPI document checked here:
// all errors, ajv-formats' full (RFC 3986) formats, and the annotation
// keywords OpenAPI documents carry that are not JSON Schema.
"use strict";
const Ajv = require("ajv");
const Ajv2020 = require("ajv/dist/2020");
const AjvDraft04 = require("ajv-draft-04");
const addFormats = require("ajv-formats");

// Keywords of OpenAPI and of these specific documents that describe rather
// than constrain; ajv's strict mode refuses unknown keywords otherwise.
const ANNOTATIONS = ["example", "x-examples", "components", "x-discord-union"];

function make(Kind, options = {}) {
  const ajv = new Kind({ allErrors: true, strict: false, ...options });
  addFormats(ajv, { mode: "full" });
  // Discord's own format (ajv-formats has int32 and double): ids are
  // decimal strings.
  ajv.addFormat("snowflake", { type: "string", validate: (s) => /^(0|[1-9][0-9]*)$/.test(s) });
  for (const k of ANNOTATIONS) ajv.addKeyword(k);
  return ajv;
}

/** Ajv for draft-07 (and OpenAPI 3.0's dialect, with `nullable`). */
exports.ajv07 = () => make(Ajv);
/** Ajv for JSON Schema 2020-12 (OpenAPI 3.1). */
exports.ajv2020 = () => make(Ajv2020);
/** Ajv for draft-04 (the Atlassian Document Format schema). */
exports.ajv04 = () => make(AjvDraft04);

/**
 * A validator of the JSON request body of `POST <route>` in an OpenAPI 3.0
 * document: the body schema and every component schema converted from
 * OpenAPI's dialect (`nullable`, `example`) to JSON Schema draft-04, which
 * OpenAPI 3.0 builds on, with the components kept at the root so that
 * "#/components/schemas/…" references resolve.
 */
exports.openapiBody = (spec, route) => {
  const { openapiSchemaToJsonSchema } = require("@openapi-contrib/openapi-schema-to-json-schema");
  const convert = (schema) => {
    const converted = openapiSchemaToJsonSchema(schema);
    delete converted.$schema;
    return converted;
  };
  const body = spec.paths[route].post.requestBody.content["application/json"].schema;
  const schemas = Object.fromEntries(
    Object.entries((spec.components && spec.components.schemas) || {}).map(([k, v]) => [k, convert(v)]),
  );
  return exports.ajv04().compile({ ...convert(body), components: { schemas } });
};

/** ajv-formats' own validator of one format, e.g. "uri-reference". */
exports.format = (name) => {
  const f = require("ajv-formats/dist/formats").fullFormats[name];
  if (f instanceof RegExp) return (s) => f.test(s);
  if (typeof f === "function") return f;
  return f.validate instanceof RegExp ? (s) => f.validate.test(s) : f.validate;
};

/** Ajv's errors as short readable lines: "/embeds/0/url must match format "uri"". */
exports.messages = (errors, data) =>
  (errors || []).map((e) => {
    let value = e.instancePath
      .split("/")
      .slice(1)
      .reduce((v, k) => (v == null ? v : v[k.replace(/~1/g, "/").replace(/~0/g, "~")]), data);
    const shown = typeof value === "string" ? ` (${JSON.stringify(value.length > 80 ? value.slice(0, 80) + "…" : value)})` : "";
    const extra = e.params && e.params.additionalProperty ? ` "${e.params.additionalProperty}"` : "";
    return `${e.instancePath || "/"} ${e.message}${extra}${shown}`;
  });
