//! Every operator, through arrays, missing paths and mismatched types; the
//! limits that keep filters cheap; CEL's results and failures.

use serde_json::{Value, json};

use super::*;

fn event() -> FilterEvent {
    FilterEvent::new(json!({
        "id": "evt_1",
        "type": "alert.raised",
        "timestamp": "2026-01-02T03:04:05.000Z",
        "source": "monitor",
        "data": {
            "severity": "high",
            "classification": "SENSITIVE",
            "amount": 1500,
            "ratio": 0.5,
            "text": "1000",
            "flag": true,
            "nothing": null,
            "tags": ["db", "prod"],
            "user": {"tier": "gold", "name": "Ada Lovelace"},
            "items": [{"sku": "a1", "qty": 2}, {"sku": "b2", "qty": 7}],
            "matrix": [[1, 2], [3, 4]],
        }
    }))
}

fn filter(spec: Value) -> Filter {
    let spec: FilterSpec = serde_json::from_value(spec).expect("spec parses");
    spec.compile().expect("filter compiles")
}

fn matches(doc: Value) -> bool {
    filter(json!({ "match": doc })).matches(&event())
}

/// The field of the error compiling `doc` as a match document.
fn refused(doc: Value) -> String {
    let spec = FilterSpec {
        match_doc: Some(doc),
        expr: None,
    };
    spec.compile().expect_err("refused").field
}

fn reason(doc: Value) -> String {
    let d = filter(json!({ "match": doc })).explain(&event());
    assert!(!d.matches, "{d:?}");
    d.reason
}

#[test]
fn plain_values_are_equality_at_any_depth_and_by_dot_path() {
    assert!(matches(json!({"data": {"severity": "high"}})));
    assert!(!matches(json!({"data": {"severity": "low"}})));
    assert!(matches(json!({"data.user.tier": "gold"})));
    assert!(matches(json!({"data": {"user.tier": "gold"}})));
    assert!(matches(
        json!({"type": "alert.raised", "source": "monitor"})
    ));
    assert!(matches(json!({"id": "evt_1"})));
    assert!(matches(json!({"data": {"flag": true, "nothing": null}})));
    // Numbers by value, never across types.
    assert!(matches(json!({"data.amount": 1500.0})));
    assert!(!matches(json!({"data.amount": "1500"})));
    assert!(!matches(json!({"data.text": 1000})));
    assert!(!matches(json!({"data.flag": "true"})));
    // A plain list compares the whole list.
    assert!(matches(json!({"data.tags": ["db", "prod"]})));
    assert!(!matches(json!({"data.tags": ["prod", "db"]})));
    // Every member of an object must hold.
    assert!(!matches(json!({"data": {"severity": "high", "amount": 1}})));
}

#[test]
fn arrays_match_when_any_element_does() {
    assert!(matches(json!({"data.tags": "prod"})));
    assert!(!matches(json!({"data.tags": "dev"})));
    assert!(matches(json!({"data.items.sku": "b2"})));
    assert!(matches(json!({"data": {"items": {"qty": {"$gt": 5}}}})));
    assert!(!matches(json!({"data.items.qty": {"$gt": 7}})));
    // A numeric segment indexes.
    assert!(matches(json!({"data.items.0.sku": "a1"})));
    assert!(!matches(json!({"data.items.0.sku": "b2"})));
    assert!(matches(json!({"data.matrix": [3, 4]})));
    assert!(matches(json!({"data.matrix.1": 4})));
    // Negative operators hold only when no element matches.
    assert!(!matches(json!({"data.tags": {"$neq": "prod"}})));
    assert!(matches(json!({"data.tags": {"$neq": "dev"}})));
    assert!(!matches(json!({"data.items.sku": {"$nin": ["a1"]}})));
    assert!(matches(json!({"data.items.sku": {"$nin": ["zz"]}})));
}

