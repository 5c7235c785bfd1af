// Microsoft Teams (Workflows): the message envelope Microsoft documents
// for posting a card, and the Adaptive Card through Microsoft's own
// `adaptivecards` parser at version 1.4 (what Teams renders): unknown
// element or action types, values outside an enum, properties newer than
// 1.4, missing required properties. The parser does not check URL syntax,
// so the formats the Adaptive Card 1.4 schema gives URL properties
// (`uri-reference`; `uri` for `$schema`) are checked with ajv-formats.
"use strict";
const AC = require("adaptivecards/dist/adaptivecards.js");
const { format } = require("./formats.cjs");

const CARD_TYPE = "application/vnd.microsoft.card.adaptive";
const uriReference = format("uri-reference");
const uri = format("uri");

function parserErrors(card) {
  const context = new AC.SerializationContext(AC.Versions.v1_4);
  const parsed = new AC.AdaptiveCard();
  parsed.parse(card, context);
  const events = [];
  for (let i = 0; i < context.eventCount; i++) events.push(context.getEventAt(i));
  events.push(...parsed.validateProperties().validationEvents);
  return events.map((e) => `adaptivecards: ${AC.ValidationEvent[e.event]}: ${e.message}`);
}

// The URL-valued properties of the 1.4 schema, by the element that has them.
const URL_PROPERTIES = {
  "Action.OpenUrl": ["url", "iconUrl"],
  "Action.Submit": ["iconUrl"],
  "Action.ShowCard": ["iconUrl"],
  "Action.Execute": ["iconUrl"],
  "Action.ToggleVisibility": ["iconUrl"],
  Image: ["url"],
  MediaSource: ["url"],
  Media: ["poster"],
  BackgroundImage: ["url"],
};

function urlErrors(node, where, errors) {
  if (Array.isArray(node)) {
    node.forEach((v, i) => urlErrors(v, `${where}[${i}]`, errors));
    return errors;
  }
  if (node === null || typeof node !== "object") return errors;
  for (const key of URL_PROPERTIES[node.type] || []) {
    if (typeof node[key] === "string" && !uriReference(node[key])) {
      errors.push(`schema 1.4: ${where}.${key} is not a uri-reference (${JSON.stringify(node[key])})`);
    }
  }
  if (typeof node.backgroundImage === "string" && !uriReference(node.backgroundImage)) {
    errors.push(`schema 1.4: ${where}.backgroundImage is not a uri-reference`);
  }
  for (const [key, value] of Object.entries(node)) urlErrors(value, `${where}.${key}`, errors);
  return errors;
}

exports.checkCard = (card, where = "card") => {
  const errors = parserErrors(card);
  if (card.version !== "1.4") errors.push(`${where}.version: ${JSON.stringify(card.version)}, Teams Workflows take 1.4`);
  if (card.$schema !== undefined && !uri(card.$schema)) errors.push(`${where}.$schema is not a uri`);
  return errors.concat(urlErrors(card, where, []));
};

exports.check = (payload) => {
  if (payload.type !== "message") return [`type: ${JSON.stringify(payload.type)}, expected "message"`];
  if (!Array.isArray(payload.attachments) || payload.attachments.length === 0) {
    return ["attachments: expected a non-empty list"];
  }
  return payload.attachments.flatMap((a, i) =>
    a.contentType !== CARD_TYPE
      ? [`attachments[${i}].contentType: ${JSON.stringify(a.contentType)}, expected ${CARD_TYPE}`]
      : exports.checkCard(a.content, `attachments[${i}].content`),
  );
};
