//! The JSON match language of webhook filters, compatible with Convoy's and
//! Hookdeck Outpost's: a document shaped like the event, whose leaves are
//! values (equality) or operator objects (`{"$gte": 1000}`), with dot paths
//! (`"data.user.tier": "gold"`), any-element matching through arrays and
//! `$and` / `$or` / `$not` at any level.
//!
//! A document is compiled once into a flat tree of conditions, each with
//! its full path from the event's root, so matching an event is a few map
//! lookups per condition and never parses or allocates (outside an
//! explanation).

use regex::{Regex, RegexBuilder};
use serde_json::{Map, Value};

use crate::validation::ValidationError;

/// The deepest the document may nest (objects and arrays, the document
/// itself counting as one): a filter is a handful of levels; this keeps
/// compiling and matching far from any stack limit.
pub const MAX_DEPTH: usize = 16;
/// The most conditions (leaf tests) one document may hold.
pub const MAX_CONDITIONS: usize = 256;
/// The most values an `$in` / `$nin` list may hold.
pub const MAX_LIST: usize = 1000;
/// The longest pattern a `$regex` may have, in characters.
pub const MAX_REGEX_LEN: usize = 1024;
/// The most memory one compiled `$regex` may take (the `regex` crate's
/// `size_limit`): ordinary patterns take a few KiB; `a{1000}{1000}` is
/// refused instead of growing to megabytes.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// The most `$regex` operators one document may hold.
pub const MAX_REGEXES: usize = 16;

/// The top-level members of the event a filter can look at.
pub const SCOPE: [&str; 5] = ["id", "type", "source", "timestamp", "data"];

/// A compiled match document.
#[derive(Debug, Clone)]
pub struct JsonMatch {
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    /// Every child holds (an object's members, `$and`).
    All(Vec<Node>),
    /// At least one child holds (`$or`).
    Any(Vec<Node>),
    /// The child does not hold (`$not`, and every negative operator).
    Not {
        node: Box<Node>,
        /// Where it is in the document, for explanations.
        at: String,
    },
    /// The value at a path passes a test: for arrays along the way and at
    /// the end, any element (or the whole array) passing is enough.
    Test(Condition),
}

#[derive(Debug, Clone)]
struct Condition {
    path: Vec<Segment>,
    /// The path as written, dotted (`data.user.tier`).
    shown: String,
    test: Test,
}

#[derive(Debug, Clone)]
struct Segment {
    key: String,
    /// The key as an array index, when it is one (`items.0.sku`).
    index: Option<usize>,
}

#[derive(Debug, Clone)]
enum Test {
    Eq(Value),
    Gt(Value),
    Gte(Value),
    Lt(Value),
    Lte(Value),
    In(Vec<Value>),
    Exists,
    Regex(Regex),
    StartsWith(String),
    EndsWith(String),
    Contains(Value),
}

/// Every operator, for the message naming an unknown one.
const OPERATORS: &str = "$eq, $neq, $gt, $gte, $lt, $lte, $in, $nin, $exist, $regex, \
                         $startsWith, $endsWith, $contains, $and, $or, $not";

impl JsonMatch {
    /// Compiles a match document. Errors name the member at fault by its
    /// path in the document (`data.amount.$gte`, `$or[1].type`).
    pub fn compile(doc: &Value) -> Result<JsonMatch, ValidationError> {
        let mut c = Compiler::default();
        let Value::Object(map) = doc else {
            return Err(ValidationError::new(
                "",
                "must be a JSON object such as {\"data\": {\"severity\": \"high\"}}",
            ));
        };
        let root = c.object(map, &[], "", 1)?;
        Ok(JsonMatch { root })
    }

    /// Whether the event (`{"id", "type", "source", "timestamp", "data"}`)
    /// matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.root.eval(event, false).is_ok()
    }

    /// Whether the event matches, and if not, why not.
    pub fn explain(&self, event: &Value) -> Result<(), String> {
        self.root.eval(event, true)
    }
}

#[derive(Default)]
struct Compiler {
    conditions: usize,
    regexes: usize,
}

/// `parent.child` of document paths, for error fields.
fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

