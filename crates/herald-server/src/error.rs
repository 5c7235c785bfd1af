//! The API's error answer: a precise 4xx JSON body for client mistakes, an
//! opaque logged 500 for everything else.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_core::ValidationError;
use herald_store::StoreError;
use serde::Serialize;

#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    /// Seconds the client should wait, sent as `Retry-After`.
    retry_after: Option<u64>,
    /// For data that fails its event type's schema: where (a JSON Pointer
    /// into the data) and every error found. Boxed: rare, and every
    /// `Result` of the API carries this type.
    schema: Option<Box<(String, Vec<SchemaViolation>)>>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            schema: None,
        }
    }

    /// Data refused by its event type's schema: `pointer` is the first
    /// error's place in the data, `errors` all of them (as many as kept).
    pub(crate) fn with_schema_errors(
        mut self,
        pointer: String,
        errors: Vec<SchemaViolation>,
    ) -> Self {
        self.schema = Some(Box::new((pointer, errors)));
        self
    }

    pub(crate) fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub(crate) fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub(crate) fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            message,
        )
        .with_field(field)
    }

    pub(crate) fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {what} with id `{id}`"),
        )
        .with_field("id")
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid `Authorization: Bearer <token>` header is required",
        )
    }

    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Herald hit an internal error; it has been logged",
        )
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        // Messages are sentences about the field, so lead with its name.
        let message = format!("{} {}", e.field, e.message);
        Self::validation(e.field, message)
    }
}

/// How long a client is asked to wait when the database cannot take its
/// request now.
const STORAGE_RETRY_AFTER_SECS: u64 = 5;

impl ApiError {
    /// The database cannot take the request now (full, unreachable, busy,
    /// read-only): nothing was stored, and the same request may succeed
    /// later.
    pub(crate) fn storage_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "Herald cannot store this request now (its database is full, busy or \
             unreachable); nothing was stored: try again later",
        )
        .with_retry_after(STORAGE_RETRY_AFTER_SECS)
    }

    /// Another writer changed the resource while this request was being
    /// applied, more often than retrying could absorb.
    pub(crate) fn conflict(what: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("the {what} was changed by another request meanwhile; read it again and retry"),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "the database cannot take a request now");
            return Self::storage_unavailable();
        }
        if let StoreError::Conflict(_) = e {
            return Self::conflict("resource");
        }
        tracing::error!(error = %e, "store failure while serving a request");
        Self::internal()
    }
}

/// Every error answer of the API: `{"error": {"code", "message", "field"?}}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong, for a program (`code`) and for a person (`message`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// A stable, machine-readable name: `validation_error`, `not_found`,
    /// `unauthorized`, `forbidden`, `conflict`, `invalid_state`,
    /// `invalid_json`, `payload_too_large`, `rate_limited`,
    /// `storage_unavailable`, `internal_error`, …
    #[schema(example = "validation_error")]
    code: &'static str,
    /// A sentence about the mistake, naming the field.
    message: String,
    /// The field (or header, or query parameter) at fault, as a path into
    /// the request (`retry.max_retries`, `events[3].type`).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// With `schema_validation_failed`: a JSON Pointer into the event's
    /// `data` where its schema's first error is (`""` is the whole of it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pointer: Option<String>,
    /// With `schema_validation_failed`: the errors found (at most 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<SchemaViolation>>,
}

/// One way an event's data fails its type's schema.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct SchemaViolation {
    /// A JSON Pointer into the event's `data` (`""` is the whole of it).
    pub(crate) pointer: String,
    pub(crate) message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (pointer, errors) = self.schema.map(|s| *s).unzip();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
                pointer,
                errors,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;
