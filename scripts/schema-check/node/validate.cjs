// Validates the renders of the providers whose schema or library is on
// npm, and writes {name: [errors]} as JSON for the report.
//
//   node validate.cjs <renders-dir> <work-dir> <results.json>
//   node validate.cjs --self-test <work-dir> <results.json>
//
// With --self-test it checks instead one deliberately broken payload per
// check (selftest.cjs), each of which must be refused, and writes
// {name: {expect, errors}}.
"use strict";
const fs = require("fs");
const path = require("path");
const typescript = require("./typescript.cjs");
const { isMessageAttachmentArray } = require("@mattermost/types/message_attachments");

const CHECKS = {
  discord: require("./discord.cjs").check,
  pagerduty: require("./pagerduty.cjs").check,
  teams: require("./teams.cjs").check,
  jira: require("./jira.cjs").check,
  github: require("./github.cjs").check,
  webhook: require("./webhook.cjs").check,
  zapier: require("./zapier.cjs").check,
  // The Mattermost web app's own run-time check of attachments, besides
  // the type check.
  mattermost: (p) =>
    p.attachments === undefined || isMessageAttachmentArray(p.attachments)
      ? []
      : ["@mattermost/types: attachments is not a MessageAttachment[]"],
};

/** Which TypeScript type a render is checked against, if any. */
function typeKind(item) {
  if (item.provider === "slack" || item.provider === "mattermost") return item.provider;
  if (item.provider === "teams" && item.variant === "message_card") return "message_card";
  return null;
}

/** Runs every check that applies to `items` ([{name, provider, variant, payload}]). */
function run(items, workDir) {
  const results = {};
  const typed = [];
  for (const item of items) {
    const kind = typeKind(item);
    const check = CHECKS[item.provider];
    // A MessageCard is not an Adaptive Card: only its type applies.
    const direct = check && kind !== "message_card" ? check(item.payload, item.variant) : [];
    results[item.name] = direct;
    if (kind) typed.push({ name: item.name, kind, payload: item.payload });
  }
  for (const [name, errors] of typescript.checkAll(typed, path.join(workDir, "ts"))) {
    results[name].push(...errors);
  }
  return results;
}

function main(argv) {
  const [source, workDir, out] = argv;
  if (source === "--self-test") {
    const cases = require("./selftest.cjs").cases();
    const results = run(cases, workDir);
    const report = Object.fromEntries(cases.map((c) => [c.name, { expect: c.expect, errors: results[c.name] }]));
    fs.writeFileSync(out, JSON.stringify(report, null, 2));
    return;
  }
  {
    const index = JSON.parse(fs.readFileSync(path.join(source, "index.json"), "utf8"));
    const items = index
      .filter((e) => CHECKS[e.provider] || typeKind(e))
      .map((e) => ({
        name: e.file.replace(/\.json$/, ""),
        provider: e.provider,
        variant: e.variant,
        payload: JSON.parse(fs.readFileSync(path.join(source, e.file), "utf8")),
      }));
    fs.writeFileSync(out, JSON.stringify(run(items, workDir), null, 2));
  }
}

main(process.argv.slice(2));
