//! SCIM 2.0 under `/scim/v2` (RFC 7644): discovery (`discovery.rs`), Users (`users.rs`) and
//! Groups (`groups.rs`) over the organization's members and groups. Requests carry an admin key,
//! admitted exactly as on `/v1` (`auth::admit`: revocation, scopes, faults, rate limits); every
//! answer, errors included (unknown routes, wrong methods, bodies that are not JSON or not
//! `application/scim+json`, a body over the limit), is `application/scim+json`, and errors use
//! SCIM's schema with the `scimType` of the problem. These routes are not in the OpenAPI
//! document: SCIM's contract is its RFCs and `/Schemas`.

mod discovery;
mod groups;
mod search;
mod users;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{CONTENT_TYPE, ETAG, HOST, IF_MATCH, IF_NONE_MATCH, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use orgadmin_api::scim::document::scim_type;
use orgadmin_api::scim::ScimError;
use orgadmin_core::error::{ConflictKind, KeyRejection};
use orgadmin_core::{Actor, DomainError, Permission};
use serde_json::Value;

use crate::auth::{admit, Refusal};
use crate::error::ApiError;
use crate::extract::{path_of_nul, Query, BODY_READ_TIMEOUT, MAX_BODY_BYTES};
use crate::state::AppState;

/// Where SCIM is served.
pub const PREFIX: &str = "/scim/v2";

/// The media type of every SCIM answer.
pub const SCIM_JSON: &str = "application/scim+json";

/// Whether a request path is SCIM's (its errors then use SCIM's envelope).
pub fn owns(path: &str) -> bool {
    path == PREFIX || path.starts_with("/scim/v2/")
}

/// The SCIM routes, nested under [`PREFIX`] by the route table.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ServiceProviderConfig", only(get(discovery::config)))
        .route("/ResourceTypes", only(get(discovery::resource_types)))
        .route("/ResourceTypes/{id}", only(get(discovery::resource_type)))
        .route("/Schemas", only(get(discovery::schemas)))
        .route("/Schemas/{id}", only(get(discovery::schema)))
        .route("/.search", only(post(search::root)))
        .route("/Users", only(get(users::list).post(users::create)))
        .route("/Users/.search", only(post(users::search)))
        .route(
            "/Users/{id}",
            only(
                get(users::retrieve)
                    .put(users::replace)
                    .patch(users::modify)
                    .delete(users::delete),
            ),
        )
        .route("/Groups", only(get(groups::list).post(groups::create)))
        .route("/Groups/.search", only(post(groups::search)))
        .route(
            "/Groups/{id}",
            only(
                get(groups::retrieve)
                    .put(groups::replace)
                    .patch(groups::modify)
                    .delete(groups::delete),
            ),
        )
        .fallback(unknown_route)
}

/// A route answering 405 in SCIM's envelope for the methods it lacks.
fn only(routes: MethodRouter<AppState>) -> MethodRouter<AppState> {
    routes.fallback(method_not_allowed)
}

async fn unknown_route(method: Method, uri: Uri) -> Response {
    ScimApiError::new(
        StatusCode::NOT_FOUND,
        None,
        format!("Unknown SCIM endpoint: {method} {}.", uri.path()),
    )
    .into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ScimApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        format!("Method {method} is not allowed on {}.", uri.path()),
    )
    .into_response()
}

/// 413 for a body declared over the limit, refused before routing (`app.rs`).
pub fn too_large(limit: u64) -> Response {
    ScimApiError::from_api(ApiError::too_large_for(limit)).into_response()
}

/// A SCIM error answer: the status, and SCIM's body.
#[derive(Debug)]
pub struct ScimApiError {
    status: StatusCode,
    body: ScimError,
}

impl ScimApiError {
    pub fn new(status: StatusCode, scim_type: Option<&str>, detail: impl Into<String>) -> Self {
        ScimApiError {
            status,
            body: ScimError::new(status.as_u16(), scim_type, detail),
        }
    }

