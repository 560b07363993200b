//! IP addresses and CIDR blocks.
//!
//! IPv4 is anchored on `.` (memchr) with a digit on both sides, parsed by
//! hand (octets 0-255, no leading zeros), with strict boundaries: not after
//! `[A-Za-z0-9_.]` (`v1.2.3.4`), not before a digit, letter, `.digit`
//! (`1.2.3.4.5`) or `-letter` (`2.0.0.1-rc1`). Loopback, `0.0.0.0`, broadcast and link-local addresses
//! are not masked. A `/0-32` suffix makes the whole block one `CIDR` match.
//!
//! IPv6 is anchored on `:`; the maximal run of `[0-9A-Fa-f:.]` around it is
//! parsed with `Ipv6Addr::from_str`, and only global unicast (2000::/3) and
//! unique local (fc00::/7) addresses are masked (`::1`, `fe80::…`, times
//! like `12:30:45` never are).

use super::util::{before_is, class_has, is, m, run_len, ALNUM, DIGIT, IPV6, WORD_DOT};
use super::{Family, Match};
use std::net::Ipv6Addr;

/// Parses one decimal octet at `i`: its value and length.
fn octet(text: &[u8], i: usize) -> Option<(u32, usize)> {
    let n = run_len(&DIGIT, text, i, 4);
    if n == 0 || n > 3 {
        return None;
    }
    let digits = text.get(i..i + n)?;
    if n > 1 && digits.first() == Some(&b'0') {
        return None;
    }
    let v = digits
        .iter()
        .fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
    (v <= 255).then_some((v, n))
}

/// Parses a `/len` suffix at `i` (len at most `max`): the end index.
fn prefix_len(text: &[u8], i: usize, max: u32) -> Option<usize> {
    if text.get(i) != Some(&b'/') {
        return None;
    }
    let n = run_len(&DIGIT, text, i + 1, 4);
    if n == 0 || n > 3 || is(&ALNUM, text, i + 1 + n) {
        return None;
    }
    let digits = text.get(i + 1..i + 1 + n)?;
    if n > 1 && digits.first() == Some(&b'0') {
        return None;
    }
    let v = digits
        .iter()
        .fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
    (v <= max).then_some(i + 1 + n)
}