#[test]
fn comparison_operators() {
    assert!(matches(json!({"data.amount": {"$eq": 1500}})));
    assert!(matches(json!({"data.amount": {"$neq": 1}})));
    assert!(matches(json!({"data.amount": {"$gt": 1000}})));
    assert!(!matches(json!({"data.amount": {"$gt": 1500}})));
    assert!(matches(json!({"data.amount": {"$gte": 1500}})));
    assert!(matches(json!({"data.amount": {"$lt": 1500.5}})));
    assert!(!matches(json!({"data.amount": {"$lt": 1500}})));
    assert!(matches(json!({"data.amount": {"$lte": 1500}})));
    assert!(matches(json!({"data.ratio": {"$gt": 0.25, "$lt": 1}})));
    // Strings compare in code-point order, so RFC 3339 times by time.
    assert!(matches(
        json!({"timestamp": {"$gte": "2026-01-01T00:00:00Z", "$lt": "2026-02-01T00:00:00Z"}})
    ));
    // Never across types: "1000" is not greater than 1, null is nothing.
    assert!(!matches(json!({"data.text": {"$gt": 1}})));
    assert!(!matches(json!({"data.amount": {"$gt": "1"}})));
    assert!(!matches(json!({"data.nothing": {"$gte": 0}})));
    assert!(!matches(json!({"data.missing": {"$lt": 10}})));
    // An object compared whole with $eq.
    assert!(matches(
        json!({"data.user": {"$eq": {"name": "Ada Lovelace", "tier": "gold"}}})
    ));
    assert!(!matches(json!({"data.user": {"$eq": {"tier": "gold"}}})));
}

#[test]
fn membership_and_text_operators() {
    assert!(matches(
        json!({"data": {"severity": {"$in": ["high", "critical"]}, "amount": {"$gte": 1000}}})
    ));
    assert!(!matches(json!({"data.severity": {"$in": ["low"]}})));
    assert!(matches(json!({"data.severity": {"$nin": ["low", "info"]}})));
    assert!(!matches(json!({"data.severity": {"$nin": ["high"]}})));
    assert!(matches(json!({"data.tags": {"$in": ["prod"]}})));
    assert!(matches(json!({"data.amount": {"$in": [1500.0]}})));
    assert!(!matches(json!({"data.amount": {"$in": ["1500"]}})));
    assert!(matches(json!({"data.user.name": {"$startsWith": "Ada"}})));
    assert!(!matches(json!({"data.user.name": {"$startsWith": "ada"}})));
    assert!(matches(json!({"data.user.name": {"$endsWith": "lace"}})));
    assert!(!matches(json!({"data.amount": {"$startsWith": "1"}})));
    assert!(matches(json!({"data.user.name": {"$contains": "Love"}})));
    assert!(matches(json!({"data.tags": {"$contains": "db"}})));
    // Through a list, any element containing it is enough.
    assert!(matches(json!({"data.tags": {"$contains": "ro"}})));
    assert!(!matches(json!({"data.tags": {"$contains": "x"}})));
    assert!(matches(json!({"data.matrix": {"$contains": 4}})));
    assert!(!matches(json!({"data.amount": {"$contains": 1}})));
    assert!(matches(json!({"data.user.name": {"$regex": "^Ada [A-Z]"}})));
    assert!(matches(json!({"data.tags": {"$regex": "^pro"}})));
    assert!(!matches(json!({"data.amount": {"$regex": "1"}})));
    assert!(!matches(json!({"data.missing": {"$regex": ".*"}})));
}

#[test]
fn existence() {
    assert!(matches(json!({"data.severity": {"$exist": true}})));
    assert!(matches(json!({"data.nothing": {"$exist": true}})));
    assert!(matches(json!({"data.missing": {"$exist": false}})));
    assert!(!matches(json!({"data.missing": {"$exist": true}})));
    assert!(!matches(json!({"data.severity": {"$exist": false}})));
    assert!(matches(json!({"data.items.qty": {"$exist": true}})));
    assert!(matches(json!({"data.items.5": {"$exist": false}})));
    // Paths through scalars are missing, not errors.
    assert!(matches(json!({"data.amount.value": {"$exist": false}})));
    assert!(!matches(json!({"data.amount.value": 1})));
    // Missing is not equal, so $neq and $nin hold.
    assert!(matches(json!({"data.missing": {"$neq": "x"}})));
    assert!(matches(json!({"data.missing": {"$nin": ["x"]}})));
    assert!(!matches(json!({"data.missing": null})));
}

#[test]
fn logic_nests() {
    assert!(matches(
        json!({"$or": [{"data.severity": "low"}, {"data.classification": "SENSITIVE"}]})
    ));
    assert!(!matches(
        json!({"$or": [{"data.severity": "low"}, {"data.amount": {"$lt": 10}}]})
    ));
    assert!(matches(
        json!({"$and": [{"type": "alert.raised"}, {"$or": [{"data.flag": false}, {"data.tags": "db"}]}]})
    ));
    assert!(!matches(
        json!({"$and": [{"type": "alert.raised"}, {"$not": {"data.tags": "db"}}]})
    ));
    assert!(matches(json!({"$not": {"data.severity": "low"}})));
    assert!(matches(
        json!({"data.severity": {"$not": {"$in": ["low", "info"]}}})
    ));
    assert!(!matches(
        json!({"$not": {"$not": {"data.severity": "low"}}})
    ));
    // Logic inside a nested object is relative to it.
    assert!(matches(
        json!({"data": {"user": {"$or": [{"tier": "silver"}, {"tier": "gold"}]}}})
    ));
}

