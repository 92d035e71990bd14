//! `RefundError`: the one error type every public operation returns.
//!
//! Each variant carries what a caller needs to act: the offending field for bad input, the
//! HTTP status / WeChat Pay `code` / `Request-ID` for API errors, and whether retrying the very
//! same request (same `out_refund_no`, identical bytes) is safe.

/// What went wrong with the network exchange itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum TransportErrorKind {
    /// The TCP connection could not be established (refused, unreachable, DNS failure).
    Connect,
    /// Connecting or reading the response took longer than the configured timeout.
    Timeout,
    /// The TLS handshake failed (for example an untrusted or wrong certificate).
    Tls,
    /// The connection broke while sending the request or reading the response.
    Io,
    /// The response body was larger than the configured cap.
    ResponseTooLarge,
    /// The peer did not speak valid HTTP.
    Protocol,
    /// The overall deadline for the call (all attempts together) passed.
    DeadlineExceeded,
    /// The URL could not be used (bad scheme or host).
    InvalidUrl,
    /// Anything else the transport reported.
    Other,
}

impl TransportErrorKind {
    /// Whether a failure of this kind may be retried with the identical request.
    ///
    /// Retrying is safe for every refund operation as long as the bytes are identical
    /// (same `out_refund_no`): WeChat Pay refunds once per `out_refund_no`. What is not worth
    /// retrying are failures that will repeat: a bad URL or a TLS trust failure.
    pub fn is_retryable(self) -> bool {
        !matches!(self, Self::Tls | Self::InvalidUrl | Self::ResponseTooLarge)
    }
}

/// Every failure of the library, typed.
///
/// Field names avoid `message` on purpose (it clashes with `Throwable.message` in Kotlin).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[cfg_attr(feature = "ffi", derive(uniffi::Error))]
#[non_exhaustive]
pub enum RefundError {
    /// A request field broke a rule; nothing was sent.
    #[error("invalid input: {field}: {reason}")]
    InvalidInput {
        /// The offending field, as a JSON path (`amount.refund`, `goods_detail[0].refund_quantity`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The client configuration is unusable (bad key PEM, wrong-length API v3 key, bad URL...).
    #[error("configuration error: {reason}")]
    Config {
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// A response or notification failed signature verification (missing or malformed
    /// headers, wrong key, tampered body). Treat the content as untrusted.
    #[error("signature verification failed: {reason}{}", rid(request_id))]
    Signature {
        /// What failed.
        reason: String,
        /// The `Request-ID` header, when present.
        request_id: Option<String>,
    },

    /// A `WECHATPAY/SIGNTEST/` probe signature: WeChat Pay's deliberate test traffic that a
    /// correct verifier must reject. Answer a probe notification with a failure.
    #[error(
        "probe signature (WECHATPAY/SIGNTEST) rejected as WeChat Pay expects{}",
        rid(request_id)
    )]
    ProbeSignature {
        /// The `Request-ID` header, when present.
        request_id: Option<String>,
    },

    /// The signed timestamp is more than the allowed window (300 s) away from the local clock:
    /// a replay, or a local clock that is wrong.
    #[error("signed timestamp {timestamp} is {}s away from local time {now} (allowed: 300s){}", now.abs_diff(*timestamp), rid(request_id))]
    TimestampOutOfWindow {
        /// The `Wechatpay-Timestamp` received (unix seconds).
        timestamp: i64,
        /// The local clock when it was checked (unix seconds).
        now: i64,
        /// The `Request-ID` header, when present.
        request_id: Option<String>,
    },

    /// The `Wechatpay-Serial` names a key this client does not hold.
    #[error("unknown WeChat Pay key serial {serial:?}: configure that WeChat Pay public key or platform certificate{}", rid(request_id))]
    UnknownSerial {
        /// The serial / public key id the peer named.
        serial: String,
        /// The `Request-ID` header, when present.
        request_id: Option<String>,
    },