/// Parses an IPv4 address starting at `s`: its four octets and end.
fn ipv4_at(text: &[u8], s: usize) -> Option<([u32; 4], usize)> {
    let mut o = [0u32; 4];
    let mut i = s;
    for (k, slot) in o.iter_mut().enumerate() {
        if k > 0 {
            if text.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let (v, n) = octet(text, i)?;
        *slot = v;
        i += n;
    }
    Some((o, i))
}

fn excluded_v4(o: [u32; 4]) -> bool {
    matches!(
        o,
        [127, ..] | [0, 0, 0, 0] | [255, 255, 255, 255] | [169, 254, ..]
    )
}

#[cfg(test)]
fn find_v4(text: &[u8], out: &mut Vec<Match<'_>>) {
    let mut v4 = V4::default();
    for dot in memchr::memchr_iter(b'.', text) {
        v4.at_dot(text, dot, out);
    }
}

/// The IPv4 scanner, fed every `.` of a text in order (the catalog shares
/// one pass over the dots with host names).
#[derive(Debug, Default)]
pub(super) struct V4 {
    /// End of the last address found: dots before it are inside it.
    done: usize,
}

impl V4 {
    /// Appends the address or CIDR block around the `.` at `dot`, if any.
    pub(super) fn at_dot(&mut self, text: &[u8], dot: usize, out: &mut Vec<Match<'_>>) {
        if dot < self.done || !before_is(&DIGIT, text, dot) || !is(&DIGIT, text, dot + 1) {
            return;
        }
        let s = dot
            - (1..=3)
                .take_while(|&k| dot >= k && before_is(&DIGIT, text, dot + 1 - k))
                .count();
        if before_is(&WORD_DOT, text, s) {
            self.done = dot + 1;
            return;
        }
        let Some((o, end)) = ipv4_at(text, s) else {
            return;
        };
        self.done = end;
        let next = text.get(end).copied();
        if next.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            || (next == Some(b'.') && is(&DIGIT, text, end + 1))
            || (next == Some(b'-') && text.get(end + 1).is_some_and(u8::is_ascii_alphabetic))
        {
            return;
        }
        if excluded_v4(o) {
            return;
        }
        match prefix_len(text, end, 32) {
            Some(cend) => {
                self.done = cend;
                out.push(m(s, cend, "CIDR", Family::IpAddresses));
            }
            None => out.push(m(s, end, "IP", Family::IpAddresses)),
        }
    }
}

fn masked_v6(a: &Ipv6Addr) -> bool {
    let first = a.segments().first().copied().unwrap_or(0);
    first & 0xe000 == 0x2000 || first & 0xfe00 == 0xfc00
}

/// Appends every IPv6 address and CIDR block in `text`.
#[cfg(test)]
fn find_v6(text: &[u8], out: &mut Vec<Match<'_>>) {
    let mut v6 = V6::default();
    for colon in memchr::memchr_iter(b':', text) {
        v6.at_colon(text, colon, out);
    }
}

/// The IPv6 scanner, fed every `:` of a text in order (the catalog shares
/// one pass over the colons with the key-context scanner).
#[derive(Debug, Default)]
pub(super) struct V6 {
    /// End of the last candidate examined: colons before it are inside it.
    done: usize,
}

impl V6 {
    /// Appends the address or CIDR block around the `:` at `colon`, if any.
    pub(super) fn at_colon(&mut self, text: &[u8], colon: usize, out: &mut Vec<Match<'_>>) {
        // A colon followed by anything but a hex digit, `:` or `.` ends
        // its run: the candidate before it holds no other colon (that one
        // would have been looked at first and covered this one), so it is
        // no address. This is the common case in code and prose
        // (`key: value`), skipped before walking back.
        if colon < self.done || !is(&IPV6, text, colon + 1) {
            return;
        }
        let mut s = colon;
        while colon - s < 40 && before_is(&IPV6, text, s) {
            s -= 1;
        }
        let mut e = colon + 1;
        while e - s <= 46 && text.get(e).is_some_and(|&b| class_has(&IPV6, b)) {
            e += 1;
        }
        self.done = e;
        // Trailing `:` or `.` is punctuation unless it completes `::`.
        while e > s && text.get(e - 1) == Some(&b'.') {
            e -= 1;
        }
        if text.get(e - 1) == Some(&b':') && text.get(e.wrapping_sub(2)) != Some(&b':') {
            e -= 1;
        }
        if e - s < 3
            || before_is(&ALNUM, text, s)
            || text
                .get(e)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            return;
        }
        let Some(cand) = text.get(s..e) else {
            return;
        };
        // Cheap filter before parsing: must start like 2xxx/3xxx or fcxx/fdxx.
        if !matches!(cand.first(), Some(b'2' | b'3' | b'f' | b'F')) {
            return;
        }
        let Some(addr) = std::str::from_utf8(cand)
            .ok()
            .and_then(|c| c.parse::<Ipv6Addr>().ok())
        else {
            return;
        };
        if !masked_v6(&addr) {
            return;
        }
        match prefix_len(text, e, 128) {
            Some(cend) => {
                self.done = cend;
                out.push(m(s, cend, "CIDR", Family::IpAddresses));
            }
            None => out.push(m(s, e, "IPV6", Family::IpAddresses)),
        }
    }
}

/// Appends every IPv4/IPv6 address and CIDR block in `text`.
#[cfg(test)]
pub(super) fn find(text: &[u8], out: &mut Vec<Match<'_>>) {
    find_v4(text, out);
    find_v6(text, out);
}

#[cfg(test)]
mod tests {
    use super::super::tests::values_of;
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("host 10.0.1.23 up", &["10.0.1.23"]),
            ("\"203.0.113.77\",", &["203.0.113.77"]),
            ("cidr 10.0.0.0/16.", &["10.0.0.0/16"]),
            (
                "198.51.100.0/24 and 192.168.40.12:8080",
                &["198.51.100.0/24", "192.168.40.12"],
            ),
            ("172.16.0.1/33", &["172.16.0.1"]),
            ("version 1.2.3.4", &["1.2.3.4"]),
            ("ip=100.64.0.1;", &["100.64.0.1"]),
            ("2600:1f14:abc:de00::1234 ok", &["2600:1f14:abc:de00::1234"]),
            (
                "block 2600:1f14:abc:de00::/56.",
                &["2600:1f14:abc:de00::/56"],
            ),
            ("[fd12:3456:789a:1::1]:443", &["fd12:3456:789a:1::1"]),
            ("2001:db8::", &["2001:db8::"]),
            // Near misses.
            ("v1.2.3.4 and 1.2.3.4.5 and 01.2.3.4 and 1.2.3", &[]),
            (
                "127.0.0.1:8080 0.0.0.0:443 255.255.255.255 169.254.169.254",
                &[],
            ),
            ("256.1.1.1 1.2.3.4a 20261121.1 2.0.0.1-rc1x", &[]),
            ("a1.2.3.4 _1.2.3.4 .1.2.3.4", &[]),
            ("::1 fe80::1 12:30:45 2023:10:01 10:15:30", &[]),
            ("std::collections::BTreeMap a::b", &[]),
            ("0a:1b:2c:3d:4e:5f", &[]),
            ("x2001:db8::1", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(values_of(find, input), *want, "{input}");
        }
    }
}
