#!/usr/bin/env python3
"""Generates src/detect/vocabulary.rs from botocore's service models.

    python3 scripts/vocabulary/generate.py [--out FILE] [--cache DIR] [--tsv FILE]

The source is ONE pinned botocore wheel from PyPI (BOTOCORE_VERSION and its
sha256 below), downloaded with `pip download` into the cache directory when
it is not there yet, and read as a zip: nothing is installed or imported from
it except `botocore.xform_name` (the function the AWS CLI uses to spell its
flags). For every service, the latest API version's
`botocore/data/<service>/<version>/service-2.json.gz` is read.

What is generated (see the Rust doc comments written below, too):

* KEYS: every structure member name that names a customer resource
  identifier, NORMALIZED as the masker compares keys (ASCII lower case, `_`
  and `-` dropped), sorted and unique, for binary search. Normalizing makes
  one entry match every spelling the issue lists: JSON/YAML/HCL `SecretId`,
  `secret_id`, env `SECRET_ID`, the AWS CLI flag `--secret-id` (the CLI
  spells a member `xform_name(member, '-')`, which only lower-cases and
  inserts dashes; the script asserts that the CLI spelling normalizes to the
  same key), and `--output text` row labels. Each key carries its kind index
  into KINDS plus flags:
    GENERIC  `Name`, `Id`, `Arn`, `Key`, `Value`, ... (one bare word): they
             count only where the surrounding object carries AWS keys.
    CLI      the member is a top-level input member of some operation, so the
             AWS CLI has a `--kebab-case` flag for it.
    TEXT     the member is a list of strings. The AWS CLI's `--output text`
             (awscli/text.py) never prints the names of scalar members: a
             dict prints as one tab-separated row of its scalar VALUES (sorted
             by key), labelled with the UPPER-CASED key of the list or dict
             that holds it (`RESERVATIONS`, `INSTANCES`, `SECURITYGROUPS`);
             a list of scalars prints one `LABEL<TAB>value` line per element.
             So the only identifier members whose own name appears in text
             output are lists of strings: `SUBNETIDS<TAB>subnet-…`,
             `SECURITYGROUPIDS<TAB>sg-…`. Their upper-cased label is the key
             upper-cased, which normalizes to the KEYS entry.

* EC2_PREFIXES: every EC2 resource-id prefix that the EC2 model itself shows
  (`prefix-` + 8 or 17 lower-case hex digits, or an `x…` placeholder, in its
  documentation and examples-1.json; or a shape `pattern` `prefix-[a-f0-9]{17}`).
  ID17_PREFIXES: the prefixes of other services' ids of the same
  `prefix-` + 17 hex form (vpc-lattice `svc-`, fsx `fsvol-`, …), seen in
  their documentation, examples or patterns: they are EC2-style ids too.

Rules for KEYS (a member is taken when A holds and none of B does):

A. The member's target shape is a string (or a list of strings) that is not
   an enum, and one of:
   1. the member name ends in Id, Ids, ID, IDs, Arn, Arns, ARN, ARNs, Name,
      Names, Identifier, Identifiers (any case for the one-word form: `id`,
      `name`, `arn`);
   2. the member name ends in Bucket or Buckets (S3 bucket names);
   3. or it is `Key` or `Value` (tags and S3 object keys; generic).
   A member whose own name says nothing of an identifier (`description`,
   `action`, `function`, `cluster`, `serviceRole`) is not taken, even when
   its target shape's name or its documentation says it holds one: such
   words, as keys in code, config and prose, mostly hold something else.
B. Excluded:
   1. AWS-defined values, not customer data: anything about regions and
      availability zones (`RegionName`, `AvailabilityZone`, `ZoneId`),
      engines and versions (`Engine`, `EngineName`, `EngineVersion`),
      instance types and classes, metric, dimension, attribute, column,
      field, header and parameter names (schema vocabulary: masking it costs
      the model its understanding and protects nothing), device names
      (`/dev/sda1`), solution stacks, service and quota codes;
   2. members whose normalized name ends in a word that is never a
      customer identifier: token(s) (NextToken, ClientToken: pagination and
      idempotency, not customer data), marker, version(s), type(s), status,
      state, time, date, timestamp, count, size, code, family, class, format,
      mode, level, algorithm, region(s) (see DENY_SUFFIXES);
   3. request ids (`RequestId`): ids of API calls, not of resources.
   4. names of people, files, hosts and classes (`FileName`, `FirstName`,
      `HostName`; see DENY_EXACT).
   `KeyName` (an EC2 key pair's name) and `PolicyName` (customer policies;
   AWS managed policy names are for an allow-list, not for this table) are
   customer data and kept.

Kinds (KINDS): a key the engine already names (src/detect/named_resources.rs:
`DBInstanceIdentifier` -> RDS_DB, `FunctionName` -> LAMBDA, …) keeps that
kind (SPECIFIC below); keys ending in AccountId(s) are ACCOUNT, in Bucket,
BucketName(s) S3_BUCKET, in LogGroupName(s) LOG_GROUP, in KmsKeyId(s)
KMS_KEY, in HostedZoneId HOSTED_ZONE, in DistributionId CLOUDFRONT_DIST;
then by ending: Arn(s) ARN, Id(s)/Identifier(s) ID, anything else NAME.

"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict

BOTOCORE_VERSION = "1.44.5"
BOTOCORE_SHA256 = "8f16a56d1dff125dd65322ae021efa7ba5195a6db5102b96862566055b748921"
WHEEL = f"botocore-{BOTOCORE_VERSION}-py3-none-any.whl"

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SUFFIX = re.compile(r"(?:Id|Ids|ID|IDs|Arn|Arns|ARN|ARNs|Name|Names|Identifier|Identifiers)$")
ONE_WORD = {"id", "ids", "arn", "arns", "name", "names", "identifier", "identifiers"}
GENERIC = ONE_WORD | {"key", "keys", "value", "values"}
BUCKET = re.compile(r"(?:Bucket|Buckets)$", re.I)
DENY_EXACT = {
    "engine", "enginename", "engineversion", "instancetype", "instancetypename",
    "metricname", "metricnames", "namespace", "attributename", "attributenames",
    "parametername", "parameternames", "devicename", "virtualname",
    "solutionstackname", "platformname", "servicecode", "quotacode", "quotaname",
    "operationname", "actionname", "eventname", "eventsource", "dimensionname",
    "statisticname", "columnname", "columnnames", "fieldname", "fieldnames",
    "headername", "requestid", "clientrequestid", "zonename", "zonenames",
    "zoneid", "zoneids",
    # Names of people, files, hosts and classes: not AWS identifiers (hosts
    # that are AWS endpoints are found by their shape).
    "basename", "cityname", "classname", "companyname", "countryname",
    "displayname", "dnsname", "dnsnames", "errorname", "familyname",
    "filename", "filenames", "firstname", "fullname", "givenname", "hostname",
    "hostnames", "lastname", "legalname", "middlename", "nickname",
    "streetname", "printname",
    # Ids that code, logs and the model APIs themselves use for things that
    # are not AWS resources (messages, tool calls, sessions, traces,
    # threads, records of an application), and AWS-defined model ids:
    # masking them protects nothing and costs the model its understanding.
    "tooluseid", "toolid", "toolname", "messageid", "sessionid",
    "conversationid", "traceid", "traceids", "spanid", "spanids", "spanname",
    "threadid", "uuid", "sid", "oid", "objectid", "orderid", "orderids",
    "modelid", "modelname", "osname", "sdkname", "newname", "oldname",
    "pathname", "uniqueid", "refid", "publicid", "itemid", "itemids",
    "itemname", "fileid", "fileids", "userid", "userids", "processname",
    "methodname",
    # Words other clouds use for their own ids (GCP `projectId`, Azure
    # `tenantId`, `subscriptionId`, `environmentName: AzureCloud`): in AWS
    # text they are rare, in gcloud and az output they are everywhere.
    "projectid", "projectids", "projectname", "tenantid", "tenantids",
    "subscriptionid", "subscriptionids", "environmentname",
}
DENY_SUFFIXES = (
    "token", "tokens", "marker", "version", "versions", "type", "types",
    "typename", "status", "state", "time", "date", "timestamp", "count", "size",
    "code", "family", "class", "format", "mode", "level", "algorithm",
    "region", "regions", "regionname", "regionnames", "regionid",
    "metricname", "attributename", "columnname", "fieldname", "headername",
    "parametername",
)
DENY_CONTAINS = ("availabilityzone",)

# Keys the engine already names (src/detect/named_resources.rs KEYS), with
# their kinds.
SPECIFIC = {
    "dbinstanceidentifier": "RDS_DB", "dbclusteridentifier": "RDS_CLUSTER",
    "clustername": "CLUSTER", "functionname": "LAMBDA", "rolename": "IAM_ROLE",
    "username": "IAM_USER", "groupname": "IAM_GROUP",
    "tablename": "DYNAMODB_TABLE", "queuename": "SQS_QUEUE",
    "topicname": "SNS_TOPIC", "stackname": "CFN_STACK",
    "loggroupname": "LOG_GROUP", "repositoryname": "ECR_REPO",
    "loadbalancername": "ELB_NAME", "targetgroupname": "TARGET_GROUP",
    "hostedzoneid": "HOSTED_ZONE", "distributionid": "CLOUDFRONT_DIST",
    "keyid": "KMS_KEY", "kmskeyid": "KMS_KEY", "bucket": "S3_BUCKET",
    "bucketname": "S3_BUCKET", "accountid": "ACCOUNT",
}
ENDINGS = (
    (("accountid", "accountids"), "ACCOUNT"),
    (("bucket", "buckets", "bucketname", "bucketnames"), "S3_BUCKET"),
    (("loggroupname", "loggroupnames"), "LOG_GROUP"),
    (("kmskeyid", "kmskeyids"), "KMS_KEY"),
    (("hostedzoneid",), "HOSTED_ZONE"),
    (("distributionid",), "CLOUDFRONT_DIST"),
    (("arn", "arns"), "ARN"),
    (("id", "ids", "identifier", "identifiers"), "ID"),
)
# The first three are fixed: the engine may rely on their indices.
BASE_KINDS = ["NAME", "ID", "ARN"]

GENERIC_BIT, CLI_BIT, TEXT_BIT = 0x80, 0x40, 0x20
KIND_MASK = 0x1F

EC2_HEX = re.compile(
    r"(?<![A-Za-z0-9_./:-])([a-z]+(?:-[a-z]+)*)-"
    r"([0-9a-f]{8}|[0-9a-f]{17}|x{8}|x{17})(?![A-Za-z0-9_-])"
)
HEX17 = re.compile(
    r"(?<![A-Za-z0-9_./:-])([a-z]+(?:-[a-z]+)*)-([0-9a-f]{17})(?![A-Za-z0-9_-])"
)
ID_PATTERN = re.compile(
    r"([a-z]+(?:-[a-z]+)*)-\[(?:0-9a-f|a-f0-9|0-9a-fA-F|a-fA-F0-9|0-9a-z|a-z0-9)\]"
    r"\{(17|8,17)\}"
)


def normalize(name: str) -> str:
    return "".join(c.lower() for c in name if c not in "_-")


def wheel_path(cache: str) -> str:
    path = os.path.join(cache, WHEEL)
    if not os.path.exists(path):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--only-binary=:all:", "-d", cache, f"botocore=={BOTOCORE_VERSION}"],
            check=True,
        )
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != BOTOCORE_SHA256:
        sys.exit(f"{path}: sha256 {digest}, expected {BOTOCORE_SHA256}")
    return path


def load_models(wheel: str):
    """(service, model, examples-or-None) for each service's latest API version."""
    with zipfile.ZipFile(wheel) as z:
        latest = {}
        for n in z.namelist():
            parts = n.split("/")
            if len(parts) == 5 and parts[:2] == ["botocore", "data"] and parts[4] in (
                "service-2.json", "service-2.json.gz"
            ):
                svc, ver = parts[2], parts[3]
                if svc not in latest or ver > latest[svc][0]:
                    latest[svc] = (ver, n)
        names = set(z.namelist())
        for svc in sorted(latest):
            ver, n = latest[svc]
            raw = z.read(n)
            model = json.loads(gzip.decompress(raw) if n.endswith(".gz") else raw)
            ex = f"botocore/data/{svc}/{ver}/examples-1.json"
            examples = z.read(ex).decode() if ex in names else None
            yield svc, ver, model, examples


