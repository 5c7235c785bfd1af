// Discord: the execute-webhook body against Discord's own OpenAPI schema,
// and every embed through discord.js's EmbedBuilder, whose setters enforce
// Discord's documented embed limits (and embedLength the 6000 in total).
//
// Discord counts lengths in code points (its API is Python 3:
// discord-api-docs#1315), as JSON Schema's maxLength does, while
// discord.js counts UTF-16 code units, so an emoji would count twice. The
// builder therefore sees text with each character beyond the BMP replaced
// by one BMP character: its length checks then count as Discord does, and
// its other checks (URL protocols, colours, field shapes) are unchanged.
"use strict";
const path = require("path");
const { EmbedBuilder, embedLength } = require("@discordjs/builders");
const { ajv2020, messages } = require("./formats.cjs");

const validate = ajv2020().compile(
  require(path.join(__dirname, "..", "specs", "discord-execute-webhook.schema.json")),
);

// The embed and nested keys that hold text, whose length Discord limits.
const TEXT_KEYS = new Set(["title", "description", "text", "name", "value"]);

function countingAsDiscord(value, key) {
  if (typeof value === "string") {
    return TEXT_KEYS.has(key) ? value.replace(/[\u{10000}-\u{10FFFF}]/gu, "\u25A1") : value;
  }
  if (Array.isArray(value)) return value.map((v) => countingAsDiscord(v, key));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, countingAsDiscord(v, k)]));
  }
  return value;
}

// The embed keys a webhook may set, each applied with its builder setter.
const SETTERS = {
  title: (e, v) => e.setTitle(v),
  description: (e, v) => e.setDescription(v),
  url: (e, v) => e.setURL(v),
  color: (e, v) => e.setColor(v),
  timestamp: (e, v) => e.setTimestamp(new Date(v)),
  footer: (e, v) => e.setFooter({ text: v.text, iconURL: v.icon_url }),
  author: (e, v) => e.setAuthor({ name: v.name, url: v.url, iconURL: v.icon_url }),
  fields: (e, v) => e.addFields(...v),
  image: (e, v) => e.setImage(v.url),
  thumbnail: (e, v) => e.setThumbnail(v.url),
};

/**
 * A builder's validation error, briefly. Its predicates are "nothing, or a
 * valid value", so the constraint errors of the second branch are the
 * ones that say what is wrong.
 */
function brief(err) {
  const all = (err && err.errors) || [err];
  const constraints = all.filter((e) => e && e.constraint);
  return (constraints.length ? constraints : all)
    .map((e) => {
      const expected = e.expected === undefined ? "" : ` (${JSON.stringify(e.expected)})`;
      const given =
        typeof e.given === "string" && /length/.test(e.constraint || "")
          ? `, given ${e.given.length} code points`
          : "";
      return `${e.constraint ? e.constraint + ": " : ""}${e.message || e}${expected}${given}`;
    })
    .join("; ");
}

function embedErrors(embed, i) {
  const errors = [];
  const builder = new EmbedBuilder();
  for (const [key, value] of Object.entries(countingAsDiscord(embed))) {
    const set = SETTERS[key];
    if (!set) {
      errors.push(`embeds[${i}].${key}: not an embed field EmbedBuilder can set`);
      continue;
    }
    try {
      set(builder, value);
    } catch (err) {
      errors.push(`embeds[${i}].${key}: EmbedBuilder refuses it: ${brief(err)}`);
    }
  }
  return { errors, length: embedLength(builder.data) };
}

exports.check = (payload) => {
  const errors = validate(payload) ? [] : messages(validate.errors, payload).map((m) => `schema: ${m}`);
  let total = 0;
  (Array.isArray(payload.embeds) ? payload.embeds : []).forEach((embed, i) => {
    const r = embedErrors(embed, i);
    errors.push(...r.errors);
    total += r.length;
  });
  if (total > 6000) errors.push(`embeds: ${total} characters in all, Discord allows 6000`);
  return errors;
};
