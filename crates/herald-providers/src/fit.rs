//! Shrinking a message until it fits a provider's overall size limit:
//! shorter body first, then fewer fields, then shorter field values.

use crate::notification::Field;

/// How much of the notification a render may use. Each provider starts from
/// its own per-part limits; [`fit`] lowers them step by step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    /// Body characters.
    pub(crate) body: usize,
    /// Number of fields (the last shown one may be the "… more" marker).
    pub(crate) fields: usize,
    /// Characters per field value.
    pub(crate) value: usize,
}

impl Budget {
    /// One step smaller; false when nothing is left to take away.
    fn shrink(&mut self) -> bool {
        if self.body > 500 {
            self.body /= 2;
        } else if self.value > 200 {
            self.value /= 2;
        } else if self.fields > 0 {
            self.fields = self.fields * 2 / 3;
        } else if self.body > 0 {
            self.body = 0;
        } else if self.value > 20 {
            self.value /= 2;
        } else {
            return false;
        }
        true
    }
}

/// Builds with `budget`, measures, and shrinks until the message is within
/// `limit` (or nothing more can go).
pub(crate) fn fit<T>(
    mut budget: Budget,
    limit: usize,
    build: impl Fn(&Budget) -> T,
    measure: impl Fn(&T) -> usize,
) -> T {
    loop {
        let built = build(&budget);
        if measure(&built) <= limit || !budget.shrink() {
            return built;
        }
    }
}

/// The first `max` fields; when some are left out, the last shown is a
/// visible "…" row saying how many.
pub(crate) fn fields(all: &[Field], max: usize) -> Vec<Field> {
    if all.len() <= max {
        return all.to_vec();
    }
    if max == 0 {
        return Vec::new();
    }
    let mut shown = all[..max - 1].to_vec();
    shown.push(Field {
        label: crate::truncate::ELLIPSIS.to_string(),
        value: format!("{} more fields", all.len() - (max - 1)).into(),
    });
    shown
}

/// Serialised JSON size in bytes.
pub(crate) fn json_bytes(v: &serde_json::Value) -> usize {
    serde_json::to_vec(v).map(|b| b.len()).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_shrinks_until_within_limit() {
        let start = Budget {
            body: 10_000,
            fields: 60,
            value: 1000,
        };
        let out = fit(start, 1234, |b| b.body + b.fields * 10 + b.value, |n| *n);
        assert!(out <= 1234, "{out}");
    }

    #[test]
    fn fields_marks_what_is_left_out() {
        let all: Vec<Field> = (0..5)
            .map(|i| Field {
                label: format!("k{i}"),
                value: i.to_string().into(),
            })
            .collect();
        assert_eq!(fields(&all, 5).len(), 5);
        let some = fields(&all, 3);
        assert_eq!(some.len(), 3);
        assert_eq!(some[2].label, "…");
        assert_eq!(some[2].value, "3 more fields");
        assert!(fields(&all, 0).is_empty());
    }
}
