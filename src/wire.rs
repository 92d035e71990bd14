//! Open enums: the string-valued enums of the protocol (`RefundStatus`, `event_type`, …).
//!
//! docs/protocol.md: "Unknown enum values from the server must not break parsing (keep the raw
//! string)". Every such enum is declared once with [`wire_enum!`]: its known variants with their
//! wire values, plus `Unknown(String)` holding any other value exactly as received.
//!
//! Across the FFI boundary these enums travel as their wire string (UniFFI custom types), and
//! each language gets an open-enum type of its own, generated from the table below by the
//! `wire_enums_are_generated` test (`UPDATE_WIRE_ENUMS=1 cargo test --lib wire` rewrites them):
//! a `str`-valued `enum.Enum` in Python (`_wire.py`), a value class with constants in Kotlin
//! (`WireEnums.kt`) and a `RawRepresentable` struct with static members in Swift
//! (`WireEnums.swift`); `uniffi.toml` names their lift/lower expressions.

/// Name, docs and variants of one open enum, for the bindings' generator.
#[derive(Debug)]
#[allow(dead_code)] // read by the generator test
pub(crate) struct WireEnumInfo {
    /// Rust (and foreign) type name.
    pub name: &'static str,
    /// The enum's doc comment, one entry per line.
    pub doc: &'static [&'static str],
    /// Known variants: Rust name, wire value, doc lines.
    pub variants: &'static [(&'static str, &'static str, &'static [&'static str])],
    /// Wire values of the final states, for enums that have a notion of finality.
    pub final_values: &'static [&'static str],
}

/// Declares an open enum: known variants with their wire values, and `Unknown(String)`.
macro_rules! wire_enum {
    (
        $(#[doc = $doc:literal])*
        $name:ident {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        ///
        /// Open enum: a value this version does not know is kept in `Unknown` exactly as
        /// received; `as_str()` / `Display` give the wire value.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant, )+
            /// A value this version of the library does not know, kept as received.
            Unknown(String),
        }

        impl $name {
            /// Every known variant, in declaration order.
            pub const KNOWN: &'static [Self] = &[$( Self::$variant, )+];

            #[allow(dead_code)]
            pub(crate) const INFO: $crate::wire::WireEnumInfo = $crate::wire::WireEnumInfo {
                name: stringify!($name),
                doc: &[$( $doc ),*],
                variants: &[$( (stringify!($variant), $wire, &[$( $vdoc ),*]) ),+],
                final_values: &[],
            };

            /// The wire value (the raw string for `Unknown`).
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(raw) => raw,
                }
            }

            /// The variant for a wire value; `Unknown(value)` for one this version does not know.
            pub fn from_wire(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// `false` for `Unknown`.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }

            /// Position among [`Self::KNOWN`]; `None` for `Unknown`.
            #[allow(dead_code)]
            pub(crate) fn known_index(&self) -> Option<usize> {
                Self::KNOWN.iter().position(|k| k == self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from_wire(s))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::from_wire(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                match v {
                    $name::Unknown(raw) => raw,
                    known => known.as_str().to_owned(),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a string (", stringify!($name), ")"))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> ::std::result::Result<$name, E> {
                        Ok($name::from_wire(v))
                    }
                }
                d.deserialize_str(V)
            }
        }

        // Across FFI: the wire string; each language maps it onto its own open enum.
        #[cfg(feature = "ffi")]
        uniffi::custom_type!($name, String, {
            lower: |v| String::from(v),
            try_lift: |s| Ok($name::from_wire(&s)),
        });
    };
}

pub(crate) use wire_enum;