    /// WeChat Pay answered with an error status.
    #[error(
        "WeChat Pay API error: HTTP {status} {code}: {error_message}{}{}",
        detail_text(detail_field, detail_issue),
        rid(request_id)
    )]
    Api {
        /// HTTP status code.
        status: u16,
        /// WeChat Pay error `code` (`PARAM_ERROR`, `SYSTEM_ERROR`, ...); empty when the body had none.
        code: String,
        /// WeChat Pay's `message`.
        error_message: String,
        /// `detail.field`, the field WeChat Pay objected to.
        detail_field: Option<String>,
        /// `detail.issue`, why.
        detail_issue: Option<String>,
        /// `detail.location` (`body`, `path`, ...).
        detail_location: Option<String>,
        /// The `Request-ID` header: quote it to WeChat Pay support.
        request_id: Option<String>,
        /// Whether sending the identical request again is safe and may succeed
        /// (429 and 5xx). For 4xx business errors it is false: fix the request instead.
        retryable: bool,
        /// How long to wait before sending it again, in milliseconds, when WeChat Pay said so
        /// (a 429's `Retry-After` header) or the code implies it (429 without the header: one
        /// second, the window of the 150 requests/s limit). `None`: no wait is known (retry
        /// with the usual backoff, or not at all when `retryable` is false). The client's own
        /// retries wait at least this long, within the call's deadline.
        retry_after_ms: Option<u64>,
    },

    /// The request could not be exchanged with the server.
    #[error("transport error ({kind:?}): {reason}")]
    Transport {
        /// What kind of failure.
        kind: TransportErrorKind,
        /// Details from the transport.
        reason: String,
        /// Whether sending the identical request again is safe and may succeed. For a refund
        /// the outcome of a failed exchange is unknown: retry with the same `out_refund_no`,
        /// or query it.
        retryable: bool,
    },

    /// A verified body could not be decoded (not JSON, wrong types, missing fields).
    #[error("could not decode {what}: {reason}{}", rid(request_id))]
    Decode {
        /// What was being decoded (`refund response`, `notification resource`...).
        what: String,
        /// Why it failed.
        reason: String,
        /// The `Request-ID` header, when present.
        request_id: Option<String>,
    },

    /// A notification's encrypted resource could not be decrypted (wrong API v3 key,
    /// tampered ciphertext, wrong associated data, unsupported algorithm).
    #[error("could not decrypt notification resource: {reason}")]
    Decryption {
        /// Why it failed.
        reason: String,
    },

    /// The refund ledger's database failed (locked beyond its busy timeout, full, unreachable,
    /// or a schema this library does not know). Nothing was lost: the ledger's state is what
    /// its last committed transaction says; retry when `retryable`.
    #[error("ledger store error: {reason}")]
    Store {
        /// What failed (never a password).
        reason: String,
        /// Whether the same call may succeed later (locked, busy, unreachable).
        retryable: bool,
    },

    /// A notification does not match the merchant's own record of the refund.
    #[error("notification does not match the merchant record: {field} is {actual:?}, expected {expected:?}")]
    NotificationMismatch {
        /// The field that differs (`mchid`, `out_refund_no`, `amount.refund`, ...).
        field: String,
        /// The merchant's value.
        expected: String,
        /// The notification's value.
        actual: String,
    },

    /// The signer (for example a foreign signer backed by a KMS or Android Keystore) failed.
    #[error("signing failed: {reason}")]
    Signer {
        /// Why it failed.
        reason: String,
    },

    /// A foreign callback (transport or signer implemented in Kotlin/Swift/Python) raised an
    /// unexpected error.
    #[error("callback failed: {reason}")]
    Callback {
        /// The foreign error's text.
        reason: String,
    },

    /// A platform certificate cannot be used: expired or not yet valid, or a downloaded one
    /// failed a check (serial, validity, decryption, signature of the download). A failed
    /// download changes nothing in the configuration.
    #[error("platform certificate {serial}: {reason}{}", rid(request_id))]
    Certificate {
        /// The certificate serial concerned (empty when the problem is the download as a whole).
        serial: String,
        /// What is wrong.
        reason: String,
        /// The `Request-ID` header, when present.
        request_id: Option<String>,
    },

    /// A legacy v2 call failed: `return_code=FAIL` (communication: signature, format,
    /// certificate; `return_msg` says why) or `result_code=FAIL` with `err_code` (business:
    /// `NOTENOUGH`, `REFUND_FEE_MISMATCH`, `SYSTEMERROR`...).
    #[error(
        "WeChat Pay v2 error: {}",
        v2_text(return_code, return_msg, err_code, err_code_des)
    )]
    V2Api {
        /// `FAIL` for a communication failure, `SUCCESS` when the business failed.
        return_code: String,
        /// `return_msg`, when given.
        return_msg: Option<String>,
        /// `err_code` of a business failure.
        err_code: Option<String>,
        /// `err_code_des`: WeChat Pay's description of `err_code`.
        err_code_des: Option<String>,
        /// Whether sending the identical request again (same `out_refund_no`, same parameters)
        /// is safe and may succeed: `SYSTEMERROR`, `BIZERR_NEED_RETRY`, `ORDER_NOT_READY`,
        /// `FREQUENCY_LIMITED`, `INVALID_REQ_TOO_MUCH` (the last ones after a while).
        retryable: bool,
        /// How long to wait before sending it again, in milliseconds, when the code implies a
        /// wait: `INVALID_REQ_TOO_MUCH` 60 000 (WeChat Pay's documentation: blocked for a minute),
        /// `FREQUENCY_LIMITED` 1 000, `ORDER_NOT_READY` 5 000. `None` for codes retried at once
        /// (`SYSTEMERROR`, `BIZERR_NEED_RETRY`) and for final ones. The client's own retries
        /// wait at least this long, within the call's deadline.
        retry_after_ms: Option<u64>,
    },
}

