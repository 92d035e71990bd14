//! Typed records of the legacy v2 refund API (WeChat Pay's v2 refund documentation). Money is
//! integer fen (`i64`); the server's enums are open (an unknown value is kept as received).

use crate::wire::wire_enum;

wire_enum! {
    /// v2 refund status (`refund_status_$n` of a query, `refund_status` of a notification).
    V2RefundStatus {
        /// Refunded.
        Success = "SUCCESS",
        /// Abnormal: the money could not go back the original way (resolve it in the merchant
        /// platform, or with the v3 abnormal-refund API).
        Change = "CHANGE",
        /// Closed without refunding.
        Refundclose = "REFUNDCLOSE",
        /// Accepted, being processed.
        Processing = "PROCESSING",
    }
}

wire_enum! {
    /// Funds source of a v2 refund (`refund_account`; old funds-flow merchants only).
    V2RefundAccount {
        /// Unsettled funds (the default).
        RefundSourceUnsettledFunds = "REFUND_SOURCE_UNSETTLED_FUNDS",
        /// Available balance.
        RefundSourceRechargeFunds = "REFUND_SOURCE_RECHARGE_FUNDS",
    }
}

wire_enum! {
    /// Where a v2 refund goes (`refund_channel_$n`).
    V2RefundChannel {
        /// Back the original way.
        Original = "ORIGINAL",
        /// To the user's balance.
        Balance = "BALANCE",
        /// The original account failed; to another balance account.
        OtherBalance = "OTHER_BALANCE",
        /// The original card failed; to another bank card.
        OtherBankcard = "OTHER_BANKCARD",
    }
}

wire_enum! {
    /// Coupon type (`coupon_type_$n`).
    V2CouponType {
        /// Pre-funded coupon.
        Cash = "CASH",
        /// Not pre-funded coupon.
        NoCash = "NO_CASH",
    }
}

wire_enum! {
    /// Who started a refund (`refund_request_source` of a notification).
    V2RefundRequestSource {
        /// Through the API.
        Api = "API",
        /// In the merchant platform.
        VendorPlatform = "VENDOR_PLATFORM",
    }
}

/// An apply-refund request (`POST /secapi/pay/refund`). Give `transaction_id` or
/// `out_trade_no` (when both are given WeChat Pay uses `transaction_id`; this library asks for
/// exactly one, as in v3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct V2RefundRequest {
    /// Merchant refund number, unique per refund: 1–64 of `[0-9A-Za-z_-|*@]`. Retrying with
    /// the same value is safe: WeChat Pay refunds once per `out_refund_no`.
    pub out_refund_no: String,
    /// The order's total, in fen (must be the amount paid).
    pub total_fee: i64,
    /// The amount to refund, in fen (≤ `total_fee`).
    pub refund_fee: i64,
    /// WeChat Pay order id.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub transaction_id: Option<String>,
    /// Merchant order number: 1–32 of `[0-9A-Za-z_-|*]`.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub out_trade_no: Option<String>,
    /// Currency (ISO 4217, `CNY` when absent; must match the payment).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub refund_fee_type: Option<String>,
    /// Reason shown to the user, ≤ 80 bytes.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub refund_desc: Option<String>,
    /// Funds source (old funds-flow merchants only).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub refund_account: Option<V2RefundAccount>,
    /// Callback URL for the refund result (≤ 256 bytes, no query string).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub notify_url: Option<String>,
}

impl V2RefundRequest {
    /// A refund of `refund_fee` of the order `out_trade_no` (total `total_fee`).
    pub fn by_out_trade_no(
        out_trade_no: impl Into<String>,
        out_refund_no: impl Into<String>,
        refund_fee: i64,
        total_fee: i64,
    ) -> Self {
        Self {
            out_refund_no: out_refund_no.into(),
            total_fee,
            refund_fee,
            transaction_id: None,
            out_trade_no: Some(out_trade_no.into()),
            refund_fee_type: None,
            refund_desc: None,
            refund_account: None,
            notify_url: None,
        }
    }

    /// A refund of `refund_fee` of the order `transaction_id` (total `total_fee`).
    pub fn by_transaction_id(
        transaction_id: impl Into<String>,
        out_refund_no: impl Into<String>,
        refund_fee: i64,
        total_fee: i64,
    ) -> Self {
        Self {
            transaction_id: Some(transaction_id.into()),
            out_trade_no: None,
            ..Self::by_out_trade_no("", out_refund_no, refund_fee, total_fee)
        }
    }
}

/// One coupon of a refund (`coupon_type_$n`, `coupon_refund_id_$n`, `coupon_refund_fee_$n`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct V2Coupon {
    /// Coupon type, when given.
    pub coupon_type: Option<V2CouponType>,
    /// Coupon id.
    pub coupon_refund_id: String,
    /// Amount refunded to this coupon, in fen.
    pub coupon_refund_fee: i64,
}

