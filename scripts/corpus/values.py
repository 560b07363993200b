"""Fake-but-realistic AWS values for the labelled corpus.

Every value is invented here from a seeded random.Random: nothing is a real
credential or a real customer's identifier. Shapes follow AWS's documented
formats (lengths, alphabets, prefixes) so that a detector cannot tell them
from real ones.
"""

import base64
import json
import random
import string
import uuid

HEX = "0123456789abcdef"
UPPER_HEX = "0123456789ABCDEF"
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits
B32 = string.ascii_uppercase + "234567"
B64 = string.ascii_letters + string.digits + "+/"

REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-2", "ap-southeast-1",
    "ap-southeast-2", "ap-northeast-1", "ap-northeast-2", "ap-south-1",
    "sa-east-1", "ca-central-1", "me-central-1", "af-south-1", "il-central-1",
]

# Every EC2 resource-id prefix documented for the EC2 API (8 or 17 hex).
EC2_PREFIXES = [
    "i", "ami", "aki", "ari", "vol", "snap", "eni", "eni-attach", "vpc", "subnet",
    "sg", "sgr", "rtb", "rtbassoc", "igw", "eigw", "nat", "acl", "aclassoc",
    "dopt", "pcx", "tgw", "tgw-attach", "tgw-rtb", "tgw-mcast-domain", "vgw",
    "cgw", "vpn", "eipalloc", "eipassoc", "lt", "fleet", "vpce", "vpce-svc",
    "pl", "fl", "cr", "h", "r", "ipam", "ipam-pool", "ipam-scope",
    "ipam-res-disc", "cvpn-endpoint", "lgw", "lgw-rtb", "lgw-vif", "lgw-vif-grp",
    "cagw", "key", "fs", "fsap", "fsmt", "import-ami", "import-snap",
    "export-ami", "export-i", "eice", "vai", "vae", "vag", "tmf", "tms", "tmt",
    "nis", "nip", "nia", "ipv4pool-ec2",
]

FIRST = ["alice", "bob", "carol", "dmitri", "priya", "wei", "olu", "sofia",
         "mateo", "yuki", "fatima", "lars", "ines", "kofi", "anya", "raj"]
WORDS = ["orders", "payments", "billing", "checkout", "search", "ingest",
         "reports", "inventory", "auth", "notify", "ledger", "catalog",
         "media", "analytics", "etl", "webhooks", "gateway", "profile",
         "invoices", "shipping", "fraud", "recs", "events", "audit",
         "telemetry", "pricing", "support", "onboarding", "sync", "export"]
ENVS = ["prod", "staging", "dev", "qa", "sandbox", "prd", "stg", "uat"]
ORGS = ["acme", "globex", "initech", "umbrella", "hooli", "piedpiper",
        "wayne", "stark", "tyrell", "soylent", "vandelay", "contoso-labs",
        "northwind", "blueyonder", "fabrikam", "bluth"]


