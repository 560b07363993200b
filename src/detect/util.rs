//! Shared byte classes and scanning helpers for the detector families.
//!
//! Everything here works on bytes: every detected value is ASCII and starts
//! and ends next to ASCII bytes (or the text edges), so byte offsets found
//! here are always `char` boundaries of the original `&str`.

use super::{Family, Match};

/// A 256-entry membership table for one byte class.
pub(super) type Class = [bool; 256];

// `i < 256` always: the index cannot be out of bounds.
#[allow(clippy::indexing_slicing)]
const fn class_of(kind: u8) -> Class {
    let mut t = [false; 256];
    let mut i = 0usize;
    while i < 256 {
        let b = i as u8;
        let alnum = b.is_ascii_alphanumeric();
        t[i] = match kind {
            0 => alnum,
            1 => b.is_ascii_digit(),
            2 => alnum || b == b'/' || b == b'+' || b == b'=',
            3 => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
            4 => alnum || b == b'.' || b == b'-',
            5 => alnum || b == b'_' || b == b'-',
            6 => b.is_ascii_hexdigit() || b == b':' || b == b'.',
            7 => alnum || b == b'_' || b == b'.',
            8 => b.is_ascii_lowercase() || b.is_ascii_digit(),
            9 => b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-',
            10 => alnum || b == b'/' || b == b'+',
            11 => {
                b.is_ascii_whitespace()
                    || matches!(
                        b,
                        b',' | b';'
                            | b')'
                            | b'}'
                            | b']'
                            | b'&'
                            | b'"'
                            | b'\''
                            | b'<'
                            | b'>'
                            | b'|'
                            | b'\\'
                            | b'`'
                    )
            }
            12 => b.is_ascii_uppercase() || b.is_ascii_digit(),
            13 => alnum || matches!(b, b'/' | b'+' | b'=' | b'_' | b'-' | b'.'),
            _ => false,
        };
        i += 1;
    }
    t
}

/// `[A-Za-z0-9]`.
pub(super) static ALNUM: Class = class_of(0);
/// `[0-9]`.
pub(super) static DIGIT: Class = class_of(1);
/// The base64 alphabet of AWS secrets and tokens, `[A-Za-z0-9/+=]`.
pub(super) static B64: Class = class_of(2);
/// Lower-case hex, `[0-9a-f]`.
pub(super) static HEX_LOWER: Class = class_of(3);
/// Host name bytes, `[A-Za-z0-9.-]`.
pub(super) static HOST: Class = class_of(4);
/// Key-word bytes, `[A-Za-z0-9_-]`.
pub(super) static WORD: Class = class_of(5);
/// IPv6 candidate bytes, `[0-9A-Fa-f:.]`.
pub(super) static IPV6: Class = class_of(6);
/// `[A-Za-z0-9_.]`: may not precede an IP address.
pub(super) static WORD_DOT: Class = class_of(7);
/// `[a-z0-9]`.
pub(super) static LOWER_ALNUM: Class = class_of(8);
/// S3 bucket name bytes, `[a-z0-9.-]`.
pub(super) static BUCKET: Class = class_of(9);
/// `[A-Za-z0-9/+]`: may not precede a bare session token.
pub(super) static B64_NO_PAD: Class = class_of(10);
/// Bytes that may end an unquoted keyed value: white space and
/// ``,;)}]&"'<>|\` ``.
pub(super) static TERMINATOR: Class = class_of(11);
/// `[A-Z0-9]`: access key ids.
pub(super) static UPPER_DIGIT: Class = class_of(12);
/// `[A-Za-z0-9/+=_.-]`: base64, base64url and the dots of a JWT or JWE.
pub(super) static TOKEN: Class = class_of(13);

/// Whether the byte at `i` exists and is in `class`.
#[inline]
pub(super) fn is(class: &Class, text: &[u8], i: usize) -> bool {
    text.get(i).is_some_and(|&b| class_has(class, b))
}

/// Whether `b` is in `class`.
#[inline]
pub(super) fn class_has(class: &Class, b: u8) -> bool {
    class.get(usize::from(b)).copied().unwrap_or(false)
}

/// Whether the byte before `i` exists and is in `class` (false at 0).
///
/// The letter of a `\n`, `\r` or `\t` escape is not part of the word that
/// follows it: text often carries JSON-escaped content (a text body holding
/// JSON, a JSON document inside a JSON string), where
/// `\naws_secret_access_key=…` or `\ni-0123…` must still be found.
#[inline]
pub(super) fn before_is(class: &Class, text: &[u8], i: usize) -> bool {
    i.checked_sub(1)
        .is_some_and(|j| is(class, text, j) && !is_escape_letter(text, j))
}

