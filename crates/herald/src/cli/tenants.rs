//! `herald tenants …` and `herald keys …` (admin token only).

use clap::{Args, Subcommand};
use herald_client::TenantDetail;

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
