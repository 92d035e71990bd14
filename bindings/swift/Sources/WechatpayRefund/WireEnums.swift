// Generated from src/wire.rs by `UPDATE_WIRE_ENUMS=1 cargo test --lib wire`; do not edit.

/// Refund status. `PROCESSING` → `SUCCESS` | `CLOSED` | `ABNORMAL`; `ABNORMAL` is not
/// final (apply-abnormal-refund moves it back to `PROCESSING`).
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct RefundStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// `true` for a state that never changes again (SUCCESS, CLOSED).
    public var isFinal: Bool { ["SUCCESS", "CLOSED"].contains(rawValue) }

    /// Accepted, being processed. A 200 on apply means this, not "refunded".
    public static let processing = RefundStatus(rawValue: "PROCESSING")
    /// Refunded.
    public static let success = RefundStatus(rawValue: "SUCCESS")
    /// Closed without refunding.
    public static let closed = RefundStatus(rawValue: "CLOSED")
    /// The original account could not receive the refund (card cancelled or frozen): use `apply_abnormal_refund`.
    public static let abnormal = RefundStatus(rawValue: "ABNORMAL")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [RefundStatus] = [.processing, .success, .closed, .abnormal]
}

/// Where the money goes back.
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct RefundChannel: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// Back the original way.
    public static let original = RefundChannel(rawValue: "ORIGINAL")
    /// To the user's balance.
    public static let balance = RefundChannel(rawValue: "BALANCE")
    /// The original account failed; to another balance account.
    public static let otherBalance = RefundChannel(rawValue: "OTHER_BALANCE")
    /// The original card failed; to another bank card (after an abnormal refund).
    public static let otherBankcard = RefundChannel(rawValue: "OTHER_BANKCARD")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [RefundChannel] = [.original, .balance, .otherBalance, .otherBankcard]
}

/// Funds account a refund was paid from (responses).
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct FundsAccount: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// Unsettled funds.
    public static let unsettled = FundsAccount(rawValue: "UNSETTLED")
    /// Available balance.
    public static let available = FundsAccount(rawValue: "AVAILABLE")
    /// Unavailable balance.
    public static let unavailable = FundsAccount(rawValue: "UNAVAILABLE")
    /// Operation account.
    public static let operation = FundsAccount(rawValue: "OPERATION")
    /// Basic account (available + unavailable).
    public static let basic = FundsAccount(rawValue: "BASIC")
    /// Digital RMB basic account.
    public static let ecnyBasic = FundsAccount(rawValue: "ECNY_BASIC")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [FundsAccount] = [.unsettled, .available, .unavailable, .operation, .basic, .ecnyBasic]
}

/// Funds account requested for a refund: only `AVAILABLE` or `UNSETTLED` may be sent.
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct RequestFundsAccount: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// From the available balance (old funds-flow merchants).
    public static let available = RequestFundsAccount(rawValue: "AVAILABLE")
    /// From unsettled funds (travel deposit refunds).
    public static let unsettled = RequestFundsAccount(rawValue: "UNSETTLED")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [RequestFundsAccount] = [.available, .unsettled]
}

/// Account type of an `amount.from` entry.
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct FromAccount: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// Available balance.
    public static let available = FromAccount(rawValue: "AVAILABLE")
    /// Unavailable balance.
    public static let unavailable = FromAccount(rawValue: "UNAVAILABLE")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [FromAccount] = [.available, .unavailable]
}

/// Scope of a promotion (coupon).
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct PromotionScope: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// Whole-order coupon.
    public static let global = PromotionScope(rawValue: "GLOBAL")
    /// Single-item coupon.
    public static let single = PromotionScope(rawValue: "SINGLE")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [PromotionScope] = [.global, .single]
}

/// Funding type of a promotion (coupon).
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct PromotionType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// Pre-funded coupon (older name).
    public static let cash = PromotionType(rawValue: "CASH")
    /// Not pre-funded coupon (older name).
    public static let nocash = PromotionType(rawValue: "NOCASH")
    /// Coupon (WeChat Pay's own example in the apply-refund page, and the official SDKs).
    public static let coupon = PromotionType(rawValue: "COUPON")
    /// Discount (the official SDKs).
    public static let discount = PromotionType(rawValue: "DISCOUNT")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [PromotionType] = [.cash, .nocash, .coupon, .discount]
}

