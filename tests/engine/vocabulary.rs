//! Invariants of the generated AWS vocabulary (src/detect/vocabulary.rs,
//! `make vocabulary`): sorted and unique, so a binary search finds every
//! key; the identifier keys the issue names are present; pagination,
//! AWS-defined and numeric members are absent.

#[allow(dead_code)]
#[path = "../../src/detect/vocabulary.rs"]
mod table;

fn keys() -> Vec<&'static str> {
    (0..table::LEN).map(|i| table::key(i).unwrap()).collect()
}

#[test]
fn keys_are_sorted_unique_and_normalized() {
    let keys = keys();
    assert!(table::key(table::LEN).is_none());
    for pair in keys.windows(2) {
        assert!(pair[0] < pair[1], "{:?} then {:?}", pair[0], pair[1]);
    }
    for k in &keys {
        assert!(
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{k:?} is not normalized"
        );
        assert!(table::lookup(k.as_bytes()).is_some(), "{k} not found");
    }
    assert_eq!(table::INFO.len(), table::LEN);
    for info in table::INFO {
        assert!(usize::from(info & table::KIND_MASK) < table::KINDS.len());
    }
}

#[test]
fn known_identifier_keys_are_present() {
    let kind = |k: &str| table::lookup(k.as_bytes()).map(|(kind, _)| kind);
    for k in [
        "secretid",
        "autoscalinggroupname",
        "clustername",
        "statemachinearn",
        "userpoolid",
        "hostedzoneid",
        "distributionid",
        "restapiid",
        "keyname",
        "functionname",
        "servicename",
        "taskdefinition",
        "dbinstanceidentifier",
        "subnetids",
    ] {
        assert!(kind(k).is_some(), "{k} missing");
    }
    assert_eq!(kind("statemachinearn"), Some("ARN"));
    assert_eq!(kind("hostedzoneid"), Some("HOSTED_ZONE"));
    assert_eq!(kind("dbinstanceidentifier"), Some("RDS_DB"));
    assert_eq!(kind("accountid"), Some("ACCOUNT"));
    assert_eq!(kind("targetbucket"), Some("S3_BUCKET"));
}

#[test]
fn known_non_identifiers_are_absent() {
    for k in [
        "nexttoken",
        "clienttoken",
        "maxresults",
        "instancetype",
        "regionname",
        "availabilityzone",
        "engine",
        "engineversion",
        "creationtime",
    ] {
        assert!(table::lookup(k.as_bytes()).is_none(), "{k} present");
    }
}

#[test]
fn flags() {
    let flags = |k: &str| table::lookup(k.as_bytes()).unwrap().1;
    for k in ["name", "id", "arn", "key", "value"] {
        assert_ne!(flags(k) & table::GENERIC, 0, "{k} not generic");
    }
    for k in ["secretid", "autoscalinggroupname", "userpoolid"] {
        assert_eq!(flags(k) & table::GENERIC, 0, "{k} generic");
        assert_ne!(flags(k) & table::CLI, 0, "{k} is no CLI flag");
    }
    assert_ne!(flags("subnetids") & table::TEXT, 0);
    assert_eq!(flags("secretid") & table::TEXT, 0);
}

#[test]
fn ec2_prefixes_are_sorted_and_disjoint() {
    for list in [&table::EC2_PREFIXES[..], &table::ID17_PREFIXES[..]] {
        for pair in list.windows(2) {
            assert!(pair[0] < pair[1], "{:?} then {:?}", pair[0], pair[1]);
        }
    }
    for p in [
        "i",
        "vpc",
        "subnet",
        "sg",
        "iip-assoc",
        "eipalloc",
        "eni-attach",
    ] {
        assert!(table::EC2_PREFIXES.binary_search(&p).is_ok(), "{p} missing");
    }
    for p in table::ID17_PREFIXES {
        assert!(table::EC2_PREFIXES.binary_search(&p).is_err(), "{p} twice");
    }
}
