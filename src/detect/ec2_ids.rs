//! EC2 / VPC resource ids: `prefix-` + 8 or 17 lower-case hex digits.
//!
//! Anchored on `-` (memchr); the hex part and its boundary are checked
//! first (cheap, and rejects nearly every dash in prose and code), then the
//! bytes before the dash are matched against the prefix table. A prefix may
//! follow a `-` in a longer name (`my-vpc-0a1b2c3d`) but not a letter or
//! digit (`xvpc-0a1b2c3d` is not an id).

use super::util::{before_is, is, m, run_len, ALNUM, HEX_LOWER};
use super::{Family, Match};

/// Resource id prefixes and their token kinds, longest first so that
/// `tgw-attach` wins over a bare `attach`, `eigw` over `igw`, `sgr` over `r`.
const PREFIXES: &[(&str, &str)] = &[
    ("tgw-mcast-domain", "TGW_MCAST_DOMAIN"),
    ("cvpn-endpoint", "CVPN_ENDPOINT"),
    ("ipam-res-disc", "IPAM_RES_DISC"),
    ("ipv4pool-ec2", "IPV4_POOL"),
    ("lgw-vif-grp", "LGW_VIF_GROUP"),
    ("import-snap", "IMPORT_TASK"),
    ("ipam-scope", "IPAM_SCOPE"),
    ("import-ami", "IMPORT_TASK"),
    ("tgw-attach", "TGW_ATTACH"),
    ("eni-attach", "ENI_ATTACH"),
    ("export-ami", "EXPORT_TASK"),
    ("ipam-pool", "IPAM_POOL"),
    ("iip-assoc", "IAM_PROFILE_ASSOC"),
    ("export-i", "EXPORT_TASK"),
    ("vpce-svc", "VPCE_SVC"),
    ("eipalloc", "EIP_ALLOC"),
    ("eipassoc", "EIP_ASSOC"),
    ("rtbassoc", "RTB_ASSOC"),
    ("aclassoc", "NACL_ASSOC"),
    ("lgw-rtb", "LGW_RTB"),
    ("lgw-vif", "LGW_VIF"),
    ("tgw-rtb", "TGW_RTB"),
    ("subnet", "SUBNET"),
    ("fleet", "FLEET"),
    ("snap", "EBS_SNAPSHOT"),
    ("vpce", "VPCE"),
    ("eigw", "EIGW"),
    ("dopt", "DHCP_OPTIONS"),
    ("fsap", "EFS_AP"),
    ("fsmt", "EFS_MT"),
    ("ipam", "IPAM"),
    ("cagw", "CARRIER_GW"),
    ("vatp", "VERIFIED_ACCESS_TRUST_PROVIDER"),
    ("eice", "EC2_INSTANCE_CONNECT_ENDPOINT"),
    ("ami", "AMI"),
    ("vol", "EBS_VOLUME"),
    ("sgr", "SG_RULE"),
    ("vpc", "VPC"),
    ("igw", "IGW"),
    ("nat", "NAT_GW"),
    ("eni", "ENI"),
    ("rtb", "RTB"),
    ("acl", "NACL"),
    ("pcx", "PCX"),
    ("tgw", "TGW"),
    ("vgw", "VGW"),
    ("cgw", "CGW"),
    ("vpn", "VPN"),
    ("sir", "SPOT_REQUEST"),
    ("lgw", "LGW"),
    ("key", "KEY_PAIR"),
    ("aki", "AKI"),
    ("ari", "ARI"),
    ("tmf", "TRAFFIC_MIRROR_FILTER"),
    ("tmt", "TRAFFIC_MIRROR_TARGET"),
    ("tms", "TRAFFIC_MIRROR_SESSION"),
    ("vai", "VERIFIED_ACCESS_INSTANCE"),
    ("vag", "VERIFIED_ACCESS_GROUP"),
    ("vae", "VERIFIED_ACCESS_ENDPOINT"),
    ("nis", "NETWORK_INSIGHTS_SCOPE"),
    ("nip", "NETWORK_INSIGHTS_PATH"),
    ("nia", "NETWORK_INSIGHTS_ANALYSIS"),
    ("sg", "SG"),
    ("lt", "LAUNCH_TEMPLATE"),
    ("fs", "EFS"),
    ("cr", "CAPACITY_RESERVATION"),
    ("pl", "PREFIX_LIST"),
    ("fl", "FLOW_LOG"),
    ("mi", "SSM_MANAGED_INSTANCE"),
    ("i", "EC2"),
    ("r", "RESERVATION"),
    ("h", "DEDICATED_HOST"),
];

/// Appends every EC2/VPC resource id in `text`.
#[cfg(test)]
pub(super) fn find(text: &[u8], out: &mut Vec<Match<'_>>) {
    for dash in memchr::memchr_iter(b'-', text) {
        at_dash(text, dash, out);
    }
}

