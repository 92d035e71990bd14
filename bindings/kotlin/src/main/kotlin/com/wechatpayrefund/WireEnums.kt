// Generated from src/wire.rs by `UPDATE_WIRE_ENUMS=1 cargo test --lib wire`; do not edit.
@file:Suppress("ktlint")

package com.wechatpayrefund

/**
 * Refund status. `PROCESSING` → `SUCCESS` | `CLOSED` | `ABNORMAL`; `ABNORMAL` is not
 * final (apply-abnormal-refund moves it back to `PROCESSING`).
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class RefundStatus private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is RefundStatus && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    /** `true` for a state that never changes again (SUCCESS, CLOSED). */
    public fun isFinal(): Boolean = value in setOf("SUCCESS", "CLOSED")

    public companion object {
        /**
         * Accepted, being processed. A 200 on apply means this, not "refunded".
         */
        @JvmField public val PROCESSING: RefundStatus = RefundStatus("PROCESSING", "PROCESSING")

        /**
         * Refunded.
         */
        @JvmField public val SUCCESS: RefundStatus = RefundStatus("SUCCESS", "SUCCESS")

        /**
         * Closed without refunding.
         */
        @JvmField public val CLOSED: RefundStatus = RefundStatus("CLOSED", "CLOSED")

        /**
         * The original account could not receive the refund (card cancelled or frozen): use `apply_abnormal_refund`.
         */
        @JvmField public val ABNORMAL: RefundStatus = RefundStatus("ABNORMAL", "ABNORMAL")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<RefundStatus> = listOf(PROCESSING, SUCCESS, CLOSED, ABNORMAL)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): RefundStatus = entries.firstOrNull { it.value == value } ?: RefundStatus(value, "UNKNOWN")
    }
}

/**
 * Where the money goes back.
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class RefundChannel private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is RefundChannel && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * Back the original way.
         */
        @JvmField public val ORIGINAL: RefundChannel = RefundChannel("ORIGINAL", "ORIGINAL")

        /**
         * To the user's balance.
         */
        @JvmField public val BALANCE: RefundChannel = RefundChannel("BALANCE", "BALANCE")

        /**
         * The original account failed; to another balance account.
         */
        @JvmField public val OTHER_BALANCE: RefundChannel = RefundChannel("OTHER_BALANCE", "OTHER_BALANCE")

        /**
         * The original card failed; to another bank card (after an abnormal refund).
         */
        @JvmField public val OTHER_BANKCARD: RefundChannel = RefundChannel("OTHER_BANKCARD", "OTHER_BANKCARD")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<RefundChannel> = listOf(ORIGINAL, BALANCE, OTHER_BALANCE, OTHER_BANKCARD)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): RefundChannel = entries.firstOrNull { it.value == value } ?: RefundChannel(value, "UNKNOWN")
    }
}

/**
 * Funds account a refund was paid from (responses).
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class FundsAccount private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is FundsAccount && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * Unsettled funds.
         */
        @JvmField public val UNSETTLED: FundsAccount = FundsAccount("UNSETTLED", "UNSETTLED")

        /**
         * Available balance.
         */
        @JvmField public val AVAILABLE: FundsAccount = FundsAccount("AVAILABLE", "AVAILABLE")

        /**
         * Unavailable balance.
         */
        @JvmField public val UNAVAILABLE: FundsAccount = FundsAccount("UNAVAILABLE", "UNAVAILABLE")

        /**
         * Operation account.
         */
        @JvmField public val OPERATION: FundsAccount = FundsAccount("OPERATION", "OPERATION")

        /**
         * Basic account (available + unavailable).
         */
        @JvmField public val BASIC: FundsAccount = FundsAccount("BASIC", "BASIC")

        /**
         * Digital RMB basic account.
         */
        @JvmField public val ECNY_BASIC: FundsAccount = FundsAccount("ECNY_BASIC", "ECNY_BASIC")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<FundsAccount> = listOf(UNSETTLED, AVAILABLE, UNAVAILABLE, OPERATION, BASIC, ECNY_BASIC)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): FundsAccount = entries.firstOrNull { it.value == value } ?: FundsAccount(value, "UNKNOWN")
    }
}

/**
 * Funds account requested for a refund: only `AVAILABLE` or `UNSETTLED` may be sent.
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class RequestFundsAccount private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is RequestFundsAccount && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * From the available balance (old funds-flow merchants).
         */
        @JvmField public val AVAILABLE: RequestFundsAccount = RequestFundsAccount("AVAILABLE", "AVAILABLE")

        /**
         * From unsettled funds (travel deposit refunds).
         */
        @JvmField public val UNSETTLED: RequestFundsAccount = RequestFundsAccount("UNSETTLED", "UNSETTLED")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<RequestFundsAccount> = listOf(AVAILABLE, UNSETTLED)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): RequestFundsAccount = entries.firstOrNull { it.value == value } ?: RequestFundsAccount(value, "UNKNOWN")
    }
}

