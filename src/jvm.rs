//! The JVM fast path of the Kotlin binding (feature `jvm`): one JNI entry point beside the
//! UniFFI exports, in the same cdylib, for the sans-IO calls whose cost UniFFI's JNA calling
//! convention dominates (BENCHMARKS.md, "JVM").
//!
//! `com.wechatpayrefund.FastPath.call(op, handle, args)` (bound by `RegisterNatives`, see
//! [`wechatpay_refund_jvm_register`]) takes the object handle of a
//! `ClientConfig` and the call's other arguments already serialised by the *generated* Kotlin
//! converters (`FfiConverterType….write`, UniFFI's own buffer format), runs the very function
//! UniFFI exports (`crate::sansio`), and returns one `byte[]`:
//!
//! | first byte | rest |
//! |---|---|
//! | `0` | the result, written by UniFFI's `Lower` (lifted by the generated `FfiConverterType….read`) |
//! | `1` | the `RefundError`, written by UniFFI's `Lower` (lifted by the generated `FfiConverterTypeRefundError.read`) |
//! | `2` | UTF-8 text of an internal failure (a malformed argument buffer, an unknown op, a panic) |
//!
//! One JNI crossing per call: no JNA `Structure`, no `RustBuffer` allocation crossing, no handle
//! clone crossing. The generated functions stay the reference and the fallback (renamed
//! `…ViaJna` for Kotlin in uniffi.toml; `FastPath.kt` falls back to them whenever this entry
//! cannot be loaded), and the Kotlin suite runs both paths on the same inputs.

// The JNI registration entry, the native method's descriptor and the borrowed object handle
// (`crate::ffi_handle`) need `unsafe`; each use has its SAFETY comment.
#![allow(unsafe_code)]

use crate::config::ClientConfig;
use crate::error::RefundError;
use crate::refund::model::{AbnormalRefundRequest, CreateRefundRequest};
use crate::transport::{HttpHeader, HttpResponse};
use crate::UniFfiTag;
use jni::objects::{JByteArray, JClass};
use jni::sys::{jint, jlong};
use jni::{EnvUnowned, NativeMethod};
use std::collections::HashMap;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use uniffi::{Lift, Lower};

/// Result tags of the returned buffer (see the module docs).
const TAG_OK: u8 = 0;
const TAG_ERR: u8 = 1;
const TAG_INTERNAL: u8 = 2;

/// The operations, numbered as `FastPath.kt` numbers them (`FastPath.OP_*`).
mod op {
    pub const BUILD_CREATE_REFUND_REQUEST: i32 = 1;
    pub const BUILD_QUERY_REFUND_REQUEST: i32 = 2;
    pub const BUILD_APPLY_ABNORMAL_REFUND_REQUEST: i32 = 3;
    pub const PARSE_REFUND_RESPONSE: i32 = 4;
    pub const VERIFY_WECHATPAY_SIGNATURE: i32 = 5;
    pub const PARSE_NOTIFICATION_AT: i32 = 6;
}

/// Reads the call's arguments, in order, from the buffer the generated converters wrote.
struct Args<'a>(&'a [u8]);

impl Args<'_> {
    fn next<T: Lift<UniFfiTag>>(&mut self, what: &str) -> Result<T, String> {
        T::try_read(&mut self.0).map_err(|e| format!("argument {what}: {e}"))
    }

    /// A `Vec<u8>` argument (`bytes`: an i32 big-endian length, then the bytes — UniFFI's format,
    /// the same bytes its `Lift` for `Vec<u8>` reads one element at a time), as one copy.
    fn bytes(&mut self, what: &str) -> Result<Vec<u8>, String> {
        let (len, rest) = self
            .0
            .split_first_chunk::<4>()
            .ok_or_else(|| format!("argument {what}: no length"))?;
        let len = usize::try_from(i32::from_be_bytes(*len))
            .map_err(|_| format!("argument {what}: negative length"))?;
        if rest.len() < len {
            return Err(format!(
                "argument {what}: {len} bytes announced, {} left",
                rest.len()
            ));
        }
        let (bytes, rest) = rest.split_at(len);
        self.0 = rest;
        Ok(bytes.to_vec())
    }

    /// An `HttpResponse` argument, its body read by [`Args::bytes`] (a new field of the record
    /// fails to compile here; `tests::fast_readers_match_uniffi_lift` checks the bytes).
    fn response(&mut self, what: &str) -> Result<HttpResponse, String> {
        Ok(HttpResponse {
            status: self.next(what)?,
            headers: self.next(what)?,
            body: self.bytes(what)?,
        })
    }

    fn end(self) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} bytes left after the last argument",
                self.0.len()
            ))
        }
    }
}

