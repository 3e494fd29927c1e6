//! Canonical JSON: object keys sorted at every level, no insignificant white space.
//!
//! Hashes and reports must not depend on a map's insertion order (a dependency can
//! switch serde_json to order-preserving maps), so everything hashed goes through here.

use serde_json::Value;

pub fn to_string(value: &Value) -> String {
    let mut out = Vec::with_capacity(256);
    write(value, &mut out);
    into_string(out)
}

/// Appends the canonical form of `value` to `out`.
pub fn write_to(value: &Value, out: &mut Vec<u8>) {
    write(value, out)
}

/// Strings and numbers are written by serde_json itself (the same escapes and number
/// forms as `Value::to_string`), straight into the buffer: building a `String` per key
/// and scalar was most of the time spent storing and hashing a large run.
fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            // serde_json's map is sorted already unless a dependency turns on its
            // `preserve_order` feature; sorting sorted members is one linear pass.
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, value)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string_to(key, out);
                out.push(b':');
                write(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out);
            }
            out.push(b']');
        }
        Value::String(text) => string_to(text, out),
        scalar => scalar_to(scalar, out),
    }
}

/// Appends `text` as a JSON string, byte for byte as serde_json writes it: `"` and `\\`
/// escaped with a backslash, the control characters below 0x20 as `\b \t \n \f \r`
/// or `\u00XX` (lowercase hex), everything else as it is.
///
/// Written here rather than through serde_json's serializer, which went byte by byte:
/// that was a tenth of sealing and verifying a run of a million findings (perf on
/// `evidra verify`, benches/scale.sh). Runs of plain bytes are copied in one go. A test
/// holds the output equal to serde_json's for every byte.
pub fn string_to(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut plain_from = 0;
    while let Some(found) = first_to_escape(&bytes[plain_from..]) {
        let at = plain_from + found;
        out.extend_from_slice(&bytes[plain_from..at]);
        plain_from = at + 1;
        match bytes[at] {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            control => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(control >> 4)]);
                out.push(HEX[usize::from(control & 0xf)]);
            }
        }
    }
    out.extend_from_slice(&bytes[plain_from..]);
    out.push(b'"');
}

/// Where the first byte JSON escapes (`"`, `\\`, below 0x20) is in `bytes`. Eight bytes
/// at a time while none is: the bit tests below say exactly whether a word holds such a
/// byte (not which), and a word that does is searched byte by byte.
fn first_to_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let needs_escape = |b: &u8| *b < 0x20 || *b == b'"' || *b == b'\\';
    let mut start = 0;
    for word in bytes.chunks_exact(8) {
        // A chunk of `chunks_exact(8)` is always 8 bytes; were it not, the zero word
        // would only send it to the byte-by-byte search.
        let x = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        let (quote, backslash) = (x ^ (ONES * u64::from(b'"')), x ^ (ONES * u64::from(b'\\')));
        // Some byte below n (n <= 0x80) exactly when (x - n per byte) & !x has a high bit
        // set; a byte equal to c is a zero byte of x ^ c, i.e. one below 1.
        let found = (x.wrapping_sub(ONES * 0x20) & !x)
            | (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash);
        if found & HIGH != 0 {
            break;
        }
        start += 8;
    }
    bytes[start..].iter().position(needs_escape).map(|at| start + at)
}

fn scalar_to(value: &Value, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail, and a JSON scalar always serialises.
    let _ = serde_json::to_writer(out, value);
}

/// The canonical bytes as text. They are always UTF-8 (made of serde_json's output and
/// ASCII punctuation); the lossy branch is never taken.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// SHA-256 (hex) of the canonical form of `value`.
pub fn sha256(value: &Value) -> String {
    evidra_collector_core::sha256_hex(to_string(value).as_bytes())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_level() {
        let v = json!({"b": 1, "a": {"d": [1, {"z": 0, "y": null}], "c": "x"}});
        assert_eq!(
            super::to_string(&v),
            r#"{"a":{"c":"x","d":[1,{"y":null,"z":0}]},"b":1}"#
        );
    }

    /// Every byte value an escape could hinge on, alone and amid plain text, written as
    /// serde_json writes it: the copied-as-is path must never skip an escape.
    #[test]
    fn every_string_is_written_as_serde_json_writes_it() {
        let mut texts: Vec<String> = (0u32..=0x80).filter_map(char::from_u32).map(String::from).collect();
        texts.extend(
            [
                "",
                "plain arn:aws:iam::1:user/x",
                "é ✓ \u{2028} \u{7f}",
                "a\"b",
                "a\\b",
                "a/b",
            ]
            .map(String::from),
        );
        texts.extend(
            (0u32..0x20)
                .filter_map(char::from_u32)
                .map(|c| format!("before {c} after")),
        );
        texts.push((0u32..0x100).filter_map(char::from_u32).collect());
        texts.push("\"\"\\\n\u{1}\"x".into());
        for text in texts {
            let mut out = Vec::new();
            super::string_to(&text, &mut out);
            assert_eq!(out, serde_json::to_vec(&text).unwrap(), "{text:?}");
            assert_eq!(super::to_string(&json!(text)), serde_json::to_string(&text).unwrap());
        }
    }

    /// Texts of every length to 40 from the bytes on either side of each escaped one
    /// (and multi-byte characters), so that each escape falls at each place of an
    /// eight-byte word and beside the word tests' edge cases.
    #[test]
    fn escapes_anywhere_in_a_word_are_found() {
        let alphabet: Vec<char> = "\u{0}\u{1}\u{1f} !\"#[\\]~\u{7f}\u{80}é✓\u{2028}aZ\t\n\r"
            .chars()
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let length = (seed % 41) as usize;
            let text: String = (0..length)
                .map(|n| alphabet[((seed >> (n % 48)) as usize + n * 7) % alphabet.len()])
                .collect();
            let plain = "x".repeat((seed % 9) as usize);
            for text in [text.clone(), format!("{plain}{text}"), format!("{text}{plain}")] {
                let mut out = Vec::new();
                super::string_to(&text, &mut out);
                assert_eq!(out, serde_json::to_vec(&text).unwrap(), "{text:?}");
            }
        }
    }

    #[test]
    fn strings_and_numbers_are_written_as_serde_json_writes_them() {
        let v = json!({"q\"uote\n": "tab\t \u{1} é \u{2028}", "n": [-0.5, 1e300, 18446744073709551615u64, -9223372036854775808i64]});
        let mut expected = String::from("{");
        let mut keys: Vec<_> = v.as_object().unwrap().iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        for (i, (k, val)) in keys.into_iter().enumerate() {
            if i > 0 {
                expected.push(',');
            }
            expected.push_str(&serde_json::Value::String(k.clone()).to_string());
            expected.push(':');
            expected.push_str(&val.to_string());
        }
        expected.push('}');
        assert_eq!(super::to_string(&v), expected);
    }
}