/**
 * Account type of an `amount.from` entry.
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class FromAccount private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is FromAccount && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * Available balance.
         */
        @JvmField public val AVAILABLE: FromAccount = FromAccount("AVAILABLE", "AVAILABLE")

        /**
         * Unavailable balance.
         */
        @JvmField public val UNAVAILABLE: FromAccount = FromAccount("UNAVAILABLE", "UNAVAILABLE")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<FromAccount> = listOf(AVAILABLE, UNAVAILABLE)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): FromAccount = entries.firstOrNull { it.value == value } ?: FromAccount(value, "UNKNOWN")
    }
}

/**
 * Scope of a promotion (coupon).
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class PromotionScope private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is PromotionScope && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * Whole-order coupon.
         */
        @JvmField public val GLOBAL: PromotionScope = PromotionScope("GLOBAL", "GLOBAL")

        /**
         * Single-item coupon.
         */
        @JvmField public val SINGLE: PromotionScope = PromotionScope("SINGLE", "SINGLE")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<PromotionScope> = listOf(GLOBAL, SINGLE)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): PromotionScope = entries.firstOrNull { it.value == value } ?: PromotionScope(value, "UNKNOWN")
    }
}

/**
 * Funding type of a promotion (coupon).
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class PromotionType private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is PromotionType && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * Pre-funded coupon (older name).
         */
        @JvmField public val CASH: PromotionType = PromotionType("CASH", "CASH")

        /**
         * Not pre-funded coupon (older name).
         */
        @JvmField public val NOCASH: PromotionType = PromotionType("NOCASH", "NOCASH")

        /**
         * Coupon (WeChat Pay's own example in the apply-refund page, and the official SDKs).
         */
        @JvmField public val COUPON: PromotionType = PromotionType("COUPON", "COUPON")

        /**
         * Discount (the official SDKs).
         */
        @JvmField public val DISCOUNT: PromotionType = PromotionType("DISCOUNT", "DISCOUNT")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<PromotionType> = listOf(CASH, NOCASH, COUPON, DISCOUNT)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): PromotionType = entries.firstOrNull { it.value == value } ?: PromotionType(value, "UNKNOWN")
    }
}

/**
 * How an abnormal refund is resolved.
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class AbnormalRefundKind private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is AbnormalRefundKind && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * To the user's bank card: needs `bank_type`, `bank_account`, `real_name`.
         */
        @JvmField public val USER_BANK_CARD: AbnormalRefundKind = AbnormalRefundKind("USER_BANK_CARD", "USER_BANK_CARD")

        /**
         * To the merchant's bank account: none of them.
         */
        @JvmField public val MERCHANT_BANK_CARD: AbnormalRefundKind = AbnormalRefundKind("MERCHANT_BANK_CARD", "MERCHANT_BANK_CARD")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<AbnormalRefundKind> = listOf(USER_BANK_CARD, MERCHANT_BANK_CARD)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): AbnormalRefundKind = entries.firstOrNull { it.value == value } ?: AbnormalRefundKind(value, "UNKNOWN")
    }
}

/**
 * The `event_type` of a refund notification.
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class NotificationEventType private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is NotificationEventType && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * The refund succeeded.
         */
        @JvmField public val REFUND_SUCCESS: NotificationEventType = NotificationEventType("REFUND.SUCCESS", "REFUND_SUCCESS")

        /**
         * The refund became abnormal.
         */
        @JvmField public val REFUND_ABNORMAL: NotificationEventType = NotificationEventType("REFUND.ABNORMAL", "REFUND_ABNORMAL")

        /**
         * The refund was closed.
         */
        @JvmField public val REFUND_CLOSED: NotificationEventType = NotificationEventType("REFUND.CLOSED", "REFUND_CLOSED")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<NotificationEventType> = listOf(REFUND_SUCCESS, REFUND_ABNORMAL, REFUND_CLOSED)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): NotificationEventType = entries.firstOrNull { it.value == value } ?: NotificationEventType(value, "UNKNOWN")
    }
}

/**
 * v2 refund status (`refund_status_$n` of a query, `refund_status` of a notification).
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class V2RefundStatus private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is V2RefundStatus && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    /** `true` for a state that never changes again (SUCCESS, REFUNDCLOSE). */
    public fun isFinal(): Boolean = value in setOf("SUCCESS", "REFUNDCLOSE")

    public companion object {
        /**
         * Refunded.
         */
        @JvmField public val SUCCESS: V2RefundStatus = V2RefundStatus("SUCCESS", "SUCCESS")

        /**
         * Abnormal: the money could not go back the original way (resolve it in the merchant platform, or with the v3 abnormal-refund API).
         */
        @JvmField public val CHANGE: V2RefundStatus = V2RefundStatus("CHANGE", "CHANGE")

        /**
         * Closed without refunding.
         */
        @JvmField public val REFUNDCLOSE: V2RefundStatus = V2RefundStatus("REFUNDCLOSE", "REFUNDCLOSE")

        /**
         * Accepted, being processed.
         */
        @JvmField public val PROCESSING: V2RefundStatus = V2RefundStatus("PROCESSING", "PROCESSING")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<V2RefundStatus> = listOf(SUCCESS, CHANGE, REFUNDCLOSE, PROCESSING)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): V2RefundStatus = entries.firstOrNull { it.value == value } ?: V2RefundStatus(value, "UNKNOWN")
    }
}

