//! A webhook's validated provider configuration: parsed once when the
//! webhook is saved, then used for every attempt to render and to judge.

mod digest;

use serde_json::Value;

use crate::error::RenderError;
use crate::facts::Batches;
use crate::judge::Answer;
use crate::kind::ProviderKind;
use crate::notification::{self, EventInput, Notification};
use crate::providers::email::OwnMailSettings;
use crate::providers::{
    datadog, discord, email, github, google_chat, jira, mattermost, pagerduty, slack, teams,
    webhook, zapier,
};
use crate::rendered::Rendered;
use crate::settings::{ChatOptions, Settings};
use crate::template::{TemplateBuilder, Templates};
use herald_core::ValidationError;
use herald_core::webhook::UrlPolicy;

/// One webhook's provider, ready to render. Cheap to clone; `Debug` never
/// shows tokens, keys, passwords or the secret part of hook URLs.
#[derive(Debug, Clone)]
pub struct Provider {
    config: Config,
    templates: Templates,
}

#[derive(Debug, Clone)]
enum Config {
    Webhook,
    Slack(slack::Slack),
    Teams(teams::Teams),
    Discord(discord::Discord),
    Mattermost(mattermost::Mattermost),
    GoogleChat(google_chat::GoogleChat),
    Email(email::Email),
    PagerDuty(pagerduty::PagerDuty),
    Jira(jira::Jira),
    GitHub(github::GitHub),
    Datadog(datadog::Datadog),
    Zapier(zapier::Zapier),
}

impl Provider {
    /// Validates a webhook's provider configuration.
    ///
    /// `url` is the webhook's `url` (`None` when omitted) and `settings` its
    /// `settings` object (`{}` when absent). `urls` says what destinations
    /// may be: with [`UrlPolicy::dev`] any `http(s)://` URL; otherwise
    /// `https://` (or `http://` where allowed), on the provider's own host
    /// where it has one, and never a literal address the policy refuses (a
    /// webhook's own SMTP host included). Errors name the field as in the
    /// webhook body: `url`, `settings.channel`, `settings.smtp.host`.
    pub fn parse(
        kind: ProviderKind,
        url: Option<&str>,
        settings: &Value,
        urls: &UrlPolicy,
    ) -> Result<Provider, ValidationError> {
        let mut s = Settings::new(kind, &crate::providers::info(kind), settings)?;
        let mut t = TemplateBuilder::new();
        let config = match kind {
            ProviderKind::Webhook => {
                webhook::parse(url, urls)?;
                Config::Webhook
            }
            ProviderKind::Slack => Config::Slack(slack::Slack::parse(url, &mut s, &mut t, urls)?),
            ProviderKind::Teams => Config::Teams(teams::Teams::parse(url, &mut s, &mut t, urls)?),
            ProviderKind::Discord => {
                Config::Discord(discord::Discord::parse(url, &mut s, &mut t, urls)?)
            }
            ProviderKind::Mattermost => {
                Config::Mattermost(mattermost::Mattermost::parse(url, &mut s, &mut t, urls)?)
            }
            ProviderKind::GoogleChat => {
                Config::GoogleChat(google_chat::GoogleChat::parse(url, &mut s, &mut t, urls)?)
            }
            ProviderKind::Email => Config::Email(email::Email::parse(url, &mut s, &mut t, urls)?),
            ProviderKind::PagerDuty => {
                Config::PagerDuty(pagerduty::PagerDuty::parse(url, &mut s, &mut t, urls)?)
            }
            ProviderKind::Jira => Config::Jira(jira::Jira::parse(url, &mut s, &mut t, urls)?),
            ProviderKind::GitHub => {
                Config::GitHub(github::GitHub::parse(url, &mut s, &mut t, urls)?)
            }
            ProviderKind::Datadog => {
                Config::Datadog(datadog::Datadog::parse(url, &mut s, &mut t, urls)?)
            }
            ProviderKind::Zapier => {
                Config::Zapier(zapier::Zapier::parse(url, &mut s, &mut t, urls)?)
            }
        };
        s.finish()?;
        Ok(Provider {
            config,
            templates: t.finish(),
        })
    }

    pub fn kind(&self) -> ProviderKind {
        match self.config {
            Config::Webhook => ProviderKind::Webhook,
            Config::Slack(_) => ProviderKind::Slack,
            Config::Teams(_) => ProviderKind::Teams,
            Config::Discord(_) => ProviderKind::Discord,
            Config::Mattermost(_) => ProviderKind::Mattermost,
            Config::GoogleChat(_) => ProviderKind::GoogleChat,
            Config::Email(_) => ProviderKind::Email,
            Config::PagerDuty(_) => ProviderKind::PagerDuty,
            Config::Jira(_) => ProviderKind::Jira,
            Config::GitHub(_) => ProviderKind::GitHub,
            Config::Datadog(_) => ProviderKind::Datadog,
            Config::Zapier(_) => ProviderKind::Zapier,
        }
    }

    fn chat(&self) -> Option<&ChatOptions> {
        match &self.config {
            Config::Slack(p) => Some(&p.chat),
            Config::Teams(p) => Some(&p.chat),
            Config::Discord(p) => Some(&p.chat),
            Config::Mattermost(p) => Some(&p.chat),
            Config::GoogleChat(p) => Some(&p.chat),
            Config::Email(p) => Some(&p.chat),
            _ => None,
        }
    }

