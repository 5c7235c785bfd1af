//! Dot paths into event data, and the three ways a transform uses them:
//! keep only some (`include`), drop some (`exclude`), move some (`rename`).
//!
//! A path is a list of object keys. Where a path meets an array it goes on
//! into each element, so `items.secret` reaches the `secret` of every item
//! (as filters match any element); `rename` does not enter arrays, since a
//! move out of many elements into one place has no single answer.

use serde_json::{Map, Value};

/// A parsed dot path (`user.email` → `["user", "email"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path(Vec<String>);

impl Path {
    /// Splits a path the core's validation already checked (non-empty
    /// keys, bounded depth).
    pub(crate) fn parse(path: &str) -> Path {
        Path(path.split('.').map(str::to_string).collect())
    }
}

/// A copy of `data` with only what `paths` reach (and the objects and
/// arrays around it).
pub(crate) fn include(data: &Value, paths: &[Path]) -> Value {
    let mut kept = Value::Null;
    for path in paths {
        copy_into(data, &path.0, &mut kept);
    }
    if kept.is_null() && data.is_object() {
        // Nothing listed was there: an empty object, not a null body.
        kept = Value::Object(Map::new());
    }
    kept
}

fn copy_into(source: &Value, keys: &[String], kept: &mut Value) {
    let Some((key, rest)) = keys.split_first() else {
        *kept = source.clone();
        return;
    };
    match source {
        Value::Object(fields) => {
            if !kept.is_object() {
                *kept = Value::Object(Map::new());
            }
            let Some(child) = fields.get(key) else {
                return;
            };
            let Value::Object(out) = kept else {
                return;
            };
            if let Some(slot) = out.get_mut(key) {
                copy_into(child, rest, slot);
                return;
            }
            let mut slot = Value::Null;
            copy_into(child, rest, &mut slot);
            // A key is kept when the path ends at it (even a null) or
            // reached something inside it.
            if rest.is_empty() || !slot.is_null() {
                out.insert(key.clone(), slot);
            }
        }
        Value::Array(items) => {
            if !matches!(kept, Value::Array(k) if k.len() == items.len()) {
                *kept = Value::Array(vec![Value::Null; items.len()]);
            }
            if let Value::Array(out) = kept {
                for (item, slot) in items.iter().zip(out.iter_mut()) {
                    copy_into(item, keys, slot);
                }
            }
        }
        // A path that goes on past a plain value reaches nothing.
        _ => {}
    }
}

/// Removes what `path` reaches from `data`.
pub(crate) fn exclude(data: &mut Value, path: &Path) {
    remove(data, &path.0);
}

fn remove(data: &mut Value, keys: &[String]) {
    let Some((key, rest)) = keys.split_first() else {
        return;
    };
    match data {
        Value::Object(fields) if rest.is_empty() => {
            fields.remove(key);
        }
        Value::Object(fields) => {
            if let Some(child) = fields.get_mut(key) {
                remove(child, rest);
            }
        }
        Value::Array(items) => {
            for item in items {
                remove(item, keys);
            }
        }
        _ => {}
    }
}

/// Moves each `(from, to)`: every value is taken out before any is put
/// back, so the moves do not depend on their order. A missing source moves
/// nothing; a target replaces whatever was at that path (a plain value on
/// the way becomes an object).
pub(crate) fn rename(data: &mut Value, moves: &[(Path, Path)]) {
    let taken: Vec<(Value, &Path)> = moves
        .iter()
        .filter_map(|(from, to)| take(data, &from.0).map(|v| (v, to)))
        .collect();
    for (value, to) in taken {
        put(data, &to.0, value);
    }
}

fn take(data: &mut Value, keys: &[String]) -> Option<Value> {
    let (key, rest) = keys.split_first()?;
    let fields = data.as_object_mut()?;
    if rest.is_empty() {
        fields.remove(key)
    } else {
        take(fields.get_mut(key)?, rest)
    }
}

fn put(data: &mut Value, keys: &[String], value: Value) {
    let Some((key, rest)) = keys.split_first() else {
        *data = value;
        return;
    };
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    if let Value::Object(fields) = data {
        put(
            fields.entry(key.clone()).or_insert(Value::Null),
            rest,
            value,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(list: &[&str]) -> Vec<Path> {
        list.iter().map(|p| Path::parse(p)).collect()
    }

    #[test]
    fn include_keeps_only_what_is_listed_with_its_surroundings() {
        let data = json!({"status": "ok", "user": {"id": 7, "email": "a@b", "pw": "x"},
                          "stack_trace": "…", "n": 1});
        assert_eq!(
            include(&data, &paths(&["status", "user.email", "missing.key"])),
            json!({"status": "ok", "user": {"email": "a@b"}})
        );
        // A whole object and a path inside it: the whole object.
        assert_eq!(
            include(&data, &paths(&["user.id", "user"])),
            json!({"user": {"id": 7, "email": "a@b", "pw": "x"}})
        );
        assert_eq!(include(&data, &paths(&["nothing"])), json!({}));
        // Past a plain value there is nothing to keep.
        assert_eq!(include(&data, &paths(&["n.deeper"])), json!({}));
    }

    #[test]
    fn include_goes_into_every_element_of_an_array() {
        let data = json!({"items": [{"sku": "a", "price": 1, "cost": 0}, {"sku": "b"}, 3]});
        assert_eq!(
            include(&data, &paths(&["items.price", "items.sku"])),
            json!({"items": [{"price": 1, "sku": "a"}, {"sku": "b"}, null]})
        );
    }

    #[test]
    fn exclude_drops_paths_in_objects_and_in_every_element() {
        let mut data = json!({"error": {"message": "m", "stack_trace": "…"},
                              "items": [{"secret": 1, "k": 2}, {"k": 3}], "keep": true});
        for p in paths(&[
            "error.stack_trace",
            "items.secret",
            "absent.path",
            "keep.not",
        ]) {
            exclude(&mut data, &p);
        }
        assert_eq!(
            data,
            json!({"error": {"message": "m"}, "items": [{"k": 2}, {"k": 3}], "keep": true})
        );
    }

    #[test]
    fn rename_reads_everything_before_it_writes() {
        let mut data = json!({"a": 1, "b": 2, "deep": {"x": "y"}, "flat": "text"});
        let moves = vec![
            (Path::parse("a"), Path::parse("b")),
            (Path::parse("b"), Path::parse("a")),
            (Path::parse("deep.x"), Path::parse("out.inner.x")),
            (Path::parse("missing"), Path::parse("never")),
            (Path::parse("flat"), Path::parse("flat.now")),
        ];
        rename(&mut data, &moves);
        assert_eq!(
            data,
            json!({"a": 2, "b": 1, "deep": {}, "out": {"inner": {"x": "y"}},
                   "flat": {"now": "text"}})
        );
    }

    #[test]
    fn plain_data_is_left_alone() {
        let mut data = json!("just text");
        exclude(&mut data, &Path::parse("a"));
        rename(&mut data, &[(Path::parse("a"), Path::parse("b"))]);
        assert_eq!(data, json!("just text"));
        assert_eq!(include(&data, &paths(&["a"])), Value::Null);
    }
}
