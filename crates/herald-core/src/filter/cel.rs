//! CEL filters: an expression over `event` (`event.data.severity ==
//! 'high'`) through the `cel` crate, compiled once and bounded when run.
//!
//! Bounds: the expression is at most [`MAX_EXPR_CHARS`] characters and
//! nests at most [`MAX_NESTING`] brackets deep (checked before the parser
//! sees it, so no input can exhaust the stack); it may name only `event`;
//! and inside a comprehension (`exists`, `all`, `map`, `filter`, …) the body
//! sees only its own loop variable, so evaluation costs at most the
//! expression's size times the event's, never a power of it. The parser
//! and interpreter run under `catch_unwind`: a panic in the library is an
//! error for this expression, not a lost request or delivery lane.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::common::value::CowVal;
use cel::context::VariableResolver;
use cel::{Context, Env, Program, Value};

use super::FilterEvent;

/// The longest expression accepted, in characters.
pub const MAX_EXPR_CHARS: usize = 2048;
/// The deepest `(`, `[` and `{` may nest in an expression.
pub const MAX_NESTING: usize = 32;
/// The most operators of one kind in a row (`!!!!x`, `- - -1`), each a
/// level of the parser's recursion.
const MAX_UNARY_RUN: usize = 8;
/// The deepest tree a compiled expression may have: what the interpreter
/// recurses through when it runs, on whatever thread routes the event.
pub const MAX_TREE_DEPTH: usize = 24;
/// The stack of the thread that parses expressions.
const COMPILE_STACK: usize = 64 * 1024 * 1024;
/// How long a reason quoting the interpreter may be.
const MAX_REASON_CHARS: usize = 300;

/// Type names an expression may use as identifiers (`type(x) == string`).
const TYPE_NAMES: [&str; 10] = [
    "bool",
    "bytes",
    "double",
    "int",
    "list",
    "map",
    "null_type",
    "string",
    "type",
    "uint",
];

/// A compiled CEL expression.
pub struct CelFilter {
    program: Program,
    /// The parts of the event the expression reads (`event.data.severity`
    /// → `["data", "severity"]`), when it reads it only through such
    /// paths: then only those parts are made CEL values for it, which is
    /// most of an evaluation's cost. `None`: it uses `event` some other
    /// way, and gets all of it.
    paths: Option<Vec<Vec<String>>>,
}

impl std::fmt::Debug for CelFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CelFilter").finish_non_exhaustive()
    }
}

/// The standard environment, built once.
fn env() -> &'static Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| Arc::new(Env::stdlib()))
}

impl CelFilter {
    /// Compiles `expr`, or says what is wrong with it.
    ///
    /// The `cel` parser recurses deeply (its generated parser takes
    /// megabytes of stack for a long `a + b + …` chain), so it runs on a
    /// thread of its own with a large stack; the tree it gives is then
    /// refused if deeper than [`MAX_TREE_DEPTH`], which bounds the
    /// interpreter's recursion where filters run.
    pub fn compile(expr: &str) -> Result<CelFilter, String> {
        check_shape(expr)?;
        let expr = expr.to_string();
        let worker = std::thread::Builder::new()
            .name("cel-compile".to_string())
            .stack_size(COMPILE_STACK)
            .spawn(move || catch_unwind(AssertUnwindSafe(|| compile_checked(&expr))));
        match worker.map(|handle| handle.join()) {
            Ok(Ok(Ok(result))) => result,
            Ok(Ok(Err(_))) | Ok(Err(_)) => {
                Err("could not be parsed (the CEL parser failed on it)".to_string())
            }
            Err(_) => Err("could not be compiled now; try again".to_string()),
        }
    }

    /// `Ok` when the expression is true for the event; otherwise why not:
    /// false, another type than bool, or an error (a missing key, say).
    pub(crate) fn eval(&self, event: &FilterEvent) -> Result<(), String> {
        let part;
        let value: &dyn cel::common::value::Val = match &self.paths {
            Some(paths) => {
                let paths: Vec<&[String]> = paths.iter().map(Vec::as_slice).collect();
                part = read_paths(event.json(), &paths);
                part.as_ref()
            }
            None => match event.cel_value() {
                Some(whole) => whole,
                None => return Err("the event cannot be given to CEL".to_string()),
            },
        };
        let resolver = EventVariable(value);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut context = Context::with_env(env().clone());
            context.set_variable_resolver(&resolver);
            self.program.execute(&context)
        }));
        match result {
            Ok(Ok(Value::Bool(true))) => Ok(()),
            Ok(Ok(Value::Bool(false))) => Err("is false".to_string()),
            Ok(Ok(other)) => Err(shorten(format!(
                "returned {other:?}, not a bool, so the event does not match"
            ))),
            Ok(Err(e)) => Err(shorten(format!("failed: {e}"))),
            Err(_) => Err("failed (the CEL interpreter failed on this event)".to_string()),
        }
    }
}

