//! Qipan's integration tests: one binary, every test on a fresh database of the engine that
//! `QIPAN_TEST_ENGINE` names (`sqlite`, the default, or `postgres` with `QIPAN_TEST_PG_URL`).
//! `scripts/test` runs this binary once per engine.

mod helpers;

mod accounts;
mod api;
mod audit;
mod authz_matrix;
mod backup;
mod browser;
mod bulk;
mod catalogue;
mod cli;
mod crash;
mod exchange;
mod factors;
mod failover;
mod limits;
mod load;
mod pages;
mod persons;
mod plans;
mod quality;
mod reports;
mod roster;
mod sealing;
mod store_story;
mod supervision;
mod tasks;
mod worklist;
