#!/usr/bin/env python3
"""Where the time of one Python-binding call goes (the evidence behind BENCHMARKS.md).

    python profile_binding.py --root REPO                 # FFI calls per op + cProfile split
    python profile_binding.py --root REPO --loop OP SECS  # just loop one op (for `perf record`)

For every sans-IO op of the wheel it prints:
  * ops/s without a profiler;
  * how many times the generated module crosses into Rust per op (`_uniffi_rust_call*`: the
    call itself plus RustBuffer alloc / reserve / free made while lowering and lifting);
  * under cProfile: the share of time inside those crossings (Rust work, GIL released) versus
    Python-side glue (lowering arguments into RustBuffers, lifting results into dataclasses).
    cProfile inflates the Python side, so `scripts/bench/profile-binding` also gives the
    `perf record` split by library (libwechatpay_refund.so vs libpython), which does not.
Run it with the bench venv's python (scripts/bench-compare creates it).
"""

import argparse
import cProfile
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402


def ops(root):
    v = compare.Vectors(root)
    b = compare.BindingOps(v)
    big = {}
    for sz in (10 * 1024, 100 * 1024):
        body, sig = v.signed_body_of_size(sz)
        big[sz] = b.http_response(body, sig)
    return b, {
        "sign": b.sign,
        "verify": b.verify,
        "verify_only": lambda: b.verify_only(b.response),
        "notify": b.notify,
        "encrypt": b.encrypt,
        "config": b.config,
        "verify_10k": lambda: b.verify(big[10 * 1024]),
        "verify_100k": lambda: b.verify(big[100 * 1024]),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--loop", nargs=2, metavar=("OP", "SECS"))
    a = ap.parse_args()
    _, table = ops(a.root)
    if a.loop:
        fn, secs = table[a.loop[0]], float(a.loop[1])
        end = time.perf_counter() + secs
        n = 0
        while time.perf_counter() < end:
            fn()
            n += 1
        print("%s: %.0f ops/s" % (a.loop[0], n / secs))
        return 0
    print("| op | ops/s | Rust crossings per op | cProfile: share inside Rust calls | cProfile: Python glue per op |")
    print("|---|---:|---:|---:|---:|")
    for name, fn in table.items():
        rate = compare.rate(fn, 0.5)
        n = max(20, int(rate * 0.5))
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(n):
            fn()
        prof.disable()
        st = pstats.Stats(prof)
        total = st.total_tt
        calls = rust_tt = 0
        for (filename, _line, func), (cc, nc, tt, ct, callers) in st.stats.items():
            if func == "_uniffi_rust_call_with_error":  # _uniffi_rust_call delegates to it
                calls += nc
                rust_tt += tt
        print("| %s | %s | %.1f | %.0f%% | %.0f us |" % (
            name, compare.fmt_rate(rate), calls / n, 100 * rust_tt / total, (total - rust_tt) / n * 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
