//! CPython accelerator for the Python wheel (feature `python`; never in the Kotlin/Swift builds).
//!
//! The Python package is the UniFFI-generated module (`wechatpay_refund/wechatpay_refund.py`,
//! pure Python over ctypes). That module is the reference implementation, and it is correct,
//! but its marshalling costs 85–150 µs per call — more than the Rust work of verifying a
//! response (~21 µs). This module is the accelerator in the `heapq`/`_heapq` sense: the same
//! shared library, loaded a second time by Python's import machinery as the extension module
//! `wechatpay_refund._speedups` (`dlopen` of the same file returns the same handle, so there is
//! one copy of the library's state), replaces the hot calls of the generated module:
//!
//! - the sans-IO functions `build_create_refund_request`, `build_query_refund_request`,
//!   `build_apply_abnormal_refund_request`, `parse_refund_response`,
//!   `verify_wechatpay_signature`, `parse_notification_at`;
//! - `ClientConfig(...)` and the `RefundClient` methods `create_refund`, `query_refund`,
//!   `apply_abnormal_refund`, `parse_notification`.
//!
//! Each takes and returns exactly the generated module's objects: arguments are read from the
//! generated records' attributes and checked like the generated `check_lower` does (a wrong
//! type is a `TypeError`, an out-of-range integer a `ValueError`); results are instances of the
//! generated classes, built without running their `__init__` (the instance `__dict__` is filled
//! in one step); errors are the generated `RefundError` subclasses, lifted by the generated
//! converter from the bytes UniFFI's own `Lower` writes. The GIL is released while Rust works.
//! `wechatpay_refund/__init__.py` installs this module and falls back to the generated code
//! when it cannot load (another interpreter, `WECHATPAY_REFUND_PURE_PYTHON=1`);
//! `bindings/python/tests/test_speedups.py` checks both give the same results and errors.

// `unsafe` here: borrowing the object behind a UniFFI handle held by a live Python object
// (`arc_from_object`, through `crate::ffi_handle`) and creating records through `tp_new`
// (`new_instance`). Each use has its SAFETY comment.
#![allow(unsafe_code)]

use crate::config::{ClientConfig, ClientOptions, WechatpayPublicKey};
use crate::error::RefundError;
use crate::refund::model::{
    AbnormalRefundKind, AbnormalRefundRequest, CreateRefundRequest, FromAccount, FundsAccount,
    FundsFrom, GoodsDetailInput, NotificationAmount, NotificationEventType, Promotion,
    PromotionGoodsDetail, PromotionScope, PromotionType, Refund, RefundAmount, RefundAmountInput,
    RefundChannel, RefundNotification, RefundStatus, RequestFundsAccount,
};
use crate::transport::{HttpHeader, HttpRequest, HttpResponse};
use crate::RefundClient;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple, PyType};
use std::collections::HashMap;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Record conversions

/// The field names of a Rust record as the generated Python class has them (`install` compares
/// them with the class's `__init__` parameters, so a mismatched generated module is refused).
trait PyFields {
    /// The record's name, which is also the generated class's name.
    const CLASS: &'static str;
    const FIELDS: &'static [&'static str];
}

/// Declares a record's fields for `install`'s check; the pattern has no `..`, so a field added
/// to the Rust record makes this a compile error until it is listed.
macro_rules! py_fields {
    ($ty:ident { $($field:ident),+ $(,)? }) => {
        impl PyFields for $ty {
            const CLASS: &'static str = stringify!($ty);
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];
        }
        const _: fn(&$ty) = |v| {
            let $ty { $($field: _),+ } = v;
        };
    };
}

/// A reader of a generated record: `fn NAME(&Bound<PyAny>) -> PyResult<TYPE>`, one getter per
/// field (`getter(&attribute) -> PyResult<field type>`), the attribute named after the field.
/// The struct literal must name every field (a compile error otherwise).
macro_rules! py_input {
    (fn $name:ident -> $ty:ident { $($field:ident: $get:expr),+ $(,)? }) => {
        py_fields!($ty { $($field),+ });
        fn $name(o: &Bound<'_, PyAny>) -> PyResult<$ty> {
            let py = o.py();
            Ok($ty {
                $($field: ($get)(&o.getattr(intern!(py, stringify!($field)))?)?,)+
            })
        }
    };
}

/// A builder of a generated record from a Rust one: the Rust value is destructured without
/// `..` (a field added in Rust is a compile error until it is converted here) and each
/// attribute is named after its field, set in declaration order (the order the generated
/// `__init__` assigns them, which keeps CPython's shared-key instance dictionaries).
macro_rules! py_output {
    (fn $name:ident($py:ident, $g:ident, $v:ident: $ty:ident) -> $class:ident {
        $($field:ident => $conv:expr),+ $(,)?
    }) => {
        py_output!(fn $name($py, $g, $v: $ty) -> $class, fields declared by py_input {
            $($field => $conv),+
        });
        impl PyFields for $ty {
            const CLASS: &'static str = stringify!($ty);
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];
        }
    };
    // A record that is also read (`py_input!` declared its fields).
    (fn $name:ident($py:ident, $g:ident, $v:ident: $ty:ident) -> $class:ident, fields declared by py_input {
        $($field:ident => $conv:expr),+ $(,)?
    }) => {
        fn $name<'py>($py: Python<'py>, $g: &Generated, $v: &$ty) -> PyResult<Bound<'py, PyAny>> {
            let $ty { $($field),+ } = $v;
            let obj = new_instance($py, $g, &$g.$class)?;
            $( obj.setattr(intern!($py, stringify!($field)), $conv)?; )+
            Ok(obj)
        }
    };
}