#[test]
fn bad_documents_name_the_member_at_fault() {
    assert_eq!(
        refused(json!({"data": {"amount": {"$gte": [1]}}})),
        "match.data.amount.$gte"
    );
    assert_eq!(
        refused(json!({"data": {"severity": {"$foo": 1}}})),
        "match.data.severity.$foo"
    );
    assert_eq!(refused(json!({"data.x": {"$in": []}})), "match.data.x.$in");
    assert_eq!(
        refused(json!({"data.x": {"$in": "high"}})),
        "match.data.x.$in"
    );
    assert_eq!(
        refused(json!({"data.x": {"$exist": "yes"}})),
        "match.data.x.$exist"
    );
    assert_eq!(
        refused(json!({"data.x": {"$regex": "("}})),
        "match.data.x.$regex"
    );
    assert_eq!(
        refused(json!({"data.x": {"$regex": 5}})),
        "match.data.x.$regex"
    );
    assert_eq!(
        refused(json!({"data.x": {"$startsWith": 5}})),
        "match.data.x.$startsWith"
    );
    assert_eq!(
        refused(json!({"data.x": {"$contains": [1]}})),
        "match.data.x.$contains"
    );
    assert_eq!(refused(json!({"$or": []})), "match.$or");
    assert_eq!(refused(json!({"$or": {"type": "a"}})), "match.$or");
    assert_eq!(refused(json!({"$or": [{"type": "a"}, 3]})), "match.$or[1]");
    assert_eq!(
        refused(json!({"$or": [{"type": "a"}, {"data": {"x": {"$lt": {}}}}]})),
        "match.$or[1].data.x.$lt"
    );
    assert_eq!(refused(json!({"$not": [1]})), "match.$not");
    assert_eq!(refused(json!({"severity": "high"})), "match.severity");
    assert_eq!(refused(json!({"metadata": {"a": 1}})), "match.metadata");
    assert_eq!(refused(json!({"$eq": 1})), "match");
    assert_eq!(refused(json!({"data": {}})), "match.data");
    assert_eq!(refused(json!({})), "match");
    assert_eq!(refused(json!([1])), "match");
    assert_eq!(refused(json!({"data..x": 1})), "match.data..x");
    assert_eq!(refused(json!({"data": {"a.$b": 1}})), "match.data.a.$b");
    let unknown = FilterSpec {
        match_doc: Some(json!({"data.x": {"$foo": 1}})),
        expr: None,
    }
    .compile()
    .unwrap_err();
    assert!(
        unknown.message.contains("unknown operator `$foo`"),
        "{unknown}"
    );
    let hint = FilterSpec {
        match_doc: Some(json!({"severity": "high"})),
        expr: None,
    }
    .compile()
    .unwrap_err();
    assert!(hint.message.contains("data.severity"), "{hint}");
    // A filter needs something to filter by.
    let empty: FilterSpec = serde_json::from_value(json!({})).unwrap();
    assert_eq!(empty.compile().unwrap_err().field, "");
    assert!(serde_json::from_value::<FilterSpec>(json!({"matches": {}})).is_err());
}

#[test]
fn malicious_regexes_are_refused_or_linear() {
    // Too large once compiled.
    assert_eq!(
        refused(json!({"data.x": {"$regex": "a{1000}{1000}"}})),
        "match.data.x.$regex"
    );
    assert_eq!(
        refused(json!({"data.x": {"$regex": "x".repeat(json_match::MAX_REGEX_LEN + 1)}})),
        "match.data.x.$regex"
    );
    // Backreferences and look-around (what makes backtracking engines
    // exponential) do not exist in the `regex` crate.
    assert_eq!(
        refused(json!({"data.x": {"$regex": "(a)\\1"}})),
        "match.data.x.$regex"
    );
    // The classic catastrophic pattern runs in linear time.
    let f = filter(json!({"match": {"data.s": {"$regex": "^(a+)+$"}}}));
    let long = FilterEvent::new(json!({"data": {"s": format!("{}!", "a".repeat(100_000))}}));
    let started = std::time::Instant::now();
    assert!(!f.matches(&long));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // Too many regexes.
    let many: serde_json::Map<String, Value> = (0..=json_match::MAX_REGEXES)
        .map(|i| (format!("data.f{i}"), json!({"$regex": "a"})))
        .collect();
    assert!(refused(Value::Object(many)).starts_with("match.data.f"));
}

