//! A record's properties as Rego values, read straight from their stored JSON text.
//!
//! Going through serde_json first (a `Value` tree, a `String` per key and per text, then
//! a second tree of regorus values) was about half of reading a run back: 0.8 s of
//! `benches/scale.sh 100000`. Reading the text once also gives each small container's
//! text for free: the stored text is canonical JSON, so the slice a container was read
//! from is the key it is shared under ([`SHARED_CONTAINER_MAX`]); building that key
//! from parsed values instead made an earlier try slower than serde_json.
//!
//! This reader only ever says "here is the value" or "I decline" (`None`), and the
//! caller then goes through serde_json: anything unusual (escapes it cannot take apart
//! alone, numbers other than plain whole ones, deep nesting, text serde_json refuses)
//! gets serde_json's answer. Tests hold the two paths equal.

use std::borrow::Cow;
use std::collections::BTreeMap;

use regorus::Value;

use super::{INTERNED_TEXT_MAX, Interner, SHARED_CONTAINER_MAX, rego_number};

/// Nesting this reader takes on itself; deeper text goes to serde_json, which refuses
/// text nested 128 deep.
const MAX_DEPTH: usize = 64;

/// The Rego value of the JSON `text`, with interned keys, short texts and small
/// containers, as [`super::to_rego`] makes it of the parsed text; `None` when this
/// reader leaves `text` to serde_json.
pub(super) fn to_rego(text: &str, keys: &mut Interner) -> Option<Value> {
    let mut reader = Reader {
        text,
        at: 0,
        depth: 0,
        keys,
    };
    let (value, _) = reader.value()?;
    reader.skip_space();
    (reader.at == text.len()).then_some(value)
}

/// How many values (containers and scalars) a value is made of, if every text and key in
/// it is short: what decides whether a container is shared. `None`: it is not.
type Size = Option<usize>;

struct Reader<'t, 'k> {
    text: &'t str,
    at: usize,
    depth: usize,
    keys: &'k mut Interner,
}

