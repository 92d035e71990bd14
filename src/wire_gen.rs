//! Generates each language's open-enum types from [`all`] and checks that the committed
//! files match. `UPDATE_WIRE_ENUMS=1 cargo test --lib wire` rewrites them.

use crate::wire::WireEnumInfo;
use std::fmt::Write as _;
use std::path::Path;

/// Every open enum of the crate, for the bindings' generator.
pub(crate) fn all() -> Vec<WireEnumInfo> {
    use crate::refund::model::*;
    vec![
        WireEnumInfo {
            final_values: &["SUCCESS", "CLOSED"],
            ..RefundStatus::INFO
        },
        RefundChannel::INFO,
        FundsAccount::INFO,
        RequestFundsAccount::INFO,
        FromAccount::INFO,
        PromotionScope::INFO,
        PromotionType::INFO,
        AbnormalRefundKind::INFO,
        NotificationEventType::INFO,
        WireEnumInfo {
            final_values: &["SUCCESS", "REFUNDCLOSE"],
            ..crate::v2::model::V2RefundStatus::INFO
        },
        crate::v2::model::V2RefundAccount::INFO,
        crate::v2::model::V2RefundChannel::INFO,
        crate::v2::model::V2CouponType::INFO,
        crate::v2::model::V2RefundRequestSource::INFO,
    ]
}

const HEADER: &str =
    "Generated from src/wire.rs by `UPDATE_WIRE_ENUMS=1 cargo test --lib wire`; do not edit.";
const TOML_BEGIN: &str = "# --- open enums: generated from src/wire.rs by `UPDATE_WIRE_ENUMS=1 cargo test --lib wire` ---";
const TOML_END: &str = "# --- end of generated open enums ---";

