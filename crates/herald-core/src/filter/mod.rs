//! Webhook filters: which events of its types a webhook receives, by their
//! content. A filter is a JSON match document ([`json_match`]), a CEL
//! expression ([`cel`]), or both (ANDed); it is compiled once, when the
//! webhook is saved and when it is loaded into the routing table, and
//! matched against the event as ingest already holds it.
//!
//! The event a filter sees is the body a plain webhook receives plus the
//! event's source: `{"id", "type", "timestamp", "source", "data"}`.

pub mod cel;
pub mod json_match;

use std::cell::OnceCell;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validation::{ValidationError, check_len};
use json_match::JsonMatch;

/// The most JSON text a `match` document may take.
pub const MAX_MATCH_BYTES: usize = 16 * 1024;

/// A webhook's `filter` as sent and stored: `match`, `expr`, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"match": {"data": {"severity": {"$in": ["high", "critical"]}, "amount": {"$gte": 1000}}}}))]
pub struct FilterSpec {
    /// A JSON match document over the event (`type`, `source`, `id`,
    /// `timestamp`, `data`): plain values mean equality; operators `$eq
    /// $neq $gt $gte $lt $lte $in $nin $exist $regex $startsWith $endsWith
    /// $contains $and $or $not`; dot paths; arrays match when any element
    /// does.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub match_doc: Option<Value>,
    /// A CEL expression over `event` that must return true, such as
    /// `event.data.severity == 'high'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 2048, pattern = "^[^\\u0000]*$")]
    pub expr: Option<String>,
}

impl FilterSpec {
    /// Compiles the filter; errors name the part at fault relative to the
    /// filter (`match.data.amount.$gte`, `expr`).
    pub fn compile(&self) -> Result<Filter, ValidationError> {
        if self.match_doc.is_none() && self.expr.is_none() {
            return Err(ValidationError::new(
                "",
                "set `match`, `expr` or both (or `filter: null` to receive every event of the \
                 webhook's types)",
            ));
        }
        let json = match &self.match_doc {
            Some(doc) => {
                let size = doc.to_string().len();
                if size > MAX_MATCH_BYTES {
                    return Err(ValidationError::new(
                        "match",
                        format!("must be at most {MAX_MATCH_BYTES} bytes of JSON (got {size})"),
                    ));
                }
                Some(JsonMatch::compile(doc).map_err(|e| e.within("match"))?)
            }
            None => None,
        };
        let cel = match &self.expr {
            Some(expr) => {
                check_len("expr", expr, 1, cel::MAX_EXPR_CHARS)?;
                Some(cel::CelFilter::compile(expr).map_err(|m| ValidationError::new("expr", m))?)
            }
            None => None,
        };
        Ok(Filter { json, cel })
    }
}

/// A compiled filter.
#[derive(Debug)]
pub struct Filter {
    json: Option<JsonMatch>,
    cel: Option<cel::CelFilter>,
}

/// A filter's judgement of one event, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Decision {
    pub matches: bool,
    /// Why: the first condition that failed, or what matched.
    pub reason: String,
}

impl Filter {
    /// Whether the event passes; the hot path of routing.
    pub fn matches(&self, event: &FilterEvent) -> bool {
        self.json.as_ref().is_none_or(|m| m.matches(&event.json))
            && self.cel.as_ref().is_none_or(|c| c.eval(event).is_ok())
    }

    /// Whether the event passes, and why (or why not).
    pub fn explain(&self, event: &FilterEvent) -> Decision {
        if let Some(m) = &self.json
            && let Err(reason) = m.explain(&event.json)
        {
            return Decision {
                matches: false,
                reason: format!("match: {reason}"),
            };
        }
        if let Some(c) = &self.cel
            && let Err(reason) = c.eval(event)
        {
            return Decision {
                matches: false,
                reason: format!("expr: {reason}"),
            };
        }
        let reason = match (&self.json, &self.cel) {
            (Some(_), Some(_)) => "every condition of `match` holds and `expr` is true",
            (Some(_), None) => "every condition of `match` holds",
            _ => "`expr` is true",
        };
        Decision {
            matches: true,
            reason: reason.to_string(),
        }
    }
}

/// The event as filters see it, built once per event and shared by every
/// filter that looks at it; the CEL form is made on first use.
#[derive(Debug)]
pub struct FilterEvent {
    json: Value,
    cel: OnceLock<Option<Box<dyn ::cel::common::value::Val>>>,
}

impl FilterEvent {
    /// From an event given as JSON (`{"type", "data", …}`).
    pub fn new(json: Value) -> FilterEvent {
        FilterEvent {
            json,
            cel: OnceLock::new(),
        }
    }

    /// From the stored body of a plain webhook
    /// (`{"id","type","timestamp","data"}`) and the event's source.
    pub fn from_body(body: &str, source: Option<&str>) -> Option<FilterEvent> {
        let mut json: Value = serde_json::from_str(body).ok()?;
        let object = json.as_object_mut()?;
        object.insert(
            "source".to_string(),
            source.map_or(Value::Null, |s| Value::String(s.to_string())),
        );
        Some(FilterEvent::new(json))
    }

    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The event as a CEL value; `None` if it cannot be one.
    pub(crate) fn cel_value(&self) -> Option<&(dyn ::cel::common::value::Val + 'static)> {
        self.cel.get_or_init(|| cel::to_cel(&self.json)).as_deref()
    }
}

/// An event about to be routed, turned into a [`FilterEvent`] only when a
/// filter first asks: events whose subscribers have no filter are never
/// parsed.
pub struct LazyEvent<'a> {
    body: &'a str,
    source: Option<&'a str>,
    parsed: OnceCell<Option<FilterEvent>>,
}

impl<'a> LazyEvent<'a> {
    pub fn new(body: &'a str, source: Option<&'a str>) -> LazyEvent<'a> {
        LazyEvent {
            body,
            source,
            parsed: OnceCell::new(),
        }
    }

    /// Whether `filter` lets the event through; an event that cannot be
    /// read (never the case for one Herald built) passes no filter.
    pub fn passes(&self, filter: &Filter) -> bool {
        self.parsed
            .get_or_init(|| FilterEvent::from_body(self.body, self.source))
            .as_ref()
            .is_some_and(|event| filter.matches(event))
    }
}

#[cfg(test)]
mod tests;