    fn invalid(scim_type: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    /// An error of the Admin API's table (authentication, rate limits, bodies) in SCIM's body.
    pub fn from_api(e: ApiError) -> Self {
        Self::new(e.status(), None, e.message())
    }
}

impl From<ApiError> for ScimApiError {
    fn from(e: ApiError) -> Self {
        Self::from_api(e)
    }
}

impl From<DomainError> for ScimApiError {
    fn from(e: DomainError) -> Self {
        let detail = e.to_string();
        match &e {
            DomainError::Invalid { param, .. } => {
                let scim = match param.as_deref() {
                    Some("filter") => scim_type::INVALID_FILTER,
                    Some(p) => scim_type::ALL
                        .into_iter()
                        .find(|t| *t == p)
                        .unwrap_or(scim_type::INVALID_VALUE),
                    None => scim_type::INVALID_VALUE,
                };
                Self::invalid(scim, detail)
            }
            DomainError::NotFound { .. } => Self::new(StatusCode::NOT_FOUND, None, detail),
            DomainError::Conflict { kind, .. } => match kind {
                ConflictKind::AlreadyExists => {
                    Self::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
                }
                ConflictKind::LastOwner | ConflictKind::ImmutableRole => {
                    Self::new(StatusCode::CONFLICT, Some(scim_type::MUTABILITY), detail)
                }
                ConflictKind::VersionMismatch => {
                    Self::new(StatusCode::PRECONDITION_FAILED, None, detail)
                }
                _ => Self::new(StatusCode::CONFLICT, None, detail),
            },
            DomainError::Unauthenticated(KeyRejection::Missing | KeyRejection::Invalid) => {
                Self::from_api(ApiError::from(e))
            }
            // SCIM's status for a key that may not do this (RFC 7644 §3.12), with the Admin
            // API's words for what is missing.
            DomainError::Forbidden { .. } => Self::new(StatusCode::FORBIDDEN, None, detail),
            DomainError::Unavailable(_) | DomainError::Internal(_) => {
                Self::from_api(ApiError::from(e))
            }
        }
    }
}

impl IntoResponse for ScimApiError {
    fn into_response(self) -> Response {
        scim_response(
            self.status,
            &serde_json::to_value(&self.body).unwrap_or_default(),
        )
    }
}

pub type ScimResult<T> = Result<T, ScimApiError>;

/// An answer in `application/scim+json`.
pub fn scim_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}

/// A resource answer with its `ETag` (and `Location` for a creation).
pub fn resource_response(status: StatusCode, body: &Value) -> Response {
    let mut response = scim_response(status, body);
    let meta = &body["meta"];
    if let Some(version) = meta["version"]
        .as_str()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(ETAG, version);
    }
    if status == StatusCode::CREATED {
        if let Some(location) = meta["location"]
            .as_str()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            response.headers_mut().insert(LOCATION, location);
        }
    }
    response
}

/// The caller of a SCIM route: an admin key, admitted as on `/v1`.
pub struct ScimAuth(pub Actor);

impl FromRequestParts<AppState> for ScimAuth {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        admit(parts, state)
            .await
            .map(ScimAuth)
            .map_err(|refusal| match refusal {
                Refusal::Api(e) => ScimApiError::from_api(e).into_response(),
                Refusal::Answer(answer) => answer,
            })
    }
}

impl ScimAuth {
    pub fn require(&self, permissions: &[Permission]) -> ScimResult<()> {
        for &permission in permissions {
            if !self.0.permissions.contains(permission) {
                return Err(DomainError::forbidden(permission, None).into());
            }
        }
        Ok(())
    }
}

/// The base URL of the resources' `location`s: the request's host (and, behind a proxy that
/// says so, its scheme).
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = ScimApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(BaseUrl(base_url(&parts.headers)))
    }
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}{PREFIX}")
}

/// The `If-Match` header, if any.
pub fn if_match(headers: &HeaderMap) -> ScimResult<Option<String>> {
    match headers.get(IF_MATCH) {
        None => Ok(None),
        Some(v) => v.to_str().map(|v| Some(v.to_owned())).map_err(|_| {
            ScimApiError::invalid(scim_type::INVALID_VALUE, "If-Match must be ASCII.")
        }),
    }
}