/// The layout of an argument in UniFFI's buffer format, as far as [`check_counts`] needs it.
///
/// UniFFI's `Lift` of a sequence or map reserves room for the announced count before reading a
/// single element, so a hostile count (`0x7fffffff` headers) would make it ask for ~100 GB and
/// the allocator abort the process — no `catch_unwind` helps. The arguments are therefore walked
/// once without allocating, every count bounded by the bytes left, before they are lifted.
/// `tests::shapes_match_uniffi_lift` fails when a record gains a field this table lacks.
#[derive(Clone, Copy)]
enum Shape {
    I64,
    U16,
    /// A string or a byte array (an i32 length, then the bytes); also the wire enums.
    Str,
    Opt(&'static Shape),
    Seq(&'static Shape),
    Map(&'static Shape, &'static Shape),
    Rec(&'static [Shape]),
}

impl Shape {
    /// The fewest bytes one value of this shape takes.
    fn min_len(&self) -> usize {
        match self {
            Shape::I64 => 8,
            Shape::U16 => 2,
            Shape::Str | Shape::Seq(_) | Shape::Map(..) => 4,
            Shape::Opt(_) => 1,
            Shape::Rec(fields) => fields.iter().map(Shape::min_len).sum(),
        }
    }

    fn walk(&self, buf: &mut &[u8]) -> Result<(), String> {
        fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
            if buf.len() < n {
                return Err(format!("{n} bytes needed, {} left", buf.len()));
            }
            let (head, rest) = buf.split_at(n);
            *buf = rest;
            Ok(head)
        }
        fn count(buf: &mut &[u8], per_item: usize) -> Result<usize, String> {
            let raw = take(buf, 4)?;
            let n = i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
            let n = usize::try_from(n).map_err(|_| format!("negative count {n}"))?;
            if n.saturating_mul(per_item.max(1)) > buf.len() {
                return Err(format!(
                    "{n} items announced, only {} bytes left",
                    buf.len()
                ));
            }
            Ok(n)
        }
        match self {
            Shape::I64 => take(buf, 8).map(drop),
            Shape::U16 => take(buf, 2).map(drop),
            Shape::Str => {
                let n = count(buf, 1)?;
                take(buf, n).map(drop)
            }
            Shape::Opt(inner) => match take(buf, 1)?[0] {
                0 => Ok(()),
                1 => inner.walk(buf),
                t => Err(format!("bad option tag {t}")),
            },
            Shape::Seq(item) => {
                for _ in 0..count(buf, item.min_len())? {
                    item.walk(buf)?;
                }
                Ok(())
            }
            Shape::Map(k, v) => {
                for _ in 0..count(buf, k.min_len() + v.min_len())? {
                    k.walk(buf)?;
                    v.walk(buf)?;
                }
                Ok(())
            }
            Shape::Rec(fields) => fields.iter().try_for_each(|f| f.walk(buf)),
        }
    }
}

/// The argument layouts (field order as in `src/refund/model.rs` and `src/transport.rs`).
mod shapes {
    use super::Shape::{self, *};
    const OPT_STR: Shape = Opt(&Str);
    const HEADER: Shape = Rec(&[Str, Str]);
    const FUNDS_FROM: Shape = Rec(&[Str, I64]);
    const AMOUNT_INPUT: Shape = Rec(&[I64, I64, Str, Seq(&FUNDS_FROM)]);
    const GOODS_DETAIL: Shape = Rec(&[Str, I64, I64, I64, OPT_STR, OPT_STR]);
    pub const CREATE_REFUND_REQUEST: Shape = Rec(&[
        Str,
        AMOUNT_INPUT,
        OPT_STR,
        OPT_STR,
        OPT_STR,
        OPT_STR,
        OPT_STR,
        OPT_STR,
        Seq(&GOODS_DETAIL),
    ]);
    pub const ABNORMAL_REFUND_REQUEST: Shape =
        Rec(&[Str, Str, Str, OPT_STR, OPT_STR, OPT_STR, OPT_STR]);
    pub const HEADERS: Shape = Seq(&HEADER);
    pub const HEADER_MAP: Shape = Map(&Str, &Str);
    pub const HTTP_RESPONSE: Shape = Rec(&[U16, HEADERS, Str]);
    pub const BYTES: Shape = Str;
    pub const STR: Shape = Str;
    pub const OPT: Shape = OPT_STR;
    pub const INT: Shape = I64;

    /// Each op's arguments, named as in `FastPath.kt`.
    pub fn of(op: i32) -> Option<&'static [(&'static str, Shape)]> {
        use super::op;
        Some(match op {
            op::BUILD_CREATE_REFUND_REQUEST => &[
                ("request", CREATE_REFUND_REQUEST),
                ("timestamp", INT),
                ("nonce", STR),
            ],
            op::BUILD_QUERY_REFUND_REQUEST => &[
                ("outRefundNo", STR),
                ("subMchid", OPT),
                ("timestamp", INT),
                ("nonce", STR),
            ],
            op::BUILD_APPLY_ABNORMAL_REFUND_REQUEST => &[
                ("request", ABNORMAL_REFUND_REQUEST),
                ("timestamp", INT),
                ("nonce", STR),
            ],
            op::PARSE_REFUND_RESPONSE => &[("response", HTTP_RESPONSE), ("now", INT)],
            op::VERIFY_WECHATPAY_SIGNATURE => {
                &[("headers", HEADERS), ("body", BYTES), ("now", INT)]
            }
            op::PARSE_NOTIFICATION_AT => &[("headers", HEADER_MAP), ("body", BYTES), ("now", INT)],
            _ => return None,
        })
    }
}

