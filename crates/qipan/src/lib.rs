//! Qipan (棋盘): the application — use cases (`service`), the web layer (`web`) and the
//! command line (`cli`). SQL lives in the `store` crate and rules in the `domain` crate; this
//! crate wires them together and never writes SQL itself.

// The OpenAPI document is one `json!` literal, deeper than the default macro recursion allows.
#![recursion_limit = "512"]

pub mod cli;
pub mod demo;
pub mod demo_exchange;
pub mod demo_people;
pub mod i18n;
pub mod service;
pub mod telemetry;
pub mod web;
