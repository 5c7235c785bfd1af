//! `herald providers [NAME]`: the integration catalog, or one provider's
//! settings and limits.

use clap::Args;
use herald_client::ProviderInfo;

use super::connection::Connection;
use super::failure::Failure;
use super::output::{self, Out, fields, opt, table};

#[derive(Debug, Args)]
pub(crate) struct Providers {
    #[command(flatten)]
    connection: Connection,
    /// Show this provider's settings and limits.
    name: Option<String>,
}

impl Providers {
    pub(crate) async fn run(self) -> Result<(), Failure> {
        let client = self.connection.client()?;
        let out = Out {
            json: self.connection.json,
        };
        let Some(name) = self.name else {
            return out
                .show(client.providers(), |list| {
                    let rows = list.data.iter().map(|p| {
                        vec![
                            p.name.clone(),
                            p.title.clone(),
                            if p.enabled { "yes" } else { "no" }.to_string(),
                            rate(p),
                            p.description.clone(),
                        ]
                    });
                    table(&["NAME", "TITLE", "ENABLED", "RATE", "DESCRIPTION"], rows)
                })
                .await;
        };
        // One provider: the catalog's entry, as JSON or for a terminal.
        let all = client.providers().json().await?;
        let entry = all["data"]
            .as_array()
            .and_then(|list| list.iter().find(|p| p["name"] == name.as_str()))
            .cloned()
            .ok_or_else(|| {
                Failure::NotFound(format!("no provider `{name}` (see `herald providers`)"))
            })?;
        if out.json {
            return output::print_json(&entry);
        }
        let p: ProviderInfo = serde_json::from_value(entry)
            .map_err(|e| Failure::Unreadable(format!("unexpected answer from Herald: {e}")))?;
        output::print(&view(&p))
    }
}

fn rate(p: &ProviderInfo) -> String {
    opt(p
        .default_rate_limit
        .as_ref()
        .map(|r| format!("{}/s", r.per_second)))
}

fn view(p: &ProviderInfo) -> String {
    let mut text = fields(&[
        ("name", p.name.clone()),
        ("title", p.title.clone()),
        ("enabled", p.enabled.to_string()),
        ("default rate", rate(p)),
        (
            "url",
            format!(
                "{}{}: {}",
                if p.url.required {
                    "required"
                } else {
                    "optional"
                },
                p.url
                    .default
                    .as_ref()
                    .map(|d| format!(", default {d}"))
                    .unwrap_or_default(),
                p.url.description
            ),
        ),
        ("about", p.description.clone()),
    ]);
    let settings = p.settings.iter().map(|s| {
        vec![
            s.name.clone(),
            s.setting_type.clone(),
            if s.required { "yes" } else { "no" }.into(),
            if s.default.is_null() {
                "-".into()
            } else {
                s.default.to_string()
            },
            s.description.clone(),
        ]
    });
    text.push_str("\n\nsettings:\n");
    text.push_str(&output::indent(
        &table(
            &["NAME", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"],
            settings,
        ),
        2,
    ));
    let limits = p.limits.iter().map(|l| {
        vec![
            l.name.clone(),
            format!("{} {}", l.value, l.unit),
            l.description.clone(),
        ]
    });
    text.push_str("\n\nlimits:\n");
    text.push_str(&output::indent(
        &table(&["NAME", "VALUE", "DESCRIPTION"], limits),
        2,
    ));
    text
}
