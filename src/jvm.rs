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

    fn test_config() -> Arc<ClientConfig> {
        let sandbox = crate::sandbox::Sandbox::start().expect("sandbox");
        sandbox.client_config().expect("config")
    }
}