    /// The notification this webhook sends for `event`: derived from the
    /// event, with the webhook's template and mention settings applied.
    /// Also what a preview shows.
    ///
    /// Its `mentions` are those the provider will send: only in the
    /// provider's own syntax; from `data.mentions` only with
    /// `mentions_from_data` (individual) or `allow_broadcast_from_data`
    /// (channel-wide); the webhook's `mentions` on error or critical news
    /// with `mention_on_failure`. Providers without mentions get none.
    pub fn notification(&self, event: &EventInput<'_>) -> Result<Notification, RenderError> {
        let defaults = notification::notification(event);
        let fallback_title = defaults.title.clone();
        let mut n = self.templates.apply(event, defaults)?;
        // Template output is normalised like derived text.
        n.normalise(&fallback_title);
        match self.chat() {
            Some(chat) => chat.apply(&mut n),
            // Only chat services have mentions.
            None => n.mentions.clear(),
        }
        Ok(n)
    }

    /// Renders one attempt. `None` for [`ProviderKind::Webhook`]: the server
    /// sends its own signed envelope.
    pub fn render(&self, event: &EventInput<'_>) -> Result<Option<Rendered>, RenderError> {
        if matches!(self.config, Config::Webhook) {
            return Ok(None);
        }
        let n = self.notification(event)?;
        let t = &self.templates;
        Ok(Some(match &self.config {
            Config::Webhook => return Ok(None),
            Config::Slack(p) => Rendered::Http(p.render(&n)),
            Config::Teams(p) => Rendered::Http(p.render(&n)),
            Config::Discord(p) => Rendered::Http(p.render(&n)),
            Config::Mattermost(p) => Rendered::Http(p.render(&n)),
            Config::GoogleChat(p) => Rendered::Http(p.render(&n, event, t)?),
            Config::Email(p) => Rendered::Email(p.render(&n, event)?),
            Config::PagerDuty(p) => Rendered::Http(p.render(&n, event, t)?),
            Config::Jira(p) => Rendered::Http(p.render(&n)),
            Config::GitHub(p) => Rendered::Http(p.render(&n, event, t)?),
            Config::Datadog(p) => Rendered::Http(p.render(&n, event, t)?),
            Config::Zapier(p) => Rendered::Http(p.render(&n, event)),
        }))
    }

    /// Renders several events (oldest first) as one request, in the form
    /// the provider takes: a JSON array of what single events send
    /// (Zapier), or one digest message ("12 events in the last 5 minutes",
    /// a line per event) for chat and email providers, within their limits
    /// like any message. `None` for a plain webhook: the server sends its
    /// own signed array. An error for providers without batches (see
    /// [`ProviderKind::accepts_batches`]) and for an empty batch.
    pub fn render_batch(&self, events: &[EventInput<'_>]) -> Result<Option<Rendered>, RenderError> {
        self.render_digest(events, 0)
    }

    /// [`render_batch`](Self::render_batch), with `left_out` more events
    /// counted in a digest message but not listed (a scheduled digest's
    /// cap); arrays carry every event given and ignore it.
    pub fn render_digest(
        &self,
        events: &[EventInput<'_>],
        left_out: usize,
    ) -> Result<Option<Rendered>, RenderError> {
        if events.is_empty() {
            return Err(RenderError::new("batch", "has no events"));
        }
        match (&self.config, self.kind().batches()) {
            (Config::Webhook, _) => Ok(None),
            (Config::Zapier(p), _) => {
                let notifications = events
                    .iter()
                    .map(|e| self.notification(e))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(Rendered::Http(p.render_batch(&notifications, events))))
            }
            (_, Batches::Digest) => digest::render(self, events, left_out),
            (_, Batches::Array | Batches::Refused) => Err(RenderError::new(
                "batch",
                format!("{} does not take batches", self.kind()),
            )),
        }
    }

    /// Zapier's `batch_size` and `batch_timeout_ms`, for the flow control
    /// that groups deliveries; `None` for providers without batches.
    pub fn batching(&self) -> Option<(Option<u32>, Option<u32>)> {
        match &self.config {
            Config::Zapier(z) => Some((z.batch_size, z.batch_timeout_ms)),
            _ => None,
        }
    }

    /// For email, whether the webhook names its own mail server
    /// (`settings.smtp.host`) and sender (`settings.from`), so the server
    /// can tell whether its own defaults must supply them; `None` for
    /// providers that send no mail.
    pub fn own_mail_settings(&self) -> Option<OwnMailSettings> {
        match &self.config {
            Config::Email(e) => Some(e.own_settings()),
            _ => None,
        }
    }

    /// Judges the destination's HTTP answer. `retry_after_header` is the raw
    /// `Retry-After` header, if any. (Email is judged by the server's SMTP
    /// sender; here it gets the generic HTTP rules.)
    pub fn judge(&self, status: u16, body: &str, retry_after_header: Option<&str>) -> Answer {
        let ra = retry_after_header;
        match &self.config {
            Config::Slack(_) => slack::judge(status, body, ra),
            Config::Teams(_) => teams::judge(status, body, ra),
            Config::Discord(_) => discord::judge(status, body, ra),
            Config::Mattermost(_) => mattermost::judge(status, body, ra),
            Config::GoogleChat(_) => google_chat::judge(status, body, ra),
            Config::PagerDuty(_) => pagerduty::judge(status, body, ra),
            Config::Jira(_) => jira::judge(status, body, ra),
            Config::GitHub(_) => github::judge(status, body, ra),
            Config::Datadog(_) => datadog::judge(status, body, ra),
            Config::Webhook | Config::Email(_) | Config::Zapier(_) => {
                webhook::judge(status, body, ra)
            }
        }
    }
}