/// Walk `op`'s arguments in `args` without allocating: every length and count fits in the
/// bytes left (see [`Shape`]). Unknown ops pass (dispatch refuses them).
fn check_counts(op: i32, args: &[u8]) -> Result<(), String> {
    let mut buf = args;
    for (name, shape) in shapes::of(op).unwrap_or(&[]) {
        shape
            .walk(&mut buf)
            .map_err(|e| format!("argument {name}: {e}"))?;
    }
    Ok(())
}

/// `[TAG_OK] + value` or `[TAG_ERR] + error`, both in UniFFI's buffer format.
fn encode<T: Lower<UniFfiTag>>(out: Result<T, RefundError>) -> Vec<u8> {
    encode_with(out, T::write)
}

/// [`encode`] with the value's writer given (`()` has no `Lower`: it writes nothing).
fn encode_with<T>(out: Result<T, RefundError>, write: impl FnOnce(T, &mut Vec<u8>)) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    match out {
        Ok(v) => {
            buf.push(TAG_OK);
            write(v, &mut buf);
        }
        Err(e) => {
            buf.push(TAG_ERR);
            <RefundError as Lower<UniFfiTag>>::write(e, &mut buf);
        }
    }
    buf
}

/// One more strong reference to the `ClientConfig` behind `handle`.
///
/// # Safety
///
/// `handle` must be the `handle` field of a live Kotlin `ClientConfig` whose call counter the
/// caller holds raised for the whole call (`FastPath.withHandle`, the protocol of the generated
/// `callWithHandle`): the Kotlin object's own strong reference then outlives this call.
unsafe fn config_of(handle: jlong) -> Result<Arc<ClientConfig>, String> {
    // SAFETY: see the function's contract (that of `borrow_arc`).
    unsafe { crate::ffi_handle::borrow_arc(handle as u64) }
        .ok_or_else(|| "ClientConfig has no live handle".into())
}

