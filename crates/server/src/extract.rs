//! Request extractors that report every failure in the OpenAI envelope: JSON bodies (with the
//! failing field as `param`), path parameters, and query strings with both array forms
//! (`emails[]=a` as the SDKs send it, and `emails=a&emails=b`).

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::Method;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use orgadmin_core::page::{PageRequest, SortOrder};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Code};
use crate::operator::journal::Capture;

/// Largest accepted request body, but for the routes [`body_limit`] names.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The body limit of a request, by its method and path (read before the request is routed, so
/// a body declared larger is refused at once, and again by the reader of the body): the import's
/// 64 MiB (`routes/import.rs`), a snapshot's 64 MiB (`operator/snapshot.rs`), 1 MiB for any
/// other.
pub fn body_limit(method: &Method, path: &str) -> u64 {
    if crate::routes::import::is_import(method, path) {
        crate::routes::import::MAX_IMPORT_BYTES
    } else if crate::operator::snapshot::carries_snapshot(method, path) {
        crate::operator::snapshot::MAX_SNAPSHOT_BYTES
    } else {
        MAX_BODY_BYTES as u64
    }
}

/// A JSON request body. Any content type is accepted (clients often omit it); an empty body
/// reads as `{}`.
pub struct JsonBody<T>(pub T);

/// How long a request body may take to arrive once its head has: a client trickling a body holds
/// its connection for this long at most (the head has `HEADER_READ_TIMEOUT` in app.rs).
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let capture = req.extensions().get::<Arc<Capture>>().cloned();
        // The route's own limit, not the router's default: the body is read here, whole.
        let limit = body_limit(req.method(), req.uri().path());
        let body = Limited::new(
            req.into_body(),
            usize::try_from(limit).unwrap_or(usize::MAX),
        );
        let read = tokio::time::timeout(BODY_READ_TIMEOUT, body.collect());
        let bytes = read
            .await
            .map_err(|_| ApiError::body_too_slow(BODY_READ_TIMEOUT))?
            .map_err(|e| {
                if e.is::<LengthLimitError>() {
                    ApiError::too_large_for(limit)
                } else {
                    ApiError::new(
                        Code::InvalidValue,
                        None,
                        format!("Could not read the request body: {e}."),
                    )
                }
            })?
            .to_bytes();
        if let Some(capture) = capture {
            capture.body(&bytes);
        }
        parse_json(&bytes).map(JsonBody)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| json_error(".", &e))?;
    // Every body is an object. serde would also read a struct from the array of its fields'
    // values in order (`["name"]` as `{"name": "name"}`), which no client means.
    if !value.is_object() {
        return Err(ApiError::new(
            Code::InvalidValue,
            None,
            format!(
                "The request body must be a JSON object, not {}.",
                json_type(&value)
            ),
        ));
    }
    if let Some(path) = path_of_nul(&value, String::new()) {
        return Err(nul_error(&path));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        json_error(&path, &inner)
    })
}

/// The path of the first string (or object key) holding a NUL character. No stored value may
/// hold one (PostgreSQL text cannot), so such input is refused at the door, on every backend.
pub(crate) fn path_of_nul(value: &serde_json::Value, here: String) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| {
        if here.is_empty() {
            key.to_owned()
        } else {
            format!("{here}.{key}")
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => {
            Some(if here.is_empty() { ".".into() } else { here })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| path_of_nul(v, format!("{here}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join(&k.replace('\0', "\\0")))
            } else {
                path_of_nul(v, join(k))
            }
        }),
        _ => None,
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn nul_error(param: &str) -> ApiError {
    ApiError::new(
        Code::InvalidValue,
        Some(param),
        format!("'{param}' must not contain NUL characters."),
    )
}

fn json_error(path: &str, e: &serde_json::Error) -> ApiError {
    let mut reason = e.to_string();
    if let Some(at) = reason.find(" at line ") {
        reason.truncate(at);
    }
    match e.classify() {
        serde_json::error::Category::Data if path != "." && !path.is_empty() => {
            ApiError::new(Code::InvalidValue, Some(path), format!("Invalid value for '{path}': {reason}."))
        }
        serde_json::error::Category::Data => {
            ApiError::new(Code::InvalidValue, None, format!("The request body must be a JSON object: {reason}."))
        }
        _ => ApiError::new(Code::InvalidValue,
            None,
            format!("We could not parse the JSON body of your request ({reason}). Send a valid JSON object."),
        ),
    }
}

/// Path parameters; a value that cannot be decoded names nothing that exists.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // An ID holding a NUL character was never issued: it names nothing.
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
            if let Some((name, value)) = raw.iter().find(|(_, v)| v.contains('\0')) {
                return Err(ApiError::new(
                    Code::NotFound,
                    Some(name),
                    format!("No object found with id '{}'.", value.replace('\0', "\\0")),
                ));
            }
        }
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::new(
                Code::NotFound,
                None,
                format!("No object matches this path: {}", rejection.body_text()),
            )),
        }
    }
}

