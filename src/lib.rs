//! wirefeed: fetch news feeds, clean them, merge wire copies, republish.
pub mod clean;
pub mod config;
pub mod daemon;
pub mod fetch;
pub mod ingest;
pub mod model;
pub mod parse;
pub mod publish;
pub mod runner;
pub mod schedule;
pub mod store;