/// Parses `expr` and checks the tree: its names and its depth. Runs on
/// the compile thread, where a refused tree is dropped too (dropping
/// recurses as deep as the tree).
fn compile_checked(expr: &str) -> Result<CelFilter, String> {
    let program = env()
        .compile(expr)
        .map_err(|e| shorten(format!("is not a valid CEL expression: {e}")))?;
    let depth = tree_depth(program.expression());
    if depth > MAX_TREE_DEPTH {
        return Err(format!(
            "is nested {depth} operations deep; at most {MAX_TREE_DEPTH} are allowed \
             (split long chains such as a + b + c + … with parentheses or use `in`)"
        ));
    }
    check_references(program.expression(), &[])?;
    let mut paths = Some(Vec::new());
    collect_paths(program.expression(), &mut paths);
    Ok(CelFilter { program, paths })
}

/// The field path of a select chain rooted at `event`
/// (`event.data.severity`), if `e` is one.
fn event_path(e: &IdedExpr) -> Option<Vec<String>> {
    match &e.expr {
        Expr::Ident(name) if name == "event" => Some(Vec::new()),
        Expr::Select(select) => {
            let mut path = event_path(&select.operand)?;
            path.push(select.field.clone());
            Some(path)
        }
        _ => None,
    }
}

/// Every path through which the expression reads `event`; `None` once it
/// uses `event` in any other way (alone, or indexed with `[]` at the top).
fn collect_paths(e: &IdedExpr, paths: &mut Option<Vec<Vec<String>>>) {
    if paths.is_none() {
        return;
    }
    if let Some(path) = event_path(e) {
        match (path.is_empty(), paths.as_mut()) {
            (false, Some(found)) => found.push(path),
            _ => *paths = None,
        }
        return;
    }
    for child in children(e) {
        collect_paths(child, paths);
    }
}

/// The part of `event` that `paths` read, as a CEL value borrowing from
/// it: along each path the objects it passes through, and whole what it
/// ends at (or the first value on it that is not an object, so selecting
/// past it fails as it would on the whole event). A missing key is left
/// missing, so a select of it fails (and `has()` is false) as on the whole.
fn read_paths<'v>(
    event: &'v serde_json::Value,
    paths: &[&'v [String]],
) -> Box<dyn cel::common::value::Val + 'v> {
    use cel::common::types::{CelMap, CelMapKey};
    let serde_json::Value::Object(fields) = event else {
        return borrowed_cel(event);
    };
    if paths.iter().any(|p| p.is_empty()) {
        return borrowed_cel(event);
    }
    let mut map = std::collections::HashMap::new();
    let mut done: Vec<&str> = Vec::new();
    for path in paths {
        let key = path[0].as_str();
        if done.contains(&key) {
            continue;
        }
        done.push(key);
        if let Some(child) = fields.get(key) {
            let rests: Vec<&[String]> = paths
                .iter()
                .filter(|p| p[0] == key)
                .map(|p| &p[1..])
                .collect();
            map.insert(CelMapKey::from(key), read_paths(child, &rests));
        }
    }
    Box::new(CelMap::from(map))
}

/// The expressions directly under `e`.
fn children(e: &IdedExpr) -> Vec<&IdedExpr> {
    match &e.expr {
        Expr::Call(call) => call
            .target
            .iter()
            .map(|t| t.as_ref())
            .chain(&call.args)
            .collect(),
        Expr::Select(select) => vec![select.operand.as_ref()],
        Expr::List(list) => list.elements.iter().collect(),
        Expr::Map(map) => entries(&map.entries),
        Expr::Struct(s) => entries(&s.entries),
        Expr::Comprehension(c) => vec![
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ],
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Vec::new(),
    }
}

/// How deep the tree nests (a leaf is 1).
fn tree_depth(e: &IdedExpr) -> usize {
    1 + children(e).into_iter().map(tree_depth).max().unwrap_or(0)
}