/// The query string as ordered pairs.
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = Query::parse(parts.uri.query().unwrap_or(""));
        if let Some((key, _)) = query
            .pairs
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(nul_error(&key.replace('\0', "\\0")));
        }
        Ok(query)
    }
}

impl Query {
    pub fn parse(raw: &str) -> Self {
        Query {
            pairs: form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// The names of the parameters given, in order (a repeated one repeats).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }

    /// A scalar parameter; given more than once is an error, as the meaning would be ambiguous.
    pub fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut found = self
            .pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = found.next();
        if found.next().is_some() {
            return Err(ApiError::new(
                Code::InvalidValue,
                Some(name),
                format!("'{name}' was given more than once; give it once."),
            ));
        }
        Ok(first)
    }

    /// An array parameter in any of its forms: `name[]=a`, `name=a`, `name[0]=a`.
    pub fn many(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| {
                k == name
                    || k.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix('['))
                        .and_then(|rest| rest.strip_suffix(']'))
                        .is_some_and(|inner| {
                            inner.is_empty() || inner.bytes().all(|b| b.is_ascii_digit())
                        })
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.one(name)?
            .map(|raw| {
                raw.trim().parse::<i64>().map_err(|_| {
                    ApiError::new(
                        Code::InvalidValue,
                        Some(name),
                        format!(
                            "'{name}' must be an integer, not '{}'.",
                            orgadmin_core::text::clip(raw)
                        ),
                    )
                })
            })
            .transpose()
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.one(name)?
            .map(|raw| match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(ApiError::new(
                    Code::InvalidValue,
                    Some(name),
                    format!(
                        "'{name}' must be true or false, not '{}'.",
                        orgadmin_core::text::clip(raw)
                    ),
                )),
            })
            .transpose()
    }

    fn limit(&self, bounds: LimitBounds) -> Result<u32, ApiError> {
        let out_of_range = || {
            ApiError::new(
                Code::InvalidValue,
                Some("limit"),
                format!(
                    "limit must be an integer from {} to {}.",
                    bounds.min, bounds.max
                ),
            )
        };
        match self.one("limit")? {
            None => Ok(bounds.default),
            Some(raw) => {
                let n: i64 = raw.trim().parse().map_err(|_| out_of_range())?;
                if n < i64::from(bounds.min) || n > i64::from(bounds.max) {
                    return Err(out_of_range());
                }
                Ok(n as u32)
            }
        }
    }

    fn cursor(&self, name: &str) -> Result<Option<String>, ApiError> {
        Ok(self.one(name)?.filter(|s| !s.is_empty()).map(str::to_owned))
    }

    fn order(&self) -> Result<SortOrder, ApiError> {
        match self.one("order")? {
            None => Ok(SortOrder::Asc),
            Some(raw) => SortOrder::parse(raw).map_err(ApiError::from),
        }
    }