def xform_name_from(wheel: str):
    sys.path.insert(0, wheel)  # a pure-Python wheel imports as a zip
    import botocore  # noqa: E402

    assert botocore.__version__ == BOTOCORE_VERSION, botocore.__version__
    return botocore.xform_name


def string_target(shapes, shape_name):
    """(is a non-enum string, is a list, the string shape's name)."""
    shape = shapes.get(shape_name, {})
    is_list = False
    if shape.get("type") == "list":
        is_list = True
        shape_name = shape["member"]["shape"]
        shape = shapes.get(shape_name, {})
    ok = shape.get("type") == "string" and "enum" not in shape
    return ok, is_list, shape_name


def denied(norm: str) -> bool:
    return (
        norm in DENY_EXACT
        or norm.endswith(DENY_SUFFIXES)
        or any(w in norm for w in DENY_CONTAINS)
    )


def selected(member: str, target: str, doc: str):
    """Why a member names an identifier ('suffix', 'bucket', 'generic'), or
    None."""
    norm = normalize(member)
    if denied(norm):
        return None
    if SUFFIX.search(member) or norm in ONE_WORD:
        return "suffix"
    if BUCKET.search(member):
        return "bucket"
    if norm in ("key", "value"):
        return "generic"
    # A member whose name says nothing of an identifier (`description`,
    # `action`, `function`, `cluster`) is left out even when its shape or
    # its documentation does: as a key in code, config and prose such
    # words mostly hold something else, and masking them costs the model
    # its understanding. Their values are found by shape where they have
    # one (ARNs, ids).
    return None