fn v2_text(
    return_code: &str,
    return_msg: &Option<String>,
    err_code: &Option<String>,
    err_code_des: &Option<String>,
) -> String {
    match (err_code, err_code_des, return_msg) {
        (Some(c), Some(d), _) => format!("{c}: {d}"),
        (Some(c), None, _) => c.clone(),
        (None, _, Some(m)) => format!("return_code {return_code}: {m}"),
        (None, _, None) => format!("return_code {return_code}"),
    }
}

fn rid(request_id: &Option<String>) -> String {
    match request_id {
        Some(id) => format!(" (Request-ID {id})"),
        None => String::new(),
    }
}

fn detail_text(field: &Option<String>, issue: &Option<String>) -> String {
    match (field, issue) {
        (Some(f), Some(i)) => format!(" [field {f}: {i}]"),
        (Some(f), None) => format!(" [field {f}]"),
        (None, Some(i)) => format!(" [{i}]"),
        (None, None) => String::new(),
    }
}

impl RefundError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn config(reason: impl Into<String>) -> Self {
        Self::Config {
            reason: reason.into(),
        }
    }

    pub(crate) fn signature(reason: impl Into<String>, request_id: Option<String>) -> Self {
        Self::Signature {
            reason: reason.into(),
            request_id,
        }
    }

    pub(crate) fn decode(
        what: impl Into<String>,
        reason: impl Into<String>,
        request_id: Option<String>,
    ) -> Self {
        Self::Decode {
            what: what.into(),
            reason: reason.into(),
            request_id,
        }
    }

    /// A transport error of this kind, retryable as the kind says (for custom transports).
    pub fn transport(kind: TransportErrorKind, reason: impl Into<String>) -> Self {
        Self::Transport {
            kind,
            reason: reason.into(),
            retryable: kind.is_retryable(),
        }
    }

    /// How long to wait before sending the identical request again, in milliseconds, when
    /// WeChat Pay said so or the error code implies it (`Api` and `V2Api` only).
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Self::Api { retry_after_ms, .. } | Self::V2Api { retry_after_ms, .. } => {
                *retry_after_ms
            }
            _ => None,
        }
    }

    /// The `Request-ID` WeChat Pay gave this exchange, when known.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Signature { request_id, .. }
            | Self::ProbeSignature { request_id }
            | Self::TimestampOutOfWindow { request_id, .. }
            | Self::UnknownSerial { request_id, .. }
            | Self::Api { request_id, .. }
            | Self::Decode { request_id, .. }
            | Self::Certificate { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }
}