/// How an abnormal refund is resolved.
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct AbnormalRefundKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// To the user's bank card: needs `bank_type`, `bank_account`, `real_name`.
    public static let userBankCard = AbnormalRefundKind(rawValue: "USER_BANK_CARD")
    /// To the merchant's bank account: none of them.
    public static let merchantBankCard = AbnormalRefundKind(rawValue: "MERCHANT_BANK_CARD")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [AbnormalRefundKind] = [.userBankCard, .merchantBankCard]
}

/// The `event_type` of a refund notification.
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct NotificationEventType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// The refund succeeded.
    public static let refundSuccess = NotificationEventType(rawValue: "REFUND.SUCCESS")
    /// The refund became abnormal.
    public static let refundAbnormal = NotificationEventType(rawValue: "REFUND.ABNORMAL")
    /// The refund was closed.
    public static let refundClosed = NotificationEventType(rawValue: "REFUND.CLOSED")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [NotificationEventType] = [.refundSuccess, .refundAbnormal, .refundClosed]
}

/// v2 refund status (`refund_status_$n` of a query, `refund_status` of a notification).
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct V2RefundStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// `true` for a state that never changes again (SUCCESS, REFUNDCLOSE).
    public var isFinal: Bool { ["SUCCESS", "REFUNDCLOSE"].contains(rawValue) }

    /// Refunded.
    public static let success = V2RefundStatus(rawValue: "SUCCESS")
    /// Abnormal: the money could not go back the original way (resolve it in the merchant platform, or with the v3 abnormal-refund API).
    public static let change = V2RefundStatus(rawValue: "CHANGE")
    /// Closed without refunding.
    public static let refundclose = V2RefundStatus(rawValue: "REFUNDCLOSE")
    /// Accepted, being processed.
    public static let processing = V2RefundStatus(rawValue: "PROCESSING")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [V2RefundStatus] = [.success, .change, .refundclose, .processing]
}

/// Funds source of a v2 refund (`refund_account`; old funds-flow merchants only).
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct V2RefundAccount: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// Unsettled funds (the default).
    public static let refundSourceUnsettledFunds = V2RefundAccount(rawValue: "REFUND_SOURCE_UNSETTLED_FUNDS")
    /// Available balance.
    public static let refundSourceRechargeFunds = V2RefundAccount(rawValue: "REFUND_SOURCE_RECHARGE_FUNDS")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [V2RefundAccount] = [.refundSourceUnsettledFunds, .refundSourceRechargeFunds]
}

/// Where a v2 refund goes (`refund_channel_$n`).
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct V2RefundChannel: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// Back the original way.
    public static let original = V2RefundChannel(rawValue: "ORIGINAL")
    /// To the user's balance.
    public static let balance = V2RefundChannel(rawValue: "BALANCE")
    /// The original account failed; to another balance account.
    public static let otherBalance = V2RefundChannel(rawValue: "OTHER_BALANCE")
    /// The original card failed; to another bank card.
    public static let otherBankcard = V2RefundChannel(rawValue: "OTHER_BANKCARD")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [V2RefundChannel] = [.original, .balance, .otherBalance, .otherBankcard]
}

/// Coupon type (`coupon_type_$n`).
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct V2CouponType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// Pre-funded coupon.
    public static let cash = V2CouponType(rawValue: "CASH")
    /// Not pre-funded coupon.
    public static let noCash = V2CouponType(rawValue: "NO_CASH")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [V2CouponType] = [.cash, .noCash]
}

/// Who started a refund (`refund_request_source` of a notification).
///
/// Open enum: compare with the static members; `rawValue` is the wire string, and a value
/// this version does not know is kept as received (`isKnown == false`).
public struct V2RefundRequestSource: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value (the raw string for an unknown one).
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The wire value.
    public var description: String { rawValue }

    /// `false` for a value this version of the library does not know.
    public var isKnown: Bool { Self.allKnown.contains(self) }

    /// Through the API.
    public static let api = V2RefundRequestSource(rawValue: "API")
    /// In the merchant platform.
    public static let vendorPlatform = V2RefundRequestSource(rawValue: "VENDOR_PLATFORM")

    /// Every value this version knows, in declaration order.
    public static let allKnown: [V2RefundRequestSource] = [.api, .vendorPlatform]
}