    /// `limit` and `after` of a list with `first_id`/`last_id`, oldest first.
    pub fn id_page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest {
            limit: self.limit(LimitBounds::ID_LIST)?,
            after: self.cursor("after")?,
            before: None,
            order: SortOrder::Asc,
        })
    }

    /// `limit` (1–100, default 20) and `after` or `before` of a list with `first_id`/`last_id`,
    /// oldest first: the operator API's organizations.
    pub fn two_way_id_page(&self) -> Result<PageRequest, ApiError> {
        self.two_way_page(LimitBounds::ID_LIST)
    }

    /// `limit`, `after`, `before` and `order` of the audit log: newest first unless
    /// `order=asc` (an extension some collectors send), `after` and `before` relative to the
    /// order asked for.
    pub fn audit_page(&self) -> Result<PageRequest, ApiError> {
        let mut page = self.two_way_page(LimitBounds::ID_LIST)?;
        page.order = match self.one("order")? {
            None => SortOrder::Desc,
            Some(raw) => SortOrder::parse(raw).map_err(ApiError::from)?,
        };
        Ok(page)
    }

    /// `limit` (1–100, default 100), `after` and `before` of a project's rate limits, which are
    /// listed in the model catalogue's order.
    pub fn rate_limit_page(&self) -> Result<PageRequest, ApiError> {
        self.two_way_page(LimitBounds::RATE_LIMIT_LIST)
    }

    /// `limit` within `bounds`, and `after` or `before` (not both).
    fn two_way_page(&self, bounds: LimitBounds) -> Result<PageRequest, ApiError> {
        let page = PageRequest {
            limit: self.limit(bounds)?,
            after: self.cursor("after")?,
            before: self.cursor("before")?,
            order: SortOrder::Asc,
        };
        if page.after.is_some() && page.before.is_some() {
            return Err(ApiError::new(
                Code::InvalidValue,
                Some("before"),
                "Give either 'after' or 'before', not both.",
            ));
        }
        Ok(page)
    }

    /// `limit` (0–1000, default 20), `after` and `order` of the admin key list.
    pub fn admin_key_page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest {
            limit: self.limit(LimitBounds::ADMIN_KEY_LIST)?,
            after: self.cursor("after")?,
            before: None,
            order: self.order()?,
        })
    }

    /// `limit` from `min` to `max` (default `default`), `after` (an object ID, which is also the
    /// list's `next`) and `order` (default `default_order`): the group lists, whose bounds and
    /// default order differ from one list to the next in the official API.
    pub fn bounded_page(
        &self,
        min: u32,
        max: u32,
        default: u32,
        default_order: SortOrder,
    ) -> Result<PageRequest, ApiError> {
        let order = match self.one("order")? {
            None => default_order,
            Some(raw) => SortOrder::parse(raw).map_err(ApiError::from)?,
        };
        Ok(PageRequest {
            limit: self.limit(LimitBounds { min, max, default })?,
            after: self.cursor("after")?,
            before: None,
            order,
        })
    }

    /// `limit`, `after` (a previous page's `next`) and `order` of a `next`-cursor list.
    pub fn cursor_page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest {
            limit: self.limit(LimitBounds::CURSOR_LIST)?,
            after: self.cursor("after")?,
            before: None,
            order: self.order()?,
        })
    }
}

#[derive(Clone, Copy)]
struct LimitBounds {
    min: u32,
    max: u32,
    default: u32,
}

impl LimitBounds {
    const ID_LIST: LimitBounds = LimitBounds {
        min: 1,
        max: 100,
        default: 20,
    };
    const RATE_LIMIT_LIST: LimitBounds = LimitBounds {
        min: 1,
        max: 100,
        default: 100,
    };
    const ADMIN_KEY_LIST: LimitBounds = LimitBounds {
        min: 0,
        max: 1000,
        default: 20,
    };
    const CURSOR_LIST: LimitBounds = LimitBounds {
        min: 0,
        max: 1000,
        default: 1000,
    };
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn array_parameters_are_read_in_bracket_plain_and_indexed_forms() {
        let q = Query::parse("emails%5B%5D=a%40x.com&emails=b%40x.com&emails[3]=c&emailsx=no");
        assert_eq!(q.many("emails"), vec!["a@x.com", "b@x.com", "c"]);
    }

    #[test]
    fn limits_outside_their_range_are_refused_with_param_limit() {
        for raw in [
            "limit=0",
            "limit=101",
            "limit=abc",
            "limit=-1",
            "limit=99999999999999999999",
        ] {
            let err = Query::parse(raw).id_page().unwrap_err();
            assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{raw}");
        }
        assert_eq!(Query::parse("limit=0").cursor_page().unwrap().limit, 0);
        assert!(Query::parse("limit=1&limit=2").id_page().is_err());
    }

    #[test]
    fn a_body_is_an_object_not_the_array_of_its_fields() {
        #[derive(Debug, serde::Deserialize)]
        struct Body {
            name: Option<String>,
        }
        for raw in [&b"[\"x\"]"[..], b"[]", b"null", b"\"x\"", b"1", b"true"] {
            let err = parse_json::<Body>(raw).expect_err("refused");
            assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        }
        let body = parse_json::<Body>(b"{\"name\": \"x\"}").expect("an object");
        assert_eq!(body.name.as_deref(), Some("x"));
        assert!(parse_json::<Body>(b" ").is_ok_and(|b| b.name.is_none()));
    }
}
