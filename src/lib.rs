//! wirefeed: fetch news feeds, clean them, merge wire copies, republish.
pub mod config;
pub mod model;
pub mod parse;
pub mod schedule;