class Values:
    """Value factories on one seeded generator: the same seed gives the
    same corpus, every call a fresh value."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self._used = set()

    # -- helpers -----------------------------------------------------------
    def choice(self, seq):
        return self.r.choice(seq)

    def chars(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def fresh(self, make):
        for _ in range(1000):
            v = make()
            if v not in self._used:
                self._used.add(v)
                return v
        raise RuntimeError("value space exhausted")

    def region(self):
        return self.choice(REGIONS)

    def org(self):
        return self.choice(ORGS)

    def env(self):
        return self.choice(ENVS)

    def word(self):
        return self.choice(WORDS)

    def person(self):
        return self.choice(FIRST)

    # -- identifiers -------------------------------------------------------
    def account(self):
        def make():
            # Never the documentation accounts: those are in the botocore part.
            return str(self.r.randint(1, 9)) + self.chars(string.digits, 11)
        return self.fresh(make)

    def ec2(self, prefix="i", long=None):
        if long is None:
            long = self.r.random() < 0.85
        n = 17 if long else 8
        return self.fresh(lambda: f"{prefix}-{self.chars(HEX, n)}")

    def access_key(self, prefix="AKIA", n=16):
        return self.fresh(lambda: prefix + self.chars(B32, n))

    def unique_id(self, prefix="AIDA"):
        return self.fresh(lambda: prefix + self.chars(B32, 17))

    def secret_key(self, n=40):
        def make():
            s = self.chars(B64, n)
            # Real keys almost always hold a / or +; make sure some do.
            if self.r.random() < 0.6:
                i = self.r.randrange(1, n - 1)
                s = s[:i] + self.r.choice("/+") + s[i + 1:]
            return s
        return self.fresh(make)

    def _b64_blob(self, n):
        raw = bytes(self.r.getrandbits(8) for _ in range(n))
        return base64.b64encode(raw).decode()

    def session_token(self, prefix="IQoJb3JpZ2luX2Vj"):
        # IQoJb3JpZ2luX2Vj = base64 of the "origin_ec" protobuf-ish header of
        # current STS tokens; FQoGZXIvYXdz / FQoDYXdz / AgoJb3JpZ2lu older.
        def make():
            body = self._b64_blob(self.r.randint(280, 700))
            return prefix + body.rstrip("=")
        return self.fresh(make)

    def ip_private(self):
        def make():
            k = self.r.random()
            if k < 0.5:
                return f"10.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"
            if k < 0.8:
                return f"172.{self.r.randint(16, 31)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"
            return f"192.168.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"
        return self.fresh(make)

    def ip_public(self):
        # AWS-looking public ranges, never the documentation ranges.
        firsts = [3, 13, 18, 34, 35, 44, 50, 52, 54, 99, 100, 107]
        def make():
            return f"{self.choice(firsts)}.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"
        return self.fresh(make)

    def cidr(self):
        a, b = self.r.randint(0, 255), self.r.randint(0, 255)
        return self.fresh(lambda: self.choice([
            f"10.{self.r.randint(0, 255)}.0.0/16",
            f"10.{a}.{self.r.randint(0, 255)}.0/24",
            f"172.{self.r.randint(16, 31)}.{b}.0/24",
            f"192.168.{self.r.randint(0, 255)}.0/24",
        ]))

    def ipv6(self):
        return self.fresh(lambda: "2600:1f18:" + ":".join(
            self.chars(HEX, 4).lstrip("0") or "0" for _ in range(6)))

    def name(self, style=None):
        """A customer-chosen resource name."""
        style = style or self.choice(["dash", "dash", "camel", "under"])
        def make():
            w1, w2, e = self.word(), self.choice(WORDS + ["api", "worker", "svc", "db", "cache", "queue", "job"]), self.env()
            if style == "dash":
                return self.choice([f"{w1}-{w2}-{e}", f"{e}-{w1}-{w2}", f"{self.org()}-{w1}-{e}", f"{w1}-{w2}-v{self.r.randint(2, 9)}"])
            if style == "camel":
                return f"{w1.capitalize()}{w2.capitalize()}{e.capitalize()}"
            return f"{w1}_{w2}_{e}"
        return self.fresh(make)

    def bucket(self):
        def make():
            o, w, e = self.org(), self.word(), self.env()
            return self.choice([
                f"{o}-{w}-{e}", f"{o}-{e}-{w}-{self.r.randint(10, 999)}",
                f"{w}-{e}-{self.chars(LOWER_ALNUM, 6)}", f"{o}.{w}.{e}",
                f"{o}-{w}-artifacts", f"{e}-{o}-{w}-logs",
            ]).replace("_", "-")
        return self.fresh(make)

    def uuid(self):
        return self.fresh(lambda: str(uuid.UUID(int=self.r.getrandbits(128), version=4)))

    def kms_key(self):
        return self.uuid()

    def mrk(self):
        return self.fresh(lambda: "mrk-" + self.chars(HEX, 32))

    def org_id(self):
        return self.fresh(lambda: "o-" + self.chars(LOWER_ALNUM, 10))

    def ou_id(self, root=None):
        root = root or self.chars(LOWER_ALNUM, 4)
        return self.fresh(lambda: f"ou-{root}-{self.chars(LOWER_ALNUM, 8)}")

    def root_id(self):
        return self.fresh(lambda: "r-" + self.chars(LOWER_ALNUM, 4))

    def hosted_zone(self):
        return self.fresh(lambda: "Z" + self.chars(UPPER_ALNUM, self.choice([13, 14, 20])))

    def distribution_id(self):
        return self.fresh(lambda: "E" + self.chars(UPPER_ALNUM, 13))

    def cloudfront_domain(self):
        return self.fresh(lambda: "d" + self.chars(LOWER_ALNUM, 13) + ".cloudfront.net")

    def api_id(self):
        return self.fresh(lambda: self.chars(LOWER_ALNUM, 10))

    def user_pool(self, region=None):
        region = region or self.region()
        return self.fresh(lambda: f"{region}_{self.chars(ALNUM, 9)}")

    def identity_pool(self, region=None):
        region = region or self.region()
        return self.fresh(lambda: f"{region}:{self.uuid()}")

    def app_client(self):
        return self.fresh(lambda: self.chars(LOWER_ALNUM, 26))

    def appsync_key(self):
        return self.fresh(lambda: "da2-" + self.chars(LOWER_ALNUM, 26))

    def dbi_resource(self):
        return self.fresh(lambda: "db-" + self.chars(UPPER_ALNUM, 26))

    def cluster_resource(self):
        return self.fresh(lambda: "cluster-" + self.chars(UPPER_ALNUM, 26))

    def ecs_task(self):
        return self.fresh(lambda: self.chars(HEX, 32))

    def eks_oidc(self):
        return self.fresh(lambda: self.chars(UPPER_HEX, 32))

    def ssm_mi(self):
        return self.fresh(lambda: "mi-" + self.chars(HEX, 17))

    def rds_host(self, name=None, region=None, cluster=False):
        name = name or self.name("dash")
        region = region or self.region()
        suffix = self.chars(LOWER_ALNUM, 12)
        if cluster:
            return f"{name}.cluster-{suffix}.{region}.rds.amazonaws.com"
        return f"{name}.{suffix}.{region}.rds.amazonaws.com"

    def cache_host(self, name=None, region=None):
        name = name or self.name("dash")
        region = region or self.region()
        short = self.chars(LOWER_ALNUM, 6)
        p = region.split("-")
        abbr = p[0] + p[1][0] + p[2]
        return self.choice([
            f"{name}.{short}.ng.0001.{abbr}.cache.amazonaws.com",
            f"master.{name}.{short}.{abbr}.cache.amazonaws.com",
            f"{name}-001.{name}.{short}.0001.{abbr}.cache.amazonaws.com",
        ])

    def elb_host(self, name=None, region=None, internal=None):
        name = name or self.name("dash")[:20].rstrip("-")
        region = region or self.region()
        internal = self.r.random() < 0.3 if internal is None else internal
        n = self.r.randint(100000000, 2099999999)
        pre = "internal-" if internal else ""
        return f"{pre}{name}-{n}.{region}.elb.amazonaws.com"

    def ecr_password(self):
        payload = self._b64_blob(self.r.randint(900, 1300))
        datakey = self._b64_blob(self.r.randint(160, 230))
        doc = json.dumps({"payload": payload, "datakey": datakey, "version": "2",
                          "type": "DATA_KEY", "expiration": self.r.randint(1700000000, 1800000000)},
                         separators=(",", ":"))
        return base64.b64encode(doc.encode()).decode()

    def codeartifact_token(self):
        hdr = json.dumps({"ver": 1, "isu": self.r.randint(1700000000, 1800000000),
                          "enc": "A128GCM", "tag": self._b64_blob(16).rstrip("="),
                          "iv": self._b64_blob(12), "alg": "A128GCMKW"},
                         separators=(",", ":"))
        def b64u(b):
            return base64.urlsafe_b64encode(b).decode().rstrip("=")
        parts = [b64u(hdr.encode()), b64u(bytes(self.r.getrandbits(8) for _ in range(24))),
                 b64u(bytes(self.r.getrandbits(8) for _ in range(12))),
                 b64u(bytes(self.r.getrandbits(8) for _ in range(self.r.randint(500, 800)))),
                 b64u(bytes(self.r.getrandbits(8) for _ in range(16)))]
        return ".".join(parts)

    def lambda_url_id(self):
        return self.fresh(lambda: self.chars(LOWER_ALNUM, 32))

    def sha256(self):
        return self.chars(HEX, 64)

    def git_sha(self):
        return self.chars(HEX, 40)
