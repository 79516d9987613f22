//! Faults an operator injects into an organization's requests (`/_orgadmin/organizations/{org_id}/faults`):
//! a chosen answer (429, 500, 502, 503 or 504, with a body, `Retry-After` and latency), every
//! time, a number of times, or with a probability, for the requests made with the
//! organization's keys that match a method and a route. The `Auth` extractor asks the
//! [`FaultBook`] right after authenticating, before the handler runs, so an injected answer
//! writes nothing. Process memory, like the rate limiter: each replica holds its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use orgadmin_api::operator::{Cleared, Fault, FaultCreateRequest, FaultList};
use orgadmin_core::id::{random_chars, OrgId};
use orgadmin_core::DomainError;
use serde_json::Value;

use super::{OperatorOrg, TAG};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::JsonBody;
use crate::state::AppState;

/// The longest delay a fault may add.
pub const MAX_LATENCY_MS: u64 = 30_000;
/// The most faults one organization may hold at once.
pub const MAX_FAULTS: usize = 100;

/// Every organization's faults, in the order they were injected.
#[derive(Default)]
pub struct FaultBook {
    by_org: RwLock<HashMap<OrgId, Vec<Arc<ArmedFault>>>>,
}

/// A fault as injected, with how often it fired.
struct ArmedFault {
    id: String,
    spec: FaultSpec,
    created_at: i64,
    fired: AtomicU64,
}

/// What a fault matches and answers, every field checked.
#[derive(Debug, Clone, PartialEq)]
struct FaultSpec {
    method: Option<Method>,
    target: Target,
    path: String,
    status: Option<StatusCode>,
    body: Option<Value>,
    retry_after: Option<u64>,
    latency_ms: Option<u64>,
    limit: Limit,
}

#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// Exactly the route of this template.
    Route(String),
    /// Every request whose path begins with these segments.
    Prefix(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Limit {
    Always,
    Times(u64),
    Probability(f64),
}

/// What a fault does to a request that it fired for.
pub(crate) struct Firing {
    pub(crate) latency: Option<Duration>,
    /// The answer instead of the handler's; `None` when the fault only delays.
    pub(crate) answer: Option<Response>,
}

impl FaultBook {
    /// The first of `org`'s faults that matches this request and fires, counted as fired.
    pub(crate) fn fire(
        &self,
        org: &OrgId,
        method: &Method,
        route: Option<&str>,
        path: &str,
    ) -> Option<Firing> {
        let book = self.by_org.read().unwrap_or_else(|e| e.into_inner());
        let faults = book.get(org)?;
        let fault = faults
            .iter()
            .find(|f| f.spec.matches(method, route, path) && f.take())?;
        Some(Firing {
            latency: fault.spec.latency_ms.map(Duration::from_millis),
            answer: fault.spec.status.map(|status| fault.spec.answer(status)),
        })
    }

    fn add(&self, org: &OrgId, spec: FaultSpec, now: i64) -> Result<Fault, DomainError> {
        let mut book = self.by_org.write().unwrap_or_else(|e| e.into_inner());
        let faults = book.entry(org.clone()).or_default();
        if faults.len() >= MAX_FAULTS {
            return Err(DomainError::invalid(
                "path",
                format!("An organization holds at most {MAX_FAULTS} faults; clear them first (DELETE /_orgadmin/organizations/{org}/faults)."),
            ));
        }
        let fault = Arc::new(ArmedFault {
            id: format!("fault_{}", random_chars(24)),
            spec,
            created_at: now,
            fired: AtomicU64::new(0),
        });
        faults.push(fault.clone());
        Ok(fault.describe())
    }

    fn list(&self, org: &OrgId) -> Vec<Fault> {
        let book = self.by_org.read().unwrap_or_else(|e| e.into_inner());
        book.get(org)
            .map(|faults| faults.iter().map(|f| f.describe()).collect())
            .unwrap_or_default()
    }

    /// Remove every fault of `org`; how many there were.
    pub(crate) fn clear(&self, org: &OrgId) -> usize {
        let mut book = self.by_org.write().unwrap_or_else(|e| e.into_inner());
        book.remove(org).map_or(0, |faults| faults.len())
    }
}

impl ArmedFault {
    /// Count one firing if the fault's limit allows it.
    fn take(&self) -> bool {
        match self.spec.limit {
            Limit::Always => {
                self.fired.fetch_add(1, Ordering::Relaxed);
                true
            }
            Limit::Times(times) => self
                .fired
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |fired| {
                    (fired < times).then_some(fired + 1)
                })
                .is_ok(),
            Limit::Probability(p) => {
                let fires = rand::random::<f64>() < p;
                if fires {
                    self.fired.fetch_add(1, Ordering::Relaxed);
                }
                fires
            }
        }
    }

    fn describe(&self) -> Fault {
        let spec = &self.spec;
        Fault {
            object: "organization.fault".into(),
            id: self.id.clone(),
            method: spec.method.as_ref().map(ToString::to_string),
            path: spec.path.clone(),
            status: spec.status.map(|s| s.as_u16()),
            body: spec.body.clone(),
            retry_after: spec.retry_after,
            latency_ms: spec.latency_ms,
            times: match spec.limit {
                Limit::Times(n) => Some(n),
                _ => None,
            },
            probability: match spec.limit {
                Limit::Probability(p) => Some(p),
                _ => None,
            },
            fired: self.fired.load(Ordering::Acquire),
            created_at: self.created_at,
        }
    }
}