/// The answer to an accepted apply-refund request: accepted, not yet refunded. Follow it with
/// `refund_query` or the notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct V2Refund {
    /// Official account / app id.
    pub appid: String,
    /// Merchant id.
    pub mch_id: String,
    /// Sub app id (service providers).
    pub sub_appid: Option<String>,
    /// Sub-merchant id (service providers).
    pub sub_mch_id: Option<String>,
    /// WeChat Pay order id.
    pub transaction_id: String,
    /// Merchant order number.
    pub out_trade_no: String,
    /// Merchant refund number.
    pub out_refund_no: String,
    /// WeChat Pay refund id.
    pub refund_id: String,
    /// Refunded amount, in fen.
    pub refund_fee: i64,
    /// Refund minus non-cash coupons, in fen.
    pub settlement_refund_fee: Option<i64>,
    /// Order total, in fen.
    pub total_fee: Option<i64>,
    /// Order total minus non-cash coupons, in fen.
    pub settlement_total_fee: Option<i64>,
    /// Order currency.
    pub fee_type: Option<String>,
    /// Cash paid, in fen.
    pub cash_fee: Option<i64>,
    /// Cash currency.
    pub cash_fee_type: Option<String>,
    /// Cash refunded, in fen.
    pub cash_refund_fee: Option<i64>,
    /// Refunded to coupons, in fen.
    pub coupon_refund_fee: Option<i64>,
    /// Number of coupons refunded.
    pub coupon_refund_count: Option<i64>,
    /// The coupons (`_$n` fields).
    pub coupons: Vec<V2Coupon>,
}

/// A refund query (`POST /pay/refundquery`): give at least one id; when several are given the
/// most specific is sent (`refund_id` > `out_refund_no` > `transaction_id` > `out_trade_no`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct V2RefundQuery {
    /// WeChat Pay refund id.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub refund_id: Option<String>,
    /// Merchant refund number.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub out_refund_no: Option<String>,
    /// WeChat Pay order id (all refunds of the order).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub transaction_id: Option<String>,
    /// Merchant order number (all refunds of the order).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub out_trade_no: Option<String>,
    /// Skip this many refunds (orders with more than 20 refunds are paged).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub offset: Option<u32>,
}

/// One refund of a query answer (the `_$n` fields).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct V2RefundRecord {
    /// Merchant refund number.
    pub out_refund_no: String,
    /// WeChat Pay refund id.
    pub refund_id: String,
    /// Where the money goes.
    pub refund_channel: Option<V2RefundChannel>,
    /// Refund amount, in fen.
    pub refund_fee: i64,
    /// Refund minus non-cash coupons, in fen.
    pub settlement_refund_fee: Option<i64>,
    /// Status.
    pub refund_status: V2RefundStatus,
    /// Funds source.
    pub refund_account: Option<V2RefundAccount>,
    /// The receiving account (`refund_recv_accout_$n`, sic), e.g. `支付用户的零钱`.
    pub refund_recv_accout: Option<String>,
    /// When it succeeded (`yyyy-MM-dd HH:mm:ss`, Beijing time).
    pub refund_success_time: Option<String>,
    /// Refunded to coupons, in fen.
    pub coupon_refund_fee: Option<i64>,
    /// Number of coupons.
    pub coupon_refund_count: Option<i64>,
    /// The coupons (`_$n_$m` fields).
    pub coupons: Vec<V2Coupon>,
}

/// The answer to a refund query.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct V2RefundQueryResult {
    /// Official account / app id.
    pub appid: String,
    /// Merchant id.
    pub mch_id: String,
    /// WeChat Pay order id.
    pub transaction_id: String,
    /// Merchant order number.
    pub out_trade_no: String,
    /// Order total, in fen.
    pub total_fee: Option<i64>,
    /// Order total minus non-cash coupons, in fen.
    pub settlement_total_fee: Option<i64>,
    /// Order currency.
    pub fee_type: Option<String>,
    /// Cash paid, in fen.
    pub cash_fee: Option<i64>,
    /// All refunds of the order (may exceed `refund_count` when paged).
    pub total_refund_count: Option<i64>,
    /// Refunds in this answer.
    pub refund_count: i64,
    /// The refunds, in the order of their `$n`.
    pub refunds: Vec<V2RefundRecord>,
}

/// A decrypted, parsed v2 refund notification (`req_info`).
///
/// A hint, not proof: AES-ECB has no integrity and no freshness, so a captured notification
/// can be replayed. Act on it only after `refund_query` confirms the refund, and deduplicate on
/// `notification_key` once handled.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct V2RefundNotification {
    /// Stable across WeChat Pay's re-deliveries of one status change (`v2:{refund_id}:{status}`),
    /// built from encrypted fields only: store it once handled and skip a notification whose
    /// key is already stored.
    pub notification_key: String,
    /// Official account / app id (outer message, not covered by the encryption).
    pub appid: String,
    /// Merchant id (outer message, not covered by the encryption).
    pub mch_id: String,
    /// Sub app id (service providers; outer message, not covered by the encryption).
    pub sub_appid: Option<String>,
    /// Sub-merchant id (service providers; outer message, not covered by the encryption).
    pub sub_mch_id: Option<String>,
    /// WeChat Pay order id.
    pub transaction_id: String,
    /// Merchant order number.
    pub out_trade_no: String,
    /// WeChat Pay refund id.
    pub refund_id: String,
    /// Merchant refund number.
    pub out_refund_no: String,
    /// Order total, in fen.
    pub total_fee: i64,
    /// Order total minus non-cash coupons, in fen.
    pub settlement_total_fee: Option<i64>,
    /// Refund amount, in fen.
    pub refund_fee: i64,
    /// Refund minus non-cash coupons, in fen.
    pub settlement_refund_fee: Option<i64>,
    /// `SUCCESS`, `CHANGE` (abnormal) or `REFUNDCLOSE`.
    pub refund_status: V2RefundStatus,
    /// When it succeeded (`yyyy-MM-dd HH:mm:ss`, Beijing time).
    pub success_time: Option<String>,
    /// The receiving account (`refund_recv_accout`, sic).
    pub refund_recv_accout: Option<String>,
    /// Funds source.
    pub refund_account: Option<V2RefundAccount>,
    /// Who started the refund.
    pub refund_request_source: Option<V2RefundRequestSource>,
}
