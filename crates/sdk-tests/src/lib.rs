//! No library code: this crate holds the suites that drive orgadmin through the Rust client
//! async-openai (`tests/`). See `tests/support/mod.rs`.