def kind_of(norm: str, why: str, doc: str) -> str:
    if norm in SPECIFIC:
        return SPECIFIC[norm]
    for endings, kind in ENDINGS:
        if norm.endswith(endings):
            return kind
    return "NAME"


def ec2_prefixes(svc, model, examples, ec2, other):
    texts = json.dumps(model) + (examples or "")
    for shape in model["shapes"].values():
        for m in ID_PATTERN.finditer(shape.get("pattern", "")):
            (ec2 if svc == "ec2" else other).add(m.group(1))
    if svc == "ec2":
        for m in EC2_HEX.finditer(texts):
            hexpart = m.group(2)
            # Dates (`snapshot-20161212`) are all digits: a real or
            # placeholder id has a letter.
            if re.search(r"[a-fx]", hexpart) and not m.group(1).startswith("to-"):
                ec2.add(m.group(1))
    for m in HEX17.finditer(texts):
        if re.search(r"[a-f]", m.group(2)):
            (ec2 if svc == "ec2" else other).add(m.group(1))


BLOCK = 16
MAX_KEY_LEN = 64

# The readers of the front-coded table, written into the generated file.
RUST_READERS = r"""
/// Decodes the entry of [`ENTRIES`] at `pos` on top of `key` (which holds
/// the key before it): the key's length, its kind and flags byte, and
/// where the next entry starts.
fn decode(key: &mut [u8; MAX_KEY_LEN], pos: usize) -> Option<(usize, u8, usize)> {
    let mut len = usize::from(*ENTRIES.get(pos)?);
    let mut i = pos + 1;
    loop {
        let b = *ENTRIES.get(i)?;
        *key.get_mut(len)? = b & 0x7f;
        len += 1;
        i += 1;
        if b & 0x80 != 0 {
            break;
        }
    }
    Some((len, *ENTRIES.get(i)?, i + 1))
}

/// The kind and flags ([`GENERIC`], [`CLI`], [`TEXT`]) of a byte of
/// [`ENTRIES`].
fn split(info: u8) -> Option<(&'static str, u8)> {
    Some((*KINDS.get(usize::from(info & KIND_MASK))?, info & !KIND_MASK))
}

/// The kind and flags ([`GENERIC`], [`CLI`], [`TEXT`]) of a normalized
/// key, if it names an identifier: a binary search over the block heads
/// (9 comparisons), then one block decoded (at most 16).
pub(crate) fn lookup(norm: &[u8]) -> Option<(&'static str, u8)> {
    let mut key = [0u8; MAX_KEY_LEN];
    let head = |b: usize, key: &mut [u8; MAX_KEY_LEN]| -> Option<usize> {
        let (len, _, _) = decode(key, usize::try_from(*BLOCK_STARTS.get(b)?).ok()?)?;
        Some(len)
    };
    // The last block whose head is not greater than `norm`.
    let (mut lo, mut hi) = (0, BLOCK_STARTS.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let len = head(mid, &mut key)?;
        if key.get(..len)? <= norm {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let block = lo.checked_sub(1)?;
    let mut pos = usize::try_from(*BLOCK_STARTS.get(block)?).ok()?;
    for _ in 0..BLOCK {
        let (len, info, next) = decode(&mut key, pos)?;
        match key.get(..len)?.cmp(norm) {
            core::cmp::Ordering::Equal => return split(info),
            core::cmp::Ordering::Greater => return None,
            core::cmp::Ordering::Less => pos = next,
        }
    }
    None
}

/// Calls `f` with every key (normalized), its kind and its flags, in
/// sorted order: for tables built from the keys and for tests.
pub(crate) fn for_each(mut f: impl FnMut(&[u8], &'static str, u8)) {
    let mut key = [0u8; MAX_KEY_LEN];
    let mut pos = 0;
    while pos < ENTRIES.len() {
        let Some((len, info, next)) = decode(&mut key, pos) else {
            return;
        };
        if let (Some(k), Some((kind, flags))) = (key.get(..len), split(info)) {
            f(k, kind, flags);
        }
        pos = next;
    }
}
"""