/// Whether `If-None-Match` names `version` (the answer is then 304).
pub fn not_modified(headers: &HeaderMap, version: &str) -> bool {
    headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| orgadmin_core::scim::if_match_allows(v, version))
}

/// A resource's ID from the path; one that cannot name anything is "not found".
pub struct ResourceId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ResourceId {
    type Rejection = ScimApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_owned();
        let not_found = || {
            ScimApiError::new(
                StatusCode::NOT_FOUND,
                None,
                format!("No resource found at {path}."),
            )
        };
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) if !id.contains('\0') && id.len() <= 256 => Ok(ResourceId(id)),
            _ => Err(not_found()),
        }
    }
}

/// A SCIM request body: `application/scim+json` (or `application/json`, or no content type)
/// holding JSON, within the body limit. Anything else is refused in SCIM's envelope: 415, 413,
/// or 400 `invalidSyntax` for what does not parse.
pub struct ScimBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimBody {
    type Rejection = ScimApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(content_type) = req.headers().get(CONTENT_TYPE) {
            let essence = content_type
                .to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if essence != SCIM_JSON && essence != "application/json" {
                return Err(ScimApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    None,
                    format!("SCIM reads {SCIM_JSON} (or application/json), not '{essence}'."),
                ));
            }
        }
        let body = Limited::new(req.into_body(), MAX_BODY_BYTES);
        let bytes = tokio::time::timeout(BODY_READ_TIMEOUT, body.collect())
            .await
            .map_err(|_| ScimApiError::from_api(ApiError::body_too_slow(BODY_READ_TIMEOUT)))?
            .map_err(|e| {
                if e.is::<LengthLimitError>() {
                    ScimApiError::from_api(ApiError::too_large_for(MAX_BODY_BYTES as u64))
                } else {
                    ScimApiError::invalid(
                        scim_type::INVALID_SYNTAX,
                        format!("Could not read the request body: {e}."),
                    )
                }
            })?
            .to_bytes();
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ScimApiError::invalid(
                scim_type::INVALID_SYNTAX,
                format!("The request body is not valid JSON: {e}."),
            )
        })?;
        if let Some(at) = path_of_nul(&value, String::new()) {
            return Err(ScimApiError::invalid(
                scim_type::INVALID_VALUE,
                format!("'{at}' must not contain NUL characters."),
            ));
        }
        Ok(ScimBody(value))
    }
}