/// `OtherBankcard` -> `OTHER_BANKCARD` (UniFFI's Python/Kotlin enum member names).
fn shouty(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// `OtherBankcard` -> `otherBankcard` (UniFFI's Swift case names).
fn lower_camel(name: &str) -> String {
    let mut c = name.chars();
    let first = c.next().map(|f| f.to_ascii_lowercase()).unwrap_or_default();
    std::iter::once(first).chain(c).collect()
}

fn doc_lines(doc: &[&str]) -> Vec<String> {
    doc.iter().map(|l| l.trim().to_owned()).collect()
}

fn python(enums: &[WireEnumInfo]) -> String {
    let mut s = format!(
        r#""""Open enums of the WeChat Pay protocol.

{HEADER}

Each is a ``str``-valued :class:`enum.Enum`: ``RefundStatus.SUCCESS.value == "SUCCESS"``, a
member compares equal to its wire string (``RefundStatus.SUCCESS == "SUCCESS"``), ``str()``
gives the wire value, and a value from the server that this version does not know becomes a
pseudo-member with ``name == "UNKNOWN"``, ``is_known == False`` and ``value`` = the raw string
(``RefundStatus("NEW_STATE").value == "NEW_STATE"``).
"""

from __future__ import annotations

import enum
import typing

__all__ = [{names}]


class _WireEnum(str, enum.Enum):
    """Base of the open enums: a ``str`` enum that keeps unknown wire values."""

    @classmethod
    def _missing_(cls, value: object) -> typing.Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """``False`` for a value this version of the library does not know."""
        return self._name_ != "UNKNOWN"

    def __str__(self) -> str:
        return str(self._value_)

    def __repr__(self) -> str:
        if self.is_known:
            return f"{{type(self).__name__}}.{{self._name_}}"
        return f"{{type(self).__name__}}({{self._value_!r}})"

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __eq__(self, other: object) -> bool:
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return str.__ne__(self, other)
"#,
        names = enums
            .iter()
            .map(|e| format!("\"{}\"", e.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for e in enums {
        write!(s, "\n\nclass {}(_WireEnum):\n    \"\"\"", e.name).unwrap();
        for (i, l) in doc_lines(e.doc).iter().enumerate() {
            if i > 0 {
                s.push_str(if l.is_empty() { "\n" } else { "\n    " });
            }
            s.push_str(l);
        }
        s.push_str("\"\"\"\n\n");
        for (v, wire, doc) in e.variants {
            writeln!(s, "    {} = \"{}\"", shouty(v), wire).unwrap();
            writeln!(s, "    \"\"\"{}\"\"\"", doc_lines(doc).join(" ")).unwrap();
        }
        if !e.final_values.is_empty() {
            let finals: Vec<String> = e.final_values.iter().map(|v| format!("\"{v}\"")).collect();
            write!(
                s,
                "\n    def is_final(self) -> bool:\n        \"\"\"True for a state that never changes again ({}).\"\"\"\n        return self._value_ in ({},)\n",
                e.final_values.join(", "),
                finals.join(", ")
            )
            .unwrap();
        }
    }
    s
}

fn kdoc(s: &mut String, indent: &str, lines: &[String]) {
    writeln!(s, "{indent}/**").unwrap();
    for l in lines {
        if l.is_empty() {
            writeln!(s, "{indent} *").unwrap();
        } else {
            writeln!(s, "{indent} * {l}").unwrap();
        }
    }
    writeln!(s, "{indent} */").unwrap();
}

fn kotlin(enums: &[WireEnumInfo]) -> String {
    let mut s = format!("// {HEADER}\n@file:Suppress(\"ktlint\")\n\npackage com.wechatpayrefund\n");
    for e in enums {
        let mut doc = doc_lines(e.doc);
        doc.extend([
            String::new(),
            "Open enum: compare with the constants; [value] is the wire string, and a value this".into(),
            "version does not know is kept as received (`isKnown == false`, `name == \"UNKNOWN\"`).".into(),
        ]);
        s.push('\n');
        kdoc(&mut s, "", &doc);
        let n = e.name;
        writeln!(
            s,
            "public class {n} private constructor(\n    /** The wire value (the raw string for an unknown one). */\n    public val value: String,\n    /** The constant's name, or `\"UNKNOWN\"`. */\n    public val name: String,\n) {{\n    /** `false` for a value this version of the library does not know. */\n    public val isKnown: Boolean get() = name != \"UNKNOWN\"\n\n    override fun equals(other: Any?): Boolean = other is {n} && other.value == value\n\n    override fun hashCode(): Int = value.hashCode()\n\n    /** The wire value. */\n    override fun toString(): String = value\n"
        )
        .unwrap();
        if !e.final_values.is_empty() {
            let finals: Vec<String> = e.final_values.iter().map(|v| format!("\"{v}\"")).collect();
            writeln!(
                s,
                "    /** `true` for a state that never changes again ({}). */\n    public fun isFinal(): Boolean = value in setOf({})\n",
                e.final_values.join(", "),
                finals.join(", ")
            )
            .unwrap();
        }
        s.push_str("    public companion object {\n");
        for (v, wire, vdoc) in e.variants {
            kdoc(&mut s, "        ", &[doc_lines(vdoc).join(" ")]);
            let c = shouty(v);
            writeln!(
                s,
                "        @JvmField public val {c}: {n} = {n}(\"{wire}\", \"{c}\")\n"
            )
            .unwrap();
        }
        let all: Vec<String> = e.variants.iter().map(|(v, _, _)| shouty(v)).collect();
        writeln!(
            s,
            "        /** Every value this version knows, in declaration order. */\n        @JvmStatic public val entries: List<{n}> = listOf({})\n\n        /** The constant for [value], or an unknown one holding it. */\n        @JvmStatic public fun of(value: String): {n} = entries.firstOrNull {{ it.value == value }} ?: {n}(value, \"UNKNOWN\")\n    }}\n}}",
            all.join(", ")
        )
        .unwrap();
    }
    s
}

fn swift(enums: &[WireEnumInfo]) -> String {
    let mut s = format!("// {HEADER}\n");
    for e in enums {
        let n = e.name;
        s.push('\n');
        for l in doc_lines(e.doc) {
            writeln!(s, "/// {l}").unwrap();
        }
        writeln!(s, "///\n/// Open enum: compare with the static members; `rawValue` is the wire string, and a value\n/// this version does not know is kept as received (`isKnown == false`).").unwrap();
        writeln!(
            s,
            "public struct {n}: RawRepresentable, Hashable, Sendable, CustomStringConvertible {{\n    /// The wire value (the raw string for an unknown one).\n    public let rawValue: String\n\n    public init(rawValue: String) {{\n        self.rawValue = rawValue\n    }}\n\n    /// The wire value.\n    public var description: String {{ rawValue }}\n\n    /// `false` for a value this version of the library does not know.\n    public var isKnown: Bool {{ Self.allKnown.contains(self) }}\n"
        )
        .unwrap();
        if !e.final_values.is_empty() {
            let finals: Vec<String> = e.final_values.iter().map(|v| format!("\"{v}\"")).collect();
            writeln!(
                s,
                "    /// `true` for a state that never changes again ({}).\n    public var isFinal: Bool {{ [{}].contains(rawValue) }}\n",
                e.final_values.join(", "),
                finals.join(", ")
            )
            .unwrap();
        }
        for (v, wire, vdoc) in e.variants {
            writeln!(s, "    /// {}", doc_lines(vdoc).join(" ")).unwrap();
            writeln!(
                s,
                "    public static let {} = {n}(rawValue: \"{wire}\")",
                lower_camel(v)
            )
            .unwrap();
        }
        let all: Vec<String> = e
            .variants
            .iter()
            .map(|(v, _, _)| format!(".{}", lower_camel(v)))
            .collect();
        writeln!(
            s,
            "\n    /// Every value this version knows, in declaration order.\n    public static let allKnown: [{n}] = [{}]\n}}",
            all.join(", ")
        )
        .unwrap();
    }
    s
}

fn uniffi_toml_section(enums: &[WireEnumInfo]) -> String {
    let mut s = format!("{TOML_BEGIN}\n");
    for e in enums {
        let n = e.name;
        write!(
            s,
            "[bindings.python.custom_types.{n}]\nimports = [\".._wire.{n}\"]\nlift = \"{n}({{}})\"\nlower = \"{n}({{}}).value\"\n\
             [bindings.kotlin.custom_types.{n}]\nlift = \"{n}.of({{}})\"\nlower = \"{{}}.value\"\n\
             [bindings.swift.custom_types.{n}]\nlift = \"{n}(rawValue: {{}})\"\nlower = \"{{}}.rawValue\"\n\n"
        )
        .unwrap();
    }
    s.push_str(TOML_END);
    s.push('\n');
    s
}

fn with_toml_section(current: &str, section: &str) -> String {
    match (current.find(TOML_BEGIN), current.find(TOML_END)) {
        (Some(b), Some(e)) => {
            let end = e + TOML_END.len() + current[e + TOML_END.len()..].starts_with('\n') as usize;
            format!("{}{}{}", &current[..b], section, &current[end..])
        }
        _ => format!(
            "{}\n{}",
            current.trim_end_matches('\n').to_owned() + "\n",
            section
        ),
    }
}

#[test]
fn wire_enums_are_generated() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let enums = all();
    let toml_path = root.join("uniffi.toml");
    let toml_now = std::fs::read_to_string(&toml_path).unwrap();
    let files = [
        (
            root.join("bindings/python/python/wechatpay_refund/_wire.py"),
            python(&enums),
        ),
        (
            root.join("bindings/kotlin/src/main/kotlin/com/wechatpayrefund/WireEnums.kt"),
            kotlin(&enums),
        ),
        (
            root.join("bindings/swift/Sources/WechatpayRefund/WireEnums.swift"),
            swift(&enums),
        ),
        (
            toml_path,
            with_toml_section(&toml_now, &uniffi_toml_section(&enums)),
        ),
    ];
    let update = std::env::var_os("UPDATE_WIRE_ENUMS").is_some();
    let mut stale = Vec::new();
    for (path, want) in files {
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, want).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated open-enum files are stale (run `UPDATE_WIRE_ENUMS=1 cargo test --lib wire`): {stale:?}"
    );
}

#[test]
fn names_follow_uniffi() {
    assert_eq!(shouty("OtherBankcard"), "OTHER_BANKCARD");
    assert_eq!(shouty("RefundSuccess"), "REFUND_SUCCESS");
    assert_eq!(lower_camel("EcnyBasic"), "ecnyBasic");
}