#[test]
fn deep_and_large_documents_are_refused() {
    let mut deep = json!({"data.x": 1});
    for _ in 0..40 {
        deep = json!({ "$not": deep });
    }
    let field = refused(deep);
    assert!(field.starts_with("match.$not.$not"), "{field}");
    let mut nested = json!(1);
    for _ in 0..40 {
        nested = json!({ "a": nested });
    }
    assert!(refused(json!({ "data": nested })).starts_with("match.data.a"));
    // Deep values inside $eq and $in count too.
    let mut list = json!(1);
    for _ in 0..40 {
        list = json!([list]);
    }
    assert_eq!(
        refused(json!({"data.x": {"$in": [list.clone()]}})),
        "match.data.x.$in"
    );
    assert_eq!(refused(json!({"data.x": list})), "match.data.x");
    // Too many conditions, too many bytes.
    let wide: serde_json::Map<String, Value> = (0..=json_match::MAX_CONDITIONS)
        .map(|i| (format!("data.f{i}"), json!(i)))
        .collect();
    assert!(refused(Value::Object(wide)).starts_with("match.data.f"));
    let big = json!({"data.x": {"$in": vec!["y".repeat(100); 200]}});
    assert_eq!(refused(big), "match");
}

#[test]
fn reasons_explain_the_first_failure() {
    assert_eq!(
        reason(json!({"data": {"severity": {"$in": ["low", "info"]}}})),
        r#"match: data.severity: "high" is not in ["low","info"]"#
    );
    assert_eq!(
        reason(json!({"data.missing": {"$gt": 1}})),
        "match: data.missing is missing, so it is not greater than 1"
    );
    assert_eq!(
        reason(json!({"data.severity": {"$exist": false}})),
        r#"match: data.severity is present ("high"), but must be absent"#
    );
    assert_eq!(
        reason(json!({"data.severity": {"$neq": "high"}})),
        r#"match: data.severity: "high" is "high", but must not"#
    );
    let mismatch = reason(json!({"data.text": {"$gte": 1000}}));
    assert!(
        mismatch.contains("a string is never equal to or compared with a number"),
        "{mismatch}"
    );
    let or = reason(json!({"$or": [{"type": "a"}, {"source": "b"}]}));
    assert!(or.starts_with("match: none of $or matched ("), "{or}");
    assert!(or.contains(r#"type: "alert.raised" is not "a""#), "{or}");
    let ok = filter(json!({"match": {"type": "alert.raised"}})).explain(&event());
    assert!(ok.matches);
}

#[test]
fn the_seeds_examples() {
    let pagerduty = filter(json!({"match": {"data.severity": "high"}}));
    let compliance = filter(json!({"match": {"data": {"classification": "SENSITIVE"}}}));
    let low = FilterEvent::new(json!({"data": {"severity": "low", "classification": "PUBLIC"}}));
    assert!(pagerduty.matches(&event()) && compliance.matches(&event()));
    assert!(!pagerduty.matches(&low) && !compliance.matches(&low));
}

#[test]
fn cel_expressions() {
    let cel = |expr: &str| filter(json!({ "expr": expr }));
    assert!(
        cel("event.data.severity == 'high' && event.data.classification == 'SENSITIVE'")
            .matches(&event())
    );
    assert!(cel("event.type.startsWith('alert.') && event.source == 'monitor'").matches(&event()));
    assert!(cel("event.data.amount >= 1000 && event.data.ratio < 1.0").matches(&event()));
    assert!(cel("'prod' in event.data.tags").matches(&event()));
    assert!(cel("event.data.items.exists(i, i.qty > 5)").matches(&event()));
    assert!(cel("event.data.items.all(i, i.sku.size() == 2)").matches(&event()));
    assert!(cel("has(event.data.user.tier) && !has(event.data.nope)").matches(&event()));
    assert!(cel("event.data.user.name.matches('^Ada')").matches(&event()));
    assert!(!cel("event.data.severity == 'low'").matches(&event()));
    // Both parts of a filter must hold.
    let both =
        filter(json!({"match": {"data.severity": "high"}, "expr": "event.data.amount < 10"}));
    let d = both.explain(&event());
    assert!(!d.matches);
    assert_eq!(d.reason, "expr: is false");
}

#[test]
fn cel_results_that_are_not_true_do_not_match_and_say_why() {
    let explain = |expr: &str| filter(json!({ "expr": expr })).explain(&event());
    let not_bool = explain("event.data.amount + 1");
    assert!(!not_bool.matches);
    assert!(
        not_bool.reason.contains("not a bool"),
        "{}",
        not_bool.reason
    );
    let missing = explain("event.data.nope == 'x'");
    assert!(!missing.matches);
    assert!(
        missing.reason.starts_with("expr: failed: "),
        "{}",
        missing.reason
    );
    assert!(missing.reason.contains("nope"), "{}", missing.reason);
    let wrong_type = explain("event.data.text > 5");
    assert!(!wrong_type.matches, "{}", wrong_type.reason);
    let division = explain("1 / (event.data.amount - 1500) == 1");
    assert!(!division.matches, "{}", division.reason);
}

#[test]
fn bad_cel_is_refused_at_compile_time() {
    let refused = |expr: &str| {
        FilterSpec {
            match_doc: None,
            expr: Some(expr.to_string()),
        }
        .compile()
        .expect_err(expr)
    };
    assert_eq!(refused("event.data.x ==").field, "expr");
    assert_eq!(refused("").field, "expr");
    assert_eq!(refused(&"a".repeat(cel::MAX_EXPR_CHARS + 1)).field, "expr");
    assert!(refused("request.x == 1").message.contains("`request`"));
    // Inside a comprehension only the loop variable: nothing quadratic.
    let body = refused("event.data.tags.all(t, event.data.tags.exists(u, u == t))");
    assert!(body.message.contains("inside a comprehension"), "{body}");
    let mut deep = "event.data.x".to_string();
    for _ in 0..100 {
        deep = format!("({deep})");
    }
    assert!(refused(&deep).message.contains("nests brackets"));
    assert!(
        refused(&format!("{}true", "!".repeat(50)))
            .message
            .contains("repeats")
    );
    // Nested comprehensions over their own elements are linear, and fine.
    FilterSpec {
        match_doc: None,
        expr: Some("event.data.matrix.exists(row, row.exists(x, x == 4))".to_string()),
    }
    .compile()
    .expect("nested over own elements");
}

/// The worst shapes the caps let through compile and run within 1 MiB of
/// stack (a Tokio worker has 2), in a debug build: the parser runs on its
/// own thread, and the tree depth it may give is capped.
#[test]
fn the_deepest_expressions_fit_a_small_stack() {
    let n = cel::MAX_EXPR_CHARS;
    let shapes = [
        format!("event.data.amount{}", " + 1".repeat((n - 20) / 4)),
        format!("true{}", " && true".repeat((n - 4) / 8)),
        format!("event{}", ".a".repeat((n - 5) / 2)),
        format!("{}1{}", "(1 + ".repeat(22), ")".repeat(22)),
        format!("{}1{}", "(1 + ".repeat(31), ")".repeat(31)),
        format!("[{}]", "1,".repeat((n - 2) / 2)),
        format!("{}true{}", "!(".repeat(8), ")".repeat(8)),
        "event.data.matrix.map(x, x.map(y, y.map(z, z.map(w, w.filter(v, v.all(u, u == 1))))))"
            .to_string(),
    ];
    let handle = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || {
            let mut compiled = 0;
            for shape in shapes {
                let spec = FilterSpec {
                    match_doc: None,
                    expr: Some(shape[..shape.len().min(n)].to_string()),
                };
                if let Ok(f) = spec.compile() {
                    compiled += 1;
                    let _ = f.explain(&event());
                }
            }
            compiled
        })
        .unwrap();
    let compiled = handle.join().expect("no stack overflow");
    assert!(compiled >= 4, "{compiled}");
}

#[test]
fn events_are_read_from_the_stored_body() {
    let body =
        r#"{"id":"evt_9","type":"a.b","timestamp":"2026-01-01T00:00:00.000Z","data":{"n":1}}"#;
    let f = filter(json!({"match": {"source": "app", "data.n": 1, "id": "evt_9"}}));
    assert!(f.matches(&FilterEvent::from_body(body, Some("app")).unwrap()));
    assert!(!f.matches(&FilterEvent::from_body(body, None).unwrap()));
    let lazy = LazyEvent::new(body, Some("app"));
    assert!(lazy.passes(&f));
    assert!(!LazyEvent::new("not json", None).passes(&f));
}