/// Whether the byte at `j` is the letter of a `\n`, `\r` or `\t` escape.
#[inline]
pub(super) fn is_escape_letter(text: &[u8], j: usize) -> bool {
    matches!(text.get(j), Some(b'n' | b'r' | b't'))
        && j.checked_sub(1).and_then(|k| text.get(k)) == Some(&b'\\')
}

/// Length of the run of `class` bytes starting at `i`, up to `max`.
#[inline]
pub(super) fn run_len(class: &Class, text: &[u8], i: usize, max: usize) -> usize {
    let mut n = 0;
    while n < max && is(class, text, i + n) {
        n += 1;
    }
    n
}

/// Start of the run of `class` bytes ending just before `i`, looking back
/// at most `max` bytes.
#[inline]
pub(super) fn run_start_back(class: &Class, text: &[u8], i: usize, max: usize) -> usize {
    let mut s = i;
    while i - s < max && before_is(class, text, s) {
        s -= 1;
    }
    s
}

/// Calls `f(start, end)` for every maximal run of `class` bytes at least
/// `min` long. Probes one byte in every `min` (a run that long must contain
/// a probed byte), so it is fast when such runs are rare.
pub(super) fn for_each_run(
    text: &[u8],
    min: usize,
    class: &Class,
    mut f: impl FnMut(usize, usize),
) {
    if min == 0 {
        return;
    }
    let n = text.len();
    let mut i = min - 1;
    let mut floor = 0;
    let has = |b: u8| class_has(class, b);
    while i < n {
        // Four probes per turn while they fit, all evaluated (no branch
        // per probe): most texts have no such run, and in V8 a loop turn
        // per probe costs more than the probe. One slice bound check for
        // the four.
        while let Some(w) = text.get(i..=i + 3 * min) {
            let (Some(&a), Some(&b), Some(&c), Some(&d)) =
                (w.first(), w.get(min), w.get(2 * min), w.last())
            else {
                break;
            };
            if has(a) | has(b) | has(c) | has(d) {
                break;
            }
            i += 4 * min;
        }
        if is(class, text, i) {
            let mut s = i;
            while s > floor && before_is(class, text, s) {
                s -= 1;
            }
            let mut e = i + 1;
            while is(class, text, e) {
                e += 1;
            }
            if e - s >= min {
                f(s, e);
            }
            floor = e;
            i = e + min;
        } else {
            i += min;
        }
    }
}

/// Whether `text[i..]` starts with `lower` (an ASCII lower-case literal),
/// ignoring ASCII case.
#[inline]
pub(super) fn starts_with_ci(text: &[u8], i: usize, lower: &[u8]) -> bool {
    text.get(i..i + lower.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(lower))
}

/// A match of a built-in family.
#[inline]
pub(super) fn m(start: usize, end: usize, kind: &'static str, family: Family) -> Match<'static> {
    Match {
        start,
        end,
        kind,
        family,
    }
}

/// Whether `s` is an AWS region name such as `us-east-1`, `us-gov-west-1`
/// or `us-isob-east-1`: `[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+`.
pub(crate) fn is_region(s: &[u8]) -> bool {
    let mut parts = s.split(|&b| b == b'-');
    let Some(cc) = parts.next() else {
        return false;
    };
    if cc.len() != 2 || !cc.iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    let mut p = parts.next();
    if let Some(x) = p {
        let iso = x.len() <= 4 && x.starts_with(b"iso") && x.iter().all(u8::is_ascii_lowercase);
        if x == b"gov" || iso {
            p = parts.next();
        }
    }
    let (Some(area), Some(num), None) = (p, parts.next(), parts.next()) else {
        return false;
    };
    !area.is_empty()
        && area.iter().all(u8::is_ascii_lowercase)
        && !num.is_empty()
        && num.len() <= 2
        && num.iter().all(u8::is_ascii_digit)
}

/// Whether every byte of `v` is a lower-case or every byte an upper-case
/// hex digit: a digest or git SHA, never a secret key.
pub(super) fn is_pure_hex(v: &[u8]) -> bool {
    v.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        || v.iter().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F'))
}

/// Whether `text` holds `shape` at `i`, where a `d` of the shape stands
/// for any digit and every other byte for itself (`b"dddd-dd-dd"`: a
/// date).
pub(super) fn has_shape(text: &[u8], i: usize, shape: &[u8]) -> bool {
    text.get(i..i + shape.len()).is_some_and(|v| {
        v.iter().zip(shape).all(|(&b, &want)| match want {
            b'd' => b.is_ascii_digit(),
            _ => b == want,
        })
    })
}

/// The decoded length of `v` if it is base64 (`[A-Za-z0-9/+=]`) in which
/// some bytes may be percent-encoded (`%2F`, `%2B`, `%3D`: a secret or
/// token in a URI or query string); `None` if anything else is in it.
pub(super) fn percent_b64_len(v: &[u8]) -> Option<usize> {
    let mut decoded = 0usize;
    let mut i = 0;
    while let Some(&b) = v.get(i) {
        if b == b'%' {
            let hex = |k: usize| v.get(k).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return None;
            }
            i += 3;
        } else if class_has(&B64, b) {
            i += 1;
        } else {
            return None;
        }
        decoded += 1;
    }
    Some(decoded)
}

