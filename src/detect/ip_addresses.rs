//! IP addresses and CIDR blocks.
//!
//! IPv4 is anchored on `.` (memchr) with a digit on both sides, parsed by
//! hand (octets 0-255, no leading zeros), with strict boundaries: not after
//! `[A-Za-z0-9_.]` (`v1.2.3.4`), not before a digit, letter, `.digit`
//! (`1.2.3.4.5`) or `-letter` (`2.0.0.1-rc1`). Addresses that are nobody's
//! data stay readable: loopback, `0.0.0.0`, link-local, netmasks and ACL
//! wildcards, RFC 5737's and RFC 3849's documentation ranges, the public
//! resolvers, and a dotted quad right after `version`, `section`, `JDK`, …. A `/0-32` suffix makes the whole block one `CIDR` match.
//!
//! IPv6 is anchored on `:`; the maximal run of `[0-9A-Fa-f:.]` around it is
//! parsed with `Ipv6Addr::from_str`, and only global unicast (2000::/3, but
//! not the documentation prefix 2001:db8::/32) and unique local (fc00::/7)
//! addresses are masked (`::1`, `fe80::…`, times
//! like `12:30:45` never are).

use super::util::{
    before_is, class_has, is, is_escape_letter, m, run_len, run_start_back, ALNUM, DIGIT, IPV6,
    WORD, WORD_DOT,
};
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

/// Addresses that are nobody's data, left readable: loopback, `0.0.0.0/8`
/// (ACL wildcards), `255.0.0.0/8` (netmasks), multicast, link-local (AWS's
/// instance metadata and DNS), RFC 5737's documentation ranges, the
/// public resolvers and `example.com`'s addresses (the labelled corpus's
/// rule too: scripts/corpus/label.py).
fn excluded_v4(o: [u32; 4]) -> bool {
    matches!(
        o,
        [127, ..]
            | [0, ..]
            | [255, ..]
            | [224..=239, ..]
            | [169, 254, ..]
            | [192, 0, 2, _]
            | [198, 51, 100, _]
            | [203, 0, 113, _]
            | [8, 8, 8, 8]
            | [8, 8, 4, 4]
            | [1, 1, 1, 1]
            | [1, 0, 0, 1]
            | [9, 9, 9, 9]
            | [149, 112, 112, 112]
            | [208, 67, 222, 222]
            | [208, 67, 220, 220]
            | [93, 184, 215, 14]
            | [93, 184, 216, 34]
    )
}

/// A private (RFC 1918) or shared (RFC 6598) address: where VPCs are
/// numbered, so never taken for an example or a version.
fn private_or_shared([a, b, _, _]: [u32; 4]) -> bool {
    a == 10
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 100 && (64..128).contains(&b))
}

/// Documentation's made-up addresses: octets that count up or down by one
/// (`1.2.3.4`, `101.102.103.104`), or digits that do (`123.45.67.89`,
/// `98.76.54.32`). Code and docs use them as the example of an address;
/// nobody's network is numbered that way on purpose. `digits` is the
/// address as written. Never a private or shared address (`10.11.12.13`,
/// `10.9.8.7`): a VPC can well hold one, and there a leak costs more than
/// a masked example.
fn example_v4(o: [u32; 4], digits: &[u8]) -> bool {
    let steps = |a: u32, b: u32| (b.wrapping_sub(a), a.wrapping_sub(b));
    let [a, b, c, d] = o;
    if private_or_shared(o) {
        return false;
    }
    let octets = [(a, b), (b, c), (c, d)].map(|(x, y)| steps(x, y));
    if octets.iter().all(|s| s.0 == 1) || octets.iter().all(|s| s.1 == 1) {
        return true;
    }
    let mut up = true;
    let mut down = true;
    let mut prev: Option<u8> = None;
    for &digit in digits.iter().filter(|x| x.is_ascii_digit()) {
        if let Some(p) = prev {
            up &= digit == p.wrapping_add(1);
            down &= digit == p.wrapping_sub(1);
        }
        prev = Some(digit);
    }
    up || down
}