fn dispatch(op: i32, config: Arc<ClientConfig>, args: &[u8]) -> Result<Vec<u8>, String> {
    check_counts(op, args)?;
    let mut a = Args(args);
    Ok(match op {
        op::BUILD_CREATE_REFUND_REQUEST => {
            let request: CreateRefundRequest = a.next("request")?;
            let timestamp: i64 = a.next("timestamp")?;
            let nonce: String = a.next("nonce")?;
            a.end()?;
            encode(crate::build_create_refund_request(
                config, request, timestamp, nonce,
            ))
        }
        op::BUILD_QUERY_REFUND_REQUEST => {
            let out_refund_no: String = a.next("outRefundNo")?;
            let sub_mchid: Option<String> = a.next("subMchid")?;
            let timestamp: i64 = a.next("timestamp")?;
            let nonce: String = a.next("nonce")?;
            a.end()?;
            encode(crate::build_query_refund_request(
                config,
                out_refund_no,
                sub_mchid,
                timestamp,
                nonce,
            ))
        }
        op::BUILD_APPLY_ABNORMAL_REFUND_REQUEST => {
            let request: AbnormalRefundRequest = a.next("request")?;
            let timestamp: i64 = a.next("timestamp")?;
            let nonce: String = a.next("nonce")?;
            a.end()?;
            encode(crate::build_apply_abnormal_refund_request(
                config, request, timestamp, nonce,
            ))
        }
        op::PARSE_REFUND_RESPONSE => {
            let response = a.response("response")?;
            let now: i64 = a.next("now")?;
            a.end()?;
            encode(crate::parse_refund_response(config, response, now))
        }
        op::VERIFY_WECHATPAY_SIGNATURE => {
            let headers: Vec<HttpHeader> = a.next("headers")?;
            let body = a.bytes("body")?;
            let now: i64 = a.next("now")?;
            a.end()?;
            encode_with(
                crate::verify_wechatpay_signature(config, headers, body, now),
                |(), _| {},
            )
        }
        op::PARSE_NOTIFICATION_AT => {
            let headers: HashMap<String, String> = a.next("headers")?;
            let body = a.bytes("body")?;
            let now: i64 = a.next("now")?;
            a.end()?;
            encode(crate::parse_notification_at(config, headers, body, now))
        }
        other => return Err(format!("unknown FastPath op {other}")),
    })
}

fn internal(message: &str) -> Vec<u8> {
    let mut buf = Vec::with_capacity(1 + message.len());
    buf.push(TAG_INTERNAL);
    buf.extend_from_slice(message.as_bytes());
    buf
}

/// `FastPath.call(op: Int, handle: Long, args: ByteArray): ByteArray` (a static native method,
/// bound by [`wechatpay_refund_jvm_register`]). Never throws for a failure of the call itself
/// (those are tagged in the result); a JNI failure (an out-of-memory `byte[]`) leaves the JVM's
/// pending exception and returns null.
extern "system" fn fast_path_call<'caller>(
    mut unowned_env: EnvUnowned<'caller>,
    _class: JClass<'caller>,
    op: jint,
    handle: jlong,
    args: JByteArray<'caller>,
) -> JByteArray<'caller> {
    unowned_env
        .with_env(|env| -> Result<JByteArray<'caller>, jni::errors::Error> {
            let input = env.convert_byte_array(&args)?;
            let out = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: FastPath.kt passes the handle of a ClientConfig inside `withHandle`.
                let config = unsafe { config_of(handle) }?;
                dispatch(op, config, &input)
            }));
            let bytes = match out {
                Ok(Ok(bytes)) => bytes,
                Ok(Err(message)) => internal(&message),
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic".into());
                    internal(&format!("panic in the Rust core: {what}"))
                }
            };
            env.byte_array_from_slice(&bytes)
        })
        .resolve::<jni::errors::ThrowRuntimeExAndDefault>()
}

