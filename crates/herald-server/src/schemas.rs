//! The event type registry in memory: each tenant's schema validation mode
//! and its event types with their JSON Schemas compiled, so ingest checks
//! an event without a query or a compile. The database stays the truth:
//! a tenant is loaded on first use, marked stale by every change (made
//! here, or on another node and heard through the store's notifications)
//! and read again on its next use, keeping every compiled schema whose
//! type is still at the version it was compiled for.
//!
//! Schemas never reach the network: they are compiled offline (a remote
//! or file `$ref` is an error when the schema is saved), `pattern`s use a
//! linear-time regex engine, and the crate is built without its HTTP and
//! file resolvers.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use herald_store::prelude::*;
use herald_store::{Change, EventTypeFilter, EventTypeRow, Store, StoreError};
use jsonschema::{PatternOptions, Validator};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// The most bytes of JSON a schema may take.
pub(crate) const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// The most errors kept for one event: enough to fix it, bounded in size.
const MAX_ERRORS: usize = 10;
/// The most characters of one error message kept (messages may quote the
/// offending value).
const MAX_MESSAGE_CHARS: usize = 300;

/// How strictly a tenant's ingest holds events to their type's schema.
/// Ordered by strictness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// Not checked.
    #[default]
    Off,
    /// Checked; an event that fails is accepted with its errors recorded.
    Warn,
    /// Checked; an event that fails is refused with a 422.
    Reject,
}

impl Mode {
    pub(crate) const ALL: [Mode; 3] = [Mode::Off, Mode::Warn, Mode::Reject];

    pub(crate) fn parse(text: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == text)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Warn => "warn",
            Mode::Reject => "reject",
        }
    }
}

/// One way an event's data fails its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Violation {
    /// A JSON Pointer into the event's `data` (`""` is the whole of it).
    pub(crate) pointer: String,
    pub(crate) message: String,
}

/// Why a schema cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaError {
    /// Where in the schema the problem is, as a JSON Pointer (`""`: the
    /// schema as a whole).
    pub(crate) pointer: String,
    pub(crate) message: String,
}

/// A schema compiled once, when its type was saved or first loaded.
pub(crate) struct Compiled(Validator);

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Compiled")
    }
}

impl Compiled {
    /// Compiles a schema; refuses one the crate cannot use, one that is not
    /// a valid schema of its draft, and one that refers outside itself.
    pub(crate) fn new(schema: &Value) -> Result<Compiled, SchemaError> {
        if !(schema.is_object() || schema.is_boolean()) {
            return Err(SchemaError {
                pointer: String::new(),
                message: "must be a JSON Schema: an object or a boolean".to_string(),
            });
        }
        let build = || {
            jsonschema::options()
                // No retriever: a `$ref` to anything outside the schema
                // fails here, at save time, without a request.
                .offline()
                .with_pattern_options(PatternOptions::regex())
                .should_validate_formats(true)
                .build(schema)
                .map_err(|e| SchemaError {
                    pointer: e.instance_path().as_str().to_string(),
                    message: shorten(&e.to_string()),
                })
        };
        // A panic of the crate on a schema it was not written for is a
        // schema that cannot be used, not a server failure.
        match catch_unwind(AssertUnwindSafe(build)) {
            Ok(built) => built.map(Compiled),
            Err(_) => Err(SchemaError {
                pointer: String::new(),
                message: "cannot be compiled".to_string(),
            }),
        }
    }

    /// How `data` fails the schema (empty when it passes), at most
    /// [`MAX_ERRORS`] of them.
    pub(crate) fn check(&self, data: &Value) -> Vec<Violation> {
        let check = || {
            self.0
                .iter_errors(data)
                .take(MAX_ERRORS)
                .map(|e| Violation {
                    pointer: e.instance_path().as_str().to_string(),
                    message: shorten(&e.to_string()),
                })
                .collect()
        };
        catch_unwind(AssertUnwindSafe(check)).unwrap_or_else(|_| {
            vec![Violation {
                pointer: String::new(),
                message: "the schema could not be applied to this data".to_string(),
            }]
        })
    }
}

fn shorten(message: &str) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message.to_string();
    }
    let mut short: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    short.push('…');
    short
}