/// What a list or search asks: the filter (parsed), the window, and which attributes to show.
pub struct ListRequest {
    pub filter: Option<orgadmin_core::scim::filter::Filter>,
    pub start_index: u64,
    pub count: u64,
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

/// Most resources a list answers when `count` is not given.
const DEFAULT_COUNT: u64 = 100;

impl ListRequest {
    /// From a query string (`GET /Users?filter=…&startIndex=…&count=…&attributes=…`).
    pub fn from_query(uri: &Uri) -> ScimResult<Self> {
        let query = Query::parse(uri.query().unwrap_or(""));
        if query.names().any(|n| n.contains('\0')) {
            return Err(ScimApiError::invalid(
                scim_type::INVALID_VALUE,
                "Query parameters must not contain NUL characters.",
            ));
        }
        let text = |name: &str| -> ScimResult<Option<String>> {
            match query.one(name)? {
                Some(v) if v.contains('\0') => Err(ScimApiError::invalid(
                    scim_type::INVALID_VALUE,
                    format!("'{name}' must not contain NUL characters."),
                )),
                v => Ok(v.map(str::to_owned)),
            }
        };
        let number = |name: &str| -> ScimResult<Option<i64>> {
            text(name)?
                .map(|raw| {
                    raw.trim().parse::<i64>().map_err(|_| {
                        ScimApiError::invalid(
                            scim_type::INVALID_VALUE,
                            format!(
                                "'{name}' must be an integer, not '{}'.",
                                orgadmin_core::text::clip(&raw)
                            ),
                        )
                    })
                })
                .transpose()
        };
        let list = |raw: Option<String>| -> Vec<String> {
            raw.map(|r| {
                r.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
        };
        Self::new(
            text("filter")?,
            number("startIndex")?,
            number("count")?,
            list(text("attributes")?),
            list(text("excludedAttributes")?),
        )
    }

    /// From a `POST /.search` body (RFC 7644 §3.4.3).
    pub fn from_search(body: &Value) -> ScimResult<Self> {
        use orgadmin_api::scim::schema::SEARCH_REQUEST;
        let Some(object) = body.as_object() else {
            return Err(ScimApiError::invalid(
                scim_type::INVALID_SYNTAX,
                "The request body must be a SearchRequest object.",
            ));
        };
        let schemas_ok = object
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter().any(|u| {
                    u.as_str()
                        .is_some_and(|u| u.eq_ignore_ascii_case(SEARCH_REQUEST))
                })
            });
        if !schemas_ok {
            return Err(ScimApiError::invalid(
                scim_type::INVALID_SYNTAX,
                format!("'schemas' must be [\"{SEARCH_REQUEST}\"]."),
            ));
        }
        let text = |name: &str| -> ScimResult<Option<String>> {
            match object.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ScimApiError::invalid(
                    scim_type::INVALID_VALUE,
                    format!("'{name}' must be a string."),
                )),
            }
        };
        let number = |name: &str| -> ScimResult<Option<i64>> {
            match object.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                    ScimApiError::invalid(
                        scim_type::INVALID_VALUE,
                        format!("'{name}' must be an integer."),
                    )
                }),
            }
        };
        let list = |name: &str| -> ScimResult<Vec<String>> {
            match object.get(name) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str().map(str::to_owned).ok_or_else(|| {
                            ScimApiError::invalid(
                                scim_type::INVALID_VALUE,
                                format!("'{name}' must be an array of strings."),
                            )
                        })
                    })
                    .collect(),
                Some(Value::String(s)) => Ok(s
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect()),
                Some(_) => Err(ScimApiError::invalid(
                    scim_type::INVALID_VALUE,
                    format!("'{name}' must be an array of strings."),
                )),
            }
        };
        Self::new(
            text("filter")?,
            number("startIndex")?,
            number("count")?,
            list("attributes")?,
            list("excludedAttributes")?,
        )
    }

    fn new(
        filter: Option<String>,
        start_index: Option<i64>,
        count: Option<i64>,
        attributes: Vec<String>,
        excluded: Vec<String>,
    ) -> ScimResult<Self> {
        use orgadmin_api::scim::schema::MAX_RESULTS;
        use orgadmin_core::scim::filter::Filter;
        let filter = match filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Filter::parse(text).map_err(|e| {
                ScimApiError::invalid(
                    scim_type::INVALID_FILTER,
                    format!("The filter does not parse: {e}"),
                )
            })?),
        };
        // RFC 7644 §3.4.2.4: a startIndex below 1 is read as 1.
        let start_index = u64::try_from(start_index.unwrap_or(1).max(1)).unwrap_or(1);
        let count = match count {
            None => DEFAULT_COUNT,
            Some(n) if (0..=MAX_RESULTS as i64).contains(&n) => n as u64,
            Some(n) => {
                return Err(ScimApiError::invalid(
                    scim_type::INVALID_VALUE,
                    format!("'count' must be between 0 and {MAX_RESULTS}, not {n}."),
                ))
            }
        };
        Ok(ListRequest {
            filter,
            start_index,
            count,
            attributes,
            excluded,
        })
    }

    pub fn query(&self, with_members: bool) -> orgadmin_core::scim::ScimQuery {
        orgadmin_core::scim::ScimQuery {
            filter: self.filter.clone(),
            start_index: self.start_index,
            count: self.count,
            with_members,
        }
    }

    /// Whether answers show `name` (so whether it must be read).
    pub fn shows(&self, name: &str) -> bool {
        let named = |list: &[String]| {
            list.iter().any(|a| {
                a.eq_ignore_ascii_case(name)
                    || a.to_ascii_lowercase()
                        .ends_with(&format!(":{}", name.to_ascii_lowercase()))
                    || a.to_ascii_lowercase()
                        .starts_with(&format!("{}.", name.to_ascii_lowercase()))
            })
        };
        !named(&self.excluded) && (self.attributes.is_empty() || named(&self.attributes))
    }
}