/// The end of the line that starts at `start`, and where the next line
/// starts: after a line break, or after a `\n` escape, which stands for
/// one in the raw JSON literals the detectors are also handed.
pub(super) fn line_at(text: &[u8], start: usize) -> (usize, usize) {
    let rest = text.get(start..).unwrap_or_default();
    let raw = memchr::memchr(b'\n', rest);
    static ESCAPE: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    let finder = ESCAPE.get_or_init(|| memchr::memmem::Finder::new(b"\\n"));
    let escaped = finder.find(rest.get(..raw.unwrap_or(rest.len())).unwrap_or_default());
    match (raw, escaped) {
        (_, Some(e)) => (start + e, start + e + 2),
        (Some(r), None) => (start + r, start + r + 1),
        (None, None) => (text.len(), text.len() + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for r in [
            "us-east-1",
            "eu-west-3",
            "us-gov-west-1",
            "us-isob-east-1",
            "ap-southeast-2",
            "cn-north-1",
        ] {
            assert!(is_region(r.as_bytes()), "{r}");
        }
        for r in [
            "us-east",
            "useast-1",
            "us-east-1a",
            "US-EAST-1",
            "compute-1",
            "us-foo-bar-1",
            "s3",
            "",
        ] {
            assert!(!is_region(r.as_bytes()), "{r}");
        }
    }

    #[test]
    fn runs() {
        let t = b"ab 123456789012 1234567890123 12345678901 x";
        let mut got = Vec::new();
        for_each_run(t, 12, &DIGIT, |s, e| got.push(&t[s..e]));
        assert_eq!(got, vec![&b"123456789012"[..], b"1234567890123"]);
    }

    /// The strided search finds every run a byte-by-byte search finds,
    /// whatever the run lengths and where they sit against the strides.
    #[test]
    fn runs_agree_with_a_byte_search() {
        let naive = |t: &[u8], min: usize| {
            let mut runs = Vec::new();
            let mut i = 0;
            while i < t.len() {
                let s = i;
                while i < t.len() && t[i].is_ascii_digit() {
                    i += 1;
                }
                if i - s >= min {
                    runs.push((s, i));
                }
                i = i.max(s + 1);
            }
            runs
        };
        let mut rng = crate::test_rng::XorShift(0x9e37_79b9_7f4a_7c15);
        for len in [0, 1, 11, 12, 13, 47, 48, 49, 50, 100, 300] {
            for _ in 0..200 {
                // Letters with digit runs of 1 to 24 bytes here and there.
                let mut t = Vec::new();
                while t.len() < len {
                    let x = rng.next();
                    let (letters, digits) = ((x % 40) as usize, ((x >> 8) % 24 + 1) as usize);
                    t.extend(std::iter::repeat_n(b'x', letters));
                    t.extend((0..digits).map(|k| b'0' + (k % 10) as u8));
                }
                t.truncate(len);
                for min in [1, 5, 12, 20] {
                    let mut got = Vec::new();
                    for_each_run(&t, min, &DIGIT, |s, e| got.push((s, e)));
                    assert_eq!(
                        got,
                        naive(&t, min),
                        "min {min}: {:?}",
                        String::from_utf8_lossy(&t)
                    );
                }
            }
        }
    }

    #[test]
    fn lines_end_at_breaks_and_their_escapes() {
        let text = b"a,b\\nc\nd\\ne";
        let mut at = 0;
        let mut lines = Vec::new();
        while at <= text.len() {
            let (end, next) = line_at(text, at);
            lines.push(&text[at..end]);
            at = next;
        }
        assert_eq!(lines, [&b"a,b"[..], b"c", b"d", b"e"]);
    }
}