impl<'t> Reader<'t, '_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Steps over `byte` (after any white space), or declines.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_space();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    fn value(&mut self) -> Option<(Value, Size)> {
        self.skip_space();
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => {
                let text = self.string()?;
                let size = (text.len() <= INTERNED_TEXT_MAX).then_some(1);
                let value = if size.is_some() {
                    self.keys.get(&text)
                } else {
                    Value::from(text.as_ref())
                };
                Some((value, size))
            }
            b't' => self.literal("true", Value::from(true)),
            b'f' => self.literal("false", Value::from(false)),
            b'n' => self.literal("null", Value::Null),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Option<(Value, Size)> {
        self.text[self.at..].starts_with(word).then(|| {
            self.at += word.len();
            (value, Some(1))
        })
    }

    /// A whole number without sign, fraction or exponent, which is nearly every number
    /// stored; the rest are read by serde_json, as the whole text would have been.
    fn number(&mut self) -> Option<(Value, Size)> {
        let start = self.at;
        let bytes = self.text.as_bytes();
        while matches!(bytes.get(self.at), Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) {
            self.at += 1;
        }
        let number = &self.text[start..self.at];
        let plain = match number.as_bytes() {
            [b'0'] => true,
            [b'1'..=b'9', rest @ ..] => rest.len() < 19 && rest.iter().all(u8::is_ascii_digit),
            _ => false,
        };
        let value = if plain {
            Value::from(number.parse::<u64>().ok()?)
        } else {
            rego_number(&serde_json::from_str(number).ok()?)
        };
        Some((value, Some(1)))
    }

    /// The text of the string starting here, unescaped by serde_json if it has escapes.
    fn string(&mut self) -> Option<Cow<'t, str>> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut end = start + 1;
        let mut escaped = false;
        loop {
            match *bytes.get(end)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    end += 2;
                }
                // Unescaped control characters are not JSON: serde_json says what then.
                0..0x20 => return None,
                _ => end += 1,
            }
        }
        self.at = end + 1;
        // `start` and `end` are at quotes, so on character boundaries.
        let quoted = &self.text[start..=end];
        if escaped {
            serde_json::from_str::<String>(quoted).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(&quoted[1..quoted.len() - 1]))
        }
    }

    fn array(&mut self) -> Option<(Value, Size)> {
        let start = self.enter()?;
        let (mut items, mut size) = (Vec::new(), Some(1));
        self.items(b']', |reader| {
            let (item, item_size) = reader.value()?;
            items.push(item);
            size = add(size, item_size);
            Some(())
        })?;
        Some(self.leave(start, Value::from(items), size))
    }

    fn object(&mut self) -> Option<(Value, Size)> {
        let start = self.enter()?;
        let (mut fields, mut size) = (BTreeMap::new(), Some(1));
        self.items(b'}', |reader| {
            reader.skip_space();
            if reader.peek()? != b'"' {
                return None;
            }
            let key = reader.string()?;
            if key.len() > INTERNED_TEXT_MAX {
                size = None;
            }
            let key = reader.keys.get(&key);
            reader.expect(b':')?;
            let (value, value_size) = reader.value()?;
            size = add(size, value_size);
            // A key given twice keeps its last value, as serde_json's map does.
            fields.insert(key, value);
            Some(())
        })?;
        Some(self.leave(start, Value::from(fields), size))
    }

    /// Reads a container's items, each with `item`, up to its `close` byte: none, or
    /// one, then one more after each comma.
    fn items(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.skip_space();
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            item(self)?;
            self.skip_space();
            match self.peek()? {
                b',' => self.at += 1,
                byte if byte == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Steps into a container, giving where its text starts.
    fn enter(&mut self) -> Option<usize> {
        self.depth += 1;
        let start = self.at;
        self.at += 1;
        (self.depth <= MAX_DEPTH).then_some(start)
    }

    /// Steps out of the container whose text started at `start`, sharing it if small.
    fn leave(&mut self, start: usize, built: Value, size: Size) -> (Value, Size) {
        self.depth -= 1;
        if size.is_some_and(|n| n <= SHARED_CONTAINER_MAX) {
            let text = &self.text[start..self.at];
            if let Some(shared) = self.keys.containers.get(text) {
                return (shared.clone(), size);
            }
            self.keys.containers.insert(text.to_owned(), built.clone());
        }
        (built, size)
    }
}

fn add(size: Size, more: Size) -> Size {
    Some(size? + more?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the reader gives, or failing that serde_json and the engine's conversion: the
    /// value rules see either way.
    fn both(text: &str) -> (Option<Value>, Value) {
        let direct = to_rego(text, &mut Interner::default());
        let parsed: serde_json::Value = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
        (direct, super::super::to_rego(&parsed, &mut Interner::default()))
    }

    #[track_caller]
    fn same(text: &str) {
        let (direct, expected) = both(text);
        if let Some(direct) = direct {
            assert_eq!(direct, expected, "{text}");
            // And regorus's own reading of the text, where it has one.
            if let Ok(own) = Value::from_json_str(text) {
                assert_eq!(direct, own, "{text}");
            }
        }
    }

    #[test]
    fn stored_text_is_read_as_serde_json_reads_it() {
        for text in [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
            r#"{"credential_report":{"access_keys":[{"active":false,"number":1}],"user":"u1"}}"#,
            r#"{"quote":"say \"x\"","tab":"a\tb","unicode":"\u00e9\ud83d\ude00","slash":"a\/b"}"#,
            r#"{"n":[0,7,18446744073709551615,18446744073709551616,-1,-0,1.5,1e3,1E-2,2.0,-9223372036854775808]}"#,
            r#"{"long":"an ARN far longer than the thirty-two bytes that are interned"}"#,
            r#"{"dup":1,"dup":2}"#,
            " { \"spaced\" : [ 1 , 2 ] , \"x\" :\n{ } } ",
            r#"[]"#,
            r#""just text""#,
            r#"42"#,
            r#"null"#,
            r#"{"é":"ü","emoji":"😀"}"#,
        ] {
            let (direct, _) = both(text);
            assert!(direct.is_some(), "the reader takes {text}");
            same(text);
        }
    }

    /// Whatever the reader declines gets serde_json's answer; whatever it takes must be
    /// what serde_json reads: never a value out of text serde_json refuses.
    #[test]
    fn text_serde_json_refuses_is_never_read() {
        for text in [
            "",
            "not json",
            r#"{"a":1,}"#,
            r#"[1,]"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"[01]"#,
            r#"[1.]"#,
            r#"[-]"#,
            r#"[+1]"#,
            r#"[1e400]"#,
            r#"[tru]"#,
            r#"[truex]"#,
            r#"["unterminated]"#,
            "[\"raw\ncontrol\"]",
            r#"["bad \x escape"]"#,
            r#"["\ud800 lone surrogate"]"#,
            r#"{"a":1} trailing"#,
            r#"{"a":1}}"#,
            r#"[1}"#,
            r#"{"a":1]"#,
            r#"[1 2]"#,
            "[\"\\",
        ] {
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err(), "{text}");
            assert_eq!(both(text).0, None, "the reader declines {text}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(both(&deep).0, None, "deep nesting is left to serde_json");
        same(&format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH)));
    }

    /// Small containers are shared under their text, across records, as the engine's
    /// conversion shares them; large ones and ones with long texts are not.
    #[test]
    fn small_containers_are_shared_across_records() {
        let mut keys = Interner::default();
        let key = r#"{"active":false,"number":2}"#;
        let a = to_rego(&format!(r#"{{"k":{key},"u":"a"}}"#), &mut keys).unwrap();
        let b = to_rego(&format!(r#"{{"k":{key},"u":"b"}}"#), &mut keys).unwrap();
        let (Value::Object(x), Value::Object(y)) = (&a["k"], &b["k"]) else {
            panic!("objects");
        };
        assert!(std::sync::Arc::ptr_eq(x, y), "one shared object");
        let long = format!(r#"{{"k":["{}"]}}"#, "x".repeat(INTERNED_TEXT_MAX + 1));
        let (c, d) = (to_rego(&long, &mut keys).unwrap(), to_rego(&long, &mut keys).unwrap());
        let (Value::Array(x), Value::Array(y)) = (&c["k"], &d["k"]) else {
            panic!("arrays");
        };
        assert!(!std::sync::Arc::ptr_eq(x, y), "a long text is not shared");
        let many = format!("[{}]", vec!["1"; SHARED_CONTAINER_MAX].join(","));
        let (e, f) = (to_rego(&many, &mut keys).unwrap(), to_rego(&many, &mut keys).unwrap());
        let (Value::Array(x), Value::Array(y)) = (&e, &f) else {
            panic!("arrays");
        };
        assert!(
            !std::sync::Arc::ptr_eq(x, y),
            "{} values are too many",
            SHARED_CONTAINER_MAX + 1
        );
    }

    /// Generated texts: every kind of value, nested, with escapes, at random, read both
    /// ways.
    #[test]
    fn generated_text_is_read_as_serde_json_reads_it() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        fn generate(next: &mut impl FnMut(u64) -> u64, depth: u32) -> serde_json::Value {
            use serde_json::json;
            const TEXTS: [&str; 8] = [
                "",
                "a",
                "N/A",
                "quote \" back \\ slash",
                "tab\t",
                "é😀",
                "\u{1}",
                "2026-01-01T00:00:00+00:00",
            ];
            match next(if depth > 3 { 5 } else { 7 }) {
                0 => json!(null),
                1 => json!(next(2) == 0),
                2 => match next(4) {
                    0 => json!(next(1000)),
                    1 => json!(-(next(1000) as i64)),
                    2 => json!(next(1000) as f64 / 8.0),
                    _ => json!(u64::MAX - next(3)),
                },
                3 | 4 => json!(TEXTS[next(8) as usize].repeat(1 + next(10) as usize)),
                5 => serde_json::Value::Array((0..next(5)).map(|_| generate(next, depth + 1)).collect()),
                _ => serde_json::Value::Object(
                    (0..next(5))
                        .map(|_| {
                            (
                                TEXTS[next(8) as usize].repeat(1 + next(3) as usize),
                                generate(next, depth + 1),
                            )
                        })
                        .collect(),
                ),
            }
        }
        let mut keys = Interner::default();
        let mut expected_keys = Interner::default();
        for _ in 0..5000 {
            let value = generate(&mut next, 0);
            for text in [
                crate::canonical::to_string(&value),
                serde_json::to_string_pretty(&value).unwrap(),
            ] {
                let direct = to_rego(&text, &mut keys).unwrap_or_else(|| panic!("the reader takes {text}"));
                assert_eq!(direct, super::super::to_rego(&value, &mut expected_keys), "{text}");
            }
        }
    }
}