// Exported to every language as methods of the error: Python `e.is_outcome_unknown()`,
// Kotlin `e.isOutcomeUnknown()`, Swift `e.isOutcomeUnknown()`.
#[cfg_attr(feature = "ffi", uniffi::export)]
impl RefundError {
    /// Whether sending the identical request again is safe and may succeed.
    ///
    /// True for transport failures that can pass, 429 and 5xx API errors. Verification
    /// failures of a response are not retried automatically (they point at tampering or a
    /// wrong clock), but retrying them with the same `out_refund_no` is still safe.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { retryable, .. }
            | Self::Transport { retryable, .. }
            | Self::V2Api { retryable, .. }
            | Self::Store { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// Whether the request may have been processed even though this error came back: the
    /// connection failed after sending, the server failed (5xx), or the response could not be
    /// trusted (signature, timestamp, serial, probe, undecodable body). For a refund the outcome
    /// is then unknown: query it, or send it again with the same `out_refund_no` (WeChat Pay
    /// refunds once per `out_refund_no`). False when nothing was processed for sure (bad input,
    /// configuration, 4xx, 429, a failure before sending).
    pub fn is_outcome_unknown(&self) -> bool {
        match self {
            Self::Transport { kind, .. } => !matches!(
                kind,
                TransportErrorKind::InvalidUrl
                    | TransportErrorKind::Tls
                    | TransportErrorKind::Connect
            ),
            Self::Api { status, .. } => *status >= 500,
            Self::V2Api { err_code, .. } => err_code.as_deref() == Some("SYSTEMERROR"),
            Self::Signature { .. }
            | Self::ProbeSignature { .. }
            | Self::TimestampOutOfWindow { .. }
            | Self::UnknownSerial { .. }
            | Self::Certificate { .. }
            | Self::Decode { .. } => true,
            _ => false,
        }
    }
}

#[cfg(feature = "ffi")]
impl From<uniffi::UnexpectedUniFFICallbackError> for RefundError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Callback { reason: e.reason }
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = RefundError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_strings_are_pinned() {
        let e = RefundError::invalid("amount.refund", "must be at least 1 fen");
        assert_eq!(
            e.to_string(),
            "invalid input: amount.refund: must be at least 1 fen"
        );
        let e = RefundError::Api {
            status: 400,
            code: "PARAM_ERROR".into(),
            error_message: "参数错误".into(),
            detail_field: Some("out_refund_no".into()),
            detail_issue: Some("too long".into()),
            detail_location: Some("body".into()),
            request_id: Some("REQ1".into()),
            retryable: false,
            retry_after_ms: None,
        };
        assert_eq!(
            e.to_string(),
            "WeChat Pay API error: HTTP 400 PARAM_ERROR: 参数错误 [field out_refund_no: too long] (Request-ID REQ1)"
        );
        let e = RefundError::TimestampOutOfWindow {
            timestamp: 1000,
            now: 1400,
            request_id: None,
        };
        assert_eq!(
            e.to_string(),
            "signed timestamp 1000 is 400s away from local time 1400 (allowed: 300s)"
        );
        let e = RefundError::UnknownSerial {
            serial: "PUB_KEY_ID_X".into(),
            request_id: Some("R".into()),
        };
        assert!(e.to_string().contains("\"PUB_KEY_ID_X\""));
        assert_eq!(e.request_id(), Some("R"));
    }

    #[test]
    fn retryability() {
        assert!(RefundError::transport(TransportErrorKind::Timeout, "t").is_retryable());
        assert!(RefundError::transport(TransportErrorKind::Io, "t").is_retryable());
        assert!(!RefundError::transport(TransportErrorKind::Tls, "t").is_retryable());
        assert!(!RefundError::invalid("f", "r").is_retryable());
        assert!(!RefundError::signature("x", None).is_retryable());
    }
}