/// The generated module's classes and helpers, captured once by `install`.
struct Generated {
    empty_tuple: Py<PyTuple>,
    lift_error: Py<PyAny>,
    client_config: Py<PyAny>,
    refund_client: Py<PyAny>,
    http_header: Py<PyAny>,
    http_request: Py<PyAny>,
    funds_from: Py<PyAny>,
    refund_amount: Py<PyAny>,
    promotion_goods_detail: Py<PyAny>,
    promotion: Py<PyAny>,
    refund: Py<PyAny>,
    notification_amount: Py<PyAny>,
    refund_notification: Py<PyAny>,
    enums: Enums,
}

/// For each enum, its Python class and its members in declaration order.
struct Enums {
    refund_status: (Py<PyAny>, Vec<Py<PyAny>>),
    refund_channel: (Py<PyAny>, Vec<Py<PyAny>>),
    funds_account: (Py<PyAny>, Vec<Py<PyAny>>),
    from_account: (Py<PyAny>, Vec<Py<PyAny>>),
    promotion_scope: (Py<PyAny>, Vec<Py<PyAny>>),
    promotion_type: (Py<PyAny>, Vec<Py<PyAny>>),
    notification_event_type: (Py<PyAny>, Vec<Py<PyAny>>),
}

static GENERATED: PyOnceLock<Generated> = PyOnceLock::new();

fn generated(py: Python<'_>) -> PyResult<&'static Generated> {
    GENERATED.get(py).ok_or_else(|| {
        pyo3::exceptions::PyRuntimeError::new_err(
            "wechatpay_refund._speedups is not installed (call install() first)",
        )
    })
}

fn enum_members<T: WireEnum>(
    module: &Bound<'_, PyAny>,
    name: &str,
) -> PyResult<(Py<PyAny>, Vec<Py<PyAny>>)> {
    let cls = module.getattr(name)?;
    let members: Vec<Py<PyAny>> = cls
        .try_iter()?
        .map(|m| m.map(Bound::unbind))
        .collect::<PyResult<_>>()?;
    let known = T::known();
    if members.len() != known.len() {
        return Err(PyValueError::new_err(format!(
            "{name} has {} members in Python and {} in Rust: the generated module does not match this library",
            members.len(),
            known.len()
        )));
    }
    for (m, k) in members.iter().zip(known) {
        let value: String = m
            .bind(module.py())
            .getattr(intern!(module.py(), "value"))?
            .extract()?;
        if value != k.wire() {
            return Err(PyValueError::new_err(format!(
                "{name}: member {value:?} where this library has {:?}",
                k.wire()
            )));
        }
    }
    Ok((cls.unbind(), members))
}

/// The open enums (`crate::wire`) as the accelerator sees them.
trait WireEnum: Sized + 'static {
    fn known() -> &'static [Self];
    fn index(&self) -> Option<usize>;
    fn wire(&self) -> &str;
    fn parse(s: &str) -> Self;
}

macro_rules! wire_enums {
    ($($t:ty),+) => {$(
        impl WireEnum for $t {
            fn known() -> &'static [Self] {
                <$t>::KNOWN
            }
            fn index(&self) -> Option<usize> {
                self.known_index()
            }
            fn wire(&self) -> &str {
                self.as_str()
            }
            fn parse(s: &str) -> Self {
                <$t>::from_wire(s)
            }
        }
    )+};
}
wire_enums!(
    RefundStatus,
    RefundChannel,
    FundsAccount,
    RequestFundsAccount,
    FromAccount,
    PromotionScope,
    PromotionType,
    AbnormalRefundKind,
    NotificationEventType
);

/// Capture the generated module's classes. `lift_error(bytes) -> RefundError` is the
/// generated converter applied to a byte stream (see `wechatpay_refund/__init__.py`).
#[pyfunction]
fn install(module: &Bound<'_, PyAny>, lift_error: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = module.py();
    let class = |name: &str| -> PyResult<Py<PyAny>> {
        let c = module.getattr(name)?;
        c.cast::<PyType>()?;
        Ok(c.unbind())
    };
    // Request-only enums are read as strings; their classes are checked all the same.
    enum_members::<RequestFundsAccount>(module, "RequestFundsAccount")?;
    enum_members::<AbnormalRefundKind>(module, "AbnormalRefundKind")?;
    let enums = Enums {
        refund_status: enum_members::<RefundStatus>(module, "RefundStatus")?,
        refund_channel: enum_members::<RefundChannel>(module, "RefundChannel")?,
        funds_account: enum_members::<FundsAccount>(module, "FundsAccount")?,
        from_account: enum_members::<FromAccount>(module, "FromAccount")?,
        promotion_scope: enum_members::<PromotionScope>(module, "PromotionScope")?,
        promotion_type: enum_members::<PromotionType>(module, "PromotionType")?,
        notification_event_type: enum_members::<NotificationEventType>(
            module,
            "NotificationEventType",
        )?,
    };
    let g = Generated {
        empty_tuple: PyTuple::empty(py).unbind(),
        lift_error: lift_error.clone().unbind(),
        client_config: class("ClientConfig")?,
        refund_client: class("RefundClient")?,
        http_header: class("HttpHeader")?,
        http_request: class("HttpRequest")?,
        funds_from: class("FundsFrom")?,
        refund_amount: class("RefundAmount")?,
        promotion_goods_detail: class("PromotionGoodsDetail")?,
        promotion: class("Promotion")?,
        refund: class("Refund")?,
        notification_amount: class("NotificationAmount")?,
        refund_notification: class("RefundNotification")?,
        enums,
    };
    // Every record the accelerator reads or builds has exactly the generated class's fields.
    let inspect = py.import("inspect")?;
    for (class, fields) in RECORDS {
        check_fields(module, &inspect, class, fields)?;
    }
    // A second install (a reload) keeps the first capture: the classes are the same objects
    // for as long as the process lives.
    let _ = GENERATED.set(py, g);
    Ok(())
}