/// Binds `com.wechatpayrefund.FastPath.call` to [`fast_path_call`] of *this* copy of the
/// library. `FastPath.kt` calls it through JNA (direct mapping, `JNIEnv.CURRENT`) on the
/// `NativeLibrary` the generated code loaded, so the JNI entry always lives in the copy that
/// owns the object handles — a library JNA extracted from the jar (and deleted) cannot be
/// reached by `System.load`, and a second copy would not share the handles.
///
/// Returns 0 when bound, 1 when the class is not found from the caller's class loader, 2 when
/// `RegisterNatives` failed, 3 on any other failure; never leaves a Java exception pending.
///
/// # Safety
///
/// `env` must be the `JNIEnv` of the calling, attached thread (JNA's `JNIEnv.CURRENT`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wechatpay_refund_jvm_register(env: *mut jni::sys::JNIEnv) -> i32 {
    if env.is_null() {
        return 3;
    }
    // SAFETY: the caller passes the current thread's JNIEnv (see the function's contract).
    let mut unowned = unsafe { EnvUnowned::from_raw(env) };
    let outcome = unowned.with_env(|env| -> Result<i32, jni::errors::Error> {
        let class = match env.find_class(jni::jni_str!("com/wechatpayrefund/FastPath")) {
            Ok(class) => class,
            Err(_) => {
                env.exception_clear();
                return Ok(1);
            }
        };
        // SAFETY: `fast_path_call` has exactly the signature of a static native method
        // `(int, long, byte[]) -> byte[]` (JNI descriptor `(IJ[B)[B`).
        let methods = [unsafe {
            NativeMethod::from_raw_parts(
                jni::jni_str!("call"),
                jni::jni_str!("(IJ[B)[B"),
                fast_path_call as *mut c_void,
            )
        }];
        // SAFETY: the descriptor above matches the function (see there).
        match unsafe { env.register_native_methods(&class, &methods) } {
            Ok(()) => Ok(0),
            Err(_) => {
                env.exception_clear();
                Ok(2)
            }
        }
    });
    match outcome.into_outcome() {
        jni::Outcome::Ok(code) => code,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_op_and_trailing_bytes_are_internal_errors() {
        let config = test_config();
        let err = dispatch(99, config.clone(), &[]).unwrap_err();
        assert!(err.contains("unknown FastPath op 99"), "{err}");
        // parse_notification_at with an empty map, an empty body, now, and one stray byte.
        let mut args = Vec::new();
        <HashMap<String, String> as Lower<UniFfiTag>>::write(HashMap::new(), &mut args);
        <Vec<u8> as Lower<UniFfiTag>>::write(Vec::new(), &mut args);
        <i64 as Lower<UniFfiTag>>::write(0, &mut args);
        args.push(7);
        let err = dispatch(op::PARSE_NOTIFICATION_AT, config.clone(), &args).unwrap_err();
        assert!(err.contains("1 bytes left"), "{err}");
        // A truncated buffer names the argument.
        let err = dispatch(op::PARSE_NOTIFICATION_AT, config, &args[..2]).unwrap_err();
        assert!(err.starts_with("argument headers"), "{err}");
    }

    #[test]
    fn fast_readers_match_uniffi_lift() {
        let response = HttpResponse {
            status: 404,
            headers: vec![
                HttpHeader {
                    name: "Request-ID".into(),
                    value: "请求-1".into(),
                },
                HttpHeader {
                    name: "X".into(),
                    value: String::new(),
                },
            ],
            body: (0..=255u8).chain(b"{\"code\":1}".iter().copied()).collect(),
        };
        for r in [
            response.clone(),
            HttpResponse {
                body: Vec::new(),
                ..response
            },
        ] {
            let mut buf = Vec::new();
            <HttpResponse as Lower<UniFfiTag>>::write(r.clone(), &mut buf);
            <Vec<u8> as Lower<UniFfiTag>>::write(r.body.clone(), &mut buf);
            let lifted = <HttpResponse as Lift<UniFfiTag>>::try_read(&mut &buf[..]).unwrap();
            let mut a = Args(&buf);
            assert_eq!(a.response("r").unwrap(), lifted);
            assert_eq!(lifted, r);
            assert_eq!(a.bytes("body").unwrap(), r.body);
            a.end().unwrap();
        }
        // Truncated and negative lengths are refused, never read past the buffer.
        assert!(Args(&[0, 0, 0, 5, 1, 2])
            .bytes("b")
            .unwrap_err()
            .contains("5 bytes announced, 2 left"));
        assert!(Args(&[0xff, 0xff, 0xff, 0xff])
            .bytes("b")
            .unwrap_err()
            .contains("negative"));
        assert!(Args(&[0, 0]).bytes("b").unwrap_err().contains("no length"));
    }

    #[test]
    fn errors_are_tagged_and_in_uniffi_format() {
        let config = test_config();
        let mut args = Vec::new();
        <HashMap<String, String> as Lower<UniFfiTag>>::write(HashMap::new(), &mut args);
        <Vec<u8> as Lower<UniFfiTag>>::write(b"{}".to_vec(), &mut args);
        <i64 as Lower<UniFfiTag>>::write(0, &mut args);
        let out = dispatch(op::PARSE_NOTIFICATION_AT, config, &args).unwrap();
        assert_eq!(out[0], TAG_ERR);
        let mut rest = &out[1..];
        let err = <RefundError as Lift<UniFfiTag>>::try_read(&mut rest).unwrap();
        assert!(rest.is_empty());
        assert!(matches!(err, RefundError::Signature { .. }), "{err:?}");
    }

    #[test]
    fn hostile_counts_are_refused_before_anything_is_reserved() {
        let config = test_config();
        let huge = 0x7fff_ffffu32.to_be_bytes();
        for op in [op::VERIFY_WECHATPAY_SIGNATURE, op::PARSE_NOTIFICATION_AT] {
            let mut args = huge.to_vec();
            args.extend_from_slice(&[0; 64]);
            let err = dispatch(op, config.clone(), &args).unwrap_err();
            assert!(
                err.starts_with("argument headers: 2147483647 items announced"),
                "{err}"
            );
        }
        // Nested: the response's headers, a refund's goods_detail and funds_from.
        let mut args = Vec::new();
        <u16 as Lower<UniFfiTag>>::write(200, &mut args);
        args.extend_from_slice(&huge);
        let err = dispatch(op::PARSE_REFUND_RESPONSE, config.clone(), &args).unwrap_err();
        assert!(err.contains("items announced"), "{err}");
        let mut args = Vec::new();
        <String as Lower<UniFfiTag>>::write("R1".into(), &mut args);
        for v in [1i64, 1] {
            <i64 as Lower<UniFfiTag>>::write(v, &mut args);
        }
        <String as Lower<UniFfiTag>>::write("CNY".into(), &mut args);
        args.extend_from_slice(&huge);
        let err = dispatch(op::BUILD_CREATE_REFUND_REQUEST, config, &args).unwrap_err();
        assert!(
            err.starts_with("argument request: 2147483647 items"),
            "{err}"
        );
    }

    /// The shapes walk exactly the bytes UniFFI's own `Lower` writes for every op (a record
    /// that gains a field without its shape fails here).
    #[test]
    fn shapes_match_uniffi_lift() {
        use crate::refund::model::{FundsFrom, GoodsDetailInput, RefundAmountInput};
        let headers = vec![
            HttpHeader {
                name: "Wechatpay-Nonce".into(),
                value: "n".into(),
            },
            HttpHeader {
                name: "X".into(),
                value: String::new(),
            },
        ];
        let request = CreateRefundRequest {
            out_refund_no: "R1".into(),
            amount: RefundAmountInput {
                refund: 10,
                total: 100,
                currency: "CNY".into(),
                funds_from: vec![FundsFrom {
                    account: crate::refund::model::FromAccount::Available,
                    amount: 10,
                }],
            },
            transaction_id: None,
            out_trade_no: Some("T1".into()),
            sub_mchid: None,
            reason: Some("理由".into()),
            notify_url: None,
            funds_account: None,
            goods_detail: vec![GoodsDetailInput {
                merchant_goods_id: "G1".into(),
                unit_price: 10,
                refund_amount: 10,
                refund_quantity: 1,
                wechatpay_goods_id: None,
                goods_name: Some("商品".into()),
            }],
        };
        let abnormal = AbnormalRefundRequest {
            refund_id: "5000".into(),
            out_refund_no: "R1".into(),
            kind: crate::refund::model::AbnormalRefundKind::UserBankCard,
            sub_mchid: None,
            bank_type: Some("ICBC_DEBIT".into()),
            bank_account: Some("6222".into()),
            real_name: None,
        };
        let mut map = HashMap::new();
        map.insert("Wechatpay-Nonce".to_string(), "n".to_string());
        let w = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = Vec::new();
            f(&mut b);
            b
        };
        let cases: Vec<(i32, Vec<u8>)> = vec![
            (
                op::BUILD_CREATE_REFUND_REQUEST,
                w(&|b| {
                    <CreateRefundRequest as Lower<UniFfiTag>>::write(request.clone(), b);
                    <i64 as Lower<UniFfiTag>>::write(1, b);
                    <String as Lower<UniFfiTag>>::write("N".into(), b);
                }),
            ),
            (
                op::BUILD_QUERY_REFUND_REQUEST,
                w(&|b| {
                    <String as Lower<UniFfiTag>>::write("R1".into(), b);
                    <Option<String> as Lower<UniFfiTag>>::write(Some("1900".into()), b);
                    <i64 as Lower<UniFfiTag>>::write(1, b);
                    <String as Lower<UniFfiTag>>::write("N".into(), b);
                }),
            ),
            (
                op::BUILD_APPLY_ABNORMAL_REFUND_REQUEST,
                w(&|b| {
                    <AbnormalRefundRequest as Lower<UniFfiTag>>::write(abnormal.clone(), b);
                    <i64 as Lower<UniFfiTag>>::write(1, b);
                    <String as Lower<UniFfiTag>>::write("N".into(), b);
                }),
            ),
            (
                op::PARSE_REFUND_RESPONSE,
                w(&|b| {
                    let r = HttpResponse {
                        status: 200,
                        headers: headers.clone(),
                        body: b"{}".to_vec(),
                    };
                    <HttpResponse as Lower<UniFfiTag>>::write(r, b);
                    <i64 as Lower<UniFfiTag>>::write(1, b);
                }),
            ),
            (
                op::VERIFY_WECHATPAY_SIGNATURE,
                w(&|b| {
                    <Vec<HttpHeader> as Lower<UniFfiTag>>::write(headers.clone(), b);
                    <Vec<u8> as Lower<UniFfiTag>>::write(b"{}".to_vec(), b);
                    <i64 as Lower<UniFfiTag>>::write(1, b);
                }),
            ),
            (
                op::PARSE_NOTIFICATION_AT,
                w(&|b| {
                    <HashMap<String, String> as Lower<UniFfiTag>>::write(map.clone(), b);
                    <Vec<u8> as Lower<UniFfiTag>>::write(b"{}".to_vec(), b);
                    <i64 as Lower<UniFfiTag>>::write(1, b);
                }),
            ),
        ];
        for (op, args) in cases {
            let mut buf = &args[..];
            for (name, shape) in shapes::of(op).unwrap() {
                shape
                    .walk(&mut buf)
                    .unwrap_or_else(|e| panic!("op {op} {name}: {e}"));
            }
            assert!(buf.is_empty(), "op {op}: {} bytes not walked", buf.len());
            // One byte short: refused by the walk, like by the lift.
            assert!(
                check_counts(op, &args[..args.len() - 1]).is_err(),
                "op {op}"
            );
        }
    }

    fn test_config() -> Arc<ClientConfig> {
        let sandbox = crate::sandbox::Sandbox::start().expect("sandbox");
        sandbox.client_config().expect("config")
    }
}
