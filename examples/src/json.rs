//! Just enough JSON for the iperf3 example and its tests: a value tree, a
//! tolerant reader and a compact writer.
//!
//! iperf3 exchanges its test parameters and results as small JSON objects,
//! and prints its reports as JSON with `--json`. Reading them needs a few
//! fields out of a few kilobytes, so this is a plain recursive-descent
//! reader with a depth limit (no input makes it recurse without bound or
//! panic), and numbers keep their text so that 64-bit counters read back
//! exactly. It is not a validating parser: it accepts what RFC 8259 allows
//! and a little more (it does not insist on a single top-level value's
//! trailing whitespace, say).

use std::fmt::Write;

/// How deeply arrays and objects may nest before the reader gives up.
pub const MAX_DEPTH: usize = 32;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its text (so that integers beyond 2^53 stay exact).
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object: its members in their order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// Member `key` of an object (the first of that name).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a path of object keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Value> {
        keys.iter().try_fold(self, |value, key| value.get(key))
    }

    /// A number as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// A number as `u64`: exact for integers, truncated for fractions and
    /// exponents (`1.8446744073709552e+19` reads as `u64::MAX`); `true`
    /// is 1 and `false` 0, as iperf3's flags come either way.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(text) => text.parse::<u64>().ok().or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .filter(|f| *f >= 0.0)
                    .map(|f| f as u64)
            }),
            Value::Bool(b) => Some(u64::from(*b)),
            _ => None,
        }
    }

    /// A flag: `true`, or a number other than 0.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Number(_) => self.as_f64().is_some_and(|f| f != 0.0),
            _ => false,
        }
    }

    /// A string's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// An array's elements.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The compact JSON text of the value.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(text) => out.push_str(text),
            Value::String(s) => write_string(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Value::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Number(n.to_string())
    }
}

impl From<f64> for Value {
    /// Non-finite numbers have no JSON form: they become 0.
    fn from(f: f64) -> Value {
        Value::Number(if f.is_finite() {
            format!("{f}")
        } else {
            "0".into()
        })
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

/// Builds an object from `(key, value)` pairs.
pub fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Why a text is not JSON: what was expected, and the byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What the reader wanted there.
    pub expected: &'static str,
    /// Where, in bytes from the start.
    pub at: usize,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "bad JSON: expected {} at byte {}",
            self.expected, self.at
        )
    }
}

impl std::error::Error for ParseError {}

/// Reads the first JSON value of `text` (what follows it is ignored, so a
/// report followed by a newline or a NUL reads too).
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        at: 0,
    };
    reader.value(0)
}

/// Reads the first JSON value of `bytes` (see [`parse`]).
pub fn parse_bytes(bytes: &[u8]) -> Result<Value, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|err| ParseError {
        expected: "UTF-8",
        at: err.valid_up_to(),
    })?;
    parse(text)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn fail<T>(&self, expected: &'static str) -> Result<T, ParseError> {
        Err(ParseError {
            expected,
            at: self.at,
        })
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.bytes.get(self.at).copied()
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, ParseError> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            self.fail("a value")
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return self.fail("less nesting");
        }
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => Ok(self.number()),
            _ => self.fail("a value"),
        }
    }

    fn number(&mut self) -> Value {
        let start = self.at;
        while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.bytes.get(self.at) {
            self.at += 1;
        }
        let text = String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned();
        Value::Number(text)
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.at += 1;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                _ => return self.fail("',' or ']'"),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.at += 1;
        let mut members = Vec::new();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(members));
        }
        loop {
            if self.peek() != Some(b'"') {
                return self.fail("a member name");
            }
            let key = self.string()?;
            if self.peek() != Some(b':') {
                return self.fail("':'");
            }
            self.at += 1;
            members.push((key, self.value(depth + 1)?));
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(members));
                }
                _ => return self.fail("',' or '}'"),
            }
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let Some(&byte) = self.bytes.get(self.at) else {
                return self.fail("the end of a string");
            };
            self.at += 1;
            match byte {
                b'"' => return Ok(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    let Some(&escape) = self.bytes.get(self.at) else {
                        return self.fail("an escape");
                    };
                    self.at += 1;
                    let c = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hex = self.bytes.get(self.at..self.at + 4);
                            let code = hex
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .and_then(|h| u32::from_str_radix(h, 16).ok());
                            let Some(code) = code else {
                                return self.fail("four hex digits");
                            };
                            self.at += 4;
                            // Surrogate halves are not paired up: iperf3
                            // never sends them; they read as U+FFFD.
                            char::from_u32(code).unwrap_or('\u{fffd}')
                        }
                        _ => return self.fail("an escape"),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                byte => out.push(byte),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_iperf3_results() {
        let text = r#"{"cpu_util_total":3.8,"sender_has_retransmits":18446744073709551615,
            "congestion_used":"bbr","streams":[{"id":1,"bytes":12582912,
            "retransmits":1.8446744073709552e+19,"jitter":0}]}"#;
        let value = parse(text).unwrap();
        assert_eq!(
            value.get("sender_has_retransmits").unwrap().as_u64(),
            Some(u64::MAX)
        );
        let streams = value.get("streams").unwrap().as_array().unwrap();
        assert_eq!(streams[0].get("bytes").unwrap().as_u64(), Some(12_582_912));
        assert_eq!(
            streams[0].get("retransmits").unwrap().as_u64(),
            Some(u64::MAX)
        );
        assert_eq!(value.get("congestion_used").unwrap().as_str(), Some("bbr"));
        assert_eq!(value.get("cpu_util_total").unwrap().as_f64(), Some(3.8));
    }

    #[test]
    fn writes_what_it_reads() {
        let value = object([
            ("tcp", true.into()),
            ("len", 131_072u64.into()),
            ("title", "a \"quoted\"\n\u{1} name".into()),
            ("list", Value::Array(vec![Value::Null, 1.5f64.into()])),
        ]);
        let text = value.to_json();
        assert_eq!(
            text,
            r#"{"tcp":true,"len":131072,"title":"a \"quoted\"\n\u0001 name","list":[null,1.5]}"#
        );
        assert_eq!(parse(&text).unwrap(), value);
        assert_eq!(value.path(&["list"]).unwrap().as_array().unwrap().len(), 2);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for text in [
            "", "{", "[1,", "{\"a\"}", "{\"a\":}", "\"\\u12", "\"abc", "tru", "[1 2]", "{1:2}",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
        let deep = "[".repeat(10_000);
        assert_eq!(parse(&deep).unwrap_err().expected, "less nesting");
        assert!(parse_bytes(b"\xff").is_err());
    }
}
