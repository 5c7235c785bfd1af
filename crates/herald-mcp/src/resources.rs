//! MCP resources: each webhook, delivery and event as a JSON document the
//! client can attach to a conversation (`herald://webhooks/wh_…`,
//! `herald://deliveries/dlv_…`, `herald://events/…`), read through the API
//! with the caller's credentials like everything else.

use rmcp::RoleServer;
use rmcp::model::{
    ErrorData, ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use rmcp::service::RequestContext;
use serde_json::Value;

use crate::api;
use crate::server::HeraldMcp;

const SCHEME: &str = "herald://";
const JSON: &str = "application/json";

/// What a resource URI names.
#[derive(Debug, PartialEq, Eq)]
enum Named<'a> {
    Webhook(&'a str),
    Delivery(&'a str),
    Event(&'a str),
}

fn parse(uri: &str) -> Option<Named<'_>> {
    let (kind, id) = uri.strip_prefix(SCHEME)?.split_once('/')?;
    if id.is_empty() || id.contains(['/', '?', '#']) {
        return None;
    }
    match kind {
        "webhooks" => Some(Named::Webhook(id)),
        "deliveries" => Some(Named::Delivery(id)),
        "events" => Some(Named::Event(id)),
        _ => None,
    }
}

pub(crate) fn webhook_uri(id: &str) -> String {
    format!("{SCHEME}webhooks/{id}")
}

/// The API's error as a protocol error of `resources/read`.
fn read_error(uri: &str, error: &herald_client::Error) -> ErrorData {
    let message = format!("{uri}: {error}");
    match error.kind() {
        herald_client::ErrorKind::NotFound => ErrorData::resource_not_found(message, None),
        herald_client::ErrorKind::Unauthorized | herald_client::ErrorKind::Validation => {
            ErrorData::invalid_request(message, None)
        }
        _ => ErrorData::internal_error(message, None),
    }
}

impl HeraldMcp {
    /// The caller's webhooks (the first 250), one resource each.
    pub(crate) async fn webhook_resources(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let client = self
            .client_for(context)
            .map_err(|e| ErrorData::invalid_request(e, None))?;
        let filter = herald_client::WebhookFilter {
            limit: Some(250),
            ..Default::default()
        };
        let page = api::send(client.list_webhooks(&filter))
            .await
            .map_err(|e| read_error("herald://webhooks", &e))?;
        let resources = page["data"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|w| {
                let id = w["id"].as_str()?;
                let name = w["name"].as_str().unwrap_or(id);
                Some(
                    Resource::new(webhook_uri(id), format!("webhook {name}"))
                        .with_description(format!(
                            "Webhook {id}: status {}, health {}",
                            w["status"].as_str().unwrap_or("-"),
                            w["health"]["state"].as_str().unwrap_or("-")
                        ))
                        .with_mime_type(JSON),
                )
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    /// One webhook, delivery or event, as the API shows it.
    pub(crate) async fn read(
        &self,
        uri: &str,
        context: &RequestContext<RoleServer>,
    ) -> Result<ReadResourceResult, ErrorData> {
        let named = parse(uri).ok_or_else(|| {
            ErrorData::resource_not_found(
                format!(
                    "`{uri}` is not a Herald resource: herald://webhooks/ID, \
                     herald://deliveries/ID or herald://events/ID"
                ),
                None,
            )
        })?;
        let client = self
            .client_for(context)
            .map_err(|e| ErrorData::invalid_request(e, None))?;
        let answer: Result<Value, _> = match named {
            Named::Webhook(id) => api::send(client.get_webhook(id)).await,
            Named::Delivery(id) => api::send(client.get_delivery(id)).await,
            Named::Event(id) => api::send(client.get_event(id)).await,
        };
        let answer = answer.map_err(|e| read_error(uri, &e))?;
        let text = serde_json::to_string_pretty(&answer).unwrap_or_else(|_| answer.to_string());
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, uri).with_mime_type(JSON),
        ]))
    }
}

/// The URI templates a client may fill in.
pub(crate) fn templates() -> ListResourceTemplatesResult {
    let template = |kind: &str, name: &str, description: &str| {
        ResourceTemplate::new(format!("{SCHEME}{kind}/{{id}}"), name.to_string())
            .with_description(description.to_string())
            .with_mime_type(JSON)
    };
    ListResourceTemplatesResult::with_all_items(vec![
        template(
            "webhooks",
            "webhook",
            "One webhook as the API shows it (credentials masked), with its health",
        ),
        template(
            "deliveries",
            "delivery",
            "One delivery with every attempt: status, error, the destination's answer",
        ),
        template(
            "events",
            "event",
            "One event with its data and, per webhook, its delivery",
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_one_thing_or_nothing() {
        assert_eq!(
            parse("herald://webhooks/wh_1"),
            Some(Named::Webhook("wh_1"))
        );
        assert_eq!(
            parse("herald://deliveries/dlv_1"),
            Some(Named::Delivery("dlv_1"))
        );
        assert_eq!(
            parse("herald://events/run-42"),
            Some(Named::Event("run-42"))
        );
        for bad in [
            "herald://webhooks/",
            "herald://webhooks/a/b",
            "herald://tenants/tnt_1",
            "https://webhooks/wh_1",
            "herald://webhooks",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
