//! Which mentions a message may carry: one rule for every provider.
//!
//! A mention is sent only if it is written in the provider's own syntax
//! (a Slack `<@U…>` is never sent to Discord). Broadcast mentions, which
//! notify a whole channel (Slack `<!channel>` `<!here>` `<!everyone>`,
//! Discord `@everyone` `@here`, Google Chat `<users/all>`, Mattermost
//! `@channel` `@all` `@here`), come from the webhook's own `mentions`, and
//! from event data only with `allow_broadcast_from_data`. Individual
//! mentions from event data need `mentions_from_data`. Teams has no
//! mention syntax a webhook can send, so a Teams card carries none.

use crate::truncate::Limit;

/// A provider's mention syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    Slack,
    Discord,
    GoogleChat,
    Mattermost,
    /// Teams: no string a webhook sends becomes a mention.
    None,
}

/// Whom a mention notifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Everyone in the channel or space.
    Broadcast,
    /// One user, role or group.
    Individual,
}

/// A run of ASCII digits of the lengths ids have (Discord snowflakes,
/// Google user ids).
fn digits(s: &str) -> bool {
    (1..=25).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// Slack ids: an upper-case letter, then upper-case letters and digits.
fn slack_id(s: &str, first: &[u8]) -> bool {
    (3..=24).contains(&s.len())
        && s.bytes().next().is_some_and(|b| first.contains(&b))
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `<inner>` → `inner`.
fn angled(m: &str) -> Option<&str> {
    m.strip_prefix('<')?.strip_suffix('>')
}

impl Syntax {
    /// What `mention` is in this syntax; `None` when it is not a mention
    /// written in it (which is then never sent).
    pub(crate) fn reach(self, mention: &str) -> Option<Reach> {
        match self {
            Self::Slack => match angled(mention)? {
                "!channel" | "!here" | "!everyone" => Some(Reach::Broadcast),
                inner => {
                    let user = inner
                        .strip_prefix('@')
                        .is_some_and(|id| slack_id(id, b"UW"));
                    let group = inner
                        .strip_prefix("!subteam^")
                        .is_some_and(|id| slack_id(id, b"S"));
                    (user || group).then_some(Reach::Individual)
                }
            },
            Self::Discord => match mention {
                "@everyone" | "@here" => Some(Reach::Broadcast),
                _ => {
                    let inner = angled(mention)?.strip_prefix('@')?;
                    let id = inner
                        .strip_prefix('&')
                        .or_else(|| inner.strip_prefix('!'))
                        .unwrap_or(inner);
                    digits(id).then_some(Reach::Individual)
                }
            },
            Self::GoogleChat => match angled(mention)?.strip_prefix("users/")? {
                "all" => Some(Reach::Broadcast),
                id => digits(id).then_some(Reach::Individual),
            },
            Self::Mattermost => {
                let name = mention.strip_prefix('@')?;
                match name.to_ascii_lowercase().as_str() {
                    "channel" | "all" | "here" => Some(Reach::Broadcast),
                    // Another service's broadcast, not a Mattermost name
                    // worth the risk.
                    "everyone" => None,
                    _ => {
                        // Mattermost user and group names.
                        let ok = (1..=64).contains(&name.len())
                            && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                            && name
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
                        ok.then_some(Reach::Individual)
                    }
                }
            }
            Self::None => None,
        }
    }
}

/// What a webhook allows of mentions.
#[derive(Debug, Clone, Default)]
pub(crate) struct MentionRules {
    pub(crate) syntax: Option<Syntax>,
    /// `mention_on_failure`: the configured mentions join on bad news.
    pub(crate) on_failure: bool,
    /// `mentions`: the webhook's own, broadcasts allowed.
    pub(crate) configured: Vec<String>,
    /// `mentions_from_data`: individual mentions from `data.mentions`.
    pub(crate) from_data: bool,
    /// `allow_broadcast_from_data`: broadcasts from `data.mentions`.
    pub(crate) broadcast_from_data: bool,
}

impl MentionRules {
    /// The mentions to send: those from the event data that the rules
    /// allow, then the configured ones when `failure` and asked for; each
    /// in the provider's syntax, each once.
    pub(crate) fn select(&self, from_data: &[String], failure: bool) -> Vec<String> {
        let Some(syntax) = self.syntax else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        let mut add = |m: &String| {
            if !out.contains(m) {
                out.push(m.clone());
            }
        };
        for m in from_data {
            let allowed = match syntax.reach(m) {
                Some(Reach::Broadcast) => self.broadcast_from_data,
                Some(Reach::Individual) => self.from_data,
                None => false,
            };
            if allowed {
                add(m);
            }
        }
        if self.on_failure && failure {
            for m in &self.configured {
                if syntax.reach(m).is_some() {
                    add(m);
                }
            }
        }
        out
    }
}

/// The first `mentions`, whole, that fit `limit` joined by spaces: a cut
/// mention would be sent as text.
pub(crate) fn within(mentions: &[String], limit: Limit) -> Vec<String> {
    let mut used = 0;
    let mut kept = Vec::new();
    for m in mentions {
        let len = limit.count(m) + usize::from(!kept.is_empty());
        if used + len > limit.max {
            break;
        }
        used += len;
        kept.push(m.clone());
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use Reach::{Broadcast, Individual};

    #[test]
    fn each_syntax_knows_its_own_mentions_only() {
        let cases: [(Syntax, &str, Option<Reach>); 25] = [
            (Syntax::Slack, "<!channel>", Some(Broadcast)),
            (Syntax::Slack, "<!here>", Some(Broadcast)),
            (Syntax::Slack, "<!everyone>", Some(Broadcast)),
            (Syntax::Slack, "<@U123ABC>", Some(Individual)),
            (Syntax::Slack, "<!subteam^S123>", Some(Individual)),
            (Syntax::Slack, "<@123456789012345678>", None),
            (Syntax::Slack, "@here", None),
            (Syntax::Slack, "<@U1> [x](https://evil.example)", None),
            (Syntax::Discord, "@everyone", Some(Broadcast)),
            (Syntax::Discord, "@here", Some(Broadcast)),
            (Syntax::Discord, "<@123456789012345678>", Some(Individual)),
            (Syntax::Discord, "<@!123>", Some(Individual)),
            (Syntax::Discord, "<@&987>", Some(Individual)),
            (Syntax::Discord, "<@U123ABC>", None),
            (Syntax::Discord, "<!here>", None),
            (Syntax::GoogleChat, "<users/all>", Some(Broadcast)),
            (Syntax::GoogleChat, "<users/1234567890>", Some(Individual)),
            (Syntax::GoogleChat, "<users/x@evil.example>", None),
            (Syntax::Mattermost, "@channel", Some(Broadcast)),
            (Syntax::Mattermost, "@All", Some(Broadcast)),
            (Syntax::Mattermost, "@alice.b-c_d", Some(Individual)),
            (Syntax::Mattermost, "@al ice", None),
            (Syntax::Mattermost, "@everyone", None),
            (Syntax::Mattermost, "<@U1>", None),
            (Syntax::None, "@here", None),
        ];
        for (syntax, mention, want) in cases {
            assert_eq!(syntax.reach(mention), want, "{syntax:?} {mention}");
        }
    }

    #[test]
    fn only_whole_mentions_are_kept() {
        let list: Vec<String> = ["<@U11>", "<@U22>", "<@U33>"].map(String::from).into();
        assert_eq!(within(&list, Limit::code_points(13)), ["<@U11>", "<@U22>"]);
        assert_eq!(within(&list, Limit::code_points(5)), Vec::<String>::new());
    }

    #[test]
    fn data_needs_an_opt_in_per_reach_and_configured_mentions_need_bad_news() {
        let data: Vec<String> = ["<!here>", "<@U1X>", "@everyone"].map(String::from).into();
        let mut rules = MentionRules {
            syntax: Some(Syntax::Slack),
            on_failure: true,
            configured: vec!["<!channel>".into(), "<@U1X>".into(), "@x".into()],
            ..Default::default()
        };
        assert!(rules.select(&data, false).is_empty());
        assert_eq!(rules.select(&data, true), ["<!channel>", "<@U1X>"]);
        rules.from_data = true;
        assert_eq!(rules.select(&data, false), ["<@U1X>"]);
        rules.broadcast_from_data = true;
        assert_eq!(
            rules.select(&data, true),
            ["<!here>", "<@U1X>", "<!channel>"]
        );
        rules.syntax = Some(Syntax::None);
        assert!(rules.select(&data, true).is_empty());
    }
}