/**
 * Funds source of a v2 refund (`refund_account`; old funds-flow merchants only).
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class V2RefundAccount private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is V2RefundAccount && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * Unsettled funds (the default).
         */
        @JvmField public val REFUND_SOURCE_UNSETTLED_FUNDS: V2RefundAccount = V2RefundAccount("REFUND_SOURCE_UNSETTLED_FUNDS", "REFUND_SOURCE_UNSETTLED_FUNDS")

        /**
         * Available balance.
         */
        @JvmField public val REFUND_SOURCE_RECHARGE_FUNDS: V2RefundAccount = V2RefundAccount("REFUND_SOURCE_RECHARGE_FUNDS", "REFUND_SOURCE_RECHARGE_FUNDS")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<V2RefundAccount> = listOf(REFUND_SOURCE_UNSETTLED_FUNDS, REFUND_SOURCE_RECHARGE_FUNDS)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): V2RefundAccount = entries.firstOrNull { it.value == value } ?: V2RefundAccount(value, "UNKNOWN")
    }
}

/**
 * Where a v2 refund goes (`refund_channel_$n`).
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class V2RefundChannel private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is V2RefundChannel && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * Back the original way.
         */
        @JvmField public val ORIGINAL: V2RefundChannel = V2RefundChannel("ORIGINAL", "ORIGINAL")

        /**
         * To the user's balance.
         */
        @JvmField public val BALANCE: V2RefundChannel = V2RefundChannel("BALANCE", "BALANCE")

        /**
         * The original account failed; to another balance account.
         */
        @JvmField public val OTHER_BALANCE: V2RefundChannel = V2RefundChannel("OTHER_BALANCE", "OTHER_BALANCE")

        /**
         * The original card failed; to another bank card.
         */
        @JvmField public val OTHER_BANKCARD: V2RefundChannel = V2RefundChannel("OTHER_BANKCARD", "OTHER_BANKCARD")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<V2RefundChannel> = listOf(ORIGINAL, BALANCE, OTHER_BALANCE, OTHER_BANKCARD)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): V2RefundChannel = entries.firstOrNull { it.value == value } ?: V2RefundChannel(value, "UNKNOWN")
    }
}

/**
 * Coupon type (`coupon_type_$n`).
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class V2CouponType private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is V2CouponType && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * Pre-funded coupon.
         */
        @JvmField public val CASH: V2CouponType = V2CouponType("CASH", "CASH")

        /**
         * Not pre-funded coupon.
         */
        @JvmField public val NO_CASH: V2CouponType = V2CouponType("NO_CASH", "NO_CASH")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<V2CouponType> = listOf(CASH, NO_CASH)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): V2CouponType = entries.firstOrNull { it.value == value } ?: V2CouponType(value, "UNKNOWN")
    }
}

/**
 * Who started a refund (`refund_request_source` of a notification).
 *
 * Open enum: compare with the constants; [value] is the wire string, and a value this
 * version does not know is kept as received (`isKnown == false`, `name == "UNKNOWN"`).
 */
public class V2RefundRequestSource private constructor(
    /** The wire value (the raw string for an unknown one). */
    public val value: String,
    /** The constant's name, or `"UNKNOWN"`. */
    public val name: String,
) {
    /** `false` for a value this version of the library does not know. */
    public val isKnown: Boolean get() = name != "UNKNOWN"

    override fun equals(other: Any?): Boolean = other is V2RefundRequestSource && other.value == value

    override fun hashCode(): Int = value.hashCode()

    /** The wire value. */
    override fun toString(): String = value

    public companion object {
        /**
         * Through the API.
         */
        @JvmField public val API: V2RefundRequestSource = V2RefundRequestSource("API", "API")

        /**
         * In the merchant platform.
         */
        @JvmField public val VENDOR_PLATFORM: V2RefundRequestSource = V2RefundRequestSource("VENDOR_PLATFORM", "VENDOR_PLATFORM")

        /** Every value this version knows, in declaration order. */
        @JvmStatic public val entries: List<V2RefundRequestSource> = listOf(API, VENDOR_PLATFORM)

        /** The constant for [value], or an unknown one holding it. */
        @JvmStatic public fun of(value: String): V2RefundRequestSource = entries.firstOrNull { it.value == value } ?: V2RefundRequestSource(value, "UNKNOWN")
    }
}
