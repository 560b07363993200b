//! Values that stand escaped in the text: percent-encoded in a URL
//! (console links carry `arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeploy`,
//! CloudWatch's encode twice, `arn%253Aaws%253Alogs…`) or behind JSON
//! `\u` escapes in a JSON document quoted as text (`i\u002d0123…`, as
//! some serializers write dashes). The built-in detectors run on a
//! decoded view of the text around the escapes, the way JSON string
//! escapes are decoded, and each value they find there is masked as the
//! raw, escaped bytes it was decoded from, so the restored text is what
//! it was.
//!
//! Only escapes of ASCII bytes are decoded (`%3A`, `%2F`, `%253A`,
//! `\u002d`): the view then has one byte per escape.

use super::Match;

/// Bytes of plain text kept on each side of a run of escapes: a value
/// that holds an escape starts or ends within this reach of one.
const REACH: usize = 256;

/// One stretch of decoded text and, per decoded byte, where its raw bytes
/// start (one entry more: the raw end).
struct View {
    text: Vec<u8>,
    raw_at: Vec<usize>,
}

/// Appends the matches of `find` on the decoded views of `b`, with raw
/// offsets. `find` is the catalog's built-in scan.
pub(super) fn find_decoded(
    b: &[u8],
    out: &mut Vec<Match<'_>>,
    mut find: impl FnMut(&[u8], &mut Vec<Match<'static>>),
) {
    let mut found = Vec::new();
    for (from, to) in windows(b) {
        let Some(view) = decode(b, from, to) else {
            continue;
        };
        found.clear();
        find(&view.text, &mut found);
        for m in &found {
            let (Some(&s), Some(&e)) = (view.raw_at.get(m.start), view.raw_at.get(m.end)) else {
                continue;
            };
            // Also those without an escape of their own: an escape
            // before one may be its context (the account and the queue
            // of `https:\/\/sqs….com\/123456789012\/jobs`). The raw
            // scan's equal matches collapse with them.
            out.push(Match {
                start: s,
                end: e,
                kind: m.kind,
                family: m.family,
            });
        }
    }
}

/// Whether `b[i..]` starts with an escape of an ASCII byte (percent,
/// once or twice, or JSON's `\u00XX`): its raw length and the byte.
fn escape_at(b: &[u8], i: usize) -> Option<(usize, u8)> {
    let hex = |k: usize| -> Option<u8> {
        let d = |c: u8| (c as char).to_digit(16);
        let (hi, lo) = (d(*b.get(k)?)?, d(*b.get(k + 1)?)?);
        u8::try_from(hi * 16 + lo).ok()
    };
    if b.get(i) == Some(&b'\\') {
        // JSON's escaped solidus, as PHP's json_encode writes every `/`.
        if b.get(i + 1) == Some(&b'/') {
            return Some((2, b'/'));
        }
        if b.get(i + 1) != Some(&b'u') || hex(i + 2)? != 0 {
            return None;
        }
        return hex(i + 4).filter(u8::is_ascii).map(|v| (6, v));
    }
    // The console's URL fragments write `%` as `$25` (`$253A`), and Logs
    // Insights links write it as `*` (`*3a`): only joints are read so.
    let joint = |v: u8| matches!(v, b':' | b'/' | b'-');
    match b.get(i) {
        Some(b'$') if b.get(i + 1..i + 3) == Some(b"25".as_slice()) => {
            return hex(i + 3).filter(|&v| joint(v)).map(|v| (5, v));
        }
        Some(b'*') => return hex(i + 1).filter(|&v| joint(v)).map(|v| (3, v)),
        Some(b'%') => {}
        _ => return None,
    }
    let v = hex(i + 1)?;
    if v == b'%' {
        if let Some(w) = hex(i + 3).filter(|w| w.is_ascii()) {
            return Some((5, w));
        }
    }
    v.is_ascii().then_some((3, v))
}

/// The stretches of `b` worth a decoded view: each escape that decodes
/// to a `:`, `/` or `-` (what joins the parts of an ARN, a path or an id),
/// with [`REACH`] bytes either side, neighbouring ones merged.
fn windows(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for i in memchr::memchr3_iter(b'%', b'\\', b'$', b) {
        push_window(&mut out, b, i);
    }
    // `*3a` in a second pass: escapes of both kinds in one text are rare,
    // and the windows are put in order and merged again then.
    let first = out.len();
    for i in memchr::memchr_iter(b'*', b) {
        push_window(&mut out, b, i);
    }
    if first == 0 || out.len() == first {
        return out;
    }
    out.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(out.len());
    for (from, to) in out {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

/// Adds the window around `b[i]` when an escape of a joint stands there,
/// merged with the last one when they meet.
fn push_window(out: &mut Vec<(usize, usize)>, b: &[u8], i: usize) {
    if !matches!(escape_at(b, i), Some((_, b':' | b'/' | b'-'))) {
        return;
    }
    let (from, to) = (i.saturating_sub(REACH), (i + REACH).min(b.len()));
    match out.last_mut() {
        Some(last) if (last.0..=last.1).contains(&from) => last.1 = last.1.max(to),
        _ => out.push((from, to)),
    }
}

/// The decoded view of `b[from..to]`, if it holds an escape.
fn decode(b: &[u8], from: usize, to: usize) -> Option<View> {
    let mut view = View {
        text: Vec::with_capacity(to - from),
        raw_at: Vec::with_capacity(to - from + 1),
    };
    let mut i = from;
    let mut escaped = false;
    while i < to {
        view.raw_at.push(i);
        match escape_at(b, i).filter(|&(n, _)| i + n <= to) {
            Some((n, v)) => {
                view.text.push(v);
                i += n;
                escaped = true;
            }
            None => {
                view.text.push(*b.get(i)?);
                i += 1;
            }
        }
    }
    view.raw_at.push(i);
    escaped.then_some(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_map_back_to_raw_bytes() {
        let raw = b"x?arn=arn%3Aaws%253Aiam&y=%2F";
        let view = decode(raw, 0, raw.len()).unwrap();
        assert_eq!(view.text, b"x?arn=arn:aws:iam&y=/");
        for (k, &r) in view.raw_at.iter().enumerate().take(view.text.len()) {
            let unit = &raw[r..view.raw_at[k + 1]];
            let want = match unit {
                [b'%', ..] => escape_at(raw, r).unwrap().1,
                [c] => *c,
                _ => panic!("unit {unit:?}"),
            };
            assert_eq!(view.text[k], want);
        }
        assert_eq!(view.raw_at.last(), Some(&raw.len()));
    }

    #[test]
    fn only_ascii_escapes_decode() {
        assert_eq!(escape_at(b"%3A", 0), Some((3, b':')));
        assert_eq!(escape_at(b"%253a", 0), Some((5, b':')));
        assert_eq!(escape_at(b"%25zz", 0), Some((3, b'%')));
        assert_eq!(escape_at(b"%E2%86", 0), None);
        assert_eq!(escape_at(b"%3", 0), None);
        assert_eq!(escape_at(b"%G1", 0), None);
        assert_eq!(escape_at(b"\\u002d", 0), Some((6, b'-')));
        assert_eq!(escape_at(b"\\u2192", 0), None);
        assert_eq!(escape_at(b"\\n", 0), None);
        assert_eq!(escape_at(b"\\/", 0), Some((2, b'/')));
        assert_eq!(escape_at(b"$253A", 0), Some((5, b':')));
        assert_eq!(escape_at(b"$252f", 0), Some((5, b'/')));
        assert_eq!(escape_at(b"$2541", 0), None);
        assert_eq!(escape_at(b"*3a", 0), Some((3, b':')));
        assert_eq!(escape_at(b"*41", 0), None);
        assert_eq!(escape_at(b"$HOME", 0), None);
    }

    #[test]
    fn windows_need_a_colon_or_slash_escape() {
        assert!(windows(b"100% sure, %d items, %20 space, \\n, \\u0041, 2*30, $25").is_empty());
        let mixed = format!(
            "{}*2f{}%3A{}*3a",
            "a".repeat(300),
            "b".repeat(600),
            "c".repeat(100)
        );
        assert_eq!(
            windows(mixed.as_bytes()),
            vec![(300 - REACH, 300 + REACH), (903 - REACH, mixed.len())]
        );
        let text = format!("{}%3A{}%2F", "a".repeat(600), "b".repeat(100));
        assert_eq!(windows(text.as_bytes()), vec![(600 - REACH, text.len())]);
    }
}
