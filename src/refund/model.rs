//! Typed records of the three refund operations (WeChat Pay's API pages for apply refund, query
//! refund and abnormal refund; docs/protocol.md). Money is always integer fen (`i64`).
//!
//! Response fields WeChat Pay's API pages mark 必填 are required: a body without one is a `Decode` error
//! naming the field, never a silent 0 fen; the optional ones are `Option`.
//!
//! Enums coming from the server are open (`src/wire.rs`): an unexpected value never breaks
//! parsing and is kept as received in `Unknown(raw)`.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

use crate::wire::wire_enum;

wire_enum! {
    /// Refund status. `PROCESSING` → `SUCCESS` | `CLOSED` | `ABNORMAL`; `ABNORMAL` is not
    /// final (apply-abnormal-refund moves it back to `PROCESSING`).
    RefundStatus {
        /// Accepted, being processed. A 200 on apply means this, not "refunded".
        Processing = "PROCESSING",
        /// Refunded.
        Success = "SUCCESS",
        /// Closed without refunding.
        Closed = "CLOSED",
        /// The original account could not receive the refund (card cancelled or frozen):
        /// use `apply_abnormal_refund`.
        Abnormal = "ABNORMAL",
    }
}

wire_enum! {
    /// Where the money goes back.
    RefundChannel {
        /// Back the original way.
        Original = "ORIGINAL",
        /// To the user's balance.
        Balance = "BALANCE",
        /// The original account failed; to another balance account.
        OtherBalance = "OTHER_BALANCE",
        /// The original card failed; to another bank card (after an abnormal refund).
        OtherBankcard = "OTHER_BANKCARD",
    }
}

wire_enum! {
    /// Funds account a refund was paid from (responses).
    FundsAccount {
        /// Unsettled funds.
        Unsettled = "UNSETTLED",
        /// Available balance.
        Available = "AVAILABLE",
        /// Unavailable balance.
        Unavailable = "UNAVAILABLE",
        /// Operation account.
        Operation = "OPERATION",
        /// Basic account (available + unavailable).
        Basic = "BASIC",
        /// Digital RMB basic account.
        EcnyBasic = "ECNY_BASIC",
    }
}

wire_enum! {
    /// Funds account requested for a refund: only `AVAILABLE` or `UNSETTLED` may be sent.
    RequestFundsAccount {
        /// From the available balance (old funds-flow merchants).
        Available = "AVAILABLE",
        /// From unsettled funds (travel deposit refunds).
        Unsettled = "UNSETTLED",
    }
}

wire_enum! {
    /// Account type of an `amount.from` entry.
    FromAccount {
        /// Available balance.
        Available = "AVAILABLE",
        /// Unavailable balance.
        Unavailable = "UNAVAILABLE",
    }
}

wire_enum! {
    /// Scope of a promotion (coupon).
    PromotionScope {
        /// Whole-order coupon.
        Global = "GLOBAL",
        /// Single-item coupon.
        Single = "SINGLE",
    }
}

wire_enum! {
    /// Funding type of a promotion (coupon).
    PromotionType {
        /// Pre-funded coupon (older name).
        Cash = "CASH",
        /// Not pre-funded coupon (older name).
        Nocash = "NOCASH",
        /// Coupon (WeChat Pay's own example in the apply-refund page, and the official SDKs).
        Coupon = "COUPON",
        /// Discount (the official SDKs).
        Discount = "DISCOUNT",
    }
}

wire_enum! {
    /// How an abnormal refund is resolved.
    AbnormalRefundKind {
        /// To the user's bank card: needs `bank_type`, `bank_account`, `real_name`.
        UserBankCard = "USER_BANK_CARD",
        /// To the merchant's bank account: none of them.
        MerchantBankCard = "MERCHANT_BANK_CARD",
    }
}

