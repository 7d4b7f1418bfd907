//! wirefeed: fetch news feeds, clean them, merge wire copies, republish.
pub mod clean;
pub mod config;
pub mod model;
pub mod parse;
pub mod schedule;
pub mod store;
