//! Legacy v2 refunds (docs/protocol.md "Legacy v2 refund", WeChat Pay's v2 refund documentation):
//! XML over HTTPS, an MD5 or HMAC-SHA256 `sign` with the v2 API key, and the merchant's
//! client certificate (mutual TLS) on the apply call.
//!
//! The path of a v2 refund, top-down: [`V2RefundRequest`] → [`validate`] → [`request`]
//! (sans-IO, signed by [`sign`], serialised by [`xml`]) → transport (mutual TLS) →
//! [`response`] (`return_code`, `sign`, `result_code`) → [`V2Refund`]. Notifications:
//! [`notify`] (`req_info`: AES-256-ECB under MD5 of the API key).

pub mod client;
pub mod config;
pub mod model;
pub mod notify;
pub mod request;
pub mod response;
pub mod sign;
pub mod validate;
pub mod xml;

pub use client::V2RefundClient;
pub use config::{V2Config, V2ConfigBuilder};
pub use model::*;
pub use notify::{v2_notification_ack_failure, v2_notification_ack_success};
pub use sign::V2SignType;

/// The `User-Agent` of v2 requests.
pub const USER_AGENT: &str = concat!("wechatpay-refund/", env!("CARGO_PKG_VERSION"), " (v2)");