wire_enum! {
    /// The `event_type` of a refund notification.
    NotificationEventType {
        /// The refund succeeded.
        RefundSuccess = "REFUND.SUCCESS",
        /// The refund became abnormal.
        RefundAbnormal = "REFUND.ABNORMAL",
        /// The refund was closed.
        RefundClosed = "REFUND.CLOSED",
    }
}

/// One `amount.from` entry: which account pays how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct FundsFrom {
    /// Account type.
    pub account: FromAccount,
    /// Amount in fen.
    pub amount: i64,
}

/// `amount` of an apply-refund request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct RefundAmountInput {
    /// Amount to refund, in fen (≥ 1, ≤ `total`).
    pub refund: i64,
    /// Total of the original order, in fen.
    pub total: i64,
    /// Currency; only `CNY`.
    #[cfg_attr(feature = "ffi", uniffi(default = "CNY"))]
    pub currency: String,
    /// Accounts to refund from — `amount.from` on the wire (optional; amounts must sum to
    /// `refund`). Named `funds_from` here because `from` is a keyword in Python.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub funds_from: Vec<FundsFrom>,
}

impl RefundAmountInput {
    /// `refund` of `total` fen in CNY.
    pub fn new(refund: i64, total: i64) -> Self {
        Self {
            refund,
            total,
            currency: "CNY".into(),
            funds_from: Vec::new(),
        }
    }
}

/// A goods line of an apply-refund request (must match the order's goods_detail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct GoodsDetailInput {
    /// Merchant-side goods id given at order time.
    pub merchant_goods_id: String,
    /// Unit price in fen.
    pub unit_price: i64,
    /// Amount refunded for this line, in fen.
    pub refund_amount: i64,
    /// Quantity returned.
    pub refund_quantity: i64,
    /// WeChat Pay goods id, if any.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub wechatpay_goods_id: Option<String>,
    /// Goods name.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub goods_name: Option<String>,
}

/// Apply for a refund: `POST /v3/refund/domestic/refunds`.
///
/// Exactly one of `transaction_id` / `out_trade_no` identifies the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct CreateRefundRequest {
    /// Merchant refund number, unique per refund: 1–64 of `[0-9A-Za-z_-|*@]`. Retrying with
    /// the same value is safe: WeChat Pay refunds once per `out_refund_no`.
    pub out_refund_no: String,
    /// Amounts.
    pub amount: RefundAmountInput,
    /// WeChat Pay order id.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub transaction_id: Option<String>,
    /// Merchant order number: 1–32 of `[0-9A-Za-z_-|*]`.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub out_trade_no: Option<String>,
    /// Sub-merchant id (service-provider mode).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub sub_mchid: Option<String>,
    /// Reason shown to the user, ≤ 80 bytes.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub reason: Option<String>,
    /// Callback URL for the refund result (https, ≤ 256 bytes, no query string).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub notify_url: Option<String>,
    /// Funds account to refund from (`AVAILABLE` or `UNSETTLED`).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub funds_account: Option<RequestFundsAccount>,
    /// Goods to refund (optional).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub goods_detail: Vec<GoodsDetailInput>,
}

impl CreateRefundRequest {
    /// A refund of `refund` fen of the order `out_trade_no` (whose total is `total` fen).
    pub fn by_out_trade_no(
        out_trade_no: impl Into<String>,
        out_refund_no: impl Into<String>,
        refund: i64,
        total: i64,
    ) -> Self {
        Self {
            out_refund_no: out_refund_no.into(),
            amount: RefundAmountInput::new(refund, total),
            transaction_id: None,
            out_trade_no: Some(out_trade_no.into()),
            sub_mchid: None,
            reason: None,
            notify_url: None,
            funds_account: None,
            goods_detail: Vec::new(),
        }
    }

    /// A refund of `refund` fen of the WeChat Pay order `transaction_id`.
    pub fn by_transaction_id(
        transaction_id: impl Into<String>,
        out_refund_no: impl Into<String>,
        refund: i64,
        total: i64,
    ) -> Self {
        Self {
            transaction_id: Some(transaction_id.into()),
            out_trade_no: None,
            ..Self::by_out_trade_no("", out_refund_no, refund, total)
        }
    }
}

