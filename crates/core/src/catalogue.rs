//! The model catalogue: the models a project's policies may name (model permissions, rate
//! limits) and each one's organization rate limits, which are every project's defaults and
//! their ceiling. It is configuration, not data: the server ships one (`crates/core/models.json`,
//! documented in `docs/models.md`), `orgadmin serve --models FILE` replaces it, and every replica
//! serving one database must be given the same file.
//!
//! A file is checked whole before the server starts: an object `{"models": [...]}`, each entry an
//! object with an `id` and the limits that model has, each a positive integer; no unknown fields,
//! no duplicate IDs, at least one model.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::error::DomainError;
use crate::page::PageRequest;

/// The catalogue the server ships with.
pub const BUILTIN_JSON: &str = include_str!("../models.json");

/// How a rate limit's ID is made from its model's ID (`rl-gpt-4o`), as the official examples
/// show (`rl-ada`).
pub const RATE_LIMIT_PREFIX: &str = "rl-";

/// Longest model ID the catalogue accepts.
pub const MAX_MODEL_ID_CHARS: usize = 128;

/// One limit of a model, named as the official `ProjectRateLimit` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LimitField {
    RequestsPerMinute,
    TokensPerMinute,
    ImagesPerMinute,
    AudioMegabytesPerMinute,
    RequestsPerDay,
    BatchInputTokensPerDay,
}

