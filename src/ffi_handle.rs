//! Borrowing the Rust object behind a UniFFI object handle from outside UniFFI's generated
//! calls: the CPython accelerator (`python`) and the JVM fast path (`jvm`) receive the raw handle
//! a generated foreign object holds and need one more strong reference for the call.

// One `unsafe` block: the handle is a pointer made by `Arc::into_raw`.
#![allow(unsafe_code)]

use std::sync::Arc;

/// One more strong reference to the `T` behind `raw`, or `None` for a value that cannot be a
/// live Rust handle (0, or a foreign handle: UniFFI sets bit 0 of those).
///
/// # Safety
///
/// A non-zero, even `raw` must be the handle of a generated object for `T`
/// (`uniffi::ffi::Handle::from_arc(Arc<T>)`, as UniFFI's constructors and `Lower` make it), and
/// the caller must keep that object's own strong reference alive for the duration of this call
/// (the GIL and a reference to the Python object; the call counter of the Kotlin object). The
/// returned `Arc` is the caller's to drop.
pub(crate) unsafe fn borrow_arc<T>(raw: u64) -> Option<Arc<T>> {
    if raw == 0 || raw & 1 == 1 {
        return None;
    }
    // SAFETY: see the contract: the handle is `Arc::into_raw` of a live `Arc<T>`, whose count
    // is at least 1 while `into_arc_borrowed` adds ours.
    Some(unsafe { uniffi::ffi::Handle::from_raw_unchecked(raw).into_arc_borrowed::<T>() })
}
