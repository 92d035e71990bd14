//! The v2 XML, both ways: a flat `<xml>` (or `<root>`) element with one child per field.
//!
//! Parsing is deliberately narrow (docs/protocol.md "Legacy v2 refund"; XXE hit a WeChat Pay SDK in
//! 2018): the body is capped, a DTD is refused, no entity other than the five predefined ones
//! and character references is accepted (so nothing is ever expanded or fetched), fields may
//! not nest or repeat, and the text must be UTF-8.

use crate::error::{RefundError, Result};
use quick_xml::events::Event;
use std::collections::BTreeMap;

/// Largest v2 XML body accepted (a query answer with 50 refunds and their coupons is ~30 KB).
pub const MAX_XML_BYTES: usize = 256 * 1024;
/// Most fields accepted in one message.
pub const MAX_FIELDS: usize = 4096;

fn bad(what: &str, reason: impl Into<String>) -> RefundError {
    RefundError::decode(what, reason, None)
}

/// A parsed v2 message: the root element's name and its fields (sorted by key, as signed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XmlFields {
    /// `xml` for requests and answers, `root` for a decrypted notification.
    pub root: String,
    /// Field name → text (CDATA and escapes resolved).
    pub fields: BTreeMap<String, String>,
}

impl XmlFields {
    /// A field's value, when present.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.fields.get(k).map(String::as_str)
    }
}

/// Parse a flat v2 XML message. `what` names it in errors (`v2 refund answer`...).
pub fn parse(what: &str, bytes: &[u8]) -> Result<XmlFields> {
    if bytes.len() > MAX_XML_BYTES {
        return Err(bad(
            what,
            format!(
                "the XML is {} bytes, more than the {MAX_XML_BYTES} accepted",
                bytes.len()
            ),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| bad(what, "the XML is not UTF-8"))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let cfg = reader.config_mut();
    cfg.check_end_names = true;
    cfg.expand_empty_elements = false;
    let mut out = XmlFields::default();
    // depth 0: before/after the root; 1: inside the root; 2: inside a field.
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut field: Option<(String, String)> = None;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| bad(what, format!("malformed XML: {e}")))?;
        match ev {
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) => {}
            Event::PI(_) => return Err(bad(what, "processing instructions are not accepted")),
            Event::DocType(_) => {
                return Err(bad(
                    what,
                    "a DOCTYPE (DTD) is not accepted in WeChat Pay XML",
                ))
            }
            Event::Start(ref e) | Event::Empty(ref e) if depth == 0 => {
                if seen_root {
                    return Err(bad(what, "more than one root element"));
                }
                seen_root = true;
                out.root = name_of(what, e.name().as_ref())?;
                if matches!(ev, Event::Start(_)) {
                    depth = 1;
                }
            }
            Event::Start(e) if depth == 1 => {
                field = Some((name_of(what, e.name().as_ref())?, String::new()));
                depth = 2;
            }
            Event::Empty(e) if depth == 1 => {
                let k = name_of(what, e.name().as_ref())?;
                insert(what, &mut out, k, String::new())?;
            }
            Event::Start(e) | Event::Empty(e) => {
                return Err(bad(
                    what,
                    format!(
                        "nested element <{}> inside a field: v2 XML is flat",
                        String::from_utf8_lossy(e.name().as_ref())
                    ),
                ))
            }
            Event::End(_) if depth == 0 => return Err(bad(what, "unmatched end tag")),
            Event::End(_) => {
                depth -= 1;
                if depth == 1 {
                    let (k, v) = field.take().expect("a field is open at depth 2");
                    insert(what, &mut out, k, v)?;
                }
            }
            Event::Text(t) => {
                let s = t
                    .xml10_content()
                    .map_err(|e| bad(what, format!("bad text: {e}")))?;
                match (&mut field, depth) {
                    (Some((_, v)), 2) => v.push_str(&s),
                    _ if s.trim().is_empty() => {}
                    _ => return Err(bad(what, "text outside of a field")),
                }
            }
            Event::CData(c) => {
                let s = c
                    .decode()
                    .map_err(|e| bad(what, format!("bad CDATA: {e}")))?;
                match (&mut field, depth) {
                    (Some((_, v)), 2) => v.push_str(&s),
                    _ => return Err(bad(what, "CDATA outside of a field")),
                }
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .ok()
                        .flatten()
                        .ok_or_else(|| bad(what, "invalid character reference"))?
                } else {
                    let name = r
                        .decode()
                        .map_err(|e| bad(what, format!("bad reference: {e}")))?;
                    match name.as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(bad(
                                what,
                                format!(
                                    "entity &{other}; is not accepted (no entity is ever expanded)"
                                ),
                            ))
                        }
                    }
                };
                match (&mut field, depth) {
                    (Some((_, v)), 2) => v.push(c),
                    _ => return Err(bad(what, "reference outside of a field")),
                }
            }
        }
    }
    if !seen_root {
        return Err(bad(what, "no root element"));
    }
    if depth != 0 {
        return Err(bad(what, "unclosed element"));
    }
    Ok(out)
}

