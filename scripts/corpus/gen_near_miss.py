#!/usr/bin/env python3
"""Near-miss negatives: text that looks like AWS data and is not, and must
stay readable: tests/corpus/negatives/near_miss.jsonl.

Versions and section numbers shaped like IPv4 addresses, documentation
address ranges, netmasks and public resolvers, AWS-owned public ARNs
(managed policies, service integrations, public SSM parameters, and those
botocore's models and examples name), AWS's public vocabulary (regions,
instance types, service principals, endpoints), git SHAs, UUIDs, sha256
digests, timestamps, base64, JWTs, CSS colours, GCP and Azure ids, and
Messages API image/document blocks whose `source.url` the API fetches
itself. Every record's text must come back from the filter unchanged.

    python3 scripts/corpus/gen_near_miss.py [--cache DIR] [--out FILE]
"""

import argparse
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import botocore_src  # noqa: E402
from corpus import Writer  # noqa: E402
from label import Labeller  # noqa: E402
from values import HEX, LOWER_ALNUM, REGIONS, Values  # noqa: E402

SEED = 13
PER_CLASS = 40
TEMPLATES = {}


def template(cls):
    def deco(f):
        TEMPLATES.setdefault(cls, []).append(f)
        return f
    return deco


MANAGED_POLICIES = [
    "AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess", "ViewOnlyAccess", "SecurityAudit",
    "AmazonS3FullAccess", "AmazonS3ReadOnlyAccess", "AmazonEC2FullAccess", "AmazonDynamoDBFullAccess",
    "AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy", "AmazonEKSClusterPolicy",
    "AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AWSCloudFormationReadOnlyAccess",
    "IAMFullAccess", "AWSBillingReadOnlyAccess", "AmazonRDSFullAccess", "AWSLambda_FullAccess",
]
SERVICE_ROLE_POLICIES = [
    "service-role/AWSLambdaBasicExecutionRole", "service-role/AWSLambdaVPCAccessExecutionRole",
    "service-role/AmazonECSTaskExecutionRolePolicy", "service-role/AWSGlueServiceRole",
    "service-role/AmazonEC2ContainerServiceforEC2Role", "job-function/ViewOnlyAccess",
    "aws-service-role/AmazonGuardDutyServiceRolePolicy",
]
STATES_INTEGRATIONS = [
    "arn:aws:states:::lambda:invoke", "arn:aws:states:::sqs:sendMessage", "arn:aws:states:::sns:publish",
    "arn:aws:states:::dynamodb:putItem", "arn:aws:states:::ecs:runTask.sync", "arn:aws:states:::glue:startJobRun.sync",
    "arn:aws:states:::states:startExecution.sync:2", "arn:aws:states:::events:putEvents",
    "arn:aws:states:::aws-sdk:s3:listObjectsV2", "arn:aws:states:::bedrock:invokeModel",
]
SSM_PUBLIC = [
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
    "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2",
    "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
    "/aws/service/eks/optimized-ami/1.29/amazon-linux-2/recommended/image_id",
    "/aws/service/bottlerocket/aws-k8s-1.29/x86_64/latest/image_id",
    "/aws/service/global-infrastructure/regions",
]
PRINCIPALS = ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com", "states.amazonaws.com",
              "events.amazonaws.com", "apigateway.amazonaws.com", "cloudformation.amazonaws.com",
              "glue.amazonaws.com", "sagemaker.amazonaws.com", "delivery.logs.amazonaws.com"]
INSTANCE_TYPES = ["t3.micro", "t3.large", "m5.xlarge", "m6i.2xlarge", "c7g.4xlarge", "r6g.large", "g5.12xlarge",
                  "p4d.24xlarge", "db.r6g.large", "cache.t4g.medium", "ml.g5.2xlarge"]
RUNTIMES = ["python3.12", "nodejs20.x", "java21", "provided.al2023", "dotnet8", "ruby3.3"]


def v4(v):
    return f"{v.r.randint(1, 9)}.{v.r.randint(0, 30)}.{v.r.randint(0, 30)}.{v.r.randint(0, 9999)}"


