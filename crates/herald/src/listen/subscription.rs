//! The webhook a listener receives: created for it, or an existing one
//! pointed at it; and the keys its requests are signed with.

use anyhow::Context;
use herald_client::{Client, ErrorKind, NewWebhook, WebhookPatch};

/// Every key that may sign a request now: the current secret (or public
/// key) and those still in a rotation's grace period.
#[derive(Debug, Clone)]
pub(super) struct Keys {
    pub(super) secret: String,
    pub(super) public_key: Option<String>,
    previous: Vec<String>,
}

impl Keys {
    /// The keys to verify with, the current one first: the public key for
    /// an Ed25519 webhook, else the secret.
    pub(super) fn verifying(&self) -> impl Iterator<Item = &str> {
        let current = self.public_key.as_deref().unwrap_or(&self.secret);
        std::iter::once(current).chain(self.previous.iter().map(String::as_str))
    }
}

pub(super) struct Subscription {
    pub(super) webhook_id: String,
    /// Whether this listener created it (and removes it on exit).
    pub(super) created: bool,
    pub(super) keys: Keys,
}

impl Subscription {
    pub(super) async fn start(
        client: &Client,
        reuse: Option<&str>,
        url: &str,
        events: &[String],
    ) -> anyhow::Result<Subscription> {
        let (webhook_id, created) = match reuse {
            Some(id) => {
                let patch = WebhookPatch {
                    url: Some(url.to_string()),
                    ..WebhookPatch::default()
                };
                client
                    .update_webhook(id, &patch)
                    .await
                    .map_err(|e| explain(e, url))
                    .with_context(|| format!("cannot point webhook {id} at this listener"))?;
                (id.to_string(), false)
            }
            None => {
                let mut webhook = NewWebhook::new(format!("herald listen {url}"), url);
                webhook.event_types = Some(events.to_vec());
                webhook.description =
                    Some("Made by `herald listen`; removed when it stops.".to_string());
                let made = client
                    .create_webhook(&webhook)
                    .await
                    .map_err(|e| explain(e, url))
                    .context("cannot create a webhook for this listener")?;
                (made.id, true)
            }
        };
        let signing = client
            .webhook_secret(&webhook_id)
            .await
            .context("cannot read the webhook's signing keys")?;
        let previous = signing
            .previous
            .into_iter()
            .map(|p| p.public_key.unwrap_or(p.secret))
            .collect();
        Ok(Subscription {
            webhook_id,
            created,
            keys: Keys {
                secret: signing.secret,
                public_key: signing.public_key,
                previous,
            },
        })
    }

    /// Deletes the webhook this listener made, saying so.
    pub(super) async fn remove(&self, client: &Client) {
        match client.delete_webhook(&self.webhook_id).await {
            Ok(()) => println!("Removed webhook {}", self.webhook_id),
            Err(e) => eprintln!("Could not remove webhook {}: {e}", self.webhook_id),
        }
    }
}

/// A server outside `--dev` refuses loopback destinations: say what to do.
fn explain(error: herald_client::Error, url: &str) -> anyhow::Error {
    let refused_url = error.kind() == ErrorKind::Validation && error.field() == Some("url");
    let error = anyhow::Error::new(error);
    if refused_url {
        error.context(format!(
            "the server refuses {url} as a destination: run it with --dev (or allow this \
             network), or give --public-url for a tunnel that reaches this machine"
        ))
    } else {
        error
    }
}