impl FaultSpec {
    /// Check a request body against the routes the server has (`templates`, from its OpenAPI
    /// document): each refusal names the field.
    fn parse(body: FaultCreateRequest, templates: &[&str]) -> Result<Self, DomainError> {
        let method = body
            .method
            .as_deref()
            .map(|raw| {
                let upper = raw.trim().to_ascii_uppercase();
                match upper.as_str() {
                    "GET" | "POST" | "PUT" | "PATCH" | "DELETE" => {
                        Ok(Method::from_bytes(upper.as_bytes()).expect("a standard method"))
                    }
                    _ => Err(DomainError::invalid(
                        "method",
                        format!(
                            "method must be GET, POST, PUT, PATCH or DELETE, not '{}'.",
                            orgadmin_core::text::clip(raw)
                        ),
                    )),
                }
            })
            .transpose()?;
        let path = body
            .path
            .ok_or_else(|| DomainError::missing("path"))?
            .trim()
            .to_owned();
        let target = Target::parse(&path, templates)?;
        let status = body
            .status
            .map(|status| match status {
                429 | 500 | 502 | 503 | 504 => {
                    Ok(StatusCode::from_u16(status).expect("a valid status"))
                }
                _ => Err(DomainError::invalid(
                    "status",
                    format!("status must be 429, 500, 502, 503 or 504, not {status}."),
                )),
            })
            .transpose()?;
        if let Some(latency) = body.latency_ms {
            if latency > MAX_LATENCY_MS {
                return Err(DomainError::invalid(
                    "latency_ms",
                    format!("latency_ms must be at most {MAX_LATENCY_MS}."),
                ));
            }
        }
        if status.is_none() {
            if body.latency_ms.is_none() {
                return Err(DomainError::missing("status"));
            }
            for (given, field) in [
                (body.body.is_some(), "body"),
                (body.retry_after.is_some(), "retry_after"),
            ] {
                if given {
                    return Err(DomainError::invalid(
                        field,
                        format!("{field} needs a status: without one the fault only delays the request, which then answers as usual."),
                    ));
                }
            }
        }
        let limit = match (body.times, body.probability) {
            (Some(_), Some(_)) => {
                return Err(DomainError::invalid(
                    "probability",
                    "Give times or probability, not both.",
                ))
            }
            (Some(0), None) => {
                return Err(DomainError::invalid("times", "times must be at least 1."))
            }
            (Some(times), None) => Limit::Times(times),
            (None, Some(p)) if p > 0.0 && p <= 1.0 => Limit::Probability(p),
            (None, Some(_)) => {
                return Err(DomainError::invalid(
                    "probability",
                    "probability must be above 0 and at most 1.",
                ))
            }
            (None, None) => Limit::Always,
        };
        Ok(Self {
            method,
            target,
            path,
            status,
            body: body.body,
            retry_after: body.retry_after,
            latency_ms: body.latency_ms,
            limit,
        })
    }