impl Compiler {
    /// An object of the document: members that are operators apply to the
    /// value at `path`, the others are paths below it.
    fn object(
        &mut self,
        map: &Map<String, Value>,
        path: &[Segment],
        at: &str,
        depth: usize,
    ) -> Result<Node, ValidationError> {
        if depth > MAX_DEPTH {
            return Err(ValidationError::new(
                at,
                format!("the filter nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        if map.is_empty() {
            return Err(ValidationError::new(
                at,
                "an empty object is not a condition; name a field, an operator such as \
                 {\"$exist\": true}, or compare with {\"$eq\": {}}",
            ));
        }
        let mut nodes = Vec::with_capacity(map.len());
        for (key, value) in map {
            let here = join(at, key);
            if key.starts_with('$') {
                nodes.push(self.operator(key, value, path, at, &here, depth)?);
                continue;
            }
            let mut below = path.to_vec();
            below.extend(self.segments(key, path.is_empty(), &here)?);
            nodes.push(self.value(value, &below, &here, depth)?);
        }
        Ok(if nodes.len() == 1 {
            nodes.pop().expect("one node")
        } else {
            Node::All(nodes)
        })
    }

    /// A member's value: an object goes deeper, anything else is equality.
    fn value(
        &mut self,
        value: &Value,
        path: &[Segment],
        at: &str,
        depth: usize,
    ) -> Result<Node, ValidationError> {
        match value {
            Value::Object(map) => self.object(map, path, at, depth + 1),
            Value::Array(items) if depth + 1 > MAX_DEPTH || nests_too_deep(items, depth + 1) => {
                Err(ValidationError::new(
                    at,
                    format!("the filter nests more than {MAX_DEPTH} levels deep"),
                ))
            }
            other => self.test(path, at, Test::Eq(other.clone())),
        }
    }

    /// A dotted key split into path segments; the first segment of a path
    /// from the root must name a member of the event.
    fn segments(
        &self,
        key: &str,
        from_root: bool,
        at: &str,
    ) -> Result<Vec<Segment>, ValidationError> {
        let mut segments = Vec::new();
        for part in key.split('.') {
            if part.is_empty() || part.starts_with('$') {
                return Err(ValidationError::new(
                    at,
                    format!(
                        "`{key}` is not a valid path: dot-separated names, none empty or \
                         starting with `$`"
                    ),
                ));
            }
            segments.push(Segment {
                key: part.to_string(),
                index: part.parse().ok(),
            });
        }
        if from_root && !SCOPE.contains(&segments[0].key.as_str()) {
            let hint = if segments[0].key == "metadata" {
                " (Herald events carry no metadata)".to_string()
            } else {
                format!("; did you mean `data.{key}`?")
            };
            return Err(ValidationError::new(
                at,
                format!(
                    "`{}` is not part of the event: a filter looks at {}{hint}",
                    segments[0].key,
                    SCOPE.join(", "),
                ),
            ));
        }
        Ok(segments)
    }

    fn test(&mut self, path: &[Segment], at: &str, test: Test) -> Result<Node, ValidationError> {
        if path.is_empty() {
            return Err(ValidationError::new(
                at,
                "compares nothing: put the operator under a field, such as \
                 {\"data.amount\": {\"$gte\": 10}}",
            ));
        }
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(ValidationError::new(
                at,
                format!("a filter may hold at most {MAX_CONDITIONS} conditions"),
            ));
        }
        Ok(Node::Test(Condition {
            shown: path
                .iter()
                .map(|s| s.key.as_str())
                .collect::<Vec<_>>()
                .join("."),
            path: path.to_vec(),
            test,
        }))
    }

    fn operator(
        &mut self,
        op: &str,
        value: &Value,
        path: &[Segment],
        parent: &str,
        at: &str,
        depth: usize,
    ) -> Result<Node, ValidationError> {
        let not = |node: Node| Node::Not {
            node: Box::new(node),
            at: at.to_string(),
        };
        match op {
            "$and" | "$or" => {
                let Value::Array(items) = value else {
                    return Err(ValidationError::new(
                        at,
                        "must be a list of conditions, such as [{\"type\": \"a\"}, {\"type\": \"b\"}]",
                    ));
                };
                if items.is_empty() {
                    return Err(ValidationError::new(at, "must list at least one condition"));
                }
                let mut nodes = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let here = format!("{at}[{i}]");
                    let Value::Object(map) = item else {
                        return Err(ValidationError::new(
                            here,
                            "must be an object of conditions",
                        ));
                    };
                    nodes.push(self.object(map, path, &here, depth + 2)?);
                }
                Ok(if op == "$and" {
                    Node::All(nodes)
                } else {
                    Node::Any(nodes)
                })
            }
            "$not" => {
                let Value::Object(map) = value else {
                    return Err(ValidationError::new(
                        at,
                        "must be an object of conditions, such as {\"$in\": [\"low\"]}",
                    ));
                };
                Ok(not(self.object(map, path, at, depth + 1)?))
            }
            "$eq" => self.test(path, parent, Test::Eq(value.clone())),
            "$neq" => Ok(not(self.test(path, parent, Test::Eq(value.clone()))?)),
            "$gt" | "$gte" | "$lt" | "$lte" => {
                if !(value.is_number() || value.is_string()) {
                    return Err(ValidationError::new(
                        at,
                        "must be a number or a string (strings compare in code-point order, \
                         so RFC 3339 times compare by time)",
                    ));
                }
                let v = value.clone();
                let test = match op {
                    "$gt" => Test::Gt(v),
                    "$gte" => Test::Gte(v),
                    "$lt" => Test::Lt(v),
                    _ => Test::Lte(v),
                };
                self.test(path, parent, test)
            }
            "$in" | "$nin" => {
                let Value::Array(items) = value else {
                    return Err(ValidationError::new(
                        at,
                        "must be a list of values, such as [\"high\", \"critical\"]",
                    ));
                };
                if items.is_empty() || items.len() > MAX_LIST {
                    return Err(ValidationError::new(
                        at,
                        format!("must list 1 to {MAX_LIST} values"),
                    ));
                }
                if nests_too_deep(items, depth + 1) {
                    return Err(ValidationError::new(
                        at,
                        format!("the filter nests more than {MAX_DEPTH} levels deep"),
                    ));
                }
                let node = self.test(path, parent, Test::In(items.clone()))?;
                Ok(if op == "$in" { node } else { not(node) })
            }
            "$exist" => {
                let Value::Bool(wanted) = value else {
                    return Err(ValidationError::new(at, "must be true or false"));
                };
                let node = self.test(path, parent, Test::Exists)?;
                Ok(if *wanted { node } else { not(node) })
            }
            "$regex" => {
                let Value::String(pattern) = value else {
                    return Err(ValidationError::new(
                        at,
                        "must be a regular expression as a string",
                    ));
                };
                self.regexes += 1;
                if self.regexes > MAX_REGEXES {
                    return Err(ValidationError::new(
                        at,
                        format!("a filter may hold at most {MAX_REGEXES} regular expressions"),
                    ));
                }
                let regex = compile_regex(pattern).map_err(|m| ValidationError::new(at, m))?;
                self.test(path, parent, Test::Regex(regex))
            }
            "$startsWith" | "$endsWith" => {
                let Value::String(text) = value else {
                    return Err(ValidationError::new(at, "must be a string"));
                };
                let test = if op == "$startsWith" {
                    Test::StartsWith(text.clone())
                } else {
                    Test::EndsWith(text.clone())
                };
                self.test(path, parent, test)
            }
            "$contains" => {
                if value.is_object() || value.is_array() {
                    return Err(ValidationError::new(
                        at,
                        "must be a string (a substring) or a single value (an element of a list)",
                    ));
                }
                self.test(path, parent, Test::Contains(value.clone()))
            }
            other => Err(ValidationError::new(
                at,
                format!("unknown operator `{other}` (known: {OPERATORS})"),
            )),
        }
    }
}

/// Whether values inside an `$eq`, `$in` or plain array nest past the cap.
fn nests_too_deep(items: &[Value], depth: usize) -> bool {
    fn deepest(v: &Value, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return true;
        }
        match v {
            Value::Array(a) => a.iter().any(|v| deepest(v, depth + 1)),
            Value::Object(m) => m.values().any(|v| deepest(v, depth + 1)),
            _ => false,
        }
    }
    items.iter().any(|v| deepest(v, depth + 1))
}