impl LimitField {
    /// Every field, in the official schema's order.
    pub const ALL: [LimitField; 6] = [
        LimitField::RequestsPerMinute,
        LimitField::TokensPerMinute,
        LimitField::ImagesPerMinute,
        LimitField::AudioMegabytesPerMinute,
        LimitField::RequestsPerDay,
        LimitField::BatchInputTokensPerDay,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LimitField::RequestsPerMinute => "max_requests_per_1_minute",
            LimitField::TokensPerMinute => "max_tokens_per_1_minute",
            LimitField::ImagesPerMinute => "max_images_per_1_minute",
            LimitField::AudioMegabytesPerMinute => "max_audio_megabytes_per_1_minute",
            LimitField::RequestsPerDay => "max_requests_per_1_day",
            LimitField::BatchInputTokensPerDay => "batch_1_day_max_input_tokens",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Every model has these two; the others only models they apply to.
    pub fn required(self) -> bool {
        matches!(
            self,
            LimitField::RequestsPerMinute | LimitField::TokensPerMinute
        )
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A value for some of the [`LimitField`]s: a model's limits, a project's override or an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateLimits([Option<i64>; 6]);

impl RateLimits {
    pub fn get(&self, field: LimitField) -> Option<i64> {
        self.0[field.index()]
    }

    pub fn set(&mut self, field: LimitField, value: Option<i64>) {
        self.0[field.index()] = value;
    }

    /// The fields that have a value, in the schema's order.
    pub fn iter(&self) -> impl Iterator<Item = (LimitField, i64)> + '_ {
        LimitField::ALL
            .into_iter()
            .filter_map(|f| self.get(f).map(|v| (f, v)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    /// `self` with every value `other` has put over it.
    pub fn merged(&self, other: &RateLimits) -> RateLimits {
        let mut out = *self;
        for (field, value) in other.iter() {
            out.set(field, Some(value));
        }
        out
    }
}

/// One model of the catalogue and its organization limits (the two required ones always set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueModel {
    pub id: String,
    pub limits: RateLimits,
}

impl CatalogueModel {
    /// Its rate limit's ID (`rl-` and the model ID).
    pub fn rate_limit_id(&self) -> String {
        format!("{RATE_LIMIT_PREFIX}{}", self.id)
    }

    /// The names of the limits it has, joined with `, ` (for messages).
    pub fn limit_names(&self) -> String {
        self.limits
            .iter()
            .map(|(f, _)| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A project's limits for this model: the organization's, lowered where the project's
    /// override is lower. A project limit never exceeds the organization's, also when a later
    /// catalogue lowered it below an override stored earlier; fields the model does not have
    /// are left out.
    pub fn effective(&self, project_override: Option<&RateLimits>) -> RateLimits {
        let mut out = self.limits;
        if let Some(o) = project_override {
            for (field, ceiling) in self.limits.iter() {
                if let Some(value) = o.get(field) {
                    out.set(field, Some(value.min(ceiling)));
                }
            }
        }
        out
    }
}

/// A catalogue that cannot be used, and why, naming the file and the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("models file {file}: {reason}")]
pub struct CatalogueError {
    pub file: String,
    pub reason: String,
}

/// The models, in the file's order (the order of every project's rate limit list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCatalogue {
    models: Vec<CatalogueModel>,
    by_id: HashMap<String, usize>,
}

impl ModelCatalogue {
    /// The catalogue the server ships with (`crates/core/models.json`).
    pub fn builtin() -> Self {
        Self::parse(BUILTIN_JSON, "(built in)").expect("the shipped models.json is valid")
    }

    /// Read and check the file at `path`.
    pub fn load(path: &Path) -> Result<Self, CatalogueError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CatalogueError {
            file: file.clone(),
            reason: format!("cannot be read: {e}"),
        })?;
        Self::parse(&text, &file)
    }

    /// Check a catalogue's text; `file` names it in the error.
    pub fn parse(text: &str, file: &str) -> Result<Self, CatalogueError> {
        let fail = |reason: String| CatalogueError {
            file: file.to_owned(),
            reason,
        };
        let value: Value =
            serde_json::from_str(text).map_err(|e| fail(format!("is not JSON: {e}")))?;
        let Value::Object(top) = value else {
            return Err(fail("must be a JSON object {\"models\": [...]}".to_owned()));
        };
        if let Some(unknown) = top.keys().find(|k| *k != "models") {
            return Err(fail(format!(
                "unknown field '{unknown}' at the top level; the only field is 'models'"
            )));
        }
        let Some(Value::Array(entries)) = top.get("models") else {
            return Err(fail("'models' must be an array of models".to_owned()));
        };
        if entries.is_empty() {
            return Err(fail(
                "'models' is empty; a catalogue lists at least one model".to_owned(),
            ));
        }
        let mut models = Vec::with_capacity(entries.len());
        let mut by_id = HashMap::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let model = parse_entry(entry).map_err(|why| {
                let id = entry.get("id").and_then(Value::as_str);
                fail(match id {
                    Some(id) => format!(
                        "entry {} ('{}'): {why}",
                        i + 1,
                        crate::text::clip_to(id, MAX_MODEL_ID_CHARS)
                    ),
                    None => format!("entry {}: {why}", i + 1),
                })
            })?;
            if let Some(first) = by_id.insert(model.id.clone(), i) {
                return Err(fail(format!(
                    "entry {} ('{}'): the same ID as entry {}; each model is listed once",
                    i + 1,
                    model.id,
                    first + 1
                )));
            }
            models.push(model);
        }
        Ok(Self { models, by_id })
    }

    /// Every model, in the catalogue's order.
    pub fn models(&self) -> &[CatalogueModel] {
        &self.models
    }

    pub fn len(&self) -> usize {
        self.models.len()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The model with this ID.
    pub fn get(&self, id: &str) -> Option<&CatalogueModel> {
        self.position(id).map(|i| &self.models[i])
    }

    /// Where the model with this ID is in the catalogue's order.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// One page of the models in the catalogue's order, and whether more follow in the direction
    /// of travel: after the model whose rate limit ID is `after`, or the `limit` models just
    /// before the one `before` names (then `has_more` says whether any come before the page). A
    /// cursor must name a rate limit of the list (400 on `after` or `before` otherwise): the
    /// list is no ordered set of IDs in which any string has a place.
    pub fn page(&self, req: &PageRequest) -> Result<(&[CatalogueModel], bool), DomainError> {
        let limit = req.limit as usize;
        let at = |cursor: &str, param: &str| {
            self.model_of_rate_limit(cursor)
                .and_then(|m| self.position(&m.id))
                .ok_or_else(|| {
                    DomainError::invalid(
                        param,
                        format!(
                            "'{}' is not the ID of a rate limit in this list; give the first_id or last_id of a page.",
                            crate::text::clip(cursor)
                        ),
                    )
                })
        };
        let len = self.models.len();
        let (start, end, has_more) = match (&req.after, &req.before) {
            (Some(after), _) => {
                let start = at(after.as_str(), "after")? + 1;
                let end = (start + limit).min(len);
                (start, end, end < len)
            }
            (None, Some(before)) => {
                let end = at(before.as_str(), "before")?;
                let start = end.saturating_sub(limit);
                (start, end, start > 0)
            }
            (None, None) => {
                let end = limit.min(len);
                (0, end, end < len)
            }
        };
        Ok((&self.models[start..end], has_more))
    }

    /// The model a rate limit ID (`rl-…`) names.
    pub fn model_of_rate_limit(&self, rate_limit_id: &str) -> Option<&CatalogueModel> {
        rate_limit_id
            .strip_prefix(RATE_LIMIT_PREFIX)
            .and_then(|id| self.get(id))
    }
}

/// One entry, or why it is refused (a phrase, without the entry's name).
fn parse_entry(entry: &Value) -> Result<CatalogueModel, String> {
    let Value::Object(fields) = entry else {
        return Err("must be an object with an 'id' and its limits".to_owned());
    };
    let id = match fields.get("id") {
        Some(Value::String(id)) => id,
        Some(_) => return Err("'id' must be a string".to_owned()),
        None => return Err("has no 'id'".to_owned()),
    };
    check_model_id(id)?;
    let mut limits = RateLimits::default();
    for (name, value) in fields {
        if name == "id" {
            continue;
        }
        let Some(field) = LimitField::parse(name) else {
            return Err(format!(
                "unknown field '{}'; the fields are 'id', {}",
                crate::text::clip(name),
                LimitField::ALL
                    .iter()
                    .map(|f| format!("'{}'", f.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        let positive = value.as_i64().filter(|n| *n > 0);
        let Some(n) = positive else {
            return Err(format!(
                "{name} must be a positive integer, not {}",
                crate::text::clip(&value.to_string())
            ));
        };
        limits.set(field, Some(n));
    }
    for field in LimitField::ALL.into_iter().filter(|f| f.required()) {
        if limits.get(field).is_none() {
            return Err(format!("has no {}; every model has it", field.name()));
        }
    }
    Ok(CatalogueModel {
        id: id.clone(),
        limits,
    })
}

/// A model ID is what a URL path segment carries as it is: 1 to 128 ASCII letters, digits and
/// `.`, `_`, `-`, `:` (fine-tuned models are `ft:gpt-4o:org:name:id`), starting with a letter or
/// a digit.
fn check_model_id(id: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
    if id.is_empty() {
        return Err("'id' is empty".to_owned());
    }
    if id.chars().count() > MAX_MODEL_ID_CHARS {
        return Err(format!(
            "'id' is longer than {MAX_MODEL_ID_CHARS} characters"
        ));
    }
    if !id.chars().all(allowed) || !id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(
            "'id' may hold only ASCII letters, digits, '.', '_', '-' and ':', and starts with a letter or a digit"
                .to_owned(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        ModelCatalogue::parse(text, "m.json")
            .expect_err("the catalogue is refused")
            .to_string()
    }

    #[test]
    fn the_shipped_catalogue_is_valid_and_lists_current_models_in_its_order() {
        let c = ModelCatalogue::builtin();
        assert!((15..=25).contains(&c.len()), "{}", c.len());
        assert_eq!(c.models()[0].id, "gpt-5");
        for id in [
            "gpt-4.1",
            "gpt-4o-mini",
            "o3",
            "o4-mini",
            "gpt-image-1",
            "whisper-1",
        ] {
            assert!(c.get(id).is_some(), "{id}");
        }
        // Every optional field appears somewhere, so every shape of the answer is served.
        for field in LimitField::ALL {
            assert!(
                c.models().iter().any(|m| m.limits.get(field).is_some()),
                "{}",
                field.name()
            );
        }
        let image = c.get("gpt-image-1").unwrap();
        assert_eq!(image.limits.get(LimitField::ImagesPerMinute), Some(250));
        assert_eq!(image.rate_limit_id(), "rl-gpt-image-1");
        assert_eq!(c.model_of_rate_limit("rl-gpt-image-1"), Some(image));
        assert_eq!(c.model_of_rate_limit("gpt-image-1"), None);
        assert_eq!(c.model_of_rate_limit("rl-gpt-image-9"), None);
    }

    #[test]
    fn a_catalogue_is_refused_naming_the_file_the_entry_and_why() {
        let ok = r#"{"id": "a", "max_requests_per_1_minute": 1, "max_tokens_per_1_minute": 2}"#;
        let extra = format!(r#"{{"models": [{ok}], "extra": 1}}"#);
        let twice = format!(r#"{{"models": [{ok}, {ok}]}}"#);
        let cases: [(&str, &str); 16] = [
            ("[]", "models file m.json: must be a JSON object"),
            ("{", "models file m.json: is not JSON"),
            (r#"{"models": []}"#, "'models' is empty"),
            (r#"{"models": {}}"#, "'models' must be an array"),
            (&extra, "unknown field 'extra' at the top level"),
            (
                r#"{"models": [{"id": "a", "max_requests_per_1_minute": 1, "max_tokens_per_1_minute": 2, "max_foo": 3}]}"#,
                "entry 1 ('a'): unknown field 'max_foo'",
            ),
            (&twice, "entry 2 ('a'): the same ID as entry 1"),
            (
                r#"{"models": [{"id": "b", "max_requests_per_1_minute": 0, "max_tokens_per_1_minute": 2}]}"#,
                "entry 1 ('b'): max_requests_per_1_minute must be a positive integer, not 0",
            ),
            (
                r#"{"models": [{"id": "b", "max_requests_per_1_minute": 5, "max_tokens_per_1_minute": -2}]}"#,
                "max_tokens_per_1_minute must be a positive integer, not -2",
            ),
            (
                r#"{"models": [{"id": "b", "max_requests_per_1_minute": 1.5, "max_tokens_per_1_minute": 2}]}"#,
                "must be a positive integer, not 1.5",
            ),
            (
                r#"{"models": [{"id": "b", "max_requests_per_1_minute": "10", "max_tokens_per_1_minute": 2}]}"#,
                "must be a positive integer, not \"10\"",
            ),
            (
                r#"{"models": [{"id": "b", "max_requests_per_1_minute": 10}]}"#,
                "entry 1 ('b'): has no max_tokens_per_1_minute",
            ),
            (
                r#"{"models": [{"max_requests_per_1_minute": 10}]}"#,
                "entry 1: has no 'id'",
            ),
            (
                r#"{"models": [{"id": "a b", "max_requests_per_1_minute": 1, "max_tokens_per_1_minute": 1}]}"#,
                "'id' may hold only",
            ),
            (
                r#"{"models": [{"id": "", "max_requests_per_1_minute": 1, "max_tokens_per_1_minute": 1}]}"#,
                "'id' is empty",
            ),
            (r#"{"models": [7]}"#, "entry 1: must be an object"),
        ];
        for (text, says) in cases {
            let error = refused(text);
            assert!(error.contains(says), "{text}: {error}");
            assert!(error.starts_with("models file m.json: "), "{error}");
        }
    }

    #[test]
    fn pages_walk_the_catalogue_order_both_ways_with_exact_has_more() {
        let c = ModelCatalogue::builtin();
        let ids = |(models, more): (&[CatalogueModel], bool)| {
            (
                models.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
                more,
            )
        };
        let all: Vec<String> = c.models().iter().map(|m| m.id.clone()).collect();
        let req = |limit, after: Option<&str>, before: Option<&str>| PageRequest {
            limit,
            after: after.map(str::to_owned),
            before: before.map(str::to_owned),
            order: crate::page::SortOrder::Asc,
        };
        assert_eq!(
            ids(c.page(&req(100, None, None)).unwrap()),
            (all.clone(), false)
        );
        assert_eq!(
            ids(c.page(&req(2, None, None)).unwrap()),
            (all[..2].to_vec(), true)
        );
        let second = format!("rl-{}", all[1]);
        assert_eq!(
            ids(c.page(&req(2, Some(&second), None)).unwrap()),
            (all[2..4].to_vec(), true)
        );
        let last = format!("rl-{}", all[all.len() - 1]);
        assert_eq!(
            ids(c.page(&req(5, Some(&last), None)).unwrap()),
            (vec![], false)
        );
        let before_last = format!("rl-{}", all[all.len() - 2]);
        assert_eq!(
            ids(c.page(&req(1, Some(&before_last), None)).unwrap()),
            (vec![all[all.len() - 1].clone()], false)
        );
        let fourth = format!("rl-{}", all[3]);
        assert_eq!(
            ids(c.page(&req(2, None, Some(&fourth))).unwrap()),
            (all[1..3].to_vec(), true)
        );
        assert_eq!(
            ids(c.page(&req(5, None, Some(&fourth))).unwrap()),
            (all[..3].to_vec(), false)
        );
        let first = format!("rl-{}", all[0]);
        assert_eq!(
            ids(c.page(&req(5, None, Some(&first))).unwrap()),
            (vec![], false)
        );
        for (after, before, param) in [
            (Some("rl-nope"), None, "after"),
            (Some(all[0].as_str()), None, "after"),
            (None, Some("x"), "before"),
        ] {
            let e = c.page(&req(5, after, before)).unwrap_err();
            assert_eq!(e.param(), Some(param));
        }
    }

    #[test]
    fn a_projects_limit_is_the_organizations_lowered_by_its_override_never_raised() {
        let c = ModelCatalogue::parse(
            r#"{"models": [{"id": "m", "max_requests_per_1_minute": 100, "max_tokens_per_1_minute": 1000}]}"#,
            "m.json",
        )
        .unwrap();
        let m = c.get("m").unwrap();
        assert_eq!(m.effective(None), m.limits);
        let mut o = RateLimits::default();
        o.set(LimitField::RequestsPerMinute, Some(40));
        o.set(LimitField::TokensPerMinute, Some(5000));
        o.set(LimitField::ImagesPerMinute, Some(3));
        let e = m.effective(Some(&o));
        assert_eq!(e.get(LimitField::RequestsPerMinute), Some(40));
        assert_eq!(e.get(LimitField::TokensPerMinute), Some(1000));
        assert_eq!(e.get(LimitField::ImagesPerMinute), None);
    }
}