def doc_ip(v):
    net = v.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{net}.{v.r.randint(1, 254)}"


def b64(v, n):
    return base64.b64encode(bytes(v.r.getrandbits(8) for _ in range(n))).decode()


def b64u(v, raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def ts(v):
    return (f"20{v.r.randint(19, 25)}-{v.r.randint(1, 12):02d}-{v.r.randint(1, 28):02d}T"
            f"{v.r.randint(0, 23):02d}:{v.r.randint(0, 59):02d}:{v.r.randint(0, 59):02d}")


# ---------------------------------------------------------------------------
# Dotted numbers that are versions, not addresses
# ---------------------------------------------------------------------------

@template("versions")
def dotnet_assembly(v):
    a, f = v4(v), v4(v)
    return f"""using System.Reflection;
using System.Runtime.InteropServices;

[assembly: AssemblyTitle("{v.word().capitalize()}.Core")]
[assembly: AssemblyCompany("{v.org().capitalize()}")]
[assembly: AssemblyVersion("{a}")]
[assembly: AssemblyFileVersion("{f}")]
[assembly: AssemblyInformationalVersion("{f}+{v.git_sha()[:10]}")]
[assembly: ComVisible(false)]
[assembly: Guid("{v.uuid()}")]
"""


@template("versions")
def csproj(v):
    refs = "\n".join(f'    <PackageReference Include="{p}" Version="{v4(v)}" />' for p in v.r.sample(
        ["AWSSDK.S3", "AWSSDK.DynamoDBv2", "Newtonsoft.Json", "Serilog", "Dapper", "Polly", "AutoMapper"], 4))
    return f"""<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net8.0</TargetFramework>
    <Version>{v4(v)}</Version>
    <AssemblyVersion>{v4(v)}</AssemblyVersion>
    <FileVersion>{v4(v)}</FileVersion>
  </PropertyGroup>
  <ItemGroup>
{refs}
  </ItemGroup>
</Project>
"""


@template("versions")
def gemfile_lock(v):
    gems = ["rails", "actioncable", "actionpack", "activerecord", "activesupport", "nokogiri", "aws-sdk-s3",
            "aws-sdk-core", "puma", "sidekiq", "rack", "pg", "redis", "zeitwerk"]
    lines = [f"    {g} ({v4(v) if v.r.random() < 0.6 else f'{v.r.randint(1, 9)}.{v.r.randint(0, 20)}.{v.r.randint(0, 9)}'})"
             for g in v.r.sample(gems, 8)]
    return "GEM\n  remote: https://rubygems.org/\n  specs:\n" + "\n".join(lines) + \
        f"\n\nPLATFORMS\n  x86_64-linux\n\nRUBY VERSION\n   ruby 3.3.{v.r.randint(0, 6)}p{v.r.randint(1, 200)}\n\nBUNDLED WITH\n   2.5.{v.r.randint(1, 20)}\n"


@template("versions")
def python_versions(v):
    return f'''"""{v.word().capitalize()} helpers."""

__version__ = "{v4(v)}"
__all__ = ["load", "dump"]

MIN_SERVER = ({v.r.randint(1, 9)}, {v.r.randint(0, 9)}, {v.r.randint(0, 9)}, {v.r.randint(0, 9)})
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/{v.r.randint(100, 130)}.0.{v.r.randint(4000, 6999)}.{v.r.randint(10, 250)} Safari/537.36"
'''


@template("versions")
def builds_and_sections(v):
    return (f"Tested on Windows 10.0.{v.r.randint(17000, 22631)}.{v.r.randint(100, 4000)} and macOS {v.r.randint(12, 15)}.{v.r.randint(0, 7)}.{v.r.randint(0, 3)}; "
            f"JDK {v.r.randint(11, 21)}.0.{v.r.randint(1, 22)}.{v.r.randint(1, 12)}, driver {v4(v)}.\n"
            f"Per section {v.r.randint(1, 12)}.{v.r.randint(1, 9)}.{v.r.randint(1, 9)}.{v.r.randint(1, 60)} of the HTML "
            f"standard (tokenization), and RFC 9110 section {v.r.randint(1, 15)}.{v.r.randint(1, 9)}.{v.r.randint(1, 9)}.{v.r.randint(1, 9)}, "
            f"the parser must switch state. See also {v.r.randint(1, 9)}.{v.r.randint(1, 9)}.{v.r.randint(1, 9)}.{v.r.randint(1, 9)}.\n")


@template("versions")
def pip_freeze(v):
    pk = ["boto3", "botocore", "s3transfer", "urllib3", "requests", "numpy", "pandas", "pywin32", "pyodbc"]
    return "\n".join(f"{p}=={v4(v) if v.r.random() < 0.4 else f'{v.r.randint(1, 3)}.{v.r.randint(0, 40)}.{v.r.randint(0, 99)}'}"
                     for p in v.r.sample(pk, 6)) + "\n"


# ---------------------------------------------------------------------------
# Addresses that are nobody's data
# ---------------------------------------------------------------------------

@template("public_ips")
def doc_ranges(v):
    a, b, c = doc_ip(v), doc_ip(v), doc_ip(v)
    return f"""# Example from the docs: replace with your own addresses
upstream backend {{
    server {a}:8080;
    server {b}:8080 backup;
}}
allow 198.51.100.0/24;
allow 203.0.113.0/24;
deny  192.0.2.0/24;
# client {c} -> {doc_ip(v)}
"""


@template("public_ips")
def netmasks(v):
    return f"""auto eth0
iface eth0 inet static
    netmask 255.255.255.0
    broadcast 255.255.255.255
    dns-nameservers 8.8.8.8 1.1.1.1
# ACL wildcard 0.0.0.255, default route 0.0.0.0/0 and ::/0
ip route add 0.0.0.0/0 via {doc_ip(v)}
subnet mask: 255.255.{v.choice(['0', '128', '192', '224', '240', '248', '252', '254', '255'])}.0
"""


@template("public_ips")
def resolvers(v):
    return f"""$ dig @8.8.8.8 example.com +short
93.184.215.14
$ dig @1.1.1.1 example.com +short
$ cat /etc/resolv.conf
nameserver 127.0.0.53
nameserver 169.254.169.253
options edns0 trust-ad
$ curl -s http://169.254.169.254/latest/meta-data/
$ ping -c1 8.8.4.4 && ping -c1 1.0.0.1
$ curl -sv http://127.0.0.1:{v.r.randint(3000, 9000)}/healthz
"""


@template("public_ips")
def docker_localhost(v):
    return f"""services:
  api:
    ports:
      - "127.0.0.1:{v.r.randint(3000, 9000)}:8080"
      - "0.0.0.0:443:8443"
    environment:
      BIND_ADDR: 0.0.0.0
      DNS: 1.1.1.1
"""


# ---------------------------------------------------------------------------
# AWS-owned public ARNs and AWS's own vocabulary
# ---------------------------------------------------------------------------

@template("aws_owned_arns")
def managed_policies(v):
    pols = v.r.sample(MANAGED_POLICIES, 3) + v.r.sample(SERVICE_ROLE_POLICIES, 2)
    lines = "\n".join(f'  "arn:aws:iam::aws:policy/{p}",' for p in pols)
    return f"""managed_policy_arns = [
{lines}
]
# AdministratorAccess is too broad here: use ReadOnlyAccess plus a scoped inline policy.
"""


@template("aws_owned_arns")
def states_integrations(v):
    states = {}
    for i, res in enumerate(v.r.sample(STATES_INTEGRATIONS, 3)):
        states[f"Step{i}"] = {"Type": "Task", "Resource": res, "Next": f"Step{i + 1}"}
    return json.dumps({"Comment": "pipeline", "StartAt": "Step0", "States": states}, indent=2)


@template("aws_owned_arns")
def ssm_public(v):
    region = v.choice(REGIONS)
    p = v.choice(SSM_PUBLIC)
    return f"""Parameters:
  LatestAmiId:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: {p}
# resolves arn:aws:ssm:{region}::parameter{p}
$ aws ssm get-parameters-by-path --path /aws/service/global-infrastructure/regions --region {region}
"""


@template("aws_owned_arns")
def aws_vocabulary(v):
    return f"""Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: {v.choice(RUNTIMES)}
      Architectures: [arm64]
      Role: !GetAtt FnRole.Arn
  FnRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{Service: {v.choice(PRINCIPALS)}}}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/{v.choice(SERVICE_ROLE_POLICIES)}
# {v.choice(INSTANCE_TYPES)} in {v.choice(REGIONS)}{v.choice('abc')}, endpoint https://s3.{v.choice(REGIONS)}.amazonaws.com
"""


# ---------------------------------------------------------------------------
# Hashes, ids and encodings of other systems
# ---------------------------------------------------------------------------

@template("hashes_and_ids")
def git_log(v):
    lines = []
    for _ in range(v.r.randint(4, 8)):
        sha = v.git_sha()
        lines.append(f"commit {sha}\nAuthor: {v.person().capitalize()} <{v.person()}@{v.org()}.com>\nDate:   {ts(v)}\n\n    {v.word()}: fix {v.word()} ({sha[:7]})\n")
    return "\n".join(lines)


@template("hashes_and_ids")
def docker_digests(v):
    return f"""$ docker images --digests
REPOSITORY        TAG     DIGEST                                                                    IMAGE ID       CREATED
{v.word()}-api   latest  sha256:{v.sha256()}   {v.chars(HEX, 12)}   2 days ago
python            3.12    sha256:{v.sha256()}   {v.chars(HEX, 12)}   3 weeks ago
$ sha256sum dist/app.tar.gz
{v.sha256()}  dist/app.tar.gz
"""


@template("hashes_and_ids")
def uuids_and_times(v):
    rows = [{"id": v.uuid(), "created_at": ts(v) + "Z", "epoch": v.r.randint(1500000000, 1800000000),
             "epoch_ms": v.r.randint(1500000000000, 1800000000000), "trace": v.uuid().replace("-", ""),
             "request_id": v.uuid()} for _ in range(v.r.randint(2, 5))]
    return json.dumps(rows, indent=2)


@template("hashes_and_ids")
def base64_jwt(v):
    hdr = b64u(v, json.dumps({"alg": "RS256", "typ": "JWT", "kid": v.chars(LOWER_ALNUM, 16)}).encode())
    pay = b64u(v, json.dumps({"sub": v.uuid(), "iss": f"https://auth.{v.org()}.com/", "aud": "api",
                              "exp": v.r.randint(1700000000, 1800000000)}).encode())
    sig = b64u(v, bytes(v.r.getrandbits(8) for _ in range(256)))
    return f"""Authorization: Bearer {hdr}.{pay}.{sig}
X-Request-Id: {v.uuid()}
integrity: sha512-{b64(v, 64)}
data: {b64(v, v.r.randint(60, 300))}
"""


@template("hashes_and_ids")
def css(v):
    cols = [f"#{v.chars(HEX, 6)}" for _ in range(5)] + [f"#{v.chars(HEX, 3)}"]
    return f""":root {{
  --primary: {cols[0]};
  --secondary: {cols[1]};
  --accent: {cols[5]};
}}
.card {{ color: {cols[2]}; background: linear-gradient(90deg, {cols[3]} 0%, {cols[4]} 100%); border: 1px solid rgba(0, 0, 0, 0.12); }}
"""


@template("other_clouds")
def gcp(v):
    proj = f"{v.word()}-{v.env()}-{v.r.randint(100000, 999999)}"
    num = str(v.r.randint(100000000000, 999999999999))
    return f"""$ gcloud projects describe {proj}
createTime: '{ts(v)}.000Z'
lifecycleState: ACTIVE
name: {proj}
projectId: {proj}
projectNumber: '{num}'
$ gcloud iam service-accounts list
{v.word()}-sa@{proj}.iam.gserviceaccount.com
{num}-compute@developer.gserviceaccount.com
resource: projects/{proj}/zones/us-central1-a/instances/{v.word()}-{v.r.randint(1, 9)}
bucket: gs://{proj}-artifacts/builds/{v.uuid()}.tar.gz
"""


@template("other_clouds")
def azure(v):
    sub, tenant = v.uuid(), v.uuid()
    rg = f"rg-{v.word()}-{v.env()}"
    return f"""$ az account show
{{
  "environmentName": "AzureCloud",
  "id": "{sub}",
  "tenantId": "{tenant}",
  "name": "{v.org().capitalize()} {v.env()}"
}}
/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/vm-{v.word()}-01
https://{v.word()}{v.env()}.blob.core.windows.net/{v.word()}
AZURE_CLIENT_ID={v.uuid()}
"""


# ---------------------------------------------------------------------------
# Messages API blocks whose URL the API fetches itself
# ---------------------------------------------------------------------------

def url_blocks(v):
    region = v.choice(REGIONS)
    host = v.choice([f"{v.org()}-{v.word()}-media.s3.{region}.amazonaws.com",
                     f"d{v.chars(LOWER_ALNUM, 13)}.cloudfront.net", f"cdn.{v.org()}.com",
                     f"s3.{region}.amazonaws.com/{v.org()}-{v.word()}-public"])
    img = {"type": "image", "source": {"type": "url", "url": f"https://{host}/{v.word()}/{v.uuid()}.png"}}
    doc = {"type": "document", "source": {"type": "url", "url": f"https://{host}/reports/{v.word()}-{v.r.randint(2019, 2025)}.pdf"}}
    blocks = v.r.sample([img, doc], v.r.randint(1, 2))
    return blocks + [{"type": "text", "text": v.choice(["What is in this picture?", "Summarise the attached report.",
                                                        "Compare these."])}]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=None, help="directory of the cached botocore wheel")
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "corpus", "negatives", "near_miss.jsonl"))
    args = ap.parse_args()
    v = Values(SEED + 1)
    w = Writer(os.path.normpath(args.out), v)
    for cls, fns in TEMPLATES.items():
        for i in range(max(PER_CLASS, 6 * len(fns))):
            fn = fns[i % len(fns)]
            w.add(cls, fn(v), [], source=f"hand-written: scripts/corpus/gen_near_miss.py {fn.__name__} (seed {SEED + 1})")
    for _ in range(PER_CLASS):
        body = {"model": "claude-sonnet-4-5-20250929", "max_tokens": 4096,
                "messages": [{"role": "user", "content": url_blocks(v)}]}
        w.add("url_sources", json.dumps(body, separators=(",", ":")), [],
              source="hand-written: scripts/corpus/gen_near_miss.py url_blocks", body="json", prewrapped=True)
    # AWS-owned ARNs and public addresses as botocore's models and examples
    # write them, in the paragraphs that hold them.
    bc = botocore_src.Botocore(botocore_src.wheel_path(args.cache))
    lab = Labeller([], [])
    seen = set()
    found = []
    for svc, model in bc.models():
        stack = [model]
        while stack:
            o = stack.pop()
            if isinstance(o, dict):
                stack.extend(o.values())
            elif isinstance(o, list):
                stack.extend(o)
            elif isinstance(o, str) and "arn:aws" in o:
                lab.aws_owned = []
                lab.by_shape(o, [])
                for a in lab.aws_owned:
                    if a.startswith("arn:") and a not in seen:
                        seen.add(a)
                        found.append((svc, a))
    found.sort()
    per = 12
    for i in range(0, len(found), per):
        chunk = found[i:i + per]
        text = "AWS-owned ARNs named in the API reference:\n" + "\n".join(f"- {svc}: {a}" for svc, a in chunk) + "\n"
        w.add("botocore_aws_owned", text, [], source=f"botocore {botocore_src.VERSION}: service-2.json strings")
    n = w.write()
    print(f"{w.path}: {n} records")


if __name__ == "__main__":
    main()
