// One deliberately broken payload per check, each otherwise valid, so a
// check that cannot fail (a schema that did not load, a type that became
// `any`) shows up: each must be refused, by the check named in `expect`.
"use strict";
const { Webhook } = require("standardwebhooks");

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

function tamperedWebhook() {
  const id = "msg_selftest";
  const now = new Date();
  const body = JSON.stringify({ type: "selftest", data: { n: 1 } });
  const signature = new Webhook(SECRET).sign(id, now, body);
  return {
    secret: SECRET,
    headers: {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": signature,
    },
    body: body.replace('"n":1', '"n":2'),
  };
}

const card = (body, actions) => ({
  type: "message",
  attachments: [
    {
      contentType: "application/vnd.microsoft.card.adaptive",
      content: { type: "AdaptiveCard", version: "1.4", body, ...(actions ? { actions } : {}) },
    },
  ],
});

const pagerduty = (extra) => ({
  routing_key: "R0UT1NGKEY",
  event_action: "trigger",
  payload: { summary: "s", source: "herald", severity: "info" },
  ...extra,
});

const adf = (content) => ({ fields: { summary: "s", description: { type: "doc", version: 1, content } } });

exports.cases = () =>
  [
    ["discord_schema", "discord", "", "schema:", { content: "x".repeat(2001) }],
    // A `uri` by the schema, but not a protocol Discord shows.
    ["discord_embed_builder", "discord", "", "EmbedBuilder", { embeds: [{ title: "t", url: "ftp://files.example/x" }] }],
    [
      "discord_embed_total",
      "discord",
      "",
      "6000",
      { embeds: [{ description: "a".repeat(4000) }, { description: "b".repeat(4000) }] },
    ],
    ["pagerduty_schema", "pagerduty", "", "schema:", pagerduty({ links: [{ href: "https://x.example/a b" }] })],
    ["teams_parser", "teams", "", "adaptivecards:", card([{ type: "TextBlock", text: "t", size: "huge" }])],
    [
      "teams_url_format",
      "teams",
      "",
      "schema 1.4:",
      card([{ type: "TextBlock", text: "t" }], [{ type: "Action.OpenUrl", title: "x", url: "https://x.example/a b" }]),
    ],
    [
      "jira_adf",
      "jira",
      "",
      "adf:",
      adf([{ type: "paragraph", content: [{ type: "text", text: "x", marks: [{ type: "link", attrs: {} }] }] }]),
    ],
    ["github_issue", "github", "", "openapi:", { body: "an issue needs a title" }],
    ["github_comment", "github", "comment", "openapi:", { body: 42 }],
    ["webhook_signature", "webhook", "", "standardwebhooks:", tamperedWebhook()],
    ["zapier_json", "zapier", "", "not a JSON object", "text"],
    ["mattermost_runtime", "mattermost", "", "@mattermost/types", { attachments: [{ text: "t", footer: 1 }] }],
    ["mattermost_type", "mattermost", "", "tsc:", { text: "t", attachments: [{ title: "t", colour: "#fff" }] }],
    [
      "slack_type",
      "slack",
      "",
      "tsc:",
      { text: "t", blocks: [{ type: "section", text: { type: "mrkdwn", txt: "t" } }] },
    ],
    [
      "teams_message_card_type",
      "teams",
      "message_card",
      "tsc:",
      {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        summary: "s",
        sections: [{ facts: [{ name: "a", valeu: "b" }] }],
      },
    ],
  ].map(([name, provider, variant, expect, payload]) => ({
    name: `selftest_${name}`,
    provider,
    variant,
    expect,
    payload,
  }));
