//! Invariants of the generated AWS vocabulary (src/detect/vocabulary.rs,
//! `make vocabulary`): sorted and unique, so a binary search finds every
//! key; the identifier keys the issue names are present; pagination,
//! AWS-defined and numeric members are absent.

#[allow(dead_code)]
#[path = "../../src/detect/vocabulary.rs"]
mod table;

fn keys() -> Vec<(Vec<u8>, &'static str, u8)> {
    let mut keys = Vec::new();
    table::for_each(|key, kind, flags| keys.push((key.to_vec(), kind, flags)));
    keys
}

#[test]
fn keys_are_sorted_unique_and_normalized() {
    let keys = keys();
    assert_eq!(keys.len(), table::LEN);
    for pair in keys.windows(2) {
        assert!(
            pair[0].0 < pair[1].0,
            "{:?} then {:?}",
            pair[0].0,
            pair[1].0
        );
    }
    for (k, kind, flags) in &keys {
        assert!(
            !k.is_empty()
                && k.len() <= table::MAX_KEY_LEN
                && k.iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{k:?} is not normalized"
        );
        assert_eq!(table::lookup(k), Some((*kind, *flags)), "{k:?}");
        assert!(table::KINDS.contains(kind));
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
        "description",
        "filename",
        "tooluseid",
        "messageid",
        "userid",
        "projectid",
        "tenantid",
        "taskdefinition",
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
