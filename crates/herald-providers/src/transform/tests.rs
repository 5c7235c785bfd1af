use std::io::Read as _;

use serde_json::{Value, json};

use super::*;

fn compile(spec: Value) -> Transform {
    Transform::compile(&serde_json::from_value(spec).unwrap()).unwrap()
}

fn refused(spec: Value) -> ValidationError {
    Transform::compile(&serde_json::from_value(spec).unwrap()).unwrap_err()
}

fn event(data: &Value) -> EventInput<'_> {
    EventInput {
        id: "evt_1",
        event_type: "training.complete",
        timestamp_ms: 1_700_000_000_123,
        data,
    }
}

fn body(t: &Transform, data: &Value) -> Result<Value, RenderError> {
    let shaped = t.shape_data(data);
    t.body_value(&event(&shaped), || json!({"default": true}))
}

#[test]
fn expressions_write_json_so_data_cannot_break_the_shape() {
    let t = compile(
        json!({"template": r#"{"text": {{ "Run " ~ event.data.run ~ " done" }},
        "who": {{ event.data.name }}, "n": {{ event.data.n }}, "all": {{ event.data }},
        "missing": {{ event.data.nope.deeper }}, "type": {{ event.type }}}"#}),
    );
    let data = json!({"run": 7, "name": "A \"quoted\", }\n{ name", "n": 2.5});
    assert_eq!(
        body(&t, &data).unwrap(),
        json!({"text": "Run 7 done", "who": "A \"quoted\", }\n{ name", "n": 2.5,
               "all": data, "missing": null, "type": "training.complete"})
    );
}

#[test]
fn the_template_sees_shaped_data() {
    let t = compile(json!({"exclude": ["secret"], "rename": {"a": "b"},
                           "template": "{{ event.data }}"}));
    assert_eq!(
        body(&t, &json!({"secret": 1, "a": 2})).unwrap(),
        json!({"b": 2})
    );
}

#[test]
fn without_a_template_the_default_body_is_used() {
    let t = compile(json!({"include": ["a"]}));
    assert_eq!(
        body(&t, &json!({"a": 1})).unwrap(),
        json!({"default": true})
    );
    assert!(t.reshapes_data() && t.rebuilds_body());
    let plain = compile(json!({"method": "PUT", "compression": "gzip"}));
    assert!(!plain.rebuilds_body());
    assert_eq!(plain.method(), HttpMethod::Put);
    assert_eq!(plain.content_encoding(), Some("gzip"));
}

#[test]
fn template_mistakes_are_refused_when_saved() {
    assert_eq!(
        refused(json!({"template": "{{ event.data.x "})).field,
        "transform.template"
    );
    let typo = refused(json!({"template": "{{ event.data | nosuchfilter }}"}));
    assert_eq!(typo.field, "transform.template");
    assert!(
        typo.message.contains("nosuchfilter") || typo.message.contains("unknown"),
        "{typo}"
    );
    assert_eq!(
        refused(json!({"include": ["a..b"]})).field,
        "transform.include[0]"
    );
}

#[test]
fn data_dependent_failures_fail_at_send_time_naming_the_part() {
    // Valid for some events, not JSON for others: caught when sent.
    let t = compile(json!({"template": "{{ event.data.raw | safe }}"}));
    assert_eq!(body(&t, &json!({"raw": "[1, 2]"})).unwrap(), json!([1, 2]));
    let e = body(&t, &json!({"raw": "not json"})).unwrap_err();
    assert_eq!(e.part(), "transform.template");
    assert!(e.message().contains("not JSON"), "{e}");
    // A runaway loop runs out of fuel instead of stalling the worker.
    let t = compile(
        json!({"template": "[{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}]"}),
    );
    let e = body(&t, &json!({})).unwrap_err();
    assert_eq!(e.part(), "transform.template");
}

#[test]
fn a_form_body_holds_the_objects_fields() {
    let t = compile(
        json!({"content_type": "form", "template": r#"{"text": {{ event.data.msg }}, "n": 3, "flag": true, "none": null, "obj": {"a": 1}}"#}),
    );
    let value = body(&t, &json!({"msg": "a&b=c d"})).unwrap();
    let sent = String::from_utf8(t.encode(&value).unwrap()).unwrap();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(sent.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        pairs,
        // In the template's order.
        vec![
            ("text".into(), "a&b=c d".into()),
            ("n".into(), "3".into()),
            ("flag".into(), "true".into()),
            ("none".into(), "".into()),
            ("obj".into(), r#"{"a":1}"#.into()),
        ]
    );
    assert_eq!(t.content_type(), "application/x-www-form-urlencoded");
    let e = t.encode(&json!([1])).unwrap_err();
    assert_eq!(e.part(), "transform.content_type");
}

#[test]
fn gzip_round_trips() {
    let t = compile(json!({"compression": "gzip"}));
    let body = br#"{"id":"evt_1","data":{"x":"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"}}"#.to_vec();
    let wire = t.compress(body.clone());
    assert_ne!(wire, body);
    let mut back = Vec::new();
    flate2::read::GzDecoder::new(&wire[..])
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, body);
    assert_eq!(compile(json!({})).compress(body.clone()), body);
}