/// The records the accelerator converts: (class name, Rust field names).
const RECORDS: &[(&str, &[&str])] = &[
    record_fields::<FundsFrom>(),
    record_fields::<GoodsDetailInput>(),
    record_fields::<RefundAmountInput>(),
    record_fields::<CreateRefundRequest>(),
    record_fields::<AbnormalRefundRequest>(),
    record_fields::<WechatpayPublicKey>(),
    record_fields::<ClientOptions>(),
    record_fields::<HttpResponse>(),
    record_fields::<HttpHeader>(),
    record_fields::<HttpRequest>(),
    record_fields::<PromotionGoodsDetail>(),
    record_fields::<Promotion>(),
    record_fields::<RefundAmount>(),
    record_fields::<Refund>(),
    record_fields::<NotificationAmount>(),
    record_fields::<RefundNotification>(),
];

const fn record_fields<T: PyFields>() -> (&'static str, &'static [&'static str]) {
    (T::CLASS, T::FIELDS)
}

/// The generated class `name` must take exactly `fields` (its `__init__` parameters): otherwise
/// the generated module is not the one this library was built with, and the accelerator would
/// drop or invent attributes. Refused with the difference.
fn check_fields(
    module: &Bound<'_, PyAny>,
    inspect: &Bound<'_, PyModule>,
    name: &str,
    fields: &[&str],
) -> PyResult<()> {
    let py = module.py();
    let init = module.getattr(name)?.getattr(intern!(py, "__init__"))?;
    let params = inspect
        .call_method1(intern!(py, "signature"), (init,))?
        .getattr(intern!(py, "parameters"))?;
    let mut generated: Vec<String> = Vec::new();
    for p in params.try_iter()? {
        let p: String = p?.extract()?;
        if p != "self" {
            generated.push(p);
        }
    }
    let missing: Vec<&str> = generated
        .iter()
        .map(String::as_str)
        .filter(|p| !fields.contains(p))
        .collect();
    let extra: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| !generated.iter().any(|p| p == f))
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    Err(PyValueError::new_err(format!(
        "{name}: the generated class has fields this library does not know: [{}]; and lacks: \
         [{}]. The generated module does not match this library",
        missing.join(", "),
        extra.join(", ")
    )))
}

// ---------------------------------------------------------------------------------------------
// Errors

/// The generated `RefundError` subclass for `err`, built by the generated converter from the
/// bytes UniFFI's own `Lower` writes: the same exception the generated code would raise.
fn raise(py: Python<'_>, g: &Generated, err: RefundError) -> PyErr {
    let mut buf = Vec::new();
    <RefundError as uniffi::Lower<crate::UniFfiTag>>::write(err, &mut buf);
    match g.lift_error.bind(py).call1((PyBytes::new(py, &buf),)) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------------------------
// UniFFI object handles

/// One more strong reference to the Rust object behind a generated object (`ClientConfig`,
/// `RefundClient`): checks the class first (`TypeError` like the generated `check_lower`).
fn arc_from_object<T: Send + Sync>(
    obj: &Bound<'_, PyAny>,
    class: &Py<PyAny>,
    name: &str,
) -> PyResult<Arc<T>> {
    // The object's real type (`Py_TYPE`), not `isinstance`, which honours a `__class__`
    // attribute: an impostor claiming `__class__ = ClientConfig` with a forged `_handle` must
    // be refused before the handle is read.
    let real_type = obj.get_type();
    let class = class.bind(obj.py()).cast::<PyType>()?;
    if !real_type.is_subclass(class)? {
        return Err(PyTypeError::new_err(format!(
            "Expected {name} instance, {} found",
            obj.get_type().name()?
        )));
    }
    let handle: u64 = obj.getattr(intern!(obj.py(), "_handle"))?.extract()?;
    // SAFETY: `obj` is an instance of the generated class for `T` whose `_handle` is
    // `uniffi::ffi::Handle::from_arc(Arc<T>)`, and `obj` holds that strong reference until its
    // `__del__` frees it; we hold a reference to `obj` (and the GIL) for the whole call.
    unsafe { crate::ffi_handle::borrow_arc(handle) }
        .ok_or_else(|| PyValueError::new_err(format!("{name} has no live handle")))
}

/// Hand an `Arc` to a generated object: the handle the generated `_uniffi_make_instance` and
/// `__del__` expect (the same as UniFFI's `Lower` of an object).
fn handle_of<T>(arc: Arc<T>) -> u64 {
    uniffi::ffi::Handle::from_arc(arc).as_raw()
}

// ---------------------------------------------------------------------------------------------
// Python -> Rust, checked like the generated `check_lower`

fn get_str(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(str_obj(obj.clone())?.to_str()?.to_owned())
}

fn get_opt_str(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if obj.is_none() {
        Ok(None)
    } else {
        get_str(obj).map(Some)
    }
}

/// An optional keyword argument that may also be passed as `None`.
fn get_opt_str_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    obj.map_or(Ok(None), get_opt_str)
}

