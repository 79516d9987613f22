//! What a project may use: its model permissions (an allow or a deny list of catalogue models),
//! its hosted tools and its rate limits per model, with the rules that check a change of each.
//! Data only: nothing here or anywhere in orgadmin enforces them yet.

use crate::catalogue::{CatalogueModel, LimitField, ModelCatalogue, RateLimits};
use crate::error::DomainError;
use crate::text::clip_to;

/// Whether a project's model list names what it may use or what it may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelPermissionMode {
    AllowList,
    DenyList,
}

impl ModelPermissionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelPermissionMode::AllowList => "allow_list",
            ModelPermissionMode::DenyList => "deny_list",
        }
    }

    /// Stored values are always one of the two; anything else reads as the deny list.
    pub fn from_stored(raw: &str) -> Self {
        Self::parse(raw, "mode").unwrap_or(ModelPermissionMode::DenyList)
    }

    pub fn parse(raw: &str, param: &str) -> Result<Self, DomainError> {
        match raw {
            "allow_list" => Ok(ModelPermissionMode::AllowList),
            "deny_list" => Ok(ModelPermissionMode::DenyList),
            other => Err(DomainError::invalid(
                param,
                format!(
                    "'{}' is not a mode; use 'allow_list' or 'deny_list'.",
                    crate::text::clip(other)
                ),
            )),
        }
    }
}

/// A project's model permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPermissions {
    pub mode: ModelPermissionMode,
    pub model_ids: Vec<String>,
}

impl ModelPermissions {
    /// What a project without a policy has: nothing denied.
    pub fn unrestricted() -> Self {
        Self {
            mode: ModelPermissionMode::DenyList,
            model_ids: Vec::new(),
        }
    }

    /// A new policy: every model ID must be in the catalogue (those that are not are named, in
    /// the order given); a model given twice is kept once, where it first appears.
    pub fn new(
        catalogue: &ModelCatalogue,
        mode: ModelPermissionMode,
        ids: Vec<String>,
    ) -> Result<Self, DomainError> {
        let mut kept: Vec<String> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for id in ids {
            if catalogue.get(&id).is_none() {
                if !unknown.contains(&id) {
                    unknown.push(id);
                }
            } else if !kept.contains(&id) {
                kept.push(id);
            }
        }
        if !unknown.is_empty() {
            const SHOWN: usize = 10;
            let mut named: Vec<String> = unknown
                .iter()
                .take(SHOWN)
                .map(|id| format!("'{}'", clip_to(id, 64)))
                .collect();
            if unknown.len() > SHOWN {
                named.push(format!("and {} more", unknown.len() - SHOWN));
            }
            return Err(DomainError::invalid(
                "model_ids",
                format!(
                    "Not models of this server's catalogue: {}. The catalogue's models are the ones a project's rate limits are listed for.",
                    named.join(", ")
                ),
            ));
        }
        Ok(Self {
            mode,
            model_ids: kept,
        })
    }
}

/// A hosted tool a project may be allowed to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostedTool {
    FileSearch,
    WebSearch,
    ImageGeneration,
    Mcp,
    CodeInterpreter,
}

impl HostedTool {
    /// Every tool, in the official schema's order.
    pub const ALL: [HostedTool; 5] = [
        HostedTool::FileSearch,
        HostedTool::WebSearch,
        HostedTool::ImageGeneration,
        HostedTool::Mcp,
        HostedTool::CodeInterpreter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HostedTool::FileSearch => "file_search",
            HostedTool::WebSearch => "web_search",
            HostedTool::ImageGeneration => "image_generation",
            HostedTool::Mcp => "mcp",
            HostedTool::CodeInterpreter => "code_interpreter",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Which hosted tools a project may use; every one until a change says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostedTools([bool; 5]);

impl Default for HostedTools {
    fn default() -> Self {
        HostedTools([true; 5])
    }
}

impl HostedTools {
    pub fn enabled(&self, tool: HostedTool) -> bool {
        self.0[tool as usize]
    }

    pub fn set(&mut self, tool: HostedTool, enabled: bool) {
        self.0[tool as usize] = enabled;
    }
}

/// The tools a change names, each with whether it is enabled; the others stay as they are.
pub type HostedToolsChange = Vec<(HostedTool, bool)>;

/// A change of a project's rate limit for `model`: each given field must be one the model has,
/// and a positive integer no greater than the organization's limit (the catalogue's): a project
/// never gets more than its organization. Returns the fields to store.
pub fn rate_limit_change(
    model: &CatalogueModel,
    given: &[(LimitField, i64)],
) -> Result<RateLimits, DomainError> {
    if given.is_empty() {
        return Err(DomainError::missing_one_of(
            LimitField::RequestsPerMinute.name(),
            format!(
                "Give at least one limit to change: {}.",
                model.limit_names()
            ),
        ));
    }
    let mut change = RateLimits::default();
    for &(field, value) in given {
        let Some(ceiling) = model.limits.get(field) else {
            return Err(DomainError::invalid(
                field.name(),
                format!(
                    "Model {} has no {}; its limits are {}.",
                    model.id,
                    field.name(),
                    model.limit_names()
                ),
            ));
        };
        if value < 1 || value > ceiling {
            return Err(DomainError::invalid(
                field.name(),
                format!(
                    "{} must be from 1 to {ceiling}, the organization's limit for {}; not {value}.",
                    field.name(),
                    model.id
                ),
            ));
        }
        change.set(field, Some(value));
    }
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> ModelCatalogue {
        ModelCatalogue::parse(
            r#"{"models": [
                {"id": "a", "max_requests_per_1_minute": 100, "max_tokens_per_1_minute": 1000},
                {"id": "img", "max_requests_per_1_minute": 10, "max_tokens_per_1_minute": 10, "max_images_per_1_minute": 5}
            ]}"#,
            "t.json",
        )
        .unwrap()
    }

    #[test]
    fn a_model_list_keeps_each_model_once_in_first_order_and_names_unknown_ones() {
        let c = catalogue();
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let p = ModelPermissions::new(
            &c,
            ModelPermissionMode::AllowList,
            ids(&["img", "a", "img"]),
        )
        .unwrap();
        assert_eq!(p.model_ids, ids(&["img", "a"]));
        let e = ModelPermissions::new(
            &c,
            ModelPermissionMode::DenyList,
            ids(&["a", "x", "y", "x"]),
        )
        .unwrap_err();
        assert_eq!(e.param(), Some("model_ids"));
        assert!(e.to_string().contains("'x', 'y'."), "{e}");
    }

    #[test]
    fn a_rate_limit_change_stays_within_the_model_and_the_organization() {
        let c = catalogue();
        let a = c.get("a").unwrap();
        let change = rate_limit_change(a, &[(LimitField::RequestsPerMinute, 100)]).unwrap();
        assert_eq!(change.get(LimitField::RequestsPerMinute), Some(100));
        assert_eq!(change.get(LimitField::TokensPerMinute), None);
        for (field, value) in [
            (LimitField::RequestsPerMinute, 101),
            (LimitField::RequestsPerMinute, 0),
            (LimitField::TokensPerMinute, -1),
            (LimitField::ImagesPerMinute, 1),
        ] {
            let e = rate_limit_change(a, &[(field, value)]).unwrap_err();
            assert_eq!(e.param(), Some(field.name()), "{e}");
        }
        assert!(rate_limit_change(a, &[]).is_err());
        let img = c.get("img").unwrap();
        assert!(rate_limit_change(img, &[(LimitField::ImagesPerMinute, 5)]).is_ok());
    }
}
