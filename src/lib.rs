//! # wechatpay-refund
//!
//! WeChat Pay APIv3 refunds, done once and right: signing, sensitive-field encryption,
//! request building, sending, response verification and parsing, and refund notifications.
//!
//! The path of a refund, top-down:
//! [`CreateRefundRequest`] → [`refund::validate`] → [`refund::request`] (sans-IO, signed with
//! [`sign`]) → [`HttpTransport`] → [`verify`] → [`refund::response`] → [`Refund`].
//!
//! ```no_run
//! use wechatpay_refund::{ClientConfig, CreateRefundRequest, RefundClient};
//! # #[cfg(not(feature = "ureq-transport"))] fn main() {}
//! # #[cfg(feature = "ureq-transport")]
//! # fn main() -> Result<(), wechatpay_refund::RefundError> {
//! let config = ClientConfig::builder("1900000001", "5157F09EFDC096DE15EBE81A47057A72",
//!         std::fs::read_to_string("apiclient_key.pem").unwrap(), "0123456789abcdef0123456789abcdef")
//!     .wechatpay_public_key("PUB_KEY_ID_0114232134912410000000000000",
//!         std::fs::read_to_string("pub_key.pem").unwrap())
//!     .build()?;
//! let client = RefundClient::new(config.into())?;
//! let refund = client.create_refund(CreateRefundRequest::by_out_trade_no("T20261123001", "R20261123001", 100, 10000))?;
//! println!("{} is {}", refund.out_refund_no, refund.status);
//! # Ok(()) }
//! ```

// The CPython accelerator (`python`, only in the wheel), the JVM fast path (`jvm`, the Kotlin
// library) and the object-handle borrowing they share (`ffi_handle`) are the modules allowed
// `unsafe` (FFI entry points and borrowed object handles).
#![deny(unsafe_code)]
#![warn(missing_docs)]
// RefundError is a flat enum with named fields so that it maps one-to-one onto typed
// exceptions in Python/Kotlin/Swift; its size only matters on the (rare) error path.
#![allow(clippy::result_large_err)]

/// An `impl` block exported through UniFFI under the `ffi` feature, and plain Rust otherwise,
/// for methods that need UniFFI attributes with arguments (defaults): UniFFI reads a
/// `cfg_attr` inside an exported block only when it has no arguments. Each method carries
/// `#[ffi(constructor(...))]` or `#[ffi(method(...))]`, which becomes `#[uniffi::…]`.
macro_rules! ffi_export {
    (impl $t:ty { $(
        $(#[doc = $doc:literal])*
        #[ffi($($ffi:tt)*)]
        $(#[allow($($lint:tt)*)])?
        pub fn $name:ident ( $($args:tt)* ) -> $ret:ty $body:block
    )* }) => {
        #[cfg(feature = "ffi")]
        #[uniffi::export]
        impl $t { $(
            $(#[doc = $doc])*
            #[uniffi::$($ffi)*]
            $(#[allow($($lint)*)])?
            pub fn $name($($args)*) -> $ret $body
        )* }

        #[cfg(not(feature = "ffi"))]
        impl $t { $(
            $(#[doc = $doc])*
            $(#[allow($($lint)*)])?
            pub fn $name($($args)*) -> $ret $body
        )* }
    };
}

pub mod bill;
pub mod certificates;
pub mod client;
pub mod config;
pub mod crypto;
pub mod error;
pub mod events;
#[cfg(any(feature = "python", feature = "jvm"))]
mod ffi_handle;
#[cfg(feature = "jvm")]
mod jvm;
#[cfg(feature = "ledger")]
pub mod ledger;
pub mod metrics;
pub mod notify;
#[cfg(feature = "python")]
mod python;
pub mod ratelimit;
#[cfg(feature = "ledger")]
pub mod reconcile;
pub mod refund;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod sansio;
pub mod sign;
pub mod transport;
pub mod trust;
pub mod v2;
pub mod verify;
mod wire;
#[cfg(test)]
mod wire_gen;

pub use client::{Clock, RefundClient, SystemClock};
pub use config::{
    ApiV3Key, ClientConfig, ClientConfigBuilder, ClientOptions, WechatpayPublicKey,
    BACKUP_BASE_URL, PRODUCTION_BASE_URL,
};
pub use crypto::CryptoBackend;
pub use error::{RefundError, Result, TransportErrorKind};
#[cfg(feature = "ffi")]
pub use events::{
    clear_event_listener, event_level, set_event_level, set_event_listener, Event, EventField,
    EventLevel, EventListener, EventValue,
};
pub use metrics::{stats_to_prometheus, CallCount, LatencyBucket, Stats};
pub use notify::{
    check_notification, notification_ack_failure, notification_ack_success, ExpectedRefund,
    NotificationAck, ReplayGuard,
};
pub use ratelimit::RateLimiter;
pub use refund::model::*;
pub use sansio::*;
pub use sign::{LocalSigner, Signer};
pub use transport::{ClientIdentity, HttpHeader, HttpRequest, HttpResponse, HttpTransport};
#[cfg(feature = "ureq-transport")]
pub use transport::{TransportOptions, UreqTransport};
pub use verify::{KeyRing, KeyStore, PlatformCertificate};

#[cfg(feature = "ffi")]
uniffi::setup_scaffolding!();