fn get_int<'py, T>(
    obj: &Bound<'py, PyAny>,
    class_name: &str,
    min: i128,
    max_exclusive: i128,
) -> PyResult<T>
where
    T: TryFrom<i128> + pyo3::conversion::FromPyObjectOwned<'py>,
{
    // Exact ints in range (the common case) skip the `__index__` call.
    if let Ok(v) = obj.cast_exact::<pyo3::types::PyInt>() {
        if let Ok(v) = v.extract::<T>() {
            return Ok(v);
        }
    }
    let index = obj
        .call_method0(intern!(obj.py(), "__index__"))
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "'{}' object cannot be interpreted as an integer",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
    let out_of_range = || {
        PyValueError::new_err(format!(
            "{class_name} requires {min} <= value < {max_exclusive}"
        ))
    };
    let v: i128 = index.extract().map_err(|_| out_of_range())?;
    if v < min || v >= max_exclusive {
        return Err(out_of_range());
    }
    T::try_from(v).map_err(|_| out_of_range())
}

fn get_i64(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    get_int(obj, "i64", i64::MIN as i128, i64::MAX as i128 + 1)
}

fn get_u16(obj: &Bound<'_, PyAny>) -> PyResult<u16> {
    get_int(obj, "u16", 0, u16::MAX as i128 + 1)
}

fn get_u32(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    get_int(obj, "u32", 0, u32::MAX as i128 + 1)
}

fn get_u64(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    get_int(obj, "u64", 0, u64::MAX as i128 + 1)
}

fn get_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    // bytearray, memoryview, anything with the buffer protocol: like the generated
    // `memoryview(value)` check.
    let view = obj
        .py()
        .import(intern!(obj.py(), "builtins"))?
        .getattr(intern!(obj.py(), "memoryview"))?
        .call1((obj,))
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "a bytes-like object is required, not '{}'",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
    let bytes = view.call_method0(intern!(obj.py(), "tobytes"))?;
    Ok(bytes.cast::<PyBytes>()?.as_bytes().to_vec())
}

/// The caller's `str` objects, checked like `get_str`, kept alive so that their UTF-8 can be
/// borrowed (no copy) while the GIL is released.
fn str_obj<'py>(obj: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
    match obj.cast_into::<PyString>() {
        Ok(s) => Ok(s),
        Err(e) => Err(PyTypeError::new_err(format!(
            "argument must be str, not {}",
            e.into_inner().get_type().name()?
        ))),
    }
}

/// A list of `HttpHeader` as (name, value) string objects.
fn header_list_objs<'py>(
    obj: &Bound<'py, PyAny>,
) -> PyResult<Vec<(Bound<'py, PyString>, Bound<'py, PyString>)>> {
    let py = obj.py();
    obj.try_iter()?
        .map(|h| {
            let h = h?;
            Ok((
                str_obj(h.getattr(intern!(py, "name"))?)?,
                str_obj(h.getattr(intern!(py, "value"))?)?,
            ))
        })
        .collect()
}

/// Any mapping of request headers (a `dict[str, str]`, Django's `request.META` with its
/// `wsgi.input` and other non-string entries, `request.headers` of Django, Flask or Starlette)
/// as (name, value) string objects: the entries whose name and value are both strings (the
/// package's `_string_headers` does the same for the generated code).
fn header_map_objs<'py>(
    obj: &Bound<'py, PyAny>,
) -> PyResult<Vec<(Bound<'py, PyString>, Bound<'py, PyString>)>> {
    let items = obj.call_method0(intern!(obj.py(), "items"))?;
    let mut out = Vec::new();
    for item in items.try_iter()? {
        let (k, v): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item?.extract()?;
        if let (Ok(k), Ok(v)) = (k.cast_into::<PyString>(), v.cast_into::<PyString>()) {
            out.push((k, v));
        }
    }
    Ok(out)
}

fn borrow_pairs<'a>(
    objs: &'a [(Bound<'_, PyString>, Bound<'_, PyString>)],
) -> PyResult<Vec<(&'a str, &'a str)>> {
    objs.iter()
        .map(|(n, v)| Ok((n.to_str()?, v.to_str()?)))
        .collect()
}

/// Body bytes: borrowed from a `bytes` object, copied from any other buffer.
enum Body<'py> {
    Bytes(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Body<'_> {
    fn of<'py>(obj: Bound<'py, PyAny>) -> PyResult<Body<'py>> {
        match obj.cast_into::<PyBytes>() {
            Ok(b) => Ok(Body::Bytes(b)),
            Err(e) => get_bytes(&e.into_inner()).map(Body::Owned),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Body::Bytes(b) => b.as_bytes(),
            Body::Owned(v) => v,
        }
    }
}