/// A `$regex`, compiled linear-time by the `regex` crate within size
/// limits, so no pattern can take exponential time or unbounded memory.
pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    if pattern.chars().count() > MAX_REGEX_LEN {
        return Err(format!(
            "the regular expression must be at most {MAX_REGEX_LEN} characters"
        ));
    }
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(32)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => format!(
                "the regular expression is too large once compiled (over {} KiB); \
                 use fewer or smaller repetitions",
                REGEX_SIZE_LIMIT / 1024
            ),
            other => format!("is not a valid regular expression: {other}"),
        })
}

impl Node {
    /// `Ok` when the node holds; `Err` with the reason when it does not
    /// (an empty reason unless `explain`).
    fn eval(&self, event: &Value, explain: bool) -> Result<(), String> {
        match self {
            Node::All(nodes) => nodes.iter().try_for_each(|n| n.eval(event, explain)),
            Node::Any(nodes) => {
                let mut reasons = Vec::new();
                for n in nodes {
                    match n.eval(event, explain) {
                        Ok(()) => return Ok(()),
                        Err(r) if explain => reasons.push(r),
                        Err(_) => {}
                    }
                }
                Err(if explain {
                    format!("none of $or matched ({})", reasons.join("; "))
                } else {
                    String::new()
                })
            }
            Node::Not { node, at } => match node.eval(event, explain) {
                Err(_) => Ok(()),
                Ok(()) if !explain => Err(String::new()),
                Ok(()) => Err(match node.as_ref() {
                    Node::Test(c) => c.describe_negated(event),
                    _ => format!("the $not condition at `{at}` matched"),
                }),
            },
            Node::Test(c) => {
                if c.holds(event) {
                    Ok(())
                } else if explain {
                    Err(c.describe_failure(event))
                } else {
                    Err(String::new())
                }
            }
        }
    }
}

