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

/// A text field of the API: anything but NUL.
pub const NO_NUL: &str = "^[^\\u0000]*$";

/// Checks a string's length in characters (not bytes), and that it holds
/// no NUL, which PostgreSQL cannot store in text (the API spec states it
/// as the pattern [`NO_NUL`]).
pub fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), ValidationError> {
    if value.contains('\0') {
        return Err(ValidationError::new(
            field,
            "must not contain the NUL character (U+0000)",
        ));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_refused_whatever_the_length() {
        assert!(check_len("source", "ok", 1, 255).is_ok());
        let e = check_len("source", "a\0b", 1, 255).unwrap_err();
        assert_eq!(e.field, "source");
        assert!(e.message.contains("NUL"), "{}", e.message);
    }
}