def rust_str_list(items, per_line=6):
    out = []
    for i in range(0, len(items), per_line):
        out.append("    " + " ".join(f'"{s}",' for s in items[i : i + per_line]))
    return "\n".join(out)


def generate(wheel: str):
    xform_name = xform_name_from(wheel)
    info = {}  # norm -> [kind, flags]
    reasons = Counter()
    rows = []  # for --tsv
    ec2, other = set(), set()
    services = 0
    for svc, ver, model, examples in load_models(wheel):
        services += 1
        shapes = model["shapes"]
        inputs = {op["input"]["shape"] for op in model.get("operations", {}).values() if "input" in op}
        ec2_prefixes(svc, model, examples, ec2, other)
        for shape_name in sorted(shapes):
            shape = shapes[shape_name]
            if shape.get("type") != "structure":
                continue
            for member, spec in sorted(shape.get("members", {}).items()):
                ok, is_list, target = string_target(shapes, spec["shape"])
                if not ok:
                    continue
                doc = spec.get("documentation", "")
                why = selected(member, target, doc)
                if why is None:
                    continue
                norm = normalize(member)
                cli = xform_name(member, "-")
                assert normalize(cli) == norm, (member, cli)
                kind = kind_of(norm, why, doc)
                flags = (GENERIC_BIT if norm in GENERIC else 0)
                flags |= CLI_BIT if shape_name in inputs else 0
                flags |= TEXT_BIT if is_list else 0
                reasons[why] += 1
                rows.append((norm, member, f"--{cli}", member.upper() if is_list else "", kind, svc, shape_name))
                if norm in info:
                    old = info[norm]
                    # One kind per key: a specific kind beats ARN/ID/NAME;
                    # among those NAME beats ID beats ARN (a key that is a
                    # name in one API and an ARN in another takes names:
                    # ARNs are found by their shape anyway).
                    if old[0] in BASE_KINDS and (
                        kind not in BASE_KINDS or BASE_KINDS.index(kind) < BASE_KINDS.index(old[0])
                    ):
                        old[0] = kind
                    old[1] |= flags
                else:
                    info[norm] = [kind, flags]
    ec2_list = sorted(ec2)
    other_list = sorted(other - ec2)
    return services, info, reasons, rows, ec2_list, other_list