/// An event type as ingest and the webhook routes need it.
#[derive(Debug)]
pub(crate) struct KnownType {
    pub(crate) version: i64,
    pub(crate) deprecated: bool,
    pub(crate) archived: bool,
    /// `None`: the type has no schema, anything goes.
    pub(crate) schema: Option<Arc<Compiled>>,
}

/// A tenant's registry at one moment.
#[derive(Debug, Default)]
pub(crate) struct TenantTypes {
    pub(crate) mode: Mode,
    pub(crate) types: HashMap<String, KnownType>,
}

impl TenantTypes {
    pub(crate) fn get(&self, name: &str) -> Option<&KnownType> {
        self.types.get(name)
    }

    /// The schema an event of `name` is checked against, if the tenant
    /// checks at all.
    pub(crate) fn schema_to_check(&self, name: &str) -> Option<&Compiled> {
        if self.mode == Mode::Off {
            return None;
        }
        self.types.get(name)?.schema.as_deref()
    }
}

struct Entry {
    types: Arc<TenantTypes>,
    fresh: bool,
}

/// A tenant, an event type name and its version.
type PrimedKey = (String, String, i64);

/// Every tenant's registry met so far.
pub(crate) struct Schemas {
    store: Store,
    tenants: RwLock<HashMap<String, Entry>>,
    /// Counts changes, so a load that raced one stays stale.
    changes: AtomicU64,
    /// Schemas compiled by a save, by tenant, name and version, for the
    /// next load to take.
    primed: Mutex<HashMap<PrimedKey, Option<Arc<Compiled>>>>,
}

/// Event types read per query when a tenant is loaded.
const PAGE: usize = 500;

impl Schemas {
    pub(crate) fn new(store: Store) -> Schemas {
        Schemas {
            store,
            tenants: RwLock::new(HashMap::new()),
            changes: AtomicU64::new(0),
            primed: Mutex::new(HashMap::new()),
        }
    }

    /// The tenant's registry, read from the database if it changed since
    /// it was last read (or never was).
    pub(crate) async fn tenant(&self, tenant_id: &str) -> Result<Arc<TenantTypes>, StoreError> {
        let previous = {
            let tenants = self.tenants.read().expect("schemas lock");
            match tenants.get(tenant_id) {
                Some(entry) if entry.fresh => return Ok(entry.types.clone()),
                Some(entry) => Some(entry.types.clone()),
                None => None,
            }
        };
        let before = self.changes.load(Ordering::Acquire);
        let loaded = Arc::new(self.load(tenant_id, previous.as_deref()).await?);
        let fresh = self.changes.load(Ordering::Acquire) == before;
        self.tenants.write().expect("schemas lock").insert(
            tenant_id.to_string(),
            Entry {
                types: loaded.clone(),
                fresh,
            },
        );
        Ok(loaded)
    }

    async fn load(
        &self,
        tenant_id: &str,
        previous: Option<&TenantTypes>,
    ) -> Result<TenantTypes, StoreError> {
        let mode = self
            .store
            .schema_validation(tenant_id)
            .await?
            .and_then(|m| Mode::parse(&m))
            .unwrap_or_default();
        let mut types = HashMap::new();
        let mut after_name = None;
        loop {
            let rows = self
                .store
                .list_event_types(EventTypeFilter {
                    tenant_id: tenant_id.to_string(),
                    after_name: after_name.take(),
                    include_archived: true,
                    limit: PAGE,
                })
                .await?;
            let full = rows.len() == PAGE;
            after_name = rows.last().map(|r| r.name.clone());
            for row in rows {
                let reused = previous
                    .and_then(|p| p.types.get(&row.name))
                    .filter(|t| t.version == row.version)
                    .map(|t| t.schema.clone());
                let primed = || {
                    let key = (row.tenant_id.clone(), row.name.clone(), row.version);
                    self.primed.lock().expect("schemas lock").remove(&key)
                };
                let schema = match reused.or_else(primed) {
                    Some(schema) => schema,
                    None => compile_stored(&row),
                };
                types.insert(
                    row.name.clone(),
                    KnownType {
                        version: row.version,
                        deprecated: row.deprecated,
                        archived: row.archived,
                        schema,
                    },
                );
            }
            if !full {
                break;
            }
        }
        Ok(TenantTypes { mode, types })
    }