    fn matches(&self, method: &Method, route: Option<&str>, path: &str) -> bool {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return false;
        }
        match &self.target {
            Target::Route(template) => route == Some(template.as_str()),
            Target::Prefix(segments) => {
                let mut given = path.trim_end_matches('/').split('/');
                segments
                    .iter()
                    .all(|segment| given.next() == Some(segment.as_str()))
            }
        }
    }

    /// The injected answer: the fault's body, or the Admin API's envelope for its status.
    fn answer(&self, status: StatusCode) -> Response {
        let mut response = match &self.body {
            Some(body) => (status, Json(body.clone())).into_response(),
            None => {
                let (code, message) = match status.as_u16() {
                    429 => (
                        Code::RateLimitExceeded,
                        "Rate limit reached for requests. Please try again later.",
                    ),
                    500 => (
                        Code::InternalError,
                        "The server had an error while processing your request. Sorry about that!",
                    ),
                    502 => (Code::BadGateway, "Bad gateway."),
                    503 => (
                        Code::ServiceUnavailable,
                        "The server is overloaded or not ready yet.",
                    ),
                    _ => (Code::GatewayTimeout, "Gateway timeout."),
                };
                ApiError::new(code, None, message).into_response()
            }
        };
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl Target {
    /// A template must be one of the server's `/v1` routes; a prefix must lead to one.
    fn parse(path: &str, templates: &[&str]) -> Result<Self, DomainError> {
        let unknown = || {
            DomainError::invalid(
                "path",
                format!(
                    "path '{}' names no route of the Admin API: give a route template as GET /v1/openapi.json lists it (/v1/organization/users/{{user_id}}) or a path prefix (/v1/organization/users).",
                    orgadmin_core::text::clip(path)
                ),
            )
        };
        let admin_api = templates.iter().filter(|t| t.starts_with("/v1/"));
        if path.contains('{') {
            return admin_api
                .into_iter()
                .find(|t| **t == path)
                .map(|t| Target::Route((*t).to_owned()))
                .ok_or_else(unknown);
        }
        let segments: Vec<String> = path
            .trim_end_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect();
        let leads_to_a_route = |template: &&&str| {
            let mut route = template.split('/');
            segments.iter().all(|segment| {
                route
                    .next()
                    .is_some_and(|r| r == segment || (r.starts_with('{') && !segment.is_empty()))
            })
        };
        if !path.starts_with("/v1/") || !admin_api.clone().any(|t| leads_to_a_route(&t)) {
            return Err(unknown());
        }
        Ok(Target::Prefix(segments))
    }
}

/// The server's route templates, from its OpenAPI document.
fn templates(document: &utoipa::openapi::OpenApi) -> Vec<&str> {
    document.paths.paths.keys().map(String::as_str).collect()
}

#[utoipa::path(post, path = "/_orgadmin/organizations/{org_id}/faults", tag = TAG,
    security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    request_body = FaultCreateRequest,
    responses((status = 200, body = Fault)))]
pub async fn create(
    State(s): State<AppState>,
    org: OperatorOrg,
    Extension(document): Extension<Arc<utoipa::openapi::OpenApi>>,
    JsonBody(body): JsonBody<FaultCreateRequest>,
) -> ApiResult<Json<Fault>> {
    let spec = FaultSpec::parse(body, &templates(&document))?;
    Ok(Json(s.faults.add(org.id(), spec, s.clock.now())?))
}

#[utoipa::path(get, path = "/_orgadmin/organizations/{org_id}/faults", tag = TAG,
    security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    responses((status = 200, body = FaultList)))]
pub async fn list(State(s): State<AppState>, org: OperatorOrg) -> ApiResult<Json<FaultList>> {
    Ok(Json(FaultList::new(s.faults.list(org.id()), false, |f| {
        &f.id
    })))
}

#[utoipa::path(delete, path = "/_orgadmin/organizations/{org_id}/faults", tag = TAG,
    security(("OperatorKeyAuth" = [])),
    params(("org_id" = String, Path)),
    responses((status = 200, body = Cleared)))]