fn get_list<T>(
    obj: &Bound<'_, PyAny>,
    item: impl Fn(&Bound<'_, PyAny>) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    // The generated sequence converter iterates whatever it is given.
    obj.try_iter()?.map(|x| item(&x?)).collect()
}

fn get_enum<T: WireEnum>(obj: &Bound<'_, PyAny>) -> PyResult<T> {
    // The generated lowering is `Enum(value).value`: members and plain strings alike.
    match obj.cast::<PyString>() {
        Ok(s) => Ok(T::parse(&s.to_cow()?)),
        Err(_) => Err(PyValueError::new_err(obj.clone().unbind())),
    }
}

// Records read from Python: `py_input!` writes the reader as a struct literal whose field names
// are the attribute names (`stringify!`), so a field added to the Rust record is a compile error
// here, and `install` checks the generated class has exactly these fields (`PyFields`).

py_input!(fn funds_from_py -> FundsFrom {
    account: get_enum,
    amount: get_i64,
});

py_input!(fn goods_detail_input_py -> GoodsDetailInput {
    merchant_goods_id: get_str,
    unit_price: get_i64,
    refund_amount: get_i64,
    refund_quantity: get_i64,
    wechatpay_goods_id: get_opt_str,
    goods_name: get_opt_str,
});

py_input!(fn refund_amount_input_py -> RefundAmountInput {
    refund: get_i64,
    total: get_i64,
    currency: get_str,
    funds_from: |o| get_list(o, funds_from_py),
});

py_input!(fn create_refund_request_py -> CreateRefundRequest {
    out_refund_no: get_str,
    amount: refund_amount_input_py,
    transaction_id: get_opt_str,
    out_trade_no: get_opt_str,
    sub_mchid: get_opt_str,
    reason: get_opt_str,
    notify_url: get_opt_str,
    funds_account: |o: &Bound<'_, PyAny>| if o.is_none() { Ok(None) } else { get_enum(o).map(Some) },
    goods_detail: |o| get_list(o, goods_detail_input_py),
});

py_input!(fn abnormal_refund_request_py -> AbnormalRefundRequest {
    refund_id: get_str,
    out_refund_no: get_str,
    kind: get_enum,
    sub_mchid: get_opt_str,
    bank_type: get_opt_str,
    bank_account: get_opt_str,
    real_name: get_opt_str,
});

py_input!(fn wechatpay_public_key_py -> WechatpayPublicKey {
    id: get_str,
    pem: get_str,
});

py_input!(fn client_options_py -> ClientOptions {
    backup_base_url: get_opt_str,
    user_agent: get_opt_str,
    connect_timeout_ms: get_u64,
    read_timeout_ms: get_u64,
    max_attempts: get_u32,
    deadline_ms: get_u64,
    initial_backoff_ms: get_u64,
    max_backoff_ms: get_u64,
    max_response_bytes: get_u64,
    allow_http_notify_url: |o: &Bound<'_, PyAny>| o.is_truthy(),
    trust_roots_pem: |o| get_list(o, get_str),
    rate_limit: |o: &Bound<'_, PyAny>| o.is_truthy(),
    replay_guard_capacity: get_u32,
    platform_trust_anchors_pem: |o| get_list(o, get_str),
});

// `HttpResponse` (and its `HttpHeader`s) are read in place, borrowed (see
// `parse_refund_response`); the field list is declared, and proven exhaustive, for `install`.
py_fields!(HttpResponse {
    status,
    headers,
    body
});

/// `dict[str, str]` like the generated map converter (`.items()`), owned.
fn header_map_py(o: &Bound<'_, PyAny>) -> PyResult<HashMap<String, String>> {
    let objs = header_map_objs(o)?;
    borrow_pairs(&objs).map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Rust -> Python: instances of the generated classes

/// A bare instance of a generated record class, as `object.__new__(cls)` makes it, without the
/// generated `__init__` (which would only assign the attributes `py_output!` then sets one by one,
/// in the same order, so the instance keeps CPython's compact shared-key attribute storage).
/// The class's `tp_new` slot is called directly: the same function `object.__new__` reaches,
/// without building two argument tuples on the way.
fn new_instance<'py>(
    py: Python<'py>,
    g: &Generated,
    class: &Py<PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    // `install` checked that every record class is a type object.
    let tp = class.as_ptr().cast::<pyo3::ffi::PyTypeObject>();
    // SAFETY: `tp` is a live type object (we hold a reference in `Generated`); `PyType_GetSlot`
    // returns its `tp_new`, a `newfunc`, or null; `tp_new(type, (), NULL)` is the documented
    // way to create an instance and returns a new reference or null with an exception set.
    unsafe {
        let slot = pyo3::ffi::PyType_GetSlot(tp, pyo3::ffi::Py_tp_new);
        if slot.is_null() {
            // `object.__new__(cls)` would refuse such a class too.
            return Err(PyTypeError::new_err(
                "the generated record class cannot be instantiated",
            ));
        }
        let tp_new: pyo3::ffi::newfunc = std::mem::transmute(slot);
        let obj = tp_new(tp, g.empty_tuple.as_ptr(), std::ptr::null_mut());
        Bound::from_owned_ptr_or_err(py, obj)
    }
}

fn py_opt_str<'py>(py: Python<'py>, v: &Option<String>) -> Bound<'py, PyAny> {
    match v {
        Some(s) => PyString::new(py, s).into_any(),
        None => py.None().into_bound(py),
    }
}

fn py_opt_i64<'py>(py: Python<'py>, v: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Some(n) => n.into_pyobject(py)?.into_any(),
        None => py.None().into_bound(py),
    })
}