/// Apply an abnormal refund: `POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund`.
///
/// `bank_account` and `real_name` are given in plain text; the library encrypts them with
/// the WeChat Pay key (RSA-OAEP SHA-1) and names that key in `Wechatpay-Serial`.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
#[cfg_attr(feature = "ffi", uniffi::export(Debug, Display))]
pub struct AbnormalRefundRequest {
    /// WeChat Pay refund id (`Refund.refund_id`).
    pub refund_id: String,
    /// The merchant refund number.
    pub out_refund_no: String,
    /// How to resolve it.
    pub kind: AbnormalRefundKind,
    /// Sub-merchant id (service-provider mode).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub sub_mchid: Option<String>,
    /// Bank type, e.g. `ICBC_DEBIT` (USER_BANK_CARD only; debit cards of listed banks).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub bank_type: Option<String>,
    /// Bank card number in plain text (USER_BANK_CARD only); encrypted before sending.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub bank_account: Option<String>,
    /// Account holder's name in plain text (USER_BANK_CARD only); encrypted before sending.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub real_name: Option<String>,
}

impl fmt::Debug for AbnormalRefundRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("AbnormalRefundRequest")
            .field("refund_id", &self.refund_id)
            .field("out_refund_no", &self.out_refund_no)
            .field("kind", &self.kind)
            .field("sub_mchid", &self.sub_mchid)
            .field("bank_type", &self.bank_type)
            .field("bank_account", &redact(&self.bank_account))
            .field("real_name", &redact(&self.real_name))
            .finish()
    }
}

impl AbnormalRefundRequest {
    /// Refund to the user's debit card (`bank_type` such as `ICBC_DEBIT`); the account and the
    /// name are given in plain text and encrypted by the library.
    pub fn to_user_bank_card(
        refund_id: impl Into<String>,
        out_refund_no: impl Into<String>,
        bank_type: impl Into<String>,
        bank_account: impl Into<String>,
        real_name: impl Into<String>,
    ) -> Self {
        Self {
            refund_id: refund_id.into(),
            out_refund_no: out_refund_no.into(),
            kind: AbnormalRefundKind::UserBankCard,
            sub_mchid: None,
            bank_type: Some(bank_type.into()),
            bank_account: Some(bank_account.into()),
            real_name: Some(real_name.into()),
        }
    }

    /// Refund to the merchant's own bank account.
    pub fn to_merchant_bank_card(
        refund_id: impl Into<String>,
        out_refund_no: impl Into<String>,
    ) -> Self {
        Self {
            refund_id: refund_id.into(),
            out_refund_no: out_refund_no.into(),
            kind: AbnormalRefundKind::MerchantBankCard,
            sub_mchid: None,
            bank_type: None,
            bank_account: None,
            real_name: None,
        }
    }
}

/// Printed without the bank account and name (they are personal data).
impl fmt::Display for AbnormalRefundRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Accept a JSON string or number as a string (the docs disagree on some id types).
///
/// A visitor, not an `#[serde(untagged)]` enum: untagged buffers every value and builds (then
/// drops) a serde error for each numeric id before trying the next variant.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string, a number or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            // Formatted as serde_json formats a number (JSON has no NaN or infinity).
            serde_json::Number::from_f64(v)
                .map(|n| Some(n.to_string()))
                .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Float(v), &self))
        }
    }
    d.deserialize_option(V)
}

