//! The API's OpenAPI 3.1 document, derived from the handlers' `#[utoipa::path]`
//! attributes and the request and response types, served at
//! `GET /api/v1/openapi.json` and rendered at `GET /docs`.

pub(crate) mod bodies;
mod docs_page;
mod links;
mod outgoing;

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use herald_core::webhook::WebhookSpec;
use herald_providers::ProviderKind;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder, ServerBuilder};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

pub(crate) use docs_page::{docs_page, docs_script};

use super::{
    analytics, audit, deliveries, event_types, events, filter_test, portal_links, providers,
    replay, schedules, stats, subscriptions, tenants, webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald",
        description = "Herald takes events from your applications and delivers each one, \
            durably, to every webhook subscribed to it: signed JSON (Standard Webhooks) or \
            a message in Slack, Teams, Discord, email, PagerDuty and more. Every route \
            needs `Authorization: Bearer <token>`: the admin token (which acts on the \
            default tenant, or on the tenant named by `X-Herald-Tenant`) or a tenant's \
            API key. Errors answer `{\"error\": {\"code\", \"message\", \"field\"}}`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(
        webhooks::create, webhooks::list, webhooks::get, webhooks::update, webhooks::delete,
        webhooks::bulk_delete, webhooks::secret, webhooks::rotate_secret, webhooks::test_send,
        filter_test::test, subscriptions::list, subscriptions::subscribe,
        subscriptions::unsubscribe,
        webhooks::enable_route, webhooks::retry_schedule, replay::retry_failed, deliveries::list_for_webhook,
        analytics::webhook, analytics::tags,
        events::create, events::create_batch, events::list, events::get, events::cancel, replay::replay_event,
        event_types::create, event_types::list, event_types::get, event_types::update,
        event_types::delete, event_types::webhooks,
        schedules::create, schedules::list, schedules::get, schedules::update,
        schedules::delete, schedules::pause, schedules::resume,
        deliveries::list, deliveries::get, deliveries::retry,
        stats::get, analytics::summary, analytics::range, providers::list, audit::list,
        tenants::create, tenants::list, tenants::get, tenants::update, tenants::delete, tenants::add_key,
        tenants::revoke_key, portal_links::create,
    ),
    components(schemas(
        crate::error::ErrorBody, WebhookPatch, bodies::Granularity, bodies::HealthState,
        outgoing::WebhookPayload, outgoing::WebhookDisabledData, outgoing::WebhookEnabledData,
        outgoing::DeliveryFailedData, outgoing::WebhookHealthData, outgoing::QueueData,
    )),
    modifiers(&Conventions),
    security(("bearer" = [])),
    tags(
        (name = "webhooks", description = "Destinations and what they subscribe to"),
        (name = "events", description = "What applications post, and replays"),
        (name = "event-types", description = "The event type registry: schemas, examples, deprecation"),
        (name = "schedules", description = "Events emitted on a cron pattern"),
        (name = "deliveries", description = "One event to one webhook, with every attempt"),
        (name = "analytics", description = "Counts, rates and latencies from the rollups"),
        (name = "providers", description = "The integration catalog"),
        (name = "audit", description = "Who changed what"),
        (name = "tenants", description = "The operator's routes (admin token only)"),
    )
)]
struct ApiDoc;

/// The body of `PATCH /webhooks/{id}`: any field of [`WebhookSpec`], none
/// required, each `null` to reset it to its default.
pub(crate) struct WebhookPatch;

impl PartialSchema for WebhookPatch {
    fn schema() -> RefOr<Schema> {
        let RefOr::T(Schema::Object(mut object)) = WebhookSpec::schema() else {
            unreachable!("WebhookSpec is an object schema")
        };
        object.required.clear();
        for property in object.properties.values_mut() {
            let null = ObjectBuilder::new().schema_type(Type::Null);
            let either = OneOfBuilder::new().item(property.clone()).item(null);
            *property = either.into();
        }
        object.description = Some(
            "Each field sent replaces the stored one; `null` resets it to its default. \
             `secret` cannot be changed here (use `…/secret/rotate`)."
                .to_string(),
        );
        RefOr::T(Schema::Object(object))
    }
}

impl ToSchema for WebhookPatch {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        WebhookSpec::schemas(schemas);
    }
}

/// What every operation shares, added once here rather than on each
/// handler: the bearer scheme, the `X-Herald-Tenant` header, and the
/// errors any authenticated request can meet (see `api::auth` and
/// `error`).
struct Conventions;