fn py_enum<'py, T: WireEnum>(
    py: Python<'py>,
    (class, members): &(Py<PyAny>, Vec<Py<PyAny>>),
    v: &T,
) -> PyResult<Bound<'py, PyAny>> {
    match v.index() {
        Some(i) => Ok(members[i].bind(py).clone()),
        // A value this version does not know: the class keeps it as a pseudo-member.
        None => class.bind(py).call1((v.wire(),)),
    }
}

fn py_opt_enum<'py, T: WireEnum>(
    py: Python<'py>,
    e: &(Py<PyAny>, Vec<Py<PyAny>>),
    v: &Option<T>,
) -> PyResult<Bound<'py, PyAny>> {
    match v {
        Some(v) => py_enum(py, e, v),
        None => Ok(py.None().into_bound(py)),
    }
}

py_output!(fn py_funds_from(py, g, v: FundsFrom) -> funds_from, fields declared by py_input {
    account => py_enum(py, &g.enums.from_account, account)?,
    amount => *amount,
});

fn py_list<'py, T>(
    py: Python<'py>,
    g: &Generated,
    items: &[T],
    f: impl Fn(Python<'py>, &Generated, &T) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for item in items {
        list.append(f(py, g, item)?)?;
    }
    Ok(list)
}

py_output!(fn py_goods_detail(py, g, v: PromotionGoodsDetail) -> promotion_goods_detail {
    merchant_goods_id => py_opt_str(py, merchant_goods_id),
    wechatpay_goods_id => py_opt_str(py, wechatpay_goods_id),
    goods_id => py_opt_str(py, goods_id),
    goods_name => py_opt_str(py, goods_name),
    unit_price => *unit_price,
    refund_amount => py_opt_i64(py, *refund_amount)?,
    refund_quantity => py_opt_i64(py, *refund_quantity)?,
    quantity => py_opt_i64(py, *quantity)?,
    discount_amount => py_opt_i64(py, *discount_amount)?,
    goods_remark => py_opt_str(py, goods_remark),
});

py_output!(fn py_promotion(py, g, v: Promotion) -> promotion {
    coupon_id => py_opt_str(py, coupon_id),
    name => py_opt_str(py, name),
    scope => py_opt_enum(py, &g.enums.promotion_scope, scope)?,
    promotion_type => py_opt_enum(py, &g.enums.promotion_type, promotion_type)?,
    amount => *amount,
    refund_amount => py_opt_i64(py, *refund_amount)?,
    stock_id => py_opt_str(py, stock_id),
    wechatpay_contribute => py_opt_i64(py, *wechatpay_contribute)?,
    merchant_contribute => py_opt_i64(py, *merchant_contribute)?,
    other_contribute => py_opt_i64(py, *other_contribute)?,
    currency => py_opt_str(py, currency),
    goods_detail => py_list(py, g, goods_detail, py_goods_detail)?,
});

py_output!(fn py_refund_amount(py, g, v: RefundAmount) -> refund_amount {
    total => *total,
    refund => *refund,
    funds_from => py_list(py, g, funds_from, py_funds_from)?,
    payer_total => *payer_total,
    payer_refund => *payer_refund,
    settlement_refund => *settlement_refund,
    settlement_total => *settlement_total,
    discount_refund => *discount_refund,
    currency => currency,
    refund_fee => py_opt_i64(py, *refund_fee)?,
});

py_output!(fn py_refund(py, g, v: Refund) -> refund {
    refund_id => refund_id,
    out_refund_no => out_refund_no,
    transaction_id => transaction_id,
    out_trade_no => out_trade_no,
    channel => py_enum(py, &g.enums.refund_channel, channel)?,
    user_received_account => user_received_account,
    success_time => py_opt_str(py, success_time),
    create_time => create_time,
    status => py_enum(py, &g.enums.refund_status, status)?,
    funds_account => py_enum(py, &g.enums.funds_account, funds_account)?,
    amount => py_refund_amount(py, g, amount)?,
    promotion_detail => py_list(py, g, promotion_detail, py_promotion)?,
    raw_json => raw_json,
});

py_output!(fn py_notification_amount(py, g, v: NotificationAmount) -> notification_amount {
    total => *total,
    refund => *refund,
    payer_total => *payer_total,
    payer_refund => *payer_refund,
});

py_output!(fn py_notification(py, g, v: RefundNotification) -> refund_notification {
    id => id,
    create_time => create_time,
    event_type => py_enum(py, &g.enums.notification_event_type, event_type)?,
    summary => summary,
    mchid => py_opt_str(py, mchid),
    sp_mchid => py_opt_str(py, sp_mchid),
    sub_mchid => py_opt_str(py, sub_mchid),
    out_trade_no => out_trade_no,
    transaction_id => transaction_id,
    out_refund_no => out_refund_no,
    refund_id => refund_id,
    refund_status => py_enum(py, &g.enums.refund_status, refund_status)?,
    success_time => py_opt_str(py, success_time),
    user_received_account => user_received_account,
    amount => py_notification_amount(py, g, amount)?,
    raw_json => raw_json,
    seen_before => *seen_before,
});

py_output!(fn py_http_header(py, g, v: HttpHeader) -> http_header {
    name => name,
    value => value,
});

py_output!(fn py_http_request(py, g, v: HttpRequest) -> http_request {
    method => method,
    url => url,
    headers => py_list(py, g, headers, py_http_header)?,
    body => PyBytes::new(py, body),
    timeout_ms => *timeout_ms,
});