/// `amount` of a refund response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct RefundAmount {
    /// Order total, in fen.
    pub total: i64,
    /// Refund amount, in fen.
    pub refund: i64,
    /// Accounts refunded from — `amount.from` on the wire (only when requested). Named
    /// `funds_from` here because `from` is a keyword in Python.
    #[serde(default, rename = "from")]
    pub funds_from: Vec<FundsFrom>,
    /// What the user actually paid, in fen.
    pub payer_total: i64,
    /// Cash the user receives back, in fen.
    pub payer_refund: i64,
    /// Refund less non-prefunded coupons, in fen.
    pub settlement_refund: i64,
    /// Order total less non-prefunded coupons, in fen.
    pub settlement_total: i64,
    /// Coupon part of the refund, in fen.
    pub discount_refund: i64,
    /// Currency (`CNY`).
    pub currency: String,
    /// Fee refunded, in fen.
    #[serde(default)]
    pub refund_fee: Option<i64>,
}

/// A goods line of a promotion in a refund response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct PromotionGoodsDetail {
    /// Merchant goods id.
    #[serde(default)]
    pub merchant_goods_id: Option<String>,
    /// WeChat Pay goods id.
    #[serde(default, deserialize_with = "string_or_number")]
    pub wechatpay_goods_id: Option<String>,
    /// Goods id (documented as an integer, sent as either).
    #[serde(default, deserialize_with = "string_or_number")]
    pub goods_id: Option<String>,
    /// Goods name.
    #[serde(default)]
    pub goods_name: Option<String>,
    /// Unit price, in fen.
    #[serde(default)]
    pub unit_price: i64,
    /// Amount refunded, in fen.
    #[serde(default)]
    pub refund_amount: Option<i64>,
    /// Quantity refunded.
    #[serde(default)]
    pub refund_quantity: Option<i64>,
    /// Quantity.
    #[serde(default)]
    pub quantity: Option<i64>,
    /// Discount on this line, in fen.
    #[serde(default)]
    pub discount_amount: Option<i64>,
    /// Remark.
    #[serde(default)]
    pub goods_remark: Option<String>,
}

/// A coupon used by the order (`promotion_detail[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct Promotion {
    /// Coupon id (`coupon_id`, called `promotion_id` in some responses).
    #[serde(default, alias = "promotion_id", deserialize_with = "string_or_number")]
    pub coupon_id: Option<String>,
    /// Coupon name.
    #[serde(default)]
    pub name: Option<String>,
    /// Scope.
    #[serde(default)]
    pub scope: Option<PromotionScope>,
    /// Funding type (`type` on the wire).
    #[serde(default, rename = "type")]
    pub promotion_type: Option<PromotionType>,
    /// Coupon amount, in fen.
    #[serde(default)]
    pub amount: i64,
    /// Coupon refund amount, in fen.
    #[serde(default)]
    pub refund_amount: Option<i64>,
    /// Stock (batch) id.
    #[serde(default, deserialize_with = "string_or_number")]
    pub stock_id: Option<String>,
    /// WeChat Pay's contribution, in fen.
    #[serde(default)]
    pub wechatpay_contribute: Option<i64>,
    /// Merchant's contribution, in fen.
    #[serde(default)]
    pub merchant_contribute: Option<i64>,
    /// Other contribution, in fen.
    #[serde(default)]
    pub other_contribute: Option<i64>,
    /// Currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// Goods lines (single-item coupons).
    #[serde(default)]
    pub goods_detail: Vec<PromotionGoodsDetail>,
}

/// A refund as WeChat Pay reports it (apply, query and abnormal-refund responses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
#[cfg_attr(feature = "ffi", uniffi::export(Debug))]
pub struct Refund {
    /// WeChat Pay refund id.
    pub refund_id: String,
    /// Merchant refund number.
    pub out_refund_no: String,
    /// WeChat Pay order id.
    pub transaction_id: String,
    /// Merchant order number.
    pub out_trade_no: String,
    /// Refund channel.
    pub channel: RefundChannel,
    /// Where the money goes, in words (e.g. `招商银行信用卡0403`).
    pub user_received_account: String,
    /// When it succeeded (RFC 3339), for `SUCCESS`.
    #[serde(default)]
    pub success_time: Option<String>,
    /// When WeChat Pay accepted it (RFC 3339).
    pub create_time: String,
    /// Status.
    pub status: RefundStatus,
    /// Funds account used.
    pub funds_account: FundsAccount,
    /// Amounts.
    pub amount: RefundAmount,
    /// Coupons involved.
    #[serde(default)]
    pub promotion_detail: Vec<Promotion>,
    /// The verified response body, exactly as received (for values this version does not model).
    #[serde(skip)]
    pub raw_json: String,
}