/// Errors every authenticated route can answer: the token is checked
/// (401), `X-Herald-Tenant` must name a tenant (404)
/// and may not name another tenant than a key's (403); the store may be
/// unavailable (503) or fail (500). Routes with a body also parse it.
const COMMON_ERRORS: [(&str, &str); 6] = [
    (
        "401",
        "No valid `Authorization: Bearer` token (`unauthorized`)",
    ),
    (
        "403",
        "A tenant API key on an admin route, or naming another tenant (`forbidden`)",
    ),
    (
        "404",
        "No such resource, or no tenant named by `X-Herald-Tenant` (`not_found`)",
    ),
    (
        "422",
        "A field or query parameter is invalid (`validation_error`, naming it in `field`)",
    ),
    (
        "500",
        "Herald hit an internal error; it has been logged (`internal_error`)",
    ),
    (
        "503",
        "The database cannot take the request now; nothing was stored, retry after `Retry-After` (`storage_unavailable`)",
    ),
];
const BODY_ERRORS: [(&str, &str); 2] = [
    (
        "400",
        "The body is not valid JSON, or is nested too deep (`invalid_json`)",
    ),
    (
        "413",
        "The body is larger than the server's limit (`payload_too_large`)",
    ),
];

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        doc.servers = Some(vec![ServerBuilder::new().url("/api/v1").build()]);
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The admin token (`HERALD_ADMIN_TOKEN`, or the one generated at \
                         first start) or a tenant API key (`hrld_…`)",
                    ))
                    .build(),
            ),
        );
        for item in doc.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
                &mut item.put,
            ]
            .into_iter()
            .flatten()
            {
                add_conventions(operation);
            }
        }
    }
}

fn add_conventions(operation: &mut Operation) {
    let tenant = ParameterBuilder::new()
        .name("X-Herald-Tenant")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "With the admin token: the tenant (`tnt_…`, the first one `tnt_default`) to act on; \
             a tenant key may only name its own",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(tenant);
    let responses = &mut operation.responses.responses;
    let with_body = operation.request_body.is_some();
    let errors = COMMON_ERRORS
        .iter()
        .chain(BODY_ERRORS.iter().filter(|_| with_body));
    for (status, description) in errors {
        responses
            .entry(status.to_string())
            .or_insert_with(|| error_response(description).into());
    }
}

/// The document as JSON, with the outgoing webhooks, which utoipa does not
/// model, added.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serializes");
    doc["webhooks"] = serde_json::Value::Object(outgoing::webhooks());
    for body in ["NewWebhook", "WebhookPatch"] {
        name_providers(&mut doc["components"]["schemas"][body]);
    }
    // A plain webhook (the default provider) needs a URL and takes no
    // settings; what other providers need is theirs to check.
    let new_webhook = &mut doc["components"]["schemas"]["NewWebhook"];
    new_webhook["if"] = serde_json::json!({"properties": {"provider": {"const": "webhook"}}});
    new_webhook["then"] = serde_json::json!({
        "required": ["url"],
        "properties": {"settings": {"maxProperties": 0}},
    });
    links::add(&mut doc);
    doc
}

/// `provider` in a request body takes the names of the catalog, which
/// the core's `WebhookSpec` cannot know (the providers depend on it).
fn name_providers(schema: &mut serde_json::Value) {
    match schema {
        serde_json::Value::Object(object) => {
            for (key, value) in object.iter_mut() {
                if key == "properties"
                    && let Some(provider) = value.get_mut("provider")
                {
                    let names: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.as_str()).collect();
                    add_enum(provider, &names);
                } else {
                    name_providers(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(name_providers),
        _ => {}
    }
}

/// Puts `enum` on the string schema in `schema` (itself, or the string
/// branch of a nullable `oneOf`).
fn add_enum(schema: &mut serde_json::Value, names: &[&str]) {
    if schema["type"] == "string" {
        schema["enum"] = serde_json::json!(names);
    } else if let Some(branches) = schema.get_mut("oneOf").and_then(|b| b.as_array_mut()) {
        branches.iter_mut().for_each(|b| add_enum(b, names));
    }
}

/// The document as served and committed: pretty JSON with a final newline.
pub fn document_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut text = serde_json::to_string_pretty(&document()).expect("the document serializes");
        text.push('\n');
        text
    })
}

/// `GET /api/v1/openapi.json`, without authentication.
pub(crate) async fn serve_spec() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document_text(),
    )
}
