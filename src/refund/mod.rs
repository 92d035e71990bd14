//! The three refund operations, top-down: records ([`model`]) → validation ([`validate`]) →
//! signed request building ([`request`], sans-IO) → response verification and parsing
//! ([`response`], sans-IO).

pub mod model;
pub mod request;
pub mod response;
pub mod validate;