def render(services, info, ec2_list, other_list) -> str:
    keys = sorted(info)
    kinds = BASE_KINDS + sorted({k for k, _ in info.values()} - set(BASE_KINDS))
    assert len(kinds) <= KIND_MASK + 1
    index = {k: i for i, k in enumerate(kinds)}
    bytes_ = [index[info[k][0]] | info[k][1] for k in keys]
    out = []
    w = out.append
    w(f"// generated by scripts/vocabulary/generate.py from botocore {BOTOCORE_VERSION}; do not edit;")
    w("// regenerate with `make vocabulary`.")
    w("//! AWS's own vocabulary, from botocore's service models")
    w(f"//! ({services} services, the latest API version of each): the member")
    w("//! names that name customer resource identifiers, and EC2-style")
    w("//! resource-id prefixes.")
    w("//!")
    w("//! The keys ([`lookup`], [`for_each`]) are normalized as the masker compares keys (ASCII lower case,")
    w("//! `_` and `-` dropped), so one entry matches `SecretId`, `secret_id`,")
    w("//! `SECRET_ID`, `--secret-id` and `--output text`'s `SUBNETIDS`. The rules")
    w("//! that pick them are in the generator's docstring.")
    w("")
    w("/// Token kinds; the low bits ([`KIND_MASK`]) of a key's kind and flags byte index this.")
    w(f"pub(crate) const KINDS: [&str; {len(kinds)}] = [")
    w(rust_str_list(kinds))
    w("];")
    w("")
    w("/// Bits of a key's kind and flags byte: the kind's index in [`KINDS`].")
    w(f"pub(crate) const KIND_MASK: u8 = {KIND_MASK:#04x};")
    w("/// Flag bit: a bare word (`Name`, `Id`, `Arn`, `Key`, `Value`) that")
    w("/// counts only where the surrounding object carries AWS keys.")
    w(f"pub(crate) const GENERIC: u8 = {GENERIC_BIT:#04x};")
    w("/// Flag bit: an operation's input member, so an AWS CLI flag")
    w("/// (`--kebab-case`, botocore's `xform_name(member, '-')`).")
    w(f"pub(crate) const CLI: u8 = {CLI_BIT:#04x};")
    w("/// Flag bit: a list of strings, the only identifier members whose")
    w("/// name `--output text` prints (upper case, as the label of each row).")
    w(f"pub(crate) const TEXT: u8 = {TEXT_BIT:#04x};")
    w("")
    # Front coding: sorted keys share long prefixes (`accessgrant…`), so
    # each entry stores only how many bytes it shares with the key before
    # it, then the rest. Every BLOCK-th key is stored whole, so a lookup
    # binary-searches the block heads and decodes one block.
    blob, heads, prev = bytearray(), [], b""
    for i, k in enumerate(keys):
        kb = k.encode()
        assert all(b < 0x80 for b in kb) and len(kb) <= MAX_KEY_LEN, k
        shared = 0
        if i % BLOCK == 0:
            heads.append(len(blob))
        else:
            while shared < min(len(kb), len(prev)) and kb[shared] == prev[shared]:
                shared += 1
        rest = bytearray(kb[shared:])
        assert rest, k  # unique and sorted: never empty
        rest[-1] |= 0x80
        blob += bytes([shared]) + rest + bytes([bytes_[i]])
        prev = kb
    assert len(blob) < 2**32
    w(f"/// Number of identifier keys.")
    w(f"pub(crate) const LEN: usize = {len(keys)};")
    w("")
    w("/// Longest key, normalized.")
    w(f"pub(crate) const MAX_KEY_LEN: usize = {MAX_KEY_LEN};")
    w("")
    w(f"/// Keys per block of [`ENTRIES`]; the first of each is stored whole.")
    w(f"const BLOCK: usize = {BLOCK};")
    w("")
    w("/// The identifier keys, normalized, sorted and unique, front-coded:")
    w("/// per key, the number of leading bytes it shares with the key before")
    w("/// it (0 at the start of a block), the bytes after those (the last one")
    w("/// with its high bit set; keys are ASCII), then its kind and flags")
    w(f"/// byte. {len(blob)} bytes where the plain keys and their")
    w(f"/// offsets took {sum(map(len, keys)) + 5 * len(keys)}. Read with [`lookup`] and [`for_each`].")
    w('static ENTRIES: &[u8] = b"\\')
    pos = 0
    for i in range(len(keys)):
        j = pos + 1
        while blob[j] < 0x80:
            j += 1
        j += 2
        chunk = blob[pos:j]
        pos = j
        text = "".join(chr(b) if (0x61 <= b <= 0x7A or 0x30 <= b <= 0x39) and 0 < n < len(chunk) - 1 else f"\\x{b:02x}" for n, b in enumerate(chunk))
        w(f"    {text}\\")
    w('";')
    w("")
    # Shape tables: cheap tests that turn away a word before any lookup.
    def cls(c):
        return ord(c) - 97 if c.isalpha() else 26 + ord(c) - 48
    assert all(len(k) >= 2 and k.isalnum() and k.isascii() for k in keys)
    by_last, by_len, before = [0] * 36, [0] * (MAX_KEY_LEN + 1), [0] * 36
    for k in keys:
        by_last[cls(k[-1])] |= 1 << len(k)
        by_len[len(k)] |= 1 << cls(k[0])
        before[cls(k[-1])] |= 1 << cls(k[-2])
    def table(name, ty, vals, doc):
        for d in doc:
            w(f"/// {d}")
        w(f"pub(crate) static {name}: [{ty}; {len(vals)}] = [")
        for i in range(0, len(vals), 4):
            w("    " + " ".join(f"{v:#x}," for v in vals[i : i + 4]))
        w("];")
        w("")
    w("/// The class of a key byte in the shape tables: `a`-`z` are 0-25,")
    w("/// `0`-`9` are 26-35; other bytes are in no key.")
    w("pub(crate) fn class(b: u8) -> Option<u32> {")
    w("    match b {")
    w("        b'a'..=b'z' => Some(u32::from(b - b'a')),")
    w("        b'0'..=b'9' => Some(26 + u32::from(b - b'0')),")
    w("        _ => None,")
    w("    }")
    w("}")
    w("")
    table("LENGTHS_BY_LAST", "u64", by_last, ["For each [`class`] of last byte, the lengths of the keys that end with it", "(bit `n` for `n` bytes)."])
    table("FIRSTS_BY_LEN", "u64", by_len, ["For each length, the [`class`]es of the first bytes of the keys that long", "(bit `class`)."])
    table("BEFORE_LAST", "u64", before, ["For each [`class`] of last byte, the [`class`]es of the bytes just before", "it in the keys (bit `class`)."])
    w("/// Where each block of [`ENTRIES`] starts.")
    w(f"static BLOCK_STARTS: [u32; {len(heads)}] = [")
    for i in range(0, len(heads), 12):
        w("    " + " ".join(f"{e}," for e in heads[i : i + 12]))
    w("];")
    w("")
    w("/// EC2 resource-id prefixes (without the dash) shown by the EC2 model,")
    w("/// sorted.")
    w("pub(crate) static EC2_PREFIXES: [&str; %d] = [" % len(ec2_list))
    w(rust_str_list(ec2_list, 8))
    w("];")
    w("")
    w("/// Other services' `prefix-` + 17 hex ids (EC2-style), sorted; none is in")
    w("/// [`EC2_PREFIXES`].")
    w("pub(crate) static ID17_PREFIXES: [&str; %d] = [" % len(other_list))
    w(rust_str_list(other_list, 8))
    w("];")
    w("")
    for line in RUST_READERS.strip("\n").split("\n"):
        w(line)
    return "\n".join(out) + "\n"


