//! `uniffi-bindgen` for this crate: generates the Python, Kotlin and Swift bindings from the built
//! library (`uniffi-bindgen generate --library target/.../libwechatpay_refund.so --language …`).
//!
//! It lives in this package, behind the `uniffi-cli` feature, so that maturin finds it by itself
//! (`pip install bindings/python`, `maturin build`, an sdist): maturin runs
//! `cargo run --bin uniffi-bindgen --manifest-path Cargo.toml --features uniffi-cli`.
fn main() {
    uniffi::uniffi_bindgen_main()
}
