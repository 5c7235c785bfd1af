// Payloads whose services publish TypeScript types rather than a schema:
// each render becomes `const payload: <the service's type> = <its JSON>;`
// in a file of its own, and the TypeScript compiler type-checks them all
// at once, as `tsc --strict --noEmit` would. Object literals get excess
// property checks, so an unknown key is an error as well as a wrong type.
"use strict";
const fs = require("fs");
const path = require("path");
const ts = require("typescript");

// Each kind's imports and the type a payload must have.
const TYPES = {
  // Slack's incoming webhook body as the Slack SDK sends it, with blocks
  // held to the block types Slack knows (the SDK also takes any `{type}`),
  // less the client-side options of the SDK's argument type.
  slack: `
import type { IncomingWebhookSendArguments } from "@slack/webhook";
import type { KnownBlock } from "@slack/types";
type Payload = Omit<IncomingWebhookSendArguments, "blocks" | "fetch" | "timeout" | "retryConfig"> & {
  blocks?: KnownBlock[];
};`,
  // Mattermost's incoming webhook request (the server's
  // IncomingWebhookRequest: text, username, icon_url, channel, props,
  // attachments, type, icon_emoji, priority), attachments typed by the
  // Mattermost web app's own MessageAttachment.
  mattermost: `
import type { MessageAttachment } from "@mattermost/types/message_attachments";
type Payload = {
  text?: string;
  username?: string;
  icon_url?: string;
  channel?: string;
  props?: Record<string, unknown>;
  attachments?: MessageAttachment[];
  type?: string;
  icon_emoji?: string;
  priority?: { priority?: "" | "important" | "urgent"; requested_ack?: boolean };
};`,
  // The legacy Office 365 connector MessageCard, as the Bot Framework's
  // schema types it (O365ConnectorCard), with the "@type"/"@context" the
  // JSON form carries and its actions as the concrete action types.
  message_card: `
import type {
  O365ConnectorCard, O365ConnectorCardActionCard, O365ConnectorCardHttpPOST,
  O365ConnectorCardOpenUri, O365ConnectorCardViewAction, O365ConnectorCardSection,
} from "botframework-schema";
type Action = O365ConnectorCardOpenUri | O365ConnectorCardViewAction | O365ConnectorCardHttpPOST | O365ConnectorCardActionCard;
type Payload = Omit<O365ConnectorCard, "potentialAction" | "sections"> & {
  "@type": "MessageCard";
  "@context": "https://schema.org/extensions" | "http://schema.org/extensions";
  sections?: (Omit<O365ConnectorCardSection, "potentialAction"> & { potentialAction?: Action[] })[];
  potentialAction?: Action[];
};`,
};

const OPTIONS = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  types: [],
};

exports.kinds = Object.keys(TYPES);

/**
 * Type-checks `items` ([{name, kind, payload}]) in `workDir` (under the
 * directory whose node_modules holds the types); returns name → errors.
 */
exports.checkAll = (items, workDir) => {
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });
  const byFile = new Map();
  for (const item of items) {
    if (!TYPES[item.kind]) throw new Error(`no TypeScript type for ${item.kind}`);
    const file = path.join(workDir, `${item.name}.ts`);
    fs.writeFileSync(
      file,
      `${TYPES[item.kind]}\nconst payload: Payload = ${JSON.stringify(item.payload, null, 2)};\nexport default payload;\n`,
    );
    byFile.set(path.resolve(file), item.name);
  }
  const program = ts.createProgram([...byFile.keys()], OPTIONS);
  const results = new Map(items.map((i) => [i.name, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, " ").replace(/\s+/g, " ");
    const name = d.file && byFile.get(path.resolve(d.file.fileName));
    if (!name) throw new Error(`TypeScript: ${text}`);
    const { line } = d.file.getLineAndCharacterOfPosition(d.start || 0);
    results.get(name).push(`tsc: line ${line + 1}: ${text.length > 400 ? text.slice(0, 400) + "…" : text}`);
  }
  return results;
};