fn name_of(what: &str, raw: &[u8]) -> Result<String> {
    let n = std::str::from_utf8(raw).map_err(|_| bad(what, "element name is not UTF-8"))?;
    if n.is_empty()
        || n.len() > 64
        || !n
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
    {
        return Err(bad(what, format!("unexpected element name {n:?}")));
    }
    Ok(n.to_owned())
}

fn insert(what: &str, out: &mut XmlFields, k: String, v: String) -> Result<()> {
    if out.fields.len() >= MAX_FIELDS {
        return Err(bad(what, format!("more than {MAX_FIELDS} fields")));
    }
    if out.fields.contains_key(&k) {
        return Err(bad(what, format!("field <{k}> appears twice")));
    }
    out.fields.insert(k, v);
    Ok(())
}

/// Serialise fields as `<xml><k>v</k>…</xml>` in the given order. Text values are escaped;
/// with `cdata` every value is wrapped in CDATA the way WeChat Pay writes its answers.
pub fn write(fields: &[(&str, &str)], cdata: bool) -> Vec<u8> {
    write_root("xml", fields, cdata)
}

/// [`write()`](fn@write) with another root element name (`root` in a notification's plaintext).
pub fn write_root(root: &str, fields: &[(&str, &str)], cdata: bool) -> Vec<u8> {
    let mut s = String::with_capacity(64 + fields.len() * 48);
    s.push('<');
    s.push_str(root);
    s.push('>');
    for (k, v) in fields {
        s.push('<');
        s.push_str(k);
        s.push('>');
        if cdata {
            s.push_str("<![CDATA[");
            // "]]>" cannot appear inside CDATA: end the section and open another.
            s.push_str(&v.replace("]]>", "]]]]><![CDATA[>"));
            s.push_str("]]>");
        } else {
            // A parser normalises a raw CR in text to LF (XML 1.0 end-of-line handling), which
            // would change the signed value: a character reference keeps it.
            s.push_str(&quick_xml::escape::escape(*v).replace('\r', "&#13;"));
        }
        s.push_str("</");
        s.push_str(k);
        s.push('>');
    }
    s.push_str("</");
    s.push_str(root);
    s.push('>');
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_cdata_and_escapes() {
        let v = "a<b>&\"c' ]]> 中文";
        for cdata in [false, true] {
            let x = write(&[("k", v), ("e", "")], cdata);
            let f = parse("t", &x).unwrap();
            assert_eq!(f.root, "xml");
            assert_eq!(f.get("k"), Some(v));
            assert_eq!(f.get("e"), Some(""));
        }
        // A carriage return survives both forms (found by the v2_xml fuzz target: in text it
        // was normalised to LF by the parser).
        for cdata in [false, true] {
            let v = "a\rb\r\nc";
            let f = parse("t", &write(&[("k", v)], cdata)).unwrap();
            assert_eq!(f.get("k"), Some(v), "cdata {cdata}");
        }
        let f = parse("t", b"<?xml version=\"1.0\"?>\n<xml>\n <a><![CDATA[x]]></a>\n <b>&#20013;&lt;</b><c/></xml>").unwrap();
        assert_eq!(f.get("a"), Some("x"));
        assert_eq!(f.get("b"), Some("中<"));
        assert_eq!(f.get("c"), Some(""));
    }

    #[test]
    fn refuses_hostile_xml() {
        let cases: &[&[u8]] = &[
            b"<!DOCTYPE xml [<!ENTITY a \"aaaa\">]><xml><a>&a;</a></xml>",
            b"<!DOCTYPE xml SYSTEM \"file:///etc/passwd\"><xml/>",
            b"<xml><a>&ext;</a></xml>",
            b"<xml><a>1</a><a>2</a></xml>",
            b"<xml><a><b>1</b></a></xml>",
            b"<xml><a>1</b></xml>",
            b"<xml><a>1</a>",
            b"<xml/><xml/>",
            b"text",
            b"",
            b"<xml>stray<a>1</a></xml>",
            b"<xml><a>\xff</a></xml>",
        ];
        for c in cases {
            assert!(
                matches!(parse("t", c), Err(RefundError::Decode { .. })),
                "{:?}",
                String::from_utf8_lossy(c)
            );
        }
        let big = vec![b' '; MAX_XML_BYTES + 1];
        assert!(parse("t", &big).is_err());
    }
}