/// Whether the dotted quad at `s..end` is the version of a package on a
/// lockfile or requirements line, which ends right after it:
/// Gemfile.lock's indented `    nokogiri (1.16.0.2)`, `rails (= 7.1.3.4)`,
/// `pg (1.5.4.1-x86_64-linux)`, and pip's `name==1.2.3.4` (also `~=`,
/// `>=`, `<=`) at the start of its line. Works on raw and JSON-escaped
/// text (a `\n` escape ends a line) and after the Read tool's `N→`.
fn package_version(text: &[u8], s: usize, end: usize) -> bool {
    // After: an optional `-platform`, the `)` of a lockfile, a line end.
    let mut e = end;
    if text.get(e) == Some(&b'-') {
        e += 1 + run_len(&WORD, text, e + 1, 64);
    }
    let paren = text.get(e) == Some(&b')');
    if paren {
        e += 1;
    }
    let line_end = match text.get(e) {
        None | Some(b'\n' | b'\r') => true,
        Some(b'\\') => matches!(text.get(e + 1), Some(b'n' | b'r')),
        _ => false,
    };
    if !line_end {
        return false;
    }
    let ends_with = |i: usize, w: &[u8]| i >= w.len() && text.get(i - w.len()..i) == Some(w);
    let mut i = s;
    if paren {
        // Longest first: `= ` ends `>= `.
        if let Some(op) = [&b">= "[..], b"~> ", b"<= ", b"!= ", b"= ", b"< ", b"> "]
            .into_iter()
            .find(|op| ends_with(i, op))
        {
            i -= op.len();
        }
        if !ends_with(i, b" (") {
            return false;
        }
        i -= 2;
    } else {
        match [&b"=="[..], b"~=", b">=", b"<="]
            .into_iter()
            .find(|op| ends_with(i, op))
        {
            Some(op) => i -= op.len(),
            None => return false,
        }
    }
    // The package name: a word without dots (`ip.addr==10.0.0.1` is a
    // capture filter, not a pin).
    let name = run_start_back(&WORD, text, i, 64);
    if name == i
        || !text
            .get(name..i)
            .is_some_and(|n| n.iter().any(u8::is_ascii_alphabetic))
    {
        return false;
    }
    // Before it: a lockfile's indentation (2, 4 or 6 blanks: a
    // dependency, a spec, a spec's dependency), nothing for a pin; then
    // the start of the line.
    let mut b = name;
    while b > 0 && text.get(b - 1) == Some(&b' ') {
        b -= 1;
    }
    if (paren && !matches!(name - b, 2 | 4 | 6)) || (!paren && name != b) {
        return false;
    }
    b == 0
        || matches!(text.get(b - 1), Some(b'\n' | b'\r'))
        || (is_escape_letter(text, b - 1) && text.get(b - 1) != Some(&b't'))
        || (b >= 3 && text.get(b - 3..b) == Some("→".as_bytes()))
}

/// Words after which a dotted quad is a version or a section number
/// (`JDK 20.0.10.4`, `section 1.2.8.22`), lower case.
const VERSION_WORDS: &[&[u8]] = &[
    b"section",
    b"sections",
    // `See also 7.4.1.7`: a section again.
    b"also",
    b"version",
    b"ver",
    b"build",
    b"release",
    b"driver",
    b"firmware",
    b"kernel",
    b"jdk",
    b"jre",
    b"windows",
    b"macos",
    b"chrome",
    b"firefox",
    b"python",
    b"node",
];