fn entries(entries: &[cel::common::ast::IdedEntryExpr]) -> Vec<&IdedExpr> {
    entries
        .iter()
        .flat_map(|entry| match &entry.expr {
            EntryExpr::MapEntry(m) => vec![&m.key, &m.value],
            EntryExpr::StructField(f) => vec![&f.value],
        })
        .collect()
}

/// Lends the event to the interpreter as the variable `event`, without
/// copying it per evaluation.
struct EventVariable<'a>(&'a (dyn cel::common::value::Val + 'a));

impl VariableResolver for EventVariable<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        (variable == "event").then(|| CowVal::Borrowed(self.0))
    }
}

/// JSON as a CEL value that borrows its strings: what one evaluation
/// reads of the event, made without copying text (most of the cost of
/// handing an event to CEL). Integers are `int` where they fit, as in
/// [`cel_value`].
fn borrowed_cel(json: &serde_json::Value) -> Box<dyn cel::common::value::Val + '_> {
    use cel::common::types::{
        CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
    };
    use serde_json::Value as J;
    match json {
        J::Null => Box::new(CelNull),
        J::Bool(b) => Box::new(CelBool::from(*b)),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Box::new(CelInt::from(i)),
            (None, Some(u)) => Box::new(CelUInt::from(u)),
            _ => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        J::String(s) => Box::new(CelString::from(s.as_str())),
        J::Array(items) => Box::new(CelList::from(
            items.iter().map(borrowed_cel).collect::<Vec<_>>(),
        )),
        J::Object(map) => Box::new(CelMap::from(
            map.iter()
                .map(|(k, v)| (CelMapKey::from(k.as_str()), borrowed_cel(v)))
                .collect::<std::collections::HashMap<_, _>>(),
        )),
    }
}

/// The event's JSON as a CEL value, made once per event.
pub(crate) fn to_cel(json: &serde_json::Value) -> Option<Box<dyn cel::common::value::Val>> {
    cel_value(json).try_into().ok()
}

/// JSON to CEL with integers as `int` where they fit (as CEL's own JSON
/// conversion gives them), so `event.data.amount + 1` is int arithmetic.
fn cel_value(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::String(Arc::new(s.clone())),
        J::Array(items) => Value::List(Arc::new(items.iter().map(cel_value).collect())),
        J::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), cel_value(v)))
                .collect::<std::collections::HashMap<String, Value>>()
                .into(),
        ),
    }
}