pub async fn clear(State(s): State<AppState>, org: OperatorOrg) -> ApiResult<Json<Cleared>> {
    Ok(Json(Cleared {
        object: "organization.faults.cleared".into(),
        deleted: s.faults.clear(org.id()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATES: &[&str] = &[
        "/v1/organization/users",
        "/v1/organization/users/{user_id}",
        "/v1/organization/projects/{project_id}/users",
        "/_orgadmin/organizations",
    ];

    fn spec(body: serde_json::Value) -> Result<FaultSpec, DomainError> {
        FaultSpec::parse(serde_json::from_value(body).unwrap(), TEMPLATES)
    }

    fn param(e: DomainError) -> Option<String> {
        match e {
            DomainError::Invalid { param, .. } => param,
            other => panic!("not a refusal of input: {other:?}"),
        }
    }

    #[test]
    fn a_template_matches_its_route_alone_and_a_prefix_every_path_below_it() {
        let route =
            spec(serde_json::json!({"path": "/v1/organization/users/{user_id}", "status": 503}))
                .unwrap();
        assert!(route.matches(
            &Method::GET,
            Some("/v1/organization/users/{user_id}"),
            "/v1/organization/users/u1"
        ));
        assert!(!route.matches(
            &Method::GET,
            Some("/v1/organization/users"),
            "/v1/organization/users"
        ));

        let prefix = spec(
            serde_json::json!({"path": "/v1/organization/users", "status": 429, "method": "post"}),
        )
        .unwrap();
        assert!(prefix.matches(&Method::POST, None, "/v1/organization/users/u1"));
        assert!(prefix.matches(&Method::POST, None, "/v1/organization/users"));
        assert!(!prefix.matches(&Method::GET, None, "/v1/organization/users"));
        assert!(!prefix.matches(&Method::POST, None, "/v1/organization/users_x"));

        let concrete = spec(
            serde_json::json!({"path": "/v1/organization/projects/proj_1/users", "status": 500}),
        )
        .unwrap();
        assert!(concrete.matches(&Method::GET, None, "/v1/organization/projects/proj_1/users"));
        assert!(!concrete.matches(&Method::GET, None, "/v1/organization/projects/proj_2/users"));
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (serde_json::json!({"status": 503}), "path"),
            (
                serde_json::json!({"path": "/v1/organization/nothing/{x}", "status": 503}),
                "path",
            ),
            (
                serde_json::json!({"path": "/v1/organization/nothing", "status": 503}),
                "path",
            ),
            (
                serde_json::json!({"path": "/_orgadmin/organizations", "status": 503}),
                "path",
            ),
            (
                serde_json::json!({"path": "/v1/organization/users", "status": 404}),
                "status",
            ),
            (
                serde_json::json!({"path": "/v1/organization/users"}),
                "status",
            ),
            (
                serde_json::json!({"path": "/v1/organization/users", "latency_ms": 5, "body": {}}),
                "body",
            ),
            (
                serde_json::json!({"path": "/v1/organization/users", "status": 503, "method": "TRACE"}),
                "method",
            ),
            (
                serde_json::json!({"path": "/v1/organization/users", "status": 503, "latency_ms": 30_001}),
                "latency_ms",
            ),
            (
                serde_json::json!({"path": "/v1/organization/users", "status": 503, "times": 0}),
                "times",
            ),
            (
                serde_json::json!({"path": "/v1/organization/users", "status": 503, "probability": 0.0}),
                "probability",
            ),
            (
                serde_json::json!({"path": "/v1/organization/users", "status": 503, "probability": 0.5, "times": 2}),
                "probability",
            ),
        ];
        for (body, field) in cases {
            let refused = spec(body.clone()).expect_err(&body.to_string());
            assert_eq!(param(refused).as_deref(), Some(field), "{body}");
        }
    }

    #[test]
    fn a_fault_with_times_fires_that_often_in_its_organization_alone() {
        let book = FaultBook::default();
        let org = OrgId::from_raw("org-a");
        let other = OrgId::from_raw("org-b");
        let fault = spec(serde_json::json!({"path": "/v1/organization/users", "status": 429, "retry_after": 2, "times": 2})).unwrap();
        book.add(&org, fault, 0).unwrap();
        let fire = |org: &OrgId| book.fire(org, &Method::GET, None, "/v1/organization/users");
        assert!(fire(&other).is_none());
        let first = fire(&org).unwrap().answer.unwrap();
        assert_eq!(first.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(first.headers()[RETRY_AFTER], "2");
        assert!(fire(&org).is_some());
        assert!(fire(&org).is_none());
        assert_eq!(book.list(&org)[0].fired, 2);
        assert_eq!(book.clear(&org), 1);
        assert!(book.list(&org).is_empty());
    }
}