/// Amounts in a refund notification.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct NotificationAmount {
    /// Order total, in fen.
    pub total: i64,
    /// Refund amount, in fen.
    pub refund: i64,
    /// What the user paid, in fen.
    pub payer_total: i64,
    /// Cash refunded to the user, in fen.
    pub payer_refund: i64,
}

/// A verified, decrypted refund notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
#[cfg_attr(feature = "ffi", uniffi::export(Debug))]
pub struct RefundNotification {
    /// Notification id (the same id repeats when WeChat Pay re-sends it).
    pub id: String,
    /// When the notification was created (RFC 3339).
    pub create_time: String,
    /// Event type.
    pub event_type: NotificationEventType,
    /// Summary text (`退款成功`...).
    pub summary: String,
    /// Merchant id (direct merchants).
    pub mchid: Option<String>,
    /// Service provider id (service-provider mode).
    pub sp_mchid: Option<String>,
    /// Sub-merchant id (service-provider mode).
    pub sub_mchid: Option<String>,
    /// Merchant order number.
    pub out_trade_no: String,
    /// WeChat Pay order id.
    pub transaction_id: String,
    /// Merchant refund number.
    pub out_refund_no: String,
    /// WeChat Pay refund id.
    pub refund_id: String,
    /// Refund status.
    pub refund_status: RefundStatus,
    /// When it succeeded (RFC 3339).
    pub success_time: Option<String>,
    /// Where the money went, in words.
    pub user_received_account: String,
    /// Amounts.
    pub amount: NotificationAmount,
    /// The decrypted resource JSON, exactly as decrypted.
    pub raw_json: String,
    /// `true` when this client already returned this notification (the same notification `id`
    /// delivered again, or the same bytes replayed): acknowledge it with success and skip work
    /// already done. Set by `RefundClient::parse_notification` when
    /// `ClientOptions::replay_guard_capacity` is non-zero (remembered per process); always
    /// `false` from the sans-IO `parse_notification_at`. Handle notifications idempotently
    /// anyway (see README, "Notifications").
    pub seen_before: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goods(json: &str) -> Result<PromotionGoodsDetail, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn ids_may_be_strings_or_numbers() {
        let id = |json: &str| goods(json).unwrap().goods_id;
        assert_eq!(id(r#"{"goods_id":"1001"}"#).as_deref(), Some("1001"));
        assert_eq!(id(r#"{"goods_id":1001}"#).as_deref(), Some("1001"));
        assert_eq!(id(r#"{"goods_id":-7}"#).as_deref(), Some("-7"));
        assert_eq!(
            id(r#"{"goods_id":18446744073709551615}"#).as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(id(r#"{"goods_id":1.5}"#).as_deref(), Some("1.5"));
        assert_eq!(id(r#"{"goods_id":"\u0031"}"#).as_deref(), Some("1"));
        assert_eq!(id(r#"{"goods_id":null}"#), None);
        assert_eq!(id(r#"{}"#), None);
        let wechatpay = goods(r#"{"wechatpay_goods_id":42}"#).unwrap();
        assert_eq!(wechatpay.wechatpay_goods_id.as_deref(), Some("42"));
    }

    #[test]
    fn ids_of_other_types_are_refused() {
        for json in [
            r#"{"goods_id":true}"#,
            r#"{"goods_id":[1]}"#,
            r#"{"goods_id":{"a":1}}"#,
        ] {
            let e = goods(json).unwrap_err().to_string();
            assert!(e.contains("a string, a number or null"), "{json}: {e}");
        }
    }
}