/// Length, bracket nesting and runs of unary operators, checked on the
/// text: what the parser's recursion follows, limited before it runs.
fn check_shape(expr: &str) -> Result<(), String> {
    let (mut depth, mut quote, mut escaped, mut run) = (0usize, None::<char>, false, 0usize);
    let mut last_unary = None;
    for c in expr.chars() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(format!(
                        "nests brackets more than {MAX_NESTING} levels deep"
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c == '!' || c == '-' {
            run = if last_unary == Some(c) { run + 1 } else { 1 };
            last_unary = Some(c);
            if run > MAX_UNARY_RUN {
                return Err(format!(
                    "repeats `{c}` more than {MAX_UNARY_RUN} times in a row"
                ));
            }
        } else if !c.is_whitespace() {
            last_unary = None;
        }
    }
    Ok(())
}

/// Only `event` (and type names) at the top; inside a comprehension's
/// body only its own variables, which keeps evaluation linear.
fn check_references(e: &IdedExpr, body_vars: &[&str]) -> Result<(), String> {
    match &e.expr {
        Expr::Ident(name) => {
            let in_body = !body_vars.is_empty();
            if TYPE_NAMES.contains(&name.as_str())
                || body_vars.contains(&name.as_str())
                || (!in_body && name == "event")
            {
                return Ok(());
            }
            if in_body {
                return Err(format!(
                    "uses `{name}` inside a comprehension (exists, all, map, filter): there \
                     only the loop variable can be used, so a filter's cost stays linear in \
                     the event's size"
                ));
            }
            Err(format!(
                "names `{name}`, which is not defined: the event is `event` \
                 (event.type, event.source, event.data…)"
            ))
        }
        Expr::Call(call) => {
            if call.func_name == "matches" {
                check_pattern(call)?;
            }
            if let Some(target) = &call.target {
                check_references(target, body_vars)?;
            }
            call.args
                .iter()
                .try_for_each(|a| check_references(a, body_vars))
        }
        Expr::Select(select) => check_references(&select.operand, body_vars),
        Expr::List(list) => list
            .elements
            .iter()
            .try_for_each(|a| check_references(a, body_vars)),
        Expr::Map(map) => map.entries.iter().try_for_each(|entry| match &entry.expr {
            EntryExpr::MapEntry(m) => {
                check_references(&m.key, body_vars)?;
                check_references(&m.value, body_vars)
            }
            EntryExpr::StructField(f) => check_references(&f.value, body_vars),
        }),
        Expr::Struct(s) => s.entries.iter().try_for_each(|entry| match &entry.expr {
            EntryExpr::MapEntry(m) => {
                check_references(&m.key, body_vars)?;
                check_references(&m.value, body_vars)
            }
            EntryExpr::StructField(f) => check_references(&f.value, body_vars),
        }),
        Expr::Comprehension(c) => {
            check_references(&c.iter_range, body_vars)?;
            check_references(&c.accu_init, body_vars)?;
            let mut own = vec![c.iter_var.as_str(), c.accu_var.as_str()];
            if let Some(second) = &c.iter_var2 {
                own.push(second.as_str());
            }
            check_references(&c.loop_cond, &own)?;
            check_references(&c.loop_step, &own)?;
            check_references(&c.result, &own)
        }
        Expr::Literal(_) | Expr::Unspecified => Ok(()),
    }
}

/// `matches()` compiles its pattern at every evaluation, with the `regex`
/// crate's default limits: the pattern must be a literal, held to the
/// limits of `$regex`, so no event can supply one and none is large.
fn check_pattern(call: &cel::common::ast::CallExpr) -> Result<(), String> {
    let pattern = match &call.target {
        Some(_) => call.args.first(),
        None => call.args.get(1),
    };
    let text = match pattern.map(|p| &p.expr) {
        Some(Expr::Literal(cel::common::ast::LiteralValue::String(s))) => s.inner().to_string(),
        _ => {
            return Err(
                "uses matches() with a pattern that is not a string literal; write the \
                 pattern in the expression (or use `$regex` in `match`)"
                    .to_string(),
            );
        }
    };
    super::json_match::compile_regex(&text)
        .map(drop)
        .map_err(|m| format!("uses matches() with a pattern it cannot take: {m}"))
}

fn shorten(text: String) -> String {
    if text.chars().count() <= MAX_REASON_CHARS {
        return text;
    }
    let cut: String = text.chars().take(MAX_REASON_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(expr: &str) -> Option<Vec<Vec<String>>> {
        CelFilter::compile(expr).unwrap().paths
    }

    #[test]
    fn an_expression_reads_only_the_paths_it_names() {
        assert_eq!(
            paths("event.data.a == 1 && has(event.data.b.c) && event.type == 'x'"),
            Some(vec![
                vec!["data".to_string(), "a".to_string()],
                vec!["data".to_string(), "b".to_string(), "c".to_string()],
                vec!["type".to_string()],
            ])
        );
        assert_eq!(
            paths("event.data['a'] == 1 || event.data.tags.exists(t, t == 'x')"),
            Some(vec![
                vec!["data".to_string()],
                vec!["data".to_string(), "tags".to_string()]
            ])
        );
        // Using the event whole needs all of it.
        assert_eq!(paths("size(event) > 2"), None);
        assert_eq!(paths("'data' in event"), None);
        assert_eq!(paths("event['type'] == 'x'"), None);
    }

    #[test]
    fn reading_a_part_decides_as_reading_the_whole() {
        let event = FilterEvent::new(json!({"id": "e", "type": "alert", "source": "m",
            "data": {"severity": "high", "amount": 1500, "tags": ["db"], "user": {"tier": "gold"},
                     "text": "1000"}}));
        for (expr, expected) in [
            (
                "event.data.severity == 'high' && event.data.amount >= 1000",
                true,
            ),
            (
                "has(event.data.user.tier) && !has(event.data.user.name)",
                true,
            ),
            ("event.data.tags.exists(t, t == 'db')", true),
            ("event.data['amount'] > 1", true),
            ("event.type == 'alert' && event.source == 'm'", true),
            ("event.data.nope == 'x'", false),
            ("event.data.text.deeper == 1", false),
            ("size(event.data) == 5", true),
            ("size(event) == 4", true),
        ] {
            let filter = CelFilter::compile(expr).unwrap();
            assert_eq!(filter.eval(&event).is_ok(), expected, "{expr}");
        }
        let missing = CelFilter::compile("event.data.nope == 'x'").unwrap();
        let reason = missing.eval(&event).unwrap_err();
        assert!(reason.contains("nope"), "{reason}");
    }
}