// ---------------------------------------------------------------------------------------------
// The accelerated calls. Signatures are the generated ones (positional or keyword).

fn config_arg(config: &Bound<'_, PyAny>, g: &Generated) -> PyResult<Arc<ClientConfig>> {
    arc_from_object(config, &g.client_config, "ClientConfig")
}

fn client_arg(client: &Bound<'_, PyAny>, g: &Generated) -> PyResult<Arc<RefundClient>> {
    arc_from_object(client, &g.refund_client, "RefundClient")
}

#[pyfunction]
fn build_create_refund_request<'py>(
    config: &Bound<'py, PyAny>,
    request: &Bound<'py, PyAny>,
    timestamp: &Bound<'py, PyAny>,
    nonce: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = config.py();
    let g = generated(py)?;
    let config = config_arg(config, g)?;
    let request = create_refund_request_py(request)?;
    let (timestamp, nonce) = (get_i64(timestamp)?, get_str(nonce)?);
    let out = py.detach(|| crate::build_create_refund_request(config, request, timestamp, nonce));
    py_http_request(py, g, &out.map_err(|e| raise(py, g, e))?)
}

#[pyfunction]
fn build_query_refund_request<'py>(
    config: &Bound<'py, PyAny>,
    out_refund_no: &Bound<'py, PyAny>,
    sub_mchid: &Bound<'py, PyAny>,
    timestamp: &Bound<'py, PyAny>,
    nonce: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = config.py();
    let g = generated(py)?;
    let config = config_arg(config, g)?;
    let (out_refund_no, sub_mchid) = (get_str(out_refund_no)?, get_opt_str(sub_mchid)?);
    let (timestamp, nonce) = (get_i64(timestamp)?, get_str(nonce)?);
    let out = py.detach(|| {
        crate::build_query_refund_request(config, out_refund_no, sub_mchid, timestamp, nonce)
    });
    py_http_request(py, g, &out.map_err(|e| raise(py, g, e))?)
}

#[pyfunction]
fn build_apply_abnormal_refund_request<'py>(
    config: &Bound<'py, PyAny>,
    request: &Bound<'py, PyAny>,
    timestamp: &Bound<'py, PyAny>,
    nonce: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = config.py();
    let g = generated(py)?;
    let config = config_arg(config, g)?;
    let request = abnormal_refund_request_py(request)?;
    let (timestamp, nonce) = (get_i64(timestamp)?, get_str(nonce)?);
    let out =
        py.detach(|| crate::build_apply_abnormal_refund_request(config, request, timestamp, nonce));
    py_http_request(py, g, &out.map_err(|e| raise(py, g, e))?)
}

#[pyfunction]
fn parse_refund_response<'py>(
    config: &Bound<'py, PyAny>,
    response: &Bound<'py, PyAny>,
    now: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = config.py();
    let g = generated(py)?;
    let config = config_arg(config, g)?;
    let status = get_u16(&response.getattr(intern!(py, "status"))?)?;
    let headers = header_list_objs(&response.getattr(intern!(py, "headers"))?)?;
    let body = Body::of(response.getattr(intern!(py, "body"))?)?;
    let now = get_i64(now)?;
    // The headers and the body are borrowed from the caller's objects, which `headers` and
    // `body` keep alive (and which are immutable) while the GIL is released.
    let pairs = borrow_pairs(&headers)?;
    let body = body.as_slice();
    let out = py.detach(|| {
        crate::sansio::parse_refund_response_parts(
            &config,
            status,
            pairs.iter().copied(),
            body,
            now,
        )
    });
    py_refund(py, g, &out.map_err(|e| raise(py, g, e))?)
}

#[pyfunction]
fn verify_wechatpay_signature<'py>(
    config: &Bound<'py, PyAny>,
    headers: &Bound<'py, PyAny>,
    body: &Bound<'py, PyAny>,
    now: &Bound<'py, PyAny>,
) -> PyResult<()> {
    let py = config.py();
    let g = generated(py)?;
    let config = config_arg(config, g)?;
    let headers = header_list_objs(headers)?;
    let body = Body::of(body.clone())?;
    let now = get_i64(now)?;
    let pairs = borrow_pairs(&headers)?;
    let body = body.as_slice();
    py.detach(|| {
        crate::sansio::verify_wechatpay_signature_parts(&config, pairs.iter().copied(), body, now)
    })
    .map_err(|e| raise(py, g, e))
}

#[pyfunction]
fn parse_notification_at<'py>(
    config: &Bound<'py, PyAny>,
    headers: &Bound<'py, PyAny>,
    body: &Bound<'py, PyAny>,
    now: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = config.py();
    let g = generated(py)?;
    let config = config_arg(config, g)?;
    let headers = header_map_objs(headers)?;
    let body = Body::of(body.clone())?;
    let now = get_i64(now)?;
    let pairs = borrow_pairs(&headers)?;
    let body = body.as_slice();
    let out = py.detach(|| {
        crate::sansio::parse_notification_parts(&config, pairs.iter().copied(), body, now)
    });
    py_notification(py, g, &out.map_err(|e| raise(py, g, e))?)
}