impl Condition {
    fn holds(&self, event: &Value) -> bool {
        let mut found = false;
        visit(event, &self.path, &mut |v| {
            found = found || self.test.holds(v);
            found
        });
        found
    }

    /// The values at the path (arrays along the way expanded), for
    /// explanations.
    fn values<'a>(&self, event: &'a Value) -> Vec<&'a Value> {
        let mut leaves = Vec::new();
        visit_leaves(event, &self.path, &mut leaves);
        leaves
    }

    fn describe_failure(&self, event: &Value) -> String {
        let values = self.values(event);
        if values.is_empty() {
            return match self.test {
                Test::Exists => format!("{} is missing", self.shown),
                _ => format!(
                    "{} is missing, so it {}",
                    self.shown,
                    self.test.wanted(false)
                ),
            };
        }
        let shown = show_values(&values);
        let note = self.test.type_note(&values);
        format!("{}: {shown} {}{note}", self.shown, self.test.wanted(false))
    }

    /// Why the negation of this condition failed: the condition held.
    fn describe_negated(&self, event: &Value) -> String {
        let values = self.values(event);
        match self.test {
            Test::Exists => format!(
                "{} is present ({}), but must be absent",
                self.shown,
                show_values(&values)
            ),
            _ => format!(
                "{}: {} {}, but must not",
                self.shown,
                show_values(&values),
                self.test.wanted(true)
            ),
        }
    }
}

/// Calls `f` with every value at `path` below `v` (arrays expanded, an
/// array at the end offered whole and element by element) until it
/// answers true.
fn visit<'a>(v: &'a Value, path: &[Segment], f: &mut impl FnMut(&'a Value) -> bool) -> bool {
    let Some((first, rest)) = path.split_first() else {
        if f(v) {
            return true;
        }
        if let Value::Array(items) = v {
            return items.iter().any(&mut *f);
        }
        return false;
    };
    match v {
        Value::Object(map) => map.get(&first.key).is_some_and(|next| visit(next, rest, f)),
        Value::Array(items) => match first.index {
            Some(i) => items.get(i).is_some_and(|next| visit(next, rest, f)),
            None => items.iter().any(|item| visit(item, path, f)),
        },
        _ => false,
    }
}

fn visit_leaves<'a>(v: &'a Value, path: &[Segment], out: &mut Vec<&'a Value>) {
    let Some((first, rest)) = path.split_first() else {
        out.push(v);
        return;
    };
    match v {
        Value::Object(map) => {
            if let Some(next) = map.get(&first.key) {
                visit_leaves(next, rest, out);
            }
        }
        Value::Array(items) => match first.index {
            Some(i) => {
                if let Some(next) = items.get(i) {
                    visit_leaves(next, rest, out);
                }
            }
            None => items.iter().for_each(|item| visit_leaves(item, path, out)),
        },
        _ => {}
    }
}

/// Values shown in a reason: JSON, cut short when long.
fn show_values(values: &[&Value]) -> String {
    let text = match values {
        [one] => one.to_string(),
        many => Value::Array(many.iter().map(|v| (*v).clone()).collect()).to_string(),
    };
    shorten(text)
}

fn shorten(text: String) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        return text;
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}

