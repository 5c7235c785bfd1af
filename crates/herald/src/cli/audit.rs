//! `herald audit`: the tenant's changes, newest first.

use clap::Args;
use herald_client::AuditFilter;

use super::connection::Connection;
use super::failure::Failure;
use super::output::{self, Out, table};
use super::paging::PageArgs;

#[derive(Debug, Args)]
pub(crate) struct Audit {
    #[command(flatten)]
    connection: Connection,
    /// Only changes to this webhook, tenant or key.
    #[arg(long = "resource", value_name = "ID")]
    resource_id: Option<String>,
    #[command(flatten)]
    page: PageArgs,
}

impl Audit {
    pub(crate) async fn run(self) -> Result<(), Failure> {
        let client = self.connection.client()?;
        let out = Out {
            json: self.connection.json,
        };
        let filter = AuditFilter {
            resource_id: self.resource_id,
            limit: self.page.limit,
            cursor: self.page.cursor,
        };
        out.show(client.audit(&filter), |page| {
            let rows = page.data.iter().map(|e| {
                vec![
                    output::time(&e.created_at),
                    e.actor.clone(),
                    e.action.clone(),
                    format!("{} {}", e.resource_type, e.resource_id),
                ]
            });
            table(&["WHEN", "ACTOR", "ACTION", "RESOURCE"], rows)
                + &output::next_page(page.next_cursor.as_deref())
        })
        .await
    }
}