def rustfmt(path: str):
    try:
        subprocess.run(["rustfmt", "--edition", "2021", path], check=True)
    except FileNotFoundError:
        sys.exit("rustfmt not found: the generated file must be rustfmt-clean")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "src/detect/vocabulary.rs"))
    ap.add_argument("--cache", default=os.path.join(ROOT, ".venv/cache"))
    ap.add_argument("--wheel", help="a botocore wheel already on disk (its sha256 is still checked)")
    ap.add_argument("--tsv", help="also write every selected member: key, member, CLI flag, text label, kind, service, shape")
    ap.add_argument("--stats", action="store_true", help="print counts")
    args = ap.parse_args()
    wheel = args.wheel or wheel_path(args.cache)
    if args.wheel:
        with open(wheel, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != BOTOCORE_SHA256:
                sys.exit(f"{wheel}: not botocore {BOTOCORE_VERSION}")
    services, info, reasons, rows, ec2_list, other_list = generate(wheel)
    text = render(services, info, ec2_list, other_list)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    with tempfile.NamedTemporaryFile("w", dir=out_dir, suffix=".rs", delete=False) as f:
        f.write(text)
        tmp = f.name
    rustfmt(tmp)
    os.replace(tmp, args.out)
    if args.tsv:
        with open(args.tsv, "w") as f:
            for r in sorted(set(rows)):
                f.write("\t".join(r) + "\n")
    if args.stats:
        kinds = Counter(k for k, _ in info.values())
        flags = Counter()
        for _, fl in info.values():
            for name, bit in (("generic", GENERIC_BIT), ("cli", CLI_BIT), ("text", TEXT_BIT)):
                if fl & bit:
                    flags[name] += 1
        cli_flags = {r[2] for r in rows if True}
        print(f"botocore {BOTOCORE_VERSION}: {services} services")
        print(f"members selected: {sum(reasons.values())} ({dict(reasons)})")
        print(f"keys (normalized, unique): {len(info)}; flags: {dict(flags)}")
        print(f"distinct CLI spellings of selected members: {len(cli_flags)}")
        print(f"kinds: {dict(sorted(kinds.items(), key=lambda x: -x[1]))}")
        print(f"EC2_PREFIXES ({len(ec2_list)}): {' '.join(ec2_list)}")
        print(f"ID17_PREFIXES ({len(other_list)}): {' '.join(other_list)}")
        print(f"{args.out}: {len(open(args.out).read().encode())} bytes")


if __name__ == "__main__":
    main()