/// Appends the id whose dash is at `dash`, if there is one. The catalog
/// calls it for every `-`, in one pass shared with other families.
pub(super) fn at_dash(text: &[u8], dash: usize, out: &mut Vec<Match<'_>>) {
    let hex = dash + 1;
    let n = run_len(&HEX_LOWER, text, hex, 18);
    if (n != 8 && n != 17) || is(&ALNUM, text, hex + n) {
        return;
    }
    let Some(before) = text.get(..dash) else {
        return;
    };
    let Some(&last) = before.last() else {
        return;
    };
    // Only the prefixes ending in `last`, in table order (longest first).
    let mut candidates: u128 = BY_LAST_BYTE.get(usize::from(last)).copied().unwrap_or(0);
    while candidates != 0 {
        let i = candidates.trailing_zeros() as usize;
        candidates &= candidates - 1;
        let Some(&(prefix, kind)) = PREFIXES.get(i) else {
            break;
        };
        if before.ends_with(prefix.as_bytes()) {
            let start = dash - prefix.len();
            if !before_is(&ALNUM, text, start) {
                out.push(m(start, hex + n, kind, Family::Ec2Ids));
                return;
            }
        }
    }
}

/// For each byte, the prefixes ending in it, as a bit set of indices into
/// [`PREFIXES`]: a real id looks at the few prefixes its dash can close
/// (a dozen at most, for `i`), not at all seventy in turn.
// Indexing is evaluated at compile time here: out of range fails the build.
#[allow(clippy::indexing_slicing)]
static BY_LAST_BYTE: [u128; 256] = {
    assert!(PREFIXES.len() <= 128, "the index is a 128-bit set");
    let mut t = [0u128; 256];
    let mut i = 0;
    while i < PREFIXES.len() {
        let p = PREFIXES[i].0.as_bytes();
        t[p[p.len() - 1] as usize] |= 1 << i;
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::super::tests::values_of;
    use super::*;

    #[test]
    fn the_index_finds_what_the_table_in_order_finds() {
        // The first prefix of the table, in order, that ends the text.
        let linear = |before: &str| {
            PREFIXES
                .iter()
                .find(|(p, _)| {
                    before.ends_with(p)
                        && !before[..before.len() - p.len()]
                            .ends_with(|c: char| c.is_ascii_alphanumeric())
                })
                .map(|&(_, kind)| kind)
        };
        for &(prefix, _) in PREFIXES {
            for lead in ["", " ", "my-", "x", "tgw-", "eni-", "export-", "ipam-"] {
                let before = format!("{lead}{prefix}");
                let text = format!("{before}-0123abcd");
                let mut out = Vec::new();
                at_dash(text.as_bytes(), before.len(), &mut out);
                assert_eq!(out.first().map(|m| m.kind), linear(&before), "{text}");
            }
        }
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("stop i-0123456789abcdef0 now", &["i-0123456789abcdef0"]),
            ("i-0123abcd", &["i-0123abcd"]),
            (
                "vpc-0a1b2c3d,subnet-0f1e2d3c4b5a69788.",
                &["vpc-0a1b2c3d", "subnet-0f1e2d3c4b5a69788"],
            ),
            ("my-vpc-0a1b2c3d", &["vpc-0a1b2c3d"]),
            ("\"sg-0123456789abcdef0\"", &["sg-0123456789abcdef0"]),
            (
                "tgw-attach-0123456789abcdef0",
                &["tgw-attach-0123456789abcdef0"],
            ),
            (
                "eni-attach-0123abcd eigw-0123abcd sgr-0123abcd",
                &["eni-attach-0123abcd", "eigw-0123abcd", "sgr-0123abcd"],
            ),
            (
                "export-i-0123456789abcdef0",
                &["export-i-0123456789abcdef0"],
            ),
            (
                "vpce-svc-0123456789abcdef0 rtbassoc-0123abcd",
                &["vpce-svc-0123456789abcdef0", "rtbassoc-0123abcd"],
            ),
            ("r-0a1b2c3d4e5f67890", &["r-0a1b2c3d4e5f67890"]),
            ("ami-0c55b159cbfafe1f0/", &["ami-0c55b159cbfafe1f0"]),
            (
                "ipv4pool-ec2-0a3dfeca6b474e550 mi-81ed8a955b5c60ee2",
                &["ipv4pool-ec2-0a3dfeca6b474e550", "mi-81ed8a955b5c60ee2"],
            ),
            (
                "tmf-09bdc205d06140ca5 vai-7026c63fc8c5fa66a eice-0b2f36747ca75ff32",
                &[
                    "tmf-09bdc205d06140ca5",
                    "vai-7026c63fc8c5fa66a",
                    "eice-0b2f36747ca75ff32",
                ],
            ),
            ("nip-ac218b4c9e2252683", &["nip-ac218b4c9e2252683"]),
            // Near misses.
            ("emi-0123abcd xtmf-0123abcd", &[]),
            ("xvpc-0a1b2c3d", &[]),
            ("vpc2-0a1b2c3d", &[]),
            ("i-0123456789", &[]),
            ("i-0123456789abcdef", &[]),
            ("i-0123456789abcdef01", &[]),
            ("i-0123456789ABCDEF0", &[]),
            ("i-0123abcdz", &[]),
            ("sg-sample vpc-peering subnet-mask i-node ami-friendly", &[]),
            ("multi-deadbeef", &[]),
            ("foo-0123abcd", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(values_of(find, input), *want, "{input}");
        }
    }
}