/// Whether the word right before the address at `s` is one of
/// [`VERSION_WORDS`] or `§`: one blank between (`JDK 20.0.10.4`), or an
/// assignment (`Version="5.30.2.180"`, also JSON-escaped, `version:
/// '1.2.3.4'`, `release==1.2.3.4`).
fn after_version_word(text: &[u8], s: usize) -> bool {
    let before = |i: usize| i.checked_sub(1).and_then(|j| text.get(j)).copied();
    let mut i = s;
    if matches!(before(i), Some(b'"' | b'\'')) {
        i -= 1;
        if before(i) == Some(b'\\') {
            i -= 1;
        }
    }
    // An anchor of a section: `rfc7231#section-7.1.1.1`.
    if before(i) == Some(b'-') && i > 8 && text.get(i - 8..i - 1) == Some(b"section") {
        return true;
    }
    let blank = before(i) == Some(b' ');
    if blank {
        i -= 1;
    }
    if matches!(before(i), Some(b'=' | b':')) {
        i -= 1;
        while matches!(before(i), Some(b'=' | b' ')) {
            i -= 1;
        }
    } else if !blank {
        return false;
    }
    let sp = i;
    if sp >= 2 && text.get(sp - 2..sp) == Some("§".as_bytes()) {
        return true;
    }
    let mut w = sp;
    while w > 0 && text.get(w - 1).is_some_and(u8::is_ascii_alphabetic) && sp - w < 12 {
        w -= 1;
    }
    let word = text.get(w..sp).unwrap_or_default();
    VERSION_WORDS.iter().any(|v| word.eq_ignore_ascii_case(v))
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
        if excluded_v4(o)
            || example_v4(o, text.get(s..end).unwrap_or_default())
            || after_version_word(text, s)
            || (package_version(text, s, end) && !private_or_shared(o))
        {
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
    let seg = a.segments();
    let (first, second) = (
        seg.first().copied().unwrap_or(0),
        seg.get(1).copied().unwrap_or(0),
    );
    // 2001:db8::/32 is the documentation prefix (RFC 3849).
    let documentation = first == 0x2001 && second == 0x0db8;
    (first & 0xe000 == 0x2000 || first & 0xfe00 == 0xfc00) && !documentation
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
            ("\"54.201.33.77\",", &["54.201.33.77"]),
            ("cidr 10.0.0.0/16.", &["10.0.0.0/16"]),
            (
                "52.94.76.0/22 and 192.168.40.12:8080",
                &["52.94.76.0/22", "192.168.40.12"],
            ),
            ("172.16.0.1/33", &["172.16.0.1"]),
            ("the release notes of 10.0.3.4", &["10.0.3.4"]),
            ("ip=100.64.0.1;", &["100.64.0.1"]),
            ("2600:1f14:abc:de00::1234 ok", &["2600:1f14:abc:de00::1234"]),
            (
                "block 2600:1f14:abc:de00::/56.",
                &["2600:1f14:abc:de00::/56"],
            ),
            ("[fd12:3456:789a:1::1]:443", &["fd12:3456:789a:1::1"]),
            ("2600:1f18::", &["2600:1f18::"]),
            // Near misses.
            (
                "allow 198.51.100.0/24; deny 192.0.2.0/24; server 203.0.113.77:80",
                &[],
            ),
            ("netmask 255.255.240.0 wildcard 0.0.0.255 255.0.0.0", &[]),
            ("dns 8.8.8.8 8.8.4.4 1.1.1.1 1.0.0.1 9.9.9.9", &[]),
            (
                "version 1.2.3.4, JDK 20.0.10.4, section 1.2.8.22, § 7.4.1.7, #section-7.1.1.1",
                &[],
            ),
            ("2001:db8::1 and 2001:0db8:85a3::8a2e:370:7334", &[]),
            // Made-up example addresses: octets or digits counting by one.
            (
                "inet_aton() -- convert IP addr string (123.45.67.89) to",
                &[],
            ),
            (
                "assert_eq!(MAX_LEN, \"101.102.103.104:65000\".len()); 1.2.3.4 98.76.54.32 4.3.2.1",
                &[],
            ),
            // Not quite: one step differs, or octets count by two.
            (
                "123.45.67.80 101.102.103.105 10.12.14.16 12.34.56.78",
                &["123.45.67.80", "101.102.103.105", "10.12.14.16"],
            ),
            // Private and shared addresses are never examples, nor
            // versions on a lockfile-shaped line.
            (
                "10.11.12.13 10.9.8.7 100.101.102.103",
                &["10.11.12.13", "10.9.8.7", "100.101.102.103"],
            ),
            (
                "  peer (10.0.1.7)\n  gw (192.168.1.1)\n",
                &["10.0.1.7", "192.168.1.1"],
            ),
            // Package versions at the end of a lockfile or pin line.
            (
                "GEM\n  specs:\n    nokogiri (6.20.19.254)\n    pg (1.5.4.1-x86_64-linux)\n",
                &[],
            ),
            ("  rails (= 7.1.3.4)\n      puma (>= 6.20.19.254)", &[]),
            ("GEM\\n  specs:\\n    nokogiri (6.20.19.254)\\n", &[]),
            ("    12\u{2192}    nokogiri (6.20.19.254)\n", &[]),
            ("pywin32==305.1.17.200\nboto3~=1.34.2.9\r\n", &[]),
            // Addresses in the same shapes stay masked: a name at the
            // start of its line (arp), text after the `)` (traceroute),
            // a dotted name (a capture filter), a pin not on its own line.
            ("_gateway (10.0.1.1) at 0a:1b on eth0\n", &["10.0.1.1"]),
            ("    gateway (10.0.1.1)  0.5 ms\n", &["10.0.1.1"]),
            ("  ip-10-0-1-7 (10.0.1.7) 0.4 ms", &["10.0.1.7"]),
            ("ip.addr==10.0.1.7\n", &["10.0.1.7"]),
            ("tcpdump host==10.0.1.7 -n", &["10.0.1.7"]),
            ("        peer (10.0.1.7)\n", &["10.0.1.7"]),
            (
                "Version=\"5.30.2.180\" version: '6.20.19.254' release==8.11.21.194",
                &[],
            ),
            ("Version=\\\"5.30.2.180\\\"", &[]),
            ("See also 7.4.1.7.", &[]),
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
