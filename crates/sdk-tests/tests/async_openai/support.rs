//! The client pointed at a test server, and what the suites share.

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::Client;
use orgadmin_testkit::TestServer;

pub type Sdk = Client<OpenAIConfig>;

/// The client for `server`, authenticated with `key`. The organization and project headers are
/// left out even if the environment names some (`OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`).
pub fn client_as(server: &TestServer, key: &str) -> Sdk {
    Client::with_config(
        OpenAIConfig::new()
            .with_api_base(format!("{}/v1", server.base_url))
            .with_api_key(key)
            .with_org_id("")
            .with_project_id(""),
    )
}

/// The client for `server` with the owner key.
pub fn client(server: &TestServer) -> Sdk {
    client_as(server, &server.owner_key)
}

/// A refusal as the client reports it: the status and the envelope's `code` (`None` for null).
#[track_caller]
pub fn refusal<T: std::fmt::Debug>(result: Result<T, OpenAIError>) -> (u16, Option<String>) {
    match result {
        Err(OpenAIError::ApiError(e)) => {
            assert_eq!(
                e.api_error.r#type.as_deref(),
                Some("invalid_request_error"),
                "{e}"
            );
            assert!(!e.api_error.message.is_empty(), "{e}");
            (e.status_code.as_u16(), e.api_error.code)
        }
        other => panic!("expected a refusal in the error envelope, got {other:?}"),
    }
}

/// The refusal is a 404 `not_found`.
#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(result: Result<T, OpenAIError>) {
    assert_eq!(refusal(result), (404, Some("not_found".to_owned())));
}

/// A list envelope as the official spec has it (`has_more` a boolean), for the lists whose type
/// in the client is stricter than the spec (see where it is used).
#[derive(Debug, serde::Deserialize)]
pub struct SpecList<T> {
    pub object: String,
    pub data: Vec<T>,
    pub first_id: Option<String>,
    pub last_id: Option<String>,
    pub has_more: bool,
}

impl<T> SpecList<T> {
    pub fn ids<'a>(&'a self, id: impl Fn(&'a T) -> &'a str) -> Vec<&'a str> {
        self.data.iter().map(id).collect()
    }
}