impl Test {
    fn holds(&self, v: &Value) -> bool {
        match self {
            Test::Eq(want) => json_eq(v, want),
            Test::Gt(want) => compare(v, want).is_some_and(|o| o.is_gt()),
            Test::Gte(want) => compare(v, want).is_some_and(|o| o.is_ge()),
            Test::Lt(want) => compare(v, want).is_some_and(|o| o.is_lt()),
            Test::Lte(want) => compare(v, want).is_some_and(|o| o.is_le()),
            Test::In(list) => list.iter().any(|want| json_eq(v, want)),
            Test::Exists => true,
            Test::Regex(re) => v.as_str().is_some_and(|s| re.is_match(s)),
            Test::StartsWith(p) => v.as_str().is_some_and(|s| s.starts_with(p.as_str())),
            Test::EndsWith(p) => v.as_str().is_some_and(|s| s.ends_with(p.as_str())),
            Test::Contains(want) => match (v, want) {
                (Value::String(s), Value::String(part)) => s.contains(part.as_str()),
                (Value::Array(items), want) => items.iter().any(|item| json_eq(item, want)),
                _ => false,
            },
        }
    }

    /// What the test asks, phrased after a value: "is not in […]" (or,
    /// `positive`, "is in […]").
    fn wanted(&self, positive: bool) -> String {
        let is = if positive { "is" } else { "is not" };
        let does_verb = |verb: &str| {
            if positive {
                format!("{verb}s")
            } else {
                format!("does not {verb}")
            }
        };
        match self {
            Test::Eq(want) => format!("{is} {}", shorten(want.to_string())),
            Test::Gt(want) => format!("{is} greater than {want}"),
            Test::Gte(want) => format!("{is} greater than or equal to {want}"),
            Test::Lt(want) => format!("{is} less than {want}"),
            Test::Lte(want) => format!("{is} less than or equal to {want}"),
            Test::In(list) => format!(
                "{is} in {}",
                shorten(Value::Array(list.clone()).to_string())
            ),
            Test::Exists => format!("{is} present"),
            Test::Regex(re) => format!("{} /{}/", does_verb("match"), re.as_str()),
            Test::StartsWith(p) => {
                format!("{} with {}", does_verb("start"), Value::from(p.as_str()))
            }
            Test::EndsWith(p) => format!("{} with {}", does_verb("end"), Value::from(p.as_str())),
            Test::Contains(want) => {
                format!("{} {}", does_verb("contain"), shorten(want.to_string()))
            }
        }
    }

    /// Says so when the failure is one of types: no value at the path has
    /// the type the test compares with.
    fn type_note(&self, values: &[&Value]) -> String {
        let want = match self {
            Test::Eq(w) | Test::Gt(w) | Test::Gte(w) | Test::Lt(w) | Test::Lte(w) => w,
            Test::Regex(_) | Test::StartsWith(_) | Test::EndsWith(_) => &Value::Null,
            Test::In(_) | Test::Exists | Test::Contains(_) => return String::new(),
        };
        let wanted_type = match self {
            Test::Regex(_) | Test::StartsWith(_) | Test::EndsWith(_) => "string",
            _ => type_name(want),
        };
        let same = values.iter().any(|v| {
            type_name(v) == wanted_type
                || v.as_array()
                    .is_some_and(|a| a.iter().any(|e| type_name(e) == wanted_type))
        });
        if same || wanted_type == "null" {
            return String::new();
        }
        let got = type_name(values[0]);
        format!(" (a {got} is never equal to or compared with a {wanted_type})")
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Equality of JSON values with numbers compared by value (`1 == 1.0`),
/// never across types (`"1" != 1`).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_cmp(x, y).is_some_and(|o| o.is_eq()),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, a)| y.get(k).is_some_and(|b| json_eq(a, b)))
        }
        _ => a == b,
    }
}

/// Order of two numbers or two strings; `None` across types.
fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_cmp(x, y),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Integers exactly, anything else as f64 (NaN cannot occur in JSON).
fn number_cmp(x: &serde_json::Number, y: &serde_json::Number) -> Option<std::cmp::Ordering> {
    if let (Some(a), Some(b)) = (x.as_i64(), y.as_i64()) {
        return Some(a.cmp(&b));
    }
    if let (Some(a), Some(b)) = (x.as_u64(), y.as_u64()) {
        return Some(a.cmp(&b));
    }
    x.as_f64()?.partial_cmp(&y.as_f64()?)
}
