//! The one error of rendering: a template part that could not be rendered
//! for this event.

/// Names the part that failed (`template.title`, `dedup_key`,
/// `issue_number`) and why; shown in the attempt log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {message}")]
pub struct RenderError {
    part: String,
    message: String,
}

impl RenderError {
    pub fn new(part: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            part: part.into(),
            message: message.into(),
        }
    }

    /// The failing part, as named under `settings` (`template.title`).
    pub fn part(&self) -> &str {
        &self.part
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}