/// The handle of a new `ClientConfig`, for the generated class's `__init__` to adopt: the
/// arguments of the exported constructor, handed to that very constructor.
#[pyfunction]
#[pyo3(signature = (
    mchid, merchant_serial_no, merchant_private_key_pem, api_v3_key,
    wechatpay_public_key_id=None, wechatpay_public_key_pem=None, wechatpay_public_keys=None,
    platform_certificates_pem=None, download_platform_certificates=false,
    service_provider=false, base_url=None, options=None
))]
#[allow(clippy::too_many_arguments)]
fn new_client_config(
    py: Python<'_>,
    mchid: &Bound<'_, PyAny>,
    merchant_serial_no: &Bound<'_, PyAny>,
    merchant_private_key_pem: &Bound<'_, PyAny>,
    api_v3_key: &Bound<'_, PyAny>,
    wechatpay_public_key_id: Option<&Bound<'_, PyAny>>,
    wechatpay_public_key_pem: Option<&Bound<'_, PyAny>>,
    wechatpay_public_keys: Option<&Bound<'_, PyAny>>,
    platform_certificates_pem: Option<&Bound<'_, PyAny>>,
    download_platform_certificates: bool,
    service_provider: bool,
    base_url: Option<&Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyAny>>,
) -> PyResult<u64> {
    let g = generated(py)?;
    let mchid = get_str(mchid)?;
    let serial = get_str(merchant_serial_no)?;
    // `ClientConfig::new` zeroizes its copies of both secrets when it is done with them.
    let key_pem = get_str(merchant_private_key_pem)?;
    let api_v3_key = get_str(api_v3_key)?;
    let key_id = get_opt_str_arg(wechatpay_public_key_id)?;
    let key_pem_wx = get_opt_str_arg(wechatpay_public_key_pem)?;
    let public_keys = match wechatpay_public_keys {
        Some(v) if !v.is_none() => get_list(v, wechatpay_public_key_py)?,
        _ => Vec::new(),
    };
    let certs = match platform_certificates_pem {
        Some(v) if !v.is_none() => get_list(v, get_str)?,
        _ => Vec::new(),
    };
    let base_url = get_opt_str_arg(base_url)?;
    let options = match options {
        Some(o) if !o.is_none() => Some(client_options_py(o)?),
        _ => None,
    };
    let out = py.detach(|| {
        ClientConfig::new(
            mchid,
            serial,
            key_pem,
            api_v3_key,
            key_id,
            key_pem_wx,
            public_keys,
            certs,
            download_platform_certificates,
            service_provider,
            base_url,
            options,
        )
    });
    Ok(handle_of(out.map_err(|e| raise(py, g, e))?))
}

#[pyfunction]
fn client_create_refund<'py>(
    client: &Bound<'py, PyAny>,
    request: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = client.py();
    let g = generated(py)?;
    let client = client_arg(client, g)?;
    let request = create_refund_request_py(request)?;
    let out = py.detach(|| client.create_refund(request));
    py_refund(py, g, &out.map_err(|e| raise(py, g, e))?)
}

#[pyfunction]
#[pyo3(signature = (client, out_refund_no, sub_mchid=None))]
fn client_query_refund<'py>(
    client: &Bound<'py, PyAny>,
    out_refund_no: &Bound<'py, PyAny>,
    sub_mchid: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = client.py();
    let g = generated(py)?;
    let client = client_arg(client, g)?;
    let out_refund_no = get_str(out_refund_no)?;
    let sub_mchid = get_opt_str_arg(sub_mchid)?;
    let out = py.detach(|| client.query_refund(out_refund_no, sub_mchid));
    py_refund(py, g, &out.map_err(|e| raise(py, g, e))?)
}

#[pyfunction]
fn client_apply_abnormal_refund<'py>(
    client: &Bound<'py, PyAny>,
    request: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = client.py();
    let g = generated(py)?;
    let client = client_arg(client, g)?;
    let request = abnormal_refund_request_py(request)?;
    let out = py.detach(|| client.apply_abnormal_refund(request));
    py_refund(py, g, &out.map_err(|e| raise(py, g, e))?)
}

#[pyfunction]
fn client_parse_notification<'py>(
    client: &Bound<'py, PyAny>,
    headers: &Bound<'py, PyAny>,
    body: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = client.py();
    let g = generated(py)?;
    let client = client_arg(client, g)?;
    let headers = header_map_py(headers)?;
    let body = get_bytes(body)?;
    let out = py.detach(|| client.parse_notification(headers, body));
    py_notification(py, g, &out.map_err(|e| raise(py, g, e))?)
}

#[pymodule]
fn _speedups(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(install, m)?)?;
    m.add_function(wrap_pyfunction!(build_create_refund_request, m)?)?;
    m.add_function(wrap_pyfunction!(build_query_refund_request, m)?)?;
    m.add_function(wrap_pyfunction!(build_apply_abnormal_refund_request, m)?)?;
    m.add_function(wrap_pyfunction!(parse_refund_response, m)?)?;
    m.add_function(wrap_pyfunction!(verify_wechatpay_signature, m)?)?;
    m.add_function(wrap_pyfunction!(parse_notification_at, m)?)?;
    m.add_function(wrap_pyfunction!(new_client_config, m)?)?;
    m.add_function(wrap_pyfunction!(client_create_refund, m)?)?;
    m.add_function(wrap_pyfunction!(client_query_refund, m)?)?;
    m.add_function(wrap_pyfunction!(client_apply_abnormal_refund, m)?)?;
    m.add_function(wrap_pyfunction!(client_parse_notification, m)?)?;
    Ok(())
}
