//! `herald tenants …` and `herald keys …` (admin token only).

use clap::{Args, Subcommand};
use herald_client::{PortalLinkRequest, TenantDetail};

use super::connection::Connection;
use super::failure::Failure;
use super::output::{self, Out, fields, table};

#[derive(Debug, Args)]
pub(crate) struct Tenants {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: TenantAction,
}

#[derive(Debug, Subcommand)]
enum TenantAction {
    /// Create a tenant with its first API key (shown once).
    Create {
        name: String,
    },
    List,
    /// Show a tenant with its keys.
    Get {
        id: String,
    },
    /// Delete a tenant with its keys, webhooks, events and deliveries.
    Delete {
        id: String,
    },
    /// A one-time address of the web console that opens this tenant only,
    /// for its owner (shown once, works once).
    PortalLink {
        id: String,
        /// The session may look but not change anything.
        #[arg(long)]
        read_only: bool,
        /// Only these console sections, comma-separated (webhooks,
        /// deliveries, events, event_types, schedules, audit).
        #[arg(long, value_delimiter = ',')]
        features: Option<Vec<String>>,
        /// Seconds the link stays valid unopened [default: 600].
        #[arg(long)]
        expires_in: Option<u64>,
        /// Seconds the session it opens lasts [default: 3600].
        #[arg(long)]
        session: Option<u64>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Keys {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: KeyAction,
}

#[derive(Debug, Subcommand)]
enum KeyAction {
    /// Add an API key to a tenant (its text is shown once).
    Add { tenant: String },
    /// List a tenant's keys (their texts are never shown again).
    List { tenant: String },
    /// Revoke a key; effective on the next request.
    Revoke { tenant: String, key: String },
}

impl Tenants {
    pub(crate) async fn run(self) -> Result<(), Failure> {
        let client = self.connection.client()?;
        let out = Out {
            json: self.connection.json,
        };
        match self.action {
            TenantAction::Create { name } => {
                out.show(client.create_tenant(&name), |t| {
                    fields(&[
                        ("id", t.tenant.id),
                        ("name", t.tenant.name),
                        ("api key id", t.api_key_id),
                        ("api key", t.api_key),
                    ]) + "\n(the key is shown in this answer only)"
                })
                .await
            }
            TenantAction::List => {
                out.show(client.list_tenants(), |list| {
                    let rows = list
                        .data
                        .iter()
                        .map(|t| vec![t.id.clone(), t.name.clone(), output::time(&t.created_at)]);
                    table(&["ID", "NAME", "CREATED"], rows)
                })
                .await
            }
            TenantAction::Get { id } => out.show(client.get_tenant(&id), |t| view(&t)).await,
            TenantAction::Delete { id } => {
                out.done(client.delete_tenant(&id), &format!("deleted {id}"))
                    .await
            }
            TenantAction::PortalLink {
                id,
                read_only,
                features,
                expires_in,
                session,
            } => {
                let request = PortalLinkRequest {
                    read_only,
                    features,
                    expires_in_seconds: expires_in,
                    session_seconds: session,
                };
                out.show(client.create_portal_link(&id, &request), |link| {
                    fields(&[
                        ("url", link.url.unwrap_or(link.path)),
                        ("tenant", link.tenant_id),
                        ("read-only", link.read_only.to_string()),
                        ("expires", output::time(&link.expires_at)),
                    ]) + "\n(the link is shown in this answer only, and works once)"
                })
                .await
            }
        }
    }
}

impl Keys {
    pub(crate) async fn run(self) -> Result<(), Failure> {
        let client = self.connection.client()?;
        let out = Out {
            json: self.connection.json,
        };
        match self.action {
            KeyAction::Add { tenant } => {
                out.show(client.add_key(&tenant), |k| {
                    fields(&[
                        ("id", k.key.id),
                        ("tenant", k.key.tenant_id),
                        ("api key", k.api_key),
                    ]) + "\n(the key is shown in this answer only)"
                })
                .await
            }
            KeyAction::List { tenant } => out.show(client.get_tenant(&tenant), |t| keys(&t)).await,
            KeyAction::Revoke { tenant, key } => {
                out.done(client.revoke_key(&tenant, &key), &format!("revoked {key}"))
                    .await
            }
        }
    }
}

fn keys(t: &TenantDetail) -> String {
    let rows = t
        .keys
        .iter()
        .map(|k| vec![k.id.clone(), output::time(&k.created_at)]);
    table(&["KEY", "CREATED"], rows)
}

fn view(t: &TenantDetail) -> String {
    fields(&[
        ("id", t.tenant.id.clone()),
        ("name", t.tenant.name.clone()),
        ("created", output::time(&t.tenant.created_at)),
    ]) + "\n\nkeys:\n"
        + &output::indent(&keys(t), 2)
}