    /// Marks a tenant's registry as changed: its next use reads it again.
    pub(crate) fn changed(&self, tenant_id: &str) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        if let Some(entry) = self
            .tenants
            .write()
            .expect("schemas lock")
            .get_mut(tenant_id)
        {
            entry.fresh = false;
        }
    }

    /// Keeps a schema just compiled for a type saved at `version` (or
    /// `None`: it has none), so the reload that follows does not compile it
    /// again, and marks the tenant changed.
    pub(crate) fn saved(
        &self,
        tenant_id: &str,
        name: &str,
        version: i64,
        schema: Option<Compiled>,
    ) {
        let key = (tenant_id.to_string(), name.to_string(), version);
        let mut primed = self.primed.lock().expect("schemas lock");
        // Bounded: what a load did not take (a save that lost a race) goes.
        if primed.len() >= 1024 {
            primed.clear();
        }
        primed.insert(key, schema.map(Arc::new));
        drop(primed);
        self.changed(tenant_id);
    }

    fn forget_all(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        for entry in self.tenants.write().expect("schemas lock").values_mut() {
            entry.fresh = false;
        }
    }

    /// Follows other nodes' changes (on a shared database) until stopped.
    pub(crate) async fn follow(self: Arc<Self>, stopping: CancellationToken) {
        let Some(mut changes) = self.store.changes() else {
            return;
        };
        loop {
            let change = tokio::select! {
                change = changes.recv() => change,
                _ = stopping.cancelled() => return,
            };
            match change {
                Ok(Change::EventTypes(tenant_id)) => self.changed(&tenant_id),
                Ok(Change::Resync) | Err(RecvError::Lagged(_)) => self.forget_all(),
                Ok(_) => {}
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// A stored schema, compiled. One that no longer compiles (saved by an
/// older release, say) checks nothing, and says so in the log.
fn compile_stored(row: &EventTypeRow) -> Option<Arc<Compiled>> {
    let text = row.schema.as_deref()?;
    let compiled = serde_json::from_str::<Value>(text)
        .map_err(|e| e.to_string())
        .and_then(|v| Compiled::new(&v).map_err(|e| e.message));
    match compiled {
        Ok(c) => Some(Arc::new(c)),
        Err(e) => {
            tracing::warn!(tenant_id = %row.tenant_id, event_type = %row.name, error = %e,
                "a stored event type schema does not compile; its events are not checked");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn violations_name_the_pointer_into_the_data() {
        let schema = Compiled::new(&json!({
            "type": "object",
            "required": ["amount"],
            "properties": {"amount": {"type": "integer"}, "items": {"type": "array", "items": {"type": "string"}}}
        }))
        .unwrap();
        assert!(schema.check(&json!({"amount": 3})).is_empty());
        let errors = schema.check(&json!({"amount": "x", "items": ["a", 2]}));
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert!(pointers.contains(&"/amount"), "{errors:?}");
        assert!(pointers.contains(&"/items/1"), "{errors:?}");
        let missing = schema.check(&json!({}));
        assert_eq!(missing[0].pointer, "", "{missing:?}");
    }

    #[test]
    fn remote_and_file_refs_are_refused_without_a_request() {
        for target in [
            "http://127.0.0.1:9/schema.json",
            "https://schemas.invalid/x.json",
            "file:///etc/passwd",
        ] {
            let e = Compiled::new(&json!({"$ref": target})).unwrap_err();
            assert!(!e.message.is_empty(), "{target}");
        }
        // A reference inside the schema itself is fine.
        Compiled::new(&json!({"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n"})).unwrap();
    }

    #[test]
    fn an_invalid_schema_names_where() {
        let e = Compiled::new(&json!({"properties": {"a": {"type": "nonsense"}}})).unwrap_err();
        assert!(e.pointer.starts_with("/properties/a"), "{e:?}");
        assert!(Compiled::new(&json!(3)).is_err());
        assert!(Compiled::new(&json!(true)).is_ok());
    }

    #[test]
    fn long_messages_are_cut() {
        let schema = Compiled::new(&json!({"type": "integer"})).unwrap();
        let errors = schema.check(&json!("x".repeat(10_000)));
        assert!(errors[0].message.chars().count() <= MAX_MESSAGE_CHARS + 1);
    }
}
