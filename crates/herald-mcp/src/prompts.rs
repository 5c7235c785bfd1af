//! MCP prompts: ready-made requests a person picks in their client. One
//! for now: "why is webhook X failing?", which hands the model what Herald
//! shows about the webhook and how to go on with the tools.

use rmcp::RoleServer;
use rmcp::model::{
    ErrorData, GetPromptResult, ListPromptsResult, Prompt, PromptArgument, PromptMessage, Role,
};
use rmcp::service::RequestContext;
use serde_json::{Map, Value};

use crate::answer::list_summary;
use crate::api;
use crate::server::HeraldMcp;
use crate::tools::{delivery_line, webhook_detail};

pub(crate) const WHY_FAILING: &str = "webhooks.why_failing";

pub(crate) fn list() -> ListPromptsResult {
    let mut prompt = Prompt::new(
        WHY_FAILING,
        Some(
            "Why is this webhook failing? Looks at its health and latest deliveries, and \
             works out the cause and the fix with the tools.",
        ),
        Some(vec![
            PromptArgument::new("webhook_id")
                .with_description("The webhook's id (wh_…)")
                .with_required(true),
        ]),
    );
    prompt.title = Some("Why is this webhook failing?".to_string());
    ListPromptsResult::with_all_items(vec![prompt])
}

impl HeraldMcp {
    pub(crate) async fn prompt(
        &self,
        name: &str,
        arguments: Option<&Map<String, Value>>,
        context: &RequestContext<RoleServer>,
    ) -> Result<GetPromptResult, ErrorData> {
        if name != WHY_FAILING {
            return Err(ErrorData::invalid_params(
                format!("no prompt `{name}`; there is {WHY_FAILING}"),
                None,
            ));
        }
        let id = arguments
            .and_then(|a| a.get("webhook_id"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ErrorData::invalid_params("webhook_id is required", None))?;
        let client = self
            .client_for(context)
            .map_err(|e| ErrorData::invalid_request(e, None))?;
        let webhook = match api::send(client.get_webhook(id)).await {
            Ok(w) => webhook_detail("The", &w),
            Err(e) => format!("Reading the webhook failed: {e}"),
        };
        let filter = herald_client::DeliveryFilter {
            webhook_id: Some(id.to_string()),
            limit: Some(10),
            ..Default::default()
        };
        let deliveries = match api::send(client.list_deliveries(&filter)).await {
            Ok(page) => list_summary(
                ("latest delivery", "latest deliveries"),
                &page,
                10,
                delivery_line,
            ),
            Err(e) => format!("Listing its deliveries failed: {e}"),
        };
        let text = format!(
            "Find out why Herald webhook {id} is failing, and what would fix it.\n\n\
             What Herald shows now:\n{webhook}\n\n{deliveries}\n\n\
             Then:\n\
             1. deliveries.get on the failed and retrying deliveries: each attempt's status \
             code, error category and message, and what the destination answered.\n\
             2. analytics.get with webhook_id {id} (period_days 1 or 7): since when, and how \
             often.\n\
             3. Say which it is, with the evidence: the destination is down or slow (5xx, \
             timeouts, connect or DNS errors), it refuses the requests (4xx: authentication, \
             signature, payload), Herald will not deliver there (blocked_destination), or the \
             webhook is misconfigured (url, auth, headers, settings; webhooks.get shows them, \
             masked).\n\
             4. Propose the fix. Change nothing without asking. Once it is fixed, \
             webhooks.test checks it, and webhooks.replay_failed (or deliveries.retry) sends \
             the dead letters again."
        );
        Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description(format!("Why is webhook {id} failing?")),
        )
    }
}
