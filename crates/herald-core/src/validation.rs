//! The one error type of input parsing: what is wrong, and which field.

/// A client mistake in one field, named by its JSON path (`retry.max_retries`,
/// `event_types[2]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Prefixes the field path, so nested parsers can report their own
    /// relative paths (`token` inside `auth` becomes `auth.token`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_string()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

/// Checks a string's length in characters (not bytes).
pub fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), ValidationError> {
    let n = value.chars().count();
    if n < min || n > max {
        let message = if min == max {
            format!("must be exactly {min} characters")
        } else if min == 1 && n == 0 {
            "must not be empty".to_string()
        } else {
            format!("must be {min} to {max} characters long (got {n})")
        };
        return Err(ValidationError::new(field, message));
    }
    Ok(())
}
