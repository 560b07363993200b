#!/usr/bin/env python3
"""Hand-written realistic AWS artifacts, one class at a time, with their
sensitive values labelled: tests/corpus/positives/handwritten.jsonl.

Each template below is one kind of thing a Claude Code user pastes or a tool
prints (CLI output, IaC, SDK code, logs, configs). Templates draw fresh
fake values from a seeded generator (scripts/corpus/values.py), so records
never repeat a snippet and the file is the same on every run.

    python3 scripts/corpus/gen_handwritten.py [--out tests/corpus/positives/handwritten.jsonl]
"""

import argparse
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import render as R  # noqa: E402
from corpus import Writer  # noqa: E402
from values import EC2_PREFIXES, Values  # noqa: E402

SEED = 13
PER_CLASS = 32
TEMPLATES = {}


def template(cls):
    def deco(f):
        TEMPLATES.setdefault(cls, []).append(f)
        return f
    return deco


class Labels:
    """Collects (value, kind) labels; calling it returns the value, so a
    template can label a value where it writes it."""

    def __init__(self):
        self.items = []

    def __call__(self, value, kind):
        self.items.append((value, kind))
        return value

    def free_text(self, value):
        """Returns `value` after taking back its labels: the variant shows
        it only as free text (a bare `# comment`, a message body), where no
        detector can tell it is a name without masking free text."""
        self.items = [(x, k) for x, k in self.items if x != value]
        return value


def ts(v):
    return f"2024-{v.r.randint(1, 12):02d}-{v.r.randint(1, 28):02d}T{v.r.randint(0, 23):02d}:{v.r.randint(0, 59):02d}:{v.r.randint(0, 59):02d}"


def jdump(obj, v):
    return json.dumps(obj, indent=v.choice([2, 4]))


def arn(partition="aws", service="iam", region="", account="", resource=""):
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


# ---------------------------------------------------------------------------
# ARNs with wildcards and template placeholders
# ---------------------------------------------------------------------------

@template("arn_placeholders")
def iam_policy_wildcards(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    bucket = m(v.bucket(), "s3_buckets")
    table = v.name("camel")
    queue = v.name("dash")
    stmts = [
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": m(f"arn:aws:logs:*:{acct}:*", "arns")},
        {"Sid": "ReadArtifacts", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [m(f"arn:aws:s3:::{bucket}", "arns"), m(f"arn:aws:s3:::{bucket}/*", "arns")]},
        {"Effect": "Allow", "Action": ["dynamodb:Query", "dynamodb:GetItem"],
         "Resource": [m(f"arn:aws:dynamodb:{region}:{acct}:table/{table}", "arns"),
                      m(f"arn:aws:dynamodb:{region}:{acct}:table/{table}/index/*", "arns")]},
        {"Effect": "Allow", "Action": "sqs:*", "Resource": m(f"arn:aws:sqs:*:{acct}:{queue}-*", "arns")},
        {"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"},
        {"Effect": "Allow", "Action": ["ssm:GetParameter*"],
         "Resource": m(f"arn:aws:ssm:{region}:{acct}:parameter/{v.env()}/{v.word()}/*", "arns")},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": m(f"arn:aws:kms:*:{acct}:key/*", "arns")},
    ]
    chosen = v.r.sample(stmts, v.r.randint(3, 6))
    doc = {"Version": "2012-10-17", "Statement": chosen}
    pre = v.choice(["", f"$ aws iam get-role-policy --role-name {v.name()} --policy-name inline\n",
                    "Here's the policy attached to the task role:\n\n"])
    # keep only labels that made it into the chosen statements
    text = pre + jdump(doc, v)
    m.items = [(val, k) for val, k in m.items if val in text]
    return text


@template("arn_placeholders")
def cfn_sub_arns(v, m):
    acct = m(v.account(), "account_ids")
    role = v.name("dash")
    param = f"/{v.env()}/{v.word()}"
    key = m(v.kms_key(), "kms_keys")
    lines = f"""AWSTemplateFormatVersion: '2010-09-09'
Description: {v.word()} service task role
Parameters:
  Env:
    Type: String
    Default: {v.env()}
Resources:
  TaskRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "${{AWS::StackName}}-task"
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              Service: ecs-tasks.amazonaws.com
            Action: sts:AssumeRole
      Policies:
        - PolicyName: app
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: ssm:GetParameters
                Resource: !Sub {m(f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{param}/*", "arns")}
              - Effect: Allow
                Action: sts:AssumeRole
                Resource: !Sub {m(f"arn:${{AWS::Partition}}:iam::{acct}:role/{role}", "arns")}
              - Effect: Allow
                Action: kms:Decrypt
                Resource: !Sub "{m(f"arn:aws:kms:${{AWS::Region}}:{acct}:key/{key}", "arns")}"
              - Effect: Allow
                Action: iam:PassRole
                Resource: !Sub {m(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{v.name('dash')}", "arns")}
"""
    return lines


@template("arn_placeholders")
def terraform_interpolated_arns(v, m):
    acct = m(v.account(), "account_ids")
    queue = v.name("dash")
    fn = v.name("dash")
    topic = v.name("under")
    return f"""data "aws_caller_identity" "current" {{}}

variable "region" {{
  default = "{v.region()}"
}}

resource "aws_iam_policy" "{v.word()}" {{
  name = "{v.word()}-publisher"
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Effect   = "Allow"
        Action   = ["sqs:SendMessage", "sqs:GetQueueUrl"]
        Resource = "{m(f"arn:aws:sqs:${{var.region}}:{acct}:{queue}", "arns")}"
      }},
      {{
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = "{m(f"arn:aws:lambda:${{var.region}}:${{data.aws_caller_identity.current.account_id}}:function:{fn}", "arns")}"
      }},
      {{
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = "{m(f"arn:aws:sns:*:{acct}:{topic}", "arns")}"
      }}
    ]
  }})
}}
"""


@template("arn_placeholders")
def serverless_yml_arns(v, m):
    acct = m(v.account(), "account_ids")
    table = v.name("camel")
    topic = v.name("dash")
    bucket = m(v.bucket(), "s3_buckets")
    return f"""service: {v.word()}-api
frameworkVersion: '3'

provider:
  name: aws
  runtime: nodejs20.x
  region: {v.region()}
  iam:
    role:
      statements:
        - Effect: Allow
          Action:
            - dynamodb:PutItem
            - dynamodb:Query
          Resource: "{m(f"arn:aws:dynamodb:${{aws:region}}:${{aws:accountId}}:table/{table}", "arns")}"
        - Effect: Allow
          Action: sns:Publish
          Resource: {m(f"arn:aws:sns:${{aws:region}}:{acct}:{topic}", "arns")}
        - Effect: Allow
          Action: s3:PutObject
          Resource: "{m(f"arn:aws:s3:::{bucket}/uploads/*", "arns")}"

functions:
  handler:
    handler: src/handler.main
    events:
      - httpApi: 'POST /{v.word()}'
"""


@template("arn_placeholders")
def cli_wildcard_arns(v, m):
    acct = m(v.account(), "account_ids")
    role = v.name("dash")
    api = m(v.api_id(), "apigateway_ids")
    region = v.region()
    bucket = m(v.bucket(), "s3_buckets")
    return f"""$ aws iam simulate-principal-policy \\
    --policy-source-arn {m(f"arn:aws:iam::{acct}:role/{role}", "arns")} \\
    --action-names s3:GetObject execute-api:Invoke \\
    --resource-arns "{m(f"arn:aws:s3:::{bucket}/*", "arns")}" "{m(f"arn:aws:execute-api:{region}:{acct}:{api}/*/POST/{v.word()}", "arns")}"
{{
    "EvaluationResults": [
        {{
            "EvalActionName": "s3:GetObject",
            "EvalResourceName": "arn:aws:s3:::{bucket}/*",
            "EvalDecision": "implicitDeny",
            "MatchedStatements": [],
            "MissingContextValues": []
        }},
        {{
            "EvalActionName": "execute-api:Invoke",
            "EvalResourceName": "{m(f"arn:aws:execute-api:{region}:{acct}:{api}/*", "arns")}",
            "EvalDecision": "allowed"
        }}
    ]
}}
"""


@template("arn_placeholders")
def cdk_arn_format(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    fn = v.name("dash")
    sm = v.name("camel")
    return f"""import * as iam from 'aws-cdk-lib/aws-iam';

const invoke = new iam.PolicyStatement({{
  actions: ['lambda:InvokeFunction', 'states:StartExecution'],
  resources: [
    `{m(f"arn:aws:lambda:${{Stack.of(this).region}}:{acct}:function:{fn}", "arns")}`,
    `{m(f"arn:${{Aws.PARTITION}}:states:{region}:${{Aws.ACCOUNT_ID}}:stateMachine:{sm}", "arns")}`,
    '{m(f"arn:aws:lambda:{region}:{acct}:function:{fn}:*", "arns")}',
  ],
}});
"""


# ---------------------------------------------------------------------------
# Account ids known from an ARN, appearing bare elsewhere
# ---------------------------------------------------------------------------

@template("account_bare")
def caller_identity_text(v, m):
    acct = m(v.account(), "account_ids")
    if v.r.random() < 0.5:
        user = v.person()
        uid = m(v.unique_id("AIDA"), "access_keys")
        a = m(f"arn:aws:iam::{acct}:user/{user}", "arns")
        line = f"{acct}\t{a}\t{uid}"
    else:
        role = v.choice(["AWSReservedSSO_AdministratorAccess_" + v.chars("0123456789abcdef", 16), v.name("dash")])
        sess = v.person() + "@" + v.org() + ".com"
        rid = m(v.unique_id("AROA"), "access_keys")
        a = m(f"arn:aws:sts::{acct}:assumed-role/{role}/{sess}", "arns")
        line = f"{acct}\t{a}\t{rid}:{sess}"
    return f"$ aws sts get-caller-identity --output text\n{line}\n$ aws configure get region\n{v.region()}\n"


@template("account_bare")
def partial_arn_lambda(v, m):
    acct = m(v.account(), "account_ids")
    fn = m(v.name("dash"), "named_resources")
    region = v.region()
    return f"""$ aws lambda get-function --function-name {acct}:function:{fn} --region {region}

An error occurred (ResourceNotFoundException) when calling the GetFunction operation: Function not found: {m(f"arn:aws:lambda:{region}:{acct}:function:{fn}", "arns")}

The docs say a partial ARN like {acct}:function:{fn} is accepted, so why is it not found?"""


@template("account_bare")
def aws_config_profiles(v, m):
    acct = m(v.account(), "account_ids")
    acct2 = m(v.account(), "account_ids")
    org = v.org()
    host = m(f"{org}.awsapps.com", "hostnames")
    role = v.name("dash")
    return f"""[default]
region = {v.region()}
output = json

[profile acct-{acct}]
sso_session = {org}
sso_account_id = {acct}
sso_role_name = AdministratorAccess
region = {v.region()}

[profile {org}-{v.env()}]
role_arn = {m(f"arn:aws:iam::{acct2}:role/{role}", "arns")}
source_profile = acct-{acct}
role_session_name = {v.person()}

[sso-session {org}]
sso_start_url = https://{host}/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
"""


@template("account_bare")
def signin_url(v, m):
    acct = m(v.account(), "account_ids")
    user = v.person()
    key = m(v.access_key(), "access_keys")
    secret = m(v.secret_key(), "secret_keys")
    if v.r.random() < 0.5:
        return (f"User name,Password,Access key ID,Secret access key,Console login link\n"
                f"{user},,{key},{secret},https://{acct}.signin.aws.amazon.com/console\n")
    m.items = [(x, k) for x, k in m.items if k == "account_ids"]
    return (f"Hi {user}, your IAM user is ready. Sign in at https://{acct}.signin.aws.amazon.com/console "
            f"with the temporary password from the vault, then set up MFA. The account alias is not set yet, so "
            f"use the number {acct} if the page asks for an account ID.")


@template("account_bare")
def cdk_bootstrap(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    env = f"aws://{acct}/{region}"
    bucket = m(f"cdk-hnb659fds-assets-{acct}-{region}", "s3_buckets")
    return f"""$ npx cdk bootstrap {env} --profile {v.org()}-{v.env()}
 ⏳  Bootstrapping environment {env}...
Trusted accounts for deployment: (none)
Trusted accounts for lookup: (none)
Using default execution policy of 'arn:aws:iam::aws:policy/AdministratorAccess'. Pass '--cloudformation-execution-policies' to customize.
CDKToolkit: creating CloudFormation changeset...
 ✅  Environment {env} bootstrapped.

$ cat cdk.context.json
{{
  "acknowledged-issue-numbers": [32775],
  "availability-zones:account={acct}:region={region}": ["{region}a", "{region}b", "{region}c"]
}}
Assets go to {bucket}.
"""


@template("account_bare")
def prose_accounts(v, m):
    a1 = m(v.account(), "account_ids")
    a2 = m(v.account(), "account_ids")
    role = v.name("dash")
    return (f"The deploy role {m(f'arn:aws:iam::{a1}:role/{role}', 'arns')} lives in the shared-services account. "
            f"When the pipeline runs it assumes that role from the tooling account {a2}, so the trust policy has to "
            f"name {a2} as a principal. Last week someone pasted {a1} into the wrong field of the pipeline settings "
            f"and every stage failed with AccessDenied.")


@template("account_bare")
def ecr_uri_and_env(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    repo = m(f"{v.word()}-{v.choice(['api', 'worker', 'web'])}", "named_resources")
    host = m(f"{acct}.dkr.ecr.{region}.amazonaws.com", "hostnames")
    tag = v.chars("0123456789abcdef", 7)
    return f"""name: deploy
on:
  push:
    branches: [main]
env:
  AWS_ACCOUNT_ID: "{acct}"
  AWS_REGION: {region}
  ECR_REPOSITORY: {repo}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: {m(f"arn:aws:iam::{acct}:role/github-actions-{v.word()}", "arns")}
          aws-region: {region}
      - run: |
          aws ecr get-login-password | docker login --username AWS --password-stdin {host}
          docker build -t {host}/{repo}:{tag} .
          docker push {host}/{repo}:{tag}
"""


# ---------------------------------------------------------------------------
# Bucket names that embed an account id
# ---------------------------------------------------------------------------

def account_bucket(v, acct, region):
    return v.choice([
        f"cdk-hnb659fds-assets-{acct}-{region}",
        f"sagemaker-{region}-{acct}",
        f"elasticbeanstalk-{region}-{acct}",
        f"aws-cloudtrail-logs-{acct}-{v.chars('0123456789abcdef', 8)}",
        f"aws-athena-query-results-{acct}-{region}",
        f"aws-glue-assets-{acct}-{region}",
        f"codepipeline-{region}-{acct}",
        f"config-bucket-{acct}",
        f"{acct}-terraform-state",
        f"aws-emr-studio-{acct}-{region}",
    ])


@template("bucket_with_account")
def s3_ls_account_buckets(v, m):
    lines = []
    for _ in range(v.r.randint(4, 9)):
        if v.r.random() < 0.6:
            acct = m(v.account(), "account_ids")
            b = m(account_bucket(v, acct, v.region()), "s3_buckets")
        else:
            b = m(v.bucket(), "s3_buckets")
        lines.append(f"{ts(v).replace('T', ' ')} {b}")
    return "$ aws s3 ls\n" + "\n".join(sorted(lines, key=lambda l: l[20:])) + "\n"


@template("bucket_with_account")
def sagemaker_log(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    b = m(f"sagemaker-{region}-{acct}", "s3_buckets")
    job = f"pytorch-training-{ts(v).replace(':', '-').replace('T', '-')}-{v.r.randint(100, 999)}"
    return f"""INFO:sagemaker.image_uris:image_uri is not presented, retrieving image_uri based on instance_type, framework etc.
INFO:sagemaker:Creating training-job with name: {job}
2024-03-11 09:14:02 Starting - Starting the training job...
2024-03-11 09:14:27 Starting - Preparing the instances for training...
INFO:sagemaker:Uploading source to s3://{b}/{job}/source/sourcedir.tar.gz
Model artifacts saved at s3://{b}/{job}/output/model.tar.gz
"""


@template("bucket_with_account")
def eb_cli(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    b = m(f"elasticbeanstalk-{region}-{acct}", "s3_buckets")
    app = v.name("dash")
    return f"""$ eb deploy
Creating application version archive "app-{v.chars('0123456789abcdef', 7)}-240311_101522".
Uploading {app}/app-240311_101522.zip to S3. This may take a while.
Upload Complete.
2024-03-11 10:15:31    INFO    Environment update is starting.
2024-03-11 10:15:35    INFO    Deploying new version to instance(s).
ERROR: ServiceError - Access Denied for s3://{b}/{app}/app-240311_101522.zip
"""


@template("bucket_with_account")
def cloudtrail_trail(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    b = m(f"aws-cloudtrail-logs-{acct}-{v.chars('0123456789abcdef', 8)}", "s3_buckets")
    name = m(f"management-events-{v.env()}", "named_resources")
    return jdump({"trailList": [{
        "Name": name, "S3BucketName": b, "IncludeGlobalServiceEvents": True, "IsMultiRegionTrail": True,
        "HomeRegion": region, "TrailARN": m(f"arn:aws:cloudtrail:{region}:{acct}:trail/{name}", "arns"),
        "LogFileValidationEnabled": True, "HasCustomEventSelectors": False, "IsOrganizationTrail": False}]}, v)


@template("bucket_with_account")
def athena_glue_config(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    b1 = m(f"aws-athena-query-results-{acct}-{region}", "s3_buckets")
    b2 = m(f"aws-glue-assets-{acct}-{region}", "s3_buckets")
    return f"""# dbt profiles.yml
{v.word()}:
  target: {v.env()}
  outputs:
    {v.env()}:
      type: athena
      s3_staging_dir: s3://{b1}/dbt/
      s3_data_dir: s3://{b2}/warehouse/
      region_name: {region}
      database: awsdatacatalog
      schema: {v.word()}_{v.env()}
      threads: 4
"""


# ---------------------------------------------------------------------------
# Context keys: registryId, UserId, Organizations Id, Principal lists
# ---------------------------------------------------------------------------

@template("context_keys")
def ecr_describe_repositories(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    repos = []
    for _ in range(v.r.randint(1, 3)):
        name = m(f"{v.word()}/{v.choice(['api', 'worker', 'migrations', 'web'])}", "named_resources")
        repos.append({
            "repositoryArn": m(f"arn:aws:ecr:{region}:{acct}:repository/{name}", "arns"),
            "registryId": acct,
            "repositoryName": name,
            "repositoryUri": f"{m(f'{acct}.dkr.ecr.{region}.amazonaws.com', 'hostnames')}/{name}",
            "createdAt": ts(v) + ".000000+00:00",
            "imageTagMutability": "MUTABLE",
            "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfiguration": {"encryptionType": "AES256"},
        })
    return "$ aws ecr describe-repositories\n" + jdump({"repositories": repos}, v)


@template("context_keys")
def ecr_registry_id_only(v, m):
    acct = m(v.account(), "account_ids")
    name = m(f"{v.word()}-{v.choice(['api', 'svc'])}", "named_resources")
    digest = "sha256:" + v.sha256()
    return jdump({"imageDetails": [{"registryId": acct, "repositoryName": name, "imageDigest": digest,
                                    "imageTags": ["latest", "v" + str(v.r.randint(1, 40))],
                                    "imageSizeInBytes": v.r.randint(10**7, 10**9),
                                    "imagePushedAt": ts(v) + "+00:00"}]}, v)


@template("context_keys")
def caller_identity_json(v, m):
    acct = m(v.account(), "account_ids")
    kind = v.r.randrange(3)
    if kind == 0:
        uid = m(v.unique_id("AIDA"), "access_keys")
        a = m(f"arn:aws:iam::{acct}:user/{v.person()}", "arns")
    elif kind == 1:
        rid = m(v.unique_id("AROA"), "access_keys")
        sess = f"botocore-session-{v.r.randint(1700000000, 1800000000)}"
        uid = f"{rid}:{sess}"
        a = m(f"arn:aws:sts::{acct}:assumed-role/{v.name('dash')}/{sess}", "arns")
    else:
        uid = acct
        a = m(f"arn:aws:iam::{acct}:root", "arns")
    doc = {"UserId": uid, "Account": acct, "Arn": a}
    return "$ aws sts get-caller-identity\n" + jdump(doc, v)


@template("context_keys")
def user_id_alone(v, m):
    rid = m(v.unique_id(v.choice(["AROA", "AIDA"])), "access_keys")
    sess = v.person()
    return (f"CloudTrail shows the call came from userIdentity.principalId {rid}:{sess}. "
            f"Our SCP condition is on aws:userid, so it should match \"{rid}:*\".\n"
            + jdump({"userIdentity": {"type": "AssumedRole", "principalId": f"{rid}:{sess}", "UserId": rid}}, v))


@template("context_keys")
def org_list_accounts(v, m):
    mgmt = m(v.account(), "account_ids")
    org = m(v.org_id(), "organizations")
    accts = []
    for _ in range(v.r.randint(2, 5)):
        a = m(v.account(), "account_ids")
        name = v.choice(["prod", "staging", "sandbox", "log-archive", "audit", "shared-services", "security"])
        accts.append({"Id": a, "Arn": m(f"arn:aws:organizations::{mgmt}:account/{org}/{a}", "arns"),
                      "Email": f"aws+{name}@{v.org()}.com", "Name": name, "Status": "ACTIVE",
                      "JoinedMethod": v.choice(["CREATED", "INVITED"]), "JoinedTimestamp": ts(v) + ".123000+00:00"})
    if v.r.random() < 0.5:
        return "$ aws organizations list-accounts\n" + jdump({"Accounts": accts}, v)
    lines = [f"ACCOUNTS\t{x['Arn']}\t{x['Email']}\t{x['Id']}\t{x['JoinedMethod']}\t{x['JoinedTimestamp']}\t{x['Name']}\tACTIVE" for x in accts]
    return "$ aws organizations list-accounts --output text\n" + "\n".join(lines) + "\n"


@template("context_keys")
def org_describe(v, m):
    mgmt = m(v.account(), "account_ids")
    org = m(v.org_id(), "organizations")
    root = m(v.root_id(), "organizations")
    ou = m(v.ou_id(root[2:]), "organizations")
    return (f"$ aws organizations describe-organization\n" + jdump({"Organization": {
        "Id": org, "Arn": m(f"arn:aws:organizations::{mgmt}:organization/{org}", "arns"),
        "FeatureSet": "ALL", "MasterAccountArn": m(f"arn:aws:organizations::{mgmt}:account/{org}/{mgmt}", "arns"),
        "MasterAccountId": mgmt, "MasterAccountEmail": f"aws-root@{v.org()}.com",
        "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]}}, v)
        + f"\n$ aws organizations list-organizational-units-for-parent --parent-id {root}\n"
        + jdump({"OrganizationalUnits": [{"Id": ou, "Arn": m(f"arn:aws:organizations::{mgmt}:ou/{org}/{ou}", "arns"),
                                          "Name": v.choice(["Workloads", "Security", "Sandbox"])}]}, v))


@template("context_keys")
def principal_aws_list(v, m):
    bucket = m(v.bucket(), "s3_buckets")
    entries = []
    for _ in range(v.r.randint(2, 5)):
        a = m(v.account(), "account_ids")
        form = v.r.randrange(4)
        if form == 0:
            entries.append(m(f"arn:aws:iam::{a}:root", "arns"))
        elif form == 1:
            entries.append(a)
        elif form == 2:
            entries.append(m(f"arn:aws:iam::{a}:role/{v.name('dash')}", "arns"))
        else:
            entries.append(m(f"arn:aws:iam::{a}:user/{v.person()}", "arns"))
    doc = {"Version": "2012-10-17", "Statement": [{
        "Sid": "CrossAccountRead", "Effect": "Allow", "Principal": {"AWS": entries},
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [m(f"arn:aws:s3:::{bucket}", "arns"), m(f"arn:aws:s3:::{bucket}/*", "arns")]}]}
    return jdump(doc, v)


@template("context_keys")
def principal_single_and_yaml(v, m):
    a1 = m(v.account(), "account_ids")
    a2 = m(v.account(), "account_ids")
    if v.r.random() < 0.5:
        return jdump({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": a1},
                                                               "Action": "sts:AssumeRole",
                                                               "Condition": {"StringEquals": {"sts:ExternalId": v.uuid()}}}]}, v)
    return f"""  KeyPolicy:
    Version: '2012-10-17'
    Statement:
      - Sid: AllowUseFromWorkloadAccounts
        Effect: Allow
        Principal:
          AWS:
            - '{a1}'
            - !Sub {m(f"arn:aws:iam::{a2}:root", "arns")}
        Action:
          - kms:Decrypt
          - kms:GenerateDataKey*
        Resource: '*'
"""


@template("context_keys")
def tf_principals(v, m):
    a1 = m(v.account(), "account_ids")
    a2 = m(v.account(), "account_ids")
    return f"""data "aws_iam_policy_document" "assume" {{
  statement {{
    actions = ["sts:AssumeRole"]
    principals {{
      type        = "AWS"
      identifiers = ["{m(f"arn:aws:iam::{a1}:root", "arns")}", "{a2}"]
    }}
  }}
}}
"""


# ---------------------------------------------------------------------------
# Console dashed account ids
# ---------------------------------------------------------------------------

def dashed(acct):
    return f"{acct[:4]}-{acct[4:8]}-{acct[8:]}"


@template("console_dashed_account")
def dashed_chat(v, m):
    a = dashed(v.account())
    m(a, "account_ids")
    return v.choice([
        f"Can you add me to the {v.word()} team? My console shows Account ID: {a} in the top right, and I'm signed in as {v.person()}.",
        f"Switch role: account {a}, role {v.choice(['ReadOnly', 'PowerUser', 'Developer'])}, display name {v.env()}.",
        f"heads up - the billing alarm fired for {a} (the {v.env()} account), spend is at ${v.r.randint(200, 9000)} this month",
        f"Support case {v.r.randint(10**9, 10**10 - 1)}: Account ID {a} was suspended for unpaid invoice, please advise.",
    ])


@template("console_dashed_account")
def dashed_table(v, m):
    rows = []
    for _ in range(v.r.randint(2, 6)):
        a = m(dashed(v.account()), "account_ids")
        rows.append([v.choice(["prod", "staging", "dev", "audit", "logs"]), a, f"aws+{v.word()}@{v.org()}.com", v.person()])
    return "## AWS accounts\n\n" + R.md_table(["Name", "Account ID", "Root email", "Owner"], rows) + "\n"


@template("console_dashed_account")
def dashed_and_plain(v, m):
    acct = v.account()
    m(acct, "account_ids")
    m(dashed(acct), "account_ids")
    return (f"Account {dashed(acct)}\n\nRoles available:\n  * {v.choice(['AdministratorAccess', 'ReadOnlyAccess'])}\n"
            f"  * {v.name('dash')}\n\nFederated login: https://signin.aws.amazon.com/switchrole?account={acct}&roleName=Admin\n")


# ---------------------------------------------------------------------------
# Secret access keys in their many spellings
# ---------------------------------------------------------------------------

@template("secret_key_forms")
def configure_set(v, m):
    k = m(v.access_key(), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    prof = v.choice(["", f" --profile {v.org()}-{v.env()}"])
    return (f"$ aws configure set aws_access_key_id {k}{prof}\n"
            f"$ aws configure set aws_secret_access_key {s}{prof}\n"
            f"$ aws configure set region {v.region()}{prof}\n$ aws s3 ls\n"
            f"An error occurred (InvalidAccessKeyId) when calling the ListBuckets operation: The AWS Access Key Id you provided does not exist in our records.\n")


@template("secret_key_forms")
def k8s_env(v, m):
    k = m(v.access_key(), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    name = v.name("dash")
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: {v.word()}:{v.r.randint(1, 9)}.{v.r.randint(0, 20)}.{v.r.randint(0, 9)}
          env:
            - name: AWS_REGION
              value: {v.region()}
            - name: AWS_ACCESS_KEY_ID
              value: {k}
            - name: AWS_SECRET_ACCESS_KEY
              value: {s}
"""


@template("secret_key_forms")
def spark_s3a(v, m):
    k = m(v.access_key(), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    if v.r.random() < 0.5:
        return (f"spark.hadoop.fs.s3a.access.key={k}\nspark.hadoop.fs.s3a.secret.key={s}\n"
                f"spark.hadoop.fs.s3a.endpoint=s3.{v.region()}.amazonaws.com\nspark.sql.shuffle.partitions=200\n")
    return f"""<configuration>
  <property>
    <name>fs.s3a.access.key</name>
    <value>{k}</value>
  </property>
  <property>
    <name>fs.s3a.secret.key</name>
    <value>{s}</value>
  </property>
</configuration>
"""


@template("secret_key_forms")
def php_filesystems(v, m):
    k = m(v.access_key(), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    b = m(v.bucket(), "s3_buckets")
    return f"""<?php

return [
    'default' => env('FILESYSTEM_DISK', 'local'),
    'disks' => [
        's3' => [
            'driver' => 's3',
            'key' => '{k}',
            'secret' => '{s}',
            'region' => '{v.region()}',
            'bucket' => '{b}',
            'url' => env('AWS_URL'),
            'use_path_style_endpoint' => false,
        ],
    ],
];
"""


@template("secret_key_forms")
def console_secret_shown(v, m):
    k = m(v.access_key(), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    return (f"Retrieve access keys\n\nAccess key\tSecret access key\n{k}\t{s}\n\n"
            f"This is the only time that the secret access key can be viewed or downloaded.\n\n"
            f"Access key ID: {k}\nSecret access key: {s}\n")


@template("secret_key_forms")
def sdk_constructor_own_line(v, m):
    k = m(v.access_key(), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    lang = v.r.randrange(4)
    if lang == 0:
        return f"""import boto3

s3 = boto3.client(
    "s3",
    region_name="{v.region()}",
    aws_access_key_id="{k}",
    aws_secret_access_key=
        "{s}",
)
"""
    if lang == 1:
        return f"""AWSCredentials credentials = new BasicAWSCredentials(
        "{k}",
        "{s}");
AmazonS3 s3 = AmazonS3ClientBuilder.standard()
        .withCredentials(new AWSStaticCredentialsProvider(credentials))
        .withRegion(Regions.{v.region().upper().replace('-', '_')})
        .build();
"""
    if lang == 2:
        return f"""cfg, err := config.LoadDefaultConfig(ctx,
	config.WithRegion("{v.region()}"),
	config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
		"{k}",
		"{s}",
		"",
	)),
)
"""
    return f"""const client = new S3Client({{
  region: "{v.region()}",
  credentials: {{
    accessKeyId: "{k}",
    secretAccessKey:
      "{s}",
  }},
}});
"""


@template("secret_key_forms")
def url_encoded_uri(v, m):
    k = m(v.access_key(), "access_keys")
    raw = v.secret_key()
    while "/" not in raw and "+" not in raw:
        raw = v.secret_key()
    enc = urllib.parse.quote(raw, safe="")
    m(enc, "secret_keys")
    region = v.region()
    b = m(v.bucket(), "s3_buckets")
    form = v.r.randrange(3)
    if form == 0:
        return (f"engine = create_engine(\n    \"awsathena+rest://{k}:{enc}@athena.{region}.amazonaws.com:443/"
                f"{v.word()}?s3_staging_dir=s3%3A%2F%2F{b}%2Fathena%2F&work_group=primary\"\n)\n")
    if form == 1:
        return f"DUPLICITY_TARGET=s3://{k}:{enc}@s3.{region}.amazonaws.com/{b}/backups\n"
    return f"rclone lsd ':s3,provider=AWS,access_key_id={k},secret_access_key={enc}:{b}'\n"


@template("secret_key_forms")
def output_text_dotted(v, m):
    k = m(v.access_key("ASIA"), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    t = m(v.session_token(), "session_tokens")
    acct = m(v.account(), "account_ids")
    role_arn = m(f"arn:aws:iam::{acct}:role/{v.name()}", "arns")
    return (f"$ aws sts assume-role --role-arn {role_arn} "
            f"--role-session-name ci --query '{{CREDENTIALS:Credentials}}' --output text\n"
            f"CREDENTIALS.ACCESSKEYID\t{k}\nCREDENTIALS.EXPIRATION\t{ts(v)}+00:00\n"
            f"CREDENTIALS.SECRETACCESSKEY\t{s}\nCREDENTIALS.SESSIONTOKEN\t{t}\n")


@template("secret_key_forms")
def credentials_file(v, m):
    k = m(v.access_key(), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    k2 = m(v.access_key(), "access_keys")
    s2 = m(v.secret_key(), "secret_keys")
    return (f"$ cat ~/.aws/credentials\n[default]\naws_access_key_id = {k}\naws_secret_access_key = {s}\n\n"
            f"[{v.org()}]\naws_access_key_id={k2}\naws_secret_access_key={s2}\n")


@template("secret_key_forms")
def env_and_docker(v, m):
    k = m(v.access_key(), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    return v.choice([
        f"docker run --rm -e AWS_ACCESS_KEY_ID={k} -e AWS_SECRET_ACCESS_KEY={s} -e AWS_DEFAULT_REGION={v.region()} amazon/aws-cli s3 ls\n",
        f"# .env\nDATABASE_URL=postgres://app@localhost:5432/app\nAWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}\nAWS_REGION={v.region()}\n",
        f'provider "aws" {{\n  region     = "{v.region()}"\n  access_key = "{k}"\n  secret_key = "{s}"\n}}\n',
        f"[s3]\ntype = s3\nprovider = AWS\naccess_key_id = {k}\nsecret_access_key = {s}\nregion = {v.region()}\n",
        f"aws.accessKeyId={k}\naws.secretKey={s}\naws.region={v.region()}\n",
        f"export AWS_ACCESS_KEY_ID=\"{k}\"\nexport AWS_SECRET_ACCESS_KEY=\"{s}\"\n",
    ])


@template("secret_key_forms")
def json_credentials(v, m):
    k = m(v.access_key(), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    return jdump({"AccessKey": {"UserName": v.person(), "AccessKeyId": k, "Status": "Active",
                                "SecretAccessKey": s, "CreateDate": ts(v) + "+00:00"}}, v)


# ---------------------------------------------------------------------------
# Documentation placeholder keys with odd lengths under explicit keys
# ---------------------------------------------------------------------------

@template("doc_placeholder_keys")
def odd_length_keys(v, m):
    s41 = m(v.secret_key(41)[:-7] + "EXAMPLE", "secret_keys") if v.r.random() < 0.5 else m(v.secret_key(41), "secret_keys")
    k19 = m(v.access_key("AKIA", 15), "access_keys")
    form = v.r.randrange(4)
    if form == 0:
        return f"[default]\naws_access_key_id = {k19}\naws_secret_access_key = {s41}\n"
    if form == 1:
        return f"export AWS_ACCESS_KEY_ID={k19}\nexport AWS_SECRET_ACCESS_KEY={s41}\n"
    if form == 2:
        return jdump({"AccessKeyId": k19, "SecretAccessKey": s41}, v)
    return f"aws_access_key_id: {k19}\naws_secret_access_key: {s41}\n"


@template("doc_placeholder_keys")
def doc_example_keys(v, m):
    s = m(v.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 33) + "EXAMPLEKEY"[:v.choice([7, 8])], "secret_keys")
    k = m("AKIA" + v.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", v.choice([9, 11])) + "EXAMPLE", "access_keys")
    return (f"To configure the CLI with the keys from the README:\n\n```\n$ aws configure\n"
            f"AWS Access Key ID [None]: {k}\nAWS Secret Access Key [None]: {s}\n"
            f"Default region name [None]: {v.region()}\nDefault output format [None]: json\n```\n")


# ---------------------------------------------------------------------------
# Session tokens: presigned URLs, old prefixes, IMDS and STS output
# ---------------------------------------------------------------------------

@template("session_tokens")
def presigned_url(v, m):
    k = m(v.access_key("ASIA"), "access_keys")
    tok = v.session_token()
    enc = urllib.parse.quote(tok, safe="")
    m(enc, "session_tokens")
    b = m(v.bucket(), "s3_buckets")
    region = v.region()
    date = f"2024{v.r.randint(1, 12):02d}{v.r.randint(1, 28):02d}"
    host = f"{b}.s3.{region}.amazonaws.com"
    m(host, "hostnames")
    cred = f"{k}%2F{date}%2F{region}%2Fs3%2Faws4_request"
    return (f"https://{host}/{v.word()}/{v.uuid()}.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential={cred}&X-Amz-Date={date}T{v.r.randint(10, 23)}0000Z&X-Amz-Expires=3600"
            f"&X-Amz-SignedHeaders=host&X-Amz-Security-Token={enc}&X-Amz-Signature={v.sha256()}")


@template("session_tokens")
def old_prefix_tokens(v, m):
    pre = v.choice(["FQoGZXIvYXdzE", "FQoDYXdzEP", "AgoJb3JpZ2luX2VjE", "IQoJb3JpZ2luX2VjE"])
    t = m(v.session_token(pre), "session_tokens")
    k = m(v.access_key("ASIA"), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    form = v.r.randrange(4)
    if form == 0:
        return jdump({"Credentials": {"AccessKeyId": k, "SecretAccessKey": s, "SessionToken": t,
                                      "Expiration": ts(v) + "Z"}}, v)
    if form == 1:
        return f"[temp]\naws_access_key_id = {k}\naws_secret_access_key = {s}\naws_session_token = {t}\n"
    if form == 2:
        return jdump({"RoleArn": "", "AccessKeyId": k, "SecretAccessKey": s, "Token": t, "Expiration": ts(v) + "Z"}, v).replace('"RoleArn": "",\n', "").replace('"RoleArn": "", ', "")
    return f"export AWS_ACCESS_KEY_ID={k}\nexport AWS_SECRET_ACCESS_KEY={s}\nexport AWS_SESSION_TOKEN={t}\n"


@template("session_tokens")
def imds_credentials(v, m):
    role = m(v.name("dash"), "named_resources")
    k = m(v.access_key("ASIA"), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    t = m(v.session_token(), "session_tokens")
    return (f"$ TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600')\n"
            f"$ curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" http://169.254.169.254/latest/meta-data/iam/security-credentials/{role}\n"
            + json.dumps({"Code": "Success", "LastUpdated": ts(v) + "Z", "Type": "AWS-HMAC", "AccessKeyId": k,
                          "SecretAccessKey": s, "Token": t, "Expiration": ts(v) + "Z"}, indent=2) + "\n")


@template("session_tokens")
def sts_assume_role_json(v, m):
    acct = m(v.account(), "account_ids")
    role = v.name("dash")
    rid = m(v.unique_id("AROA"), "access_keys")
    k = m(v.access_key("ASIA"), "access_keys")
    s = m(v.secret_key(), "secret_keys")
    t = m(v.session_token(), "session_tokens")
    return (f"$ aws sts assume-role --role-arn arn:aws:iam::{acct}:role/{role} --role-session-name {v.person()}\n"
            + jdump({"Credentials": {"AccessKeyId": k, "SecretAccessKey": s, "SessionToken": t, "Expiration": ts(v) + "+00:00"},
                     "AssumedRoleUser": {"AssumedRoleId": f"{rid}:{v.person()}",
                                         "Arn": m(f"arn:aws:sts::{acct}:assumed-role/{role}/{v.person()}", "arns")}}, v)
            .replace(f"{rid}:", f"{rid}:"))


@template("session_tokens")
def sigv4_header(v, m):
    k = m(v.access_key("ASIA"), "access_keys")
    t = m(v.session_token(), "session_tokens")
    region = v.region()
    api = m(v.api_id(), "apigateway_ids")
    host = m(f"{api}.execute-api.{region}.amazonaws.com", "hostnames")
    return (f"POST /{v.env()}/{v.word()} HTTP/1.1\nHost: {host}\nX-Amz-Date: 20240311T101522Z\n"
            f"X-Amz-Security-Token: {t}\n"
            f"Authorization: AWS4-HMAC-SHA256 Credential={k}/20240311/{region}/execute-api/aws4_request, "
            f"SignedHeaders=host;x-amz-date;x-amz-security-token, Signature={v.sha256()}\nContent-Type: application/json\n")


# ---------------------------------------------------------------------------
# S3 buckets in their contexts
# ---------------------------------------------------------------------------

@template("s3_bucket_contexts")
def tf_bucket(v, m):
    b = m(v.bucket(), "s3_buckets")
    b2 = m(v.bucket(), "s3_buckets")
    return f"""resource "aws_s3_bucket" "{v.word()}" {{
  bucket = "{b}"

  tags = {{
    Environment = "{v.env()}"
  }}
}}

terraform {{
  backend "s3" {{
    bucket         = "{b2}"
    key            = "{v.word()}/terraform.tfstate"
    region         = "{v.region()}"
    dynamodb_table = "terraform-locks"
    encrypt        = true
  }}
}}
"""


@template("s3_bucket_contexts")
def env_bucket(v, m):
    b = m(v.bucket(), "s3_buckets")
    b2 = m(v.bucket(), "s3_buckets")
    return v.choice([
        f"S3_BUCKET={b}\nUPLOADS_BUCKET_NAME={b2}\nAWS_REGION={v.region()}\n",
        f"export ARTIFACT_BUCKET={b}\nexport S3_BUCKET_NAME={b2}\n",
        f"bucket: {b}\nbackup_bucket: {b2}\n",
    ])


@template("s3_bucket_contexts")
def keys_ending_bucket(v, m):
    b1, b2, b3 = (m(v.bucket(), "s3_buckets") for _ in range(3))
    return jdump({"ArtifactBucket": b1, "LogsBucketName": b2, "sourceBucket": b3,
                  "Region": v.region(), "RetentionDays": v.choice([7, 30, 90])}, v)


@template("s3_bucket_contexts")
def lambda_env_text(v, m):
    b = m(v.bucket(), "s3_buckets")
    fn = m(v.name("dash"), "named_resources")
    acct = m(v.account(), "account_ids")
    region = v.region()
    return (f"$ aws lambda get-function-configuration --function-name {fn} --output text\n"
            f"{m(f'arn:aws:lambda:{region}:{acct}:function:{fn}', 'arns')}\t{fn}\tindex.handler\t"
            f"{v.r.randint(1000, 90000)}\t{ts(v)}.000+0000\t128\tpython3.12\t30\n"
            f"ENVIRONMENT\nVARIABLES\nENVIRONMENT.VARIABLES.BUCKET\t{b}\nENVIRONMENT.VARIABLES.LOG_LEVEL\tinfo\n"
            f"TRACINGCONFIG\tPassThrough\n")


@template("s3_bucket_contexts")
def cfn_outputs(v, m):
    b = m(v.bucket(), "s3_buckets")
    stack = m(v.name("dash"), "named_resources")
    acct = m(v.account(), "account_ids")
    region = v.region()
    sid = m(f"arn:aws:cloudformation:{region}:{acct}:stack/{stack}/{v.uuid()}", "arns")
    if v.r.random() < 0.5:
        return f"$ aws cloudformation describe-stacks --stack-name {stack} --query Stacks[0].Outputs\n" + jdump([
            {"OutputKey": "AssetsBucketName", "OutputValue": b, "Description": "Bucket for static assets"},
            {"OutputKey": "StackArn", "OutputValue": sid}], v)
    return (f"$ aws cloudformation describe-stacks --stack-name {stack} --query Stacks[0].Outputs --output table\n"
            + R.cli_table_columns("DescribeStacks", ["Description", "OutputKey", "OutputValue"],
                                  [["Bucket for static assets", "AssetsBucket", b], ["", "StackId", sid]]))


@template("s3_bucket_contexts")
def sdk_positional(v, m):
    b = m(v.bucket(), "s3_buckets")
    key = f"{v.word()}/{v.uuid()}.json"
    return v.choice([
        f's3 = boto3.client("s3")\ns3.upload_file("report.csv", "{b}", "{key}")\n',
        f'bucket = boto3.resource("s3").Bucket("{b}")\nfor obj in bucket.objects.filter(Prefix="{v.word()}/"):\n    print(obj.key)\n',
        f'GetObjectRequest req = GetObjectRequest.builder()\n        .bucket("{b}")\n        .key("{key}")\n        .build();\n',
        f'const out = await s3.send(new GetObjectCommand({{ Bucket: "{b}", Key: "{key}" }}));\n',
        f'_, err := client.PutObject(ctx, &s3.PutObjectInput{{\n\tBucket: aws.String("{b}"),\n\tKey:    aws.String("{key}"),\n}})\n',
        f's3.download_file("{b}", "{key}", "/tmp/in.json")\n',
        f'let resp = client.get_object().bucket("{b}").key("{key}").send().await?;\n',
        f'$s3->putObject([\n    \'Bucket\' => \'{b}\',\n    \'Key\' => \'{key}\',\n]);\n',
    ])


@template("s3_bucket_contexts")
def s3_uris(v, m):
    b = m(v.bucket(), "s3_buckets")
    region = v.region()
    return v.choice([
        f"$ aws s3 cp ./dist s3://{b}/releases/{v.r.randint(1, 9)}.{v.r.randint(0, 30)}/ --recursive\nupload: dist/app.js to s3://{b}/releases/app.js\n",
        f"fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden\nwhile fetching https://{b}.s3.{region}.amazonaws.com/{v.word()}/index.html\n",
        f"GET https://s3.{region}.amazonaws.com/{b}/{v.word()}.zip -> 301 PermanentRedirect\n",
        f"$ aws s3api get-bucket-policy --bucket {b}\nAn error occurred (NoSuchBucketPolicy) when calling the GetBucketPolicy operation: The bucket policy does not exist\n",
    ])


# ---------------------------------------------------------------------------
# Percent-encoded console links
# ---------------------------------------------------------------------------

@template("percent_encoded")
def console_links(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    fn = v.name("dash")
    role = v.name("dash")
    raw = v.choice([f"arn:aws:iam::{acct}:role/{role}", f"arn:aws:lambda:{region}:{acct}:function:{fn}",
                    f"arn:aws:sqs:{region}:{acct}:{v.name('dash')}"])
    enc = urllib.parse.quote(raw, safe="")
    form = v.r.randrange(3)
    if form == 0:
        m(enc, "arns")
        return f"https://{region}.console.aws.amazon.com/go/view?arn={enc}&source=notification"
    if form == 1:
        dbl = enc.replace("%", "%25")
        m(dbl, "arns")
        return (f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
                f"#alarmsV2:alarm/{v.word()}-errors?~(alarmStateFilter~'ALARM~resource~'{dbl})")
    m(enc, "arns")
    return (f"Open the resource: [view in console](https://console.aws.amazon.com/iam/home#/roles?"
            f"filter={enc}) and check the trust relationship.")


@template("percent_encoded")
def log_group_links(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    fn = v.name("dash")
    raw = f"arn:aws:logs:{region}:{acct}:log-group:/aws/lambda/{fn}"
    enc2 = urllib.parse.quote(urllib.parse.quote(raw, safe=""), safe="")
    m(enc2, "arns")
    return (f"Logs Insights: https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logsV2:logs-insights"
            f"$3FqueryDetail$3D~(source~(~'{enc2}))")


# ---------------------------------------------------------------------------
# Named resources under botocore member names, in every format
# ---------------------------------------------------------------------------

MEMBERS = [
    "FunctionName", "RoleName", "TableName", "QueueName", "TopicName", "StackName", "ClusterName",
    "DBInstanceIdentifier", "DBClusterIdentifier", "RepositoryName", "LogGroupName", "LoadBalancerName",
    "TargetGroupName", "StateMachineName", "AutoScalingGroupName", "KeyName", "UserName", "GroupName",
    "InstanceProfileName", "LayerName", "ApplicationName", "EnvironmentName", "CacheClusterId",
    "ReplicationGroupId", "DomainName", "StreamName", "DeliveryStreamName", "BackupVaultName",
    "WorkGroup", "DatabaseName", "JobName", "CrawlerName", "ServiceName", "PipelineName", "ProjectName",
    "RuleName", "EventBusName", "TrailName", "SecretId", "LaunchTemplateName", "DBSubnetGroupName",
    "CacheSubnetGroupName", "SnapshotIdentifier", "PolicyName", "VaultName", "ApiName", "UserPoolName",
]


def kebab(member):
    out = ""
    for i, c in enumerate(member):
        if c.isupper() and i and (not member[i - 1].isupper() or (i + 1 < len(member) and member[i + 1].islower())):
            out += "-"
        out += c.lower()
    return out


def snake(member):
    return kebab(member).replace("-", "_")


def resource_value(v, member):
    if member == "LogGroupName":
        return v.choice([f"/aws/lambda/{v.name('dash')}", f"/ecs/{v.name('dash')}", f"{v.org()}-{v.word()}-logs"])
    if member == "SecretId":
        return f"{v.env()}/{v.word()}/{v.choice(['db', 'api-key', 'stripe'])}"
    if member == "DomainName":
        return f"{v.word()}-search-{v.env()}"
    return v.name()


@template("named_resource_formats")
def named_json(v, m):
    picks = v.r.sample(MEMBERS, v.r.randint(2, 4))
    doc = {p: m(resource_value(v, p), "named_resources") for p in picks}
    doc.update({"Region": v.region()})
    return jdump(doc, v)


@template("named_resource_formats")
def named_yaml(v, m):
    picks = v.r.sample(MEMBERS, v.r.randint(2, 4))
    return "\n".join(f"{p}: {m(resource_value(v, p), 'named_resources')}" for p in picks) + f"\nRegion: {v.region()}\n"


@template("named_resource_formats")
def named_hcl(v, m):
    picks = v.r.sample(MEMBERS, v.r.randint(2, 4))
    attrs = {snake(p): m(resource_value(v, p), "named_resources") for p in picks}
    return R.hcl_block("module", [v.word()], {"source": "./modules/" + v.word(), **attrs}) + "\n"


@template("named_resource_formats")
def named_ini_env(v, m):
    picks = v.r.sample(MEMBERS, v.r.randint(2, 4))
    if v.r.random() < 0.5:
        return "[app]\n" + "\n".join(f"{snake(p)} = {m(resource_value(v, p), 'named_resources')}" for p in picks) + "\n"
    return "\n".join(f"{snake(p).upper()}={m(resource_value(v, p), 'named_resources')}" for p in picks) + "\n"


@template("named_resource_formats")
def named_cli_flags(v, m):
    picks = v.r.sample(MEMBERS, v.r.randint(1, 3))
    eq = v.r.random() < 0.5
    flags = " ".join(f"--{kebab(p)}{'=' if eq else ' '}{m(resource_value(v, p), 'named_resources')}" for p in picks)
    svc = v.choice(["lambda", "iam", "dynamodb", "rds", "ecs", "logs", "cloudformation", "elbv2"])
    return f"$ aws {svc} {v.choice(['describe', 'update', 'delete', 'get'])}-{v.word()} {flags} --region {v.region()}\n"


@template("named_resource_formats")
def named_output_text(v, m):
    fns = [m(v.name(), "named_resources") for _ in range(v.r.randint(2, 5))]
    acct = m(v.account(), "account_ids")
    region = v.region()
    lines = []
    for fn in fns:
        a = m(f"arn:aws:lambda:{region}:{acct}:function:{fn}", "arns")
        lines.append(f"FUNCTIONS\t{v.r.randint(500, 90000)}\t{v.sha256()[:43]}=\t{a}\t{fn}\tindex.handler\t{ts(v)}.000+0000\t256\t{v.uuid()}\t{m(f'arn:aws:iam::{acct}:role/{fn}-role', 'arns')}\tnodejs20.x\t15\t$LATEST")
    return "$ aws lambda list-functions --output text\n" + "\n".join(lines) + "\n"


@template("named_resource_formats")
def named_output_table(v, m):
    rows = []
    for _ in range(v.r.randint(2, 4)):
        name = m(v.name(), "named_resources")
        rows.append([name, v.choice(["available", "creating", "backing-up"]), v.choice(["postgres", "mysql", "aurora-postgresql"]),
                     v.choice(["db.t3.medium", "db.r6g.large"])])
    return ("$ aws rds describe-db-instances --query 'DBInstances[].[DBInstanceIdentifier,DBInstanceStatus,Engine,DBInstanceClass]' --output table\n"
            + R.cli_table_columns("DescribeDBInstances", ["DBInstanceIdentifier", "Status", "Engine", "Class"], rows) + "\n")


@template("named_resource_formats")
def named_python_repr(v, m):
    picks = v.r.sample(MEMBERS, v.r.randint(2, 3))
    d = {p: m(resource_value(v, p), "named_resources") for p in picks}
    d["ResponseMetadata"] = {"RequestId": v.uuid(), "HTTPStatusCode": 200, "RetryAttempts": 0}
    return ">>> resp = client.describe_" + snake(picks[0]).rsplit("_", 1)[0] + "(...)\n>>> resp\n" + repr(d) + "\n"


# ---------------------------------------------------------------------------
# Service ids
# ---------------------------------------------------------------------------

@template("route53_zones")
def r53_list(v, m):
    zones = []
    for _ in range(v.r.randint(1, 3)):
        z = m(v.hosted_zone(), "route53_zones")
        zones.append({"Id": f"/hostedzone/{z}", "Name": f"{v.word()}.{v.org()}.com.", "CallerReference": v.uuid(),
                      "Config": {"PrivateZone": v.r.random() < 0.3}, "ResourceRecordSetCount": v.r.randint(2, 60)})
    return "$ aws route53 list-hosted-zones\n" + jdump({"HostedZones": zones, "IsTruncated": False, "MaxItems": "100"}, v)


@template("route53_zones")
def r53_tf_cli(v, m):
    z = m(v.hosted_zone(), "route53_zones")
    return v.choice([
        f'resource "aws_route53_record" "www" {{\n  zone_id = "{z}"\n  name    = "www.{v.org()}.com"\n  type    = "CNAME"\n  ttl     = 300\n  records = ["{v.word()}.{v.org()}.net"]\n}}\n',
        f"$ aws route53 change-resource-record-sets --hosted-zone-id {z} --change-batch file://change.json\n",
        f"$ aws route53 list-resource-record-sets --hosted-zone-id /hostedzone/{z} --output text\nRESOURCERECORDSETS\t{v.word()}.{v.org()}.io.\t300\tA\n",
        f"HOSTED_ZONE_ID={z}\nDOMAIN={v.org()}.com\n",
    ])


@template("cloudfront_ids")
def cf_invalidate(v, m):
    d = m(v.distribution_id(), "cloudfront_ids")
    dom = m(v.cloudfront_domain(), "hostnames")
    return v.choice([
        f"$ aws cloudfront create-invalidation --distribution-id {d} --paths '/*'\n" + jdump({"Location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{d}/invalidation/I{v.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 13)}", "Invalidation": {"Status": "InProgress"}}, v) + f"\n# served from https://{dom}/",
        jdump({"DistributionList": {"Items": [{"Id": d, "ARN": m(f"arn:aws:cloudfront::{m(v.account(), 'account_ids')}:distribution/{d}", "arns"), "Status": "Deployed", "DomainName": dom}]}}, v),
        f"CLOUDFRONT_DISTRIBUTION_ID={d}\nCDN_URL=https://{dom}\n",
    ])


@template("apigateway_ids")
def apigw(v, m):
    api = m(v.api_id(), "apigateway_ids")
    region = v.region()
    host = m(f"{api}.execute-api.{region}.amazonaws.com", "hostnames")
    return v.choice([
        f"$ aws apigateway get-stages --rest-api-id {api}\n" + jdump({"item": [{"deploymentId": v.api_id()[:6], "stageName": v.env()}]}, v) + f"\nInvoke URL: https://{host}/{v.env()}",
        f"Outputs:\n{v.word().capitalize()}ApiEndpoint = https://{host}/{v.env()}/\nApiId = {api}\n",
        jdump({"ApiId": api, "ApiEndpoint": f"https://{host}", "Name": v.name(), "ProtocolType": "HTTP"}, v),
        f'curl -X POST "https://{host}/{v.env()}/{v.word()}" -H "x-api-key: $KEY" -d \'{{"ok":true}}\'\n',
    ])


@template("cognito")
def cognito_config(v, m):
    region = v.region()
    pool = m(v.user_pool(region), "cognito")
    idp = m(v.identity_pool(region), "cognito")
    client = m(v.app_client(), "cognito")
    dom = m(f"{v.org()}-{v.env()}.auth.{region}.amazoncognito.com", "hostnames")
    return v.choice([
        f"""const awsmobile = {{
    "aws_project_region": "{region}",
    "aws_cognito_identity_pool_id": "{idp}",
    "aws_cognito_region": "{region}",
    "aws_user_pools_id": "{pool}",
    "aws_user_pools_web_client_id": "{client}",
    "oauth": {{
        "domain": "{dom}",
        "scope": ["email", "openid"],
        "redirectSignIn": "http://localhost:3000/",
        "responseType": "code"
    }}
}};
export default awsmobile;
""",
        f"$ aws cognito-idp list-users --user-pool-id {pool}\nAn error occurred (ResourceNotFoundException): User pool client {client} does not exist.\n# identity pool {idp}, hosted UI https://{dom}/login\n",
        f"COGNITO_USER_POOL_ID={pool}\nCOGNITO_CLIENT_ID={client}\nCOGNITO_IDENTITY_POOL_ID={idp}\nCOGNITO_DOMAIN={dom}\n",
    ])


@template("appsync_keys")
def appsync(v, m):
    key = m(v.appsync_key(), "appsync_keys")
    region = v.region()
    host = m(f"{v.chars('abcdefghijklmnopqrstuvwxyz0123456789', 26)}.appsync-api.{region}.amazonaws.com", "hostnames")
    return v.choice([
        f'{{\n  "aws_appsync_graphqlEndpoint": "https://{host}/graphql",\n  "aws_appsync_region": "{region}",\n  "aws_appsync_authenticationType": "API_KEY",\n  "aws_appsync_apiKey": "{key}"\n}}\n',
        f"curl -s https://{host}/graphql -H 'x-api-key: {key}' -d '{{\"query\":\"{{ listTodos {{ items {{ id }} }} }}\"}}'\n",
        f"$ aws appsync list-api-keys --api-id {v.chars('abcdefghijklmnopqrstuvwxyz0123456789', 26)}\n" + jdump({"apiKeys": [{"id": key, "expires": v.r.randint(1700000000, 1800000000)}]}, v),
    ])


@template("rds_resource_ids")
def rds_res(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    dbi = m(v.dbi_resource(), "rds_resource_ids")
    cl = m(v.cluster_resource(), "rds_resource_ids")
    name = m(v.name(), "named_resources")
    variants = [
        jdump({"DBInstances": [{"DBInstanceIdentifier": name, "DbiResourceId": dbi, "Engine": "postgres",
                                "DBClusterIdentifier": None}]}, v).replace("null", f'"{name}-cluster"') + f"\nCluster resource id: {cl}",
        jdump({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds-db:connect",
                                                      "Resource": [m(f"arn:aws:rds-db:{region}:{acct}:dbuser:{dbi}/app_user", "arns"),
                                                                   m(f"arn:aws:rds-db:{region}:{acct}:dbuser:{cl}/*", "arns")]}]}, v) + f"\n# {name}",
        f"Performance Insights: https://{region}.console.aws.amazon.com/rds/home?region={region}#performance-insights-v20206:/resourceId/{dbi}/resourceName/{name}\nDbClusterResourceId {cl}\n",
    ]
    text = v.choice(variants)
    if text is variants[1]:
        # The policy shows the name only in its trailing `# name` comment.
        m.free_text(name)
    return text


@template("ecs_task_ids")
def ecs_tasks(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    cluster = m(v.name(), "named_resources")
    t1 = m(v.ecs_task(), "ecs_task_ids")
    t2 = m(v.ecs_task(), "ecs_task_ids")
    return v.choice([
        f"$ aws ecs list-tasks --cluster {cluster}\n" + jdump({"taskArns": [m(f"arn:aws:ecs:{region}:{acct}:task/{cluster}/{t1}", "arns"), m(f"arn:aws:ecs:{region}:{acct}:task/{cluster}/{t2}", "arns")]}, v)
        + f"\n$ aws ecs describe-tasks --cluster {cluster} --tasks {t1}\n",
        f"{ts(v)} ecs/app/{t1} ERROR connect ECONNREFUSED 10.0.3.17:5432\n{ts(v)} ecs/app/{t2} Shutting down\nStopped reason: Essential container in task exited (task {t1})\n",
        f"$ aws ecs execute-command --cluster {cluster} --task {t1} --container app --interactive --command /bin/sh\n",
    ])


@template("eks_oidc_ids")
def eks_oidc(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    oid = m(v.eks_oidc(), "eks_oidc_ids")
    host = f"oidc.eks.{region}.amazonaws.com/id/{oid}"
    return v.choice([
        jdump({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                      "Principal": {"Federated": m(f"arn:aws:iam::{acct}:oidc-provider/{host}", "arns")},
                                                      "Action": "sts:AssumeRoleWithWebIdentity",
                                                      "Condition": {"StringEquals": {f"{host}:sub": f"system:serviceaccount:{v.word()}:{v.word()}-sa",
                                                                                     f"{host}:aud": "sts.amazonaws.com"}}}]}, v),
        f"$ aws eks describe-cluster --name {m(v.name(), 'named_resources')} --query cluster.identity.oidc.issuer --output text\nhttps://{host}\n",
        f"eksctl utils associate-iam-oidc-provider --cluster {m(v.name(), 'named_resources')} --approve\n2024-03-11 10:15:22 [ℹ]  will create IAM Open ID Connect provider for cluster in \"{region}\"\n2024-03-11 10:15:24 [✔]  created IAM Open ID Connect provider \"https://{host}\"\n",
    ])


@template("ssm_managed_instances")
def ssm_mi(v, m):
    mi = m(v.ssm_mi(), "ssm_ids")
    i = m(v.ec2("i", True), "ec2_ids")
    return v.choice([
        f"$ aws ssm start-session --target {mi}\nStarting session with SessionId: {v.person()}-{v.chars('0123456789abcdef', 17)}\n",
        f"$ aws ssm describe-instance-information --output text\nINSTANCEINFORMATIONLIST\t{mi}\tOnline\tLinux\tUbuntu\t22.04\t{m(v.ip_private(), 'ip_addresses')}\nINSTANCEINFORMATIONLIST\t{i}\tConnectionLost\tLinux\n",
        jdump({"InstanceInformationList": [{"InstanceId": mi, "PingStatus": "Online", "ResourceType": "ManagedInstance",
                                            "Name": f"{v.org()}-onprem-{v.r.randint(1, 40):02d}"}, {"InstanceId": i, "ResourceType": "EC2Instance"}]}, v),
    ])


@template("ec2_prefixes")
def every_ec2_prefix(v, m):
    picks = v.r.sample(EC2_PREFIXES, v.r.randint(4, 8))
    lines = []
    for p in picks:
        val = m(v.ec2(p), "ec2_ids")
        lines.append(v.choice([f"  {p.replace('-', '_')}_id = \"{val}\"", f"{val}", f"- {val} ({p})", f"\"{val}\","]))
    head = v.choice(["Resources still attached after the teardown:", "terraform state list | xargs ... leftovers:", "IDs from the cost report:"])
    return head + "\n" + "\n".join(lines) + "\n"


@template("ecr_tokens")
def ecr_login(v, m):
    pw = m(v.ecr_password(), "ecr_tokens")
    acct = m(v.account(), "account_ids")
    region = v.region()
    host = m(f"{acct}.dkr.ecr.{region}.amazonaws.com", "hostnames")
    import base64
    auth = base64.b64encode(("AWS:" + pw).encode()).decode()
    form = v.r.randrange(3)
    if form == 0:
        return f"$ aws ecr get-login-password --region {region}\n{pw}\n"
    if form == 1:
        m.items = [(x, k) for x, k in m.items if x != pw]
        m(auth, "ecr_tokens")
        return f"$ aws ecr get-authorization-token\n" + jdump({"authorizationData": [{"authorizationToken": auth, "expiresAt": ts(v) + "+00:00", "proxyEndpoint": f"https://{host}"}]}, v)
    return f"docker login -u AWS -p {pw} https://{host}\nWARNING! Using --password via the CLI is insecure. Use --password-stdin.\nLogin Succeeded\n"


@template("codeartifact_tokens")
def codeartifact(v, m):
    tok = m(v.codeartifact_token(), "codeartifact_tokens")
    acct = m(v.account(), "account_ids")
    region = v.region()
    dom = v.org()
    host = m(f"{dom}-{acct}.d.codeartifact.{region}.amazonaws.com", "hostnames")
    return v.choice([
        f"registry=https://{host}/npm/{v.word()}/\n//{host}/npm/{v.word()}/:_authToken={tok}\n//{host}/npm/{v.word()}/:always-auth=true\n",
        f"$ export CODEARTIFACT_AUTH_TOKEN=`aws codeartifact get-authorization-token --domain {dom} --domain-owner {acct} --query authorizationToken --output text`\n$ echo $CODEARTIFACT_AUTH_TOKEN\n{tok}\n",
        f"[global]\nindex-url = https://aws:{tok}@{host}/pypi/{v.word()}/simple/\n",
    ])


@template("aws_hosts")
def non_amazonaws_hosts(v, m):
    region = v.region()
    hosts = [
        f"{v.lambda_url_id()}.lambda-url.{region}.on.aws",
        f"{v.word()}-{v.chars('0123456789abcdef', 17)}.{v.chars('0123456789abcdef', 7)}.vpc-lattice-svcs.{region}.on.aws",
        f"{v.api_id()}.execute-api.{region}.api.aws",
        f"{v.org()}-{v.env()}.awsapps.com",
        f"d-{v.chars('0123456789abcdef', 10)}.awsapps.com",
        f"{v.org()}-{v.word()}.auth.{region}.amazoncognito.com",
        v.cloudfront_domain(),
        f"a{v.chars('0123456789abcdef', 16)}.awsglobalaccelerator.com",
        f"{v.chars('abcdefghijklmnopqrstuvwxyz0123456789', 10)}.{region}.awsapprunner.com",
        f"{v.name('dash')}.studio.{region}.sagemaker.aws",
        f"{v.name('dash')}.notebook.{region}.sagemaker.aws",
        f"{v.org()}-{v.word()}.my.connect.aws",
    ]
    picks = v.r.sample(hosts, v.r.randint(2, 4))
    for h in picks:
        m(h, "hostnames")
    lines = [v.choice([f"curl -sv https://{h}/ 2>&1 | head", f"  url: https://{h}/{v.word()}", f"CNAME -> {h}", f"Endpoint: https://{h}"]) for h in picks]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Escapes inside text
# ---------------------------------------------------------------------------

@template("escapes_in_text")
def unicode_dash_json(v, m):
    i = v.ec2("i", True)
    sg = v.ec2("sg", True)
    esc_i = i.replace("-", "\\u002d", 1)
    esc_sg = sg.replace("-", "\\u002d", 1)
    m(esc_i, "ec2_ids")
    m(esc_sg, "ec2_ids")
    acct = v.account()
    a = f"arn:aws:iam::{acct}:role/{v.name()}"
    esc_a = a.replace("-", "\\u002d")
    m(esc_a, "arns")
    m(acct, "account_ids")
    return "{\"InstanceId\":\"" + esc_i + "\",\"SecurityGroups\":[\"" + esc_sg + "\"],\"IamRole\":\"" + esc_a + "\"}"


@template("escapes_in_text")
def php_slashes(v, m):
    acct = m(v.account(), "account_ids")
    role = v.name()
    a = f"arn:aws:iam::{acct}:role\\/{role}"
    m(a, "arns")
    b = m(v.bucket(), "s3_buckets")
    region = v.region()
    host = m(f"{b}.s3.{region}.amazonaws.com", "hostnames")
    return ("{\"role\":\"" + a + "\",\"upload_url\":\"https:\\/\\/" + host + "\\/" + v.word() + "\\/" + v.uuid()
            + ".png\",\"region\":\"" + region + "\"}")


@template("escapes_in_text")
def json_in_json_escaped(v, m):
    acct = m(v.account(), "account_ids")
    fn = v.name()
    a = m(f"arn:aws:lambda:{v.region()}:{acct}:function:{fn}", "arns")
    i = m(v.ec2("i", True), "ec2_ids")
    inner = json.dumps({"detail-type": "EC2 Instance State-change Notification", "account": acct,
                        "resources": [f"arn:aws:ec2:{v.region()}:{acct}:instance/{i}"],
                        "detail": {"instance-id": i, "state": "stopped"}})
    outer = json.dumps({"Records": [{"eventSource": "aws:sqs", "body": inner, "eventSourceARN": a}]}, indent=2)
    return outer


# ---------------------------------------------------------------------------
# Basics: IaC, CLI output, SDK code, logs, tables
# ---------------------------------------------------------------------------

@template("basics_iac")
def tf_vpc(v, m):
    vpc = m(v.ec2("vpc"), "ec2_ids")
    subs = [m(v.ec2("subnet"), "ec2_ids") for _ in range(v.r.randint(2, 3))]
    sg = m(v.ec2("sg"), "ec2_ids")
    cidr = m(v.cidr(), "ip_addresses")
    ami = m(v.ec2("ami"), "ec2_ids")
    return f"""data "aws_vpc" "main" {{
  id = "{vpc}"
}}

resource "aws_instance" "bastion" {{
  ami                    = "{ami}"
  instance_type          = "t3.micro"
  subnet_id              = "{subs[0]}"
  vpc_security_group_ids = ["{sg}"]
  key_name               = "{m(v.name(), 'named_resources')}"
}}

resource "aws_security_group_rule" "ssh" {{
  type              = "ingress"
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  cidr_blocks       = ["{cidr}"]
  security_group_id = "{sg}"
}}

locals {{
  private_subnets = {json.dumps(subs)}
}}
"""


@template("basics_iac")
def cfn_rds(v, m):
    sg = m(v.ec2("sg"), "ec2_ids")
    subs = [m(v.ec2("subnet"), "ec2_ids") for _ in range(2)]
    key = m(v.kms_key(), "kms_keys")
    acct = m(v.account(), "account_ids")
    region = v.region()
    return f"""Resources:
  Database:
    Type: AWS::RDS::DBInstance
    Properties:
      DBInstanceIdentifier: {m(v.name(), 'named_resources')}
      Engine: postgres
      EngineVersion: '16.2'
      DBInstanceClass: db.t4g.medium
      VPCSecurityGroups: [{sg}]
      DBSubnetGroupName: {m(v.name(), 'named_resources')}
      StorageEncrypted: true
      KmsKeyId: {m(f'arn:aws:kms:{region}:{acct}:key/{key}', 'arns')}
  SubnetGroup:
    Type: AWS::RDS::DBSubnetGroup
    Properties:
      DBSubnetGroupDescription: db subnets
      SubnetIds:
        - {subs[0]}
        - {subs[1]}
"""


@template("basics_iac")
def pulumi_cdk(v, m):
    vpc = m(v.ec2("vpc"), "ec2_ids")
    b = m(v.bucket(), "s3_buckets")
    acct = m(v.account(), "account_ids")
    return v.choice([
        f"""import pulumi_aws as aws

vpc = aws.ec2.get_vpc(id="{vpc}")
bucket = aws.s3.BucketV2("{v.word()}", bucket="{b}")
role = aws.iam.Role.get("deploy", "{m(v.name(), 'named_resources')}")
pulumi.export("account", "{acct}")
""",
        f"""const vpc = ec2.Vpc.fromLookup(this, 'Vpc', {{ vpcId: '{vpc}' }});
const bucket = s3.Bucket.fromBucketName(this, 'Assets', '{b}');
new cdk.Stack(app, '{v.word().capitalize()}Stack', {{ env: {{ account: '{acct}', region: '{v.region()}' }} }});
""",
    ])


def describe_instances_doc(v, m, n):
    acct = m(v.account(), "account_ids")
    res = m(v.ec2("r"), "ec2_ids")
    insts = []
    for _ in range(n):
        ip = m(v.ip_private(), "ip_addresses")
        pub = m(v.ip_public(), "ip_addresses")
        region = v.region()
        inst = {
            "InstanceId": m(v.ec2("i"), "ec2_ids"), "ImageId": m(v.ec2("ami"), "ec2_ids"), "InstanceType": v.choice(["t3.medium", "m6i.large", "c7g.xlarge"]),
            "KeyName": m(v.name(), "named_resources"), "LaunchTime": ts(v) + "+00:00",
            "PrivateDnsName": m(f"ip-{ip.replace('.', '-')}.{region}.compute.internal", "hostnames"), "PrivateIpAddress": ip,
            "PublicDnsName": m(f"ec2-{pub.replace('.', '-')}.{region}.compute.amazonaws.com", "hostnames"), "PublicIpAddress": pub,
            "SubnetId": m(v.ec2("subnet"), "ec2_ids"), "VpcId": m(v.ec2("vpc"), "ec2_ids"),
            "SecurityGroups": [{"GroupName": m(v.name(), "named_resources"), "GroupId": m(v.ec2("sg"), "ec2_ids")}],
            "NetworkInterfaces": [{"NetworkInterfaceId": m(v.ec2("eni"), "ec2_ids"), "OwnerId": acct}],
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeId": m(v.ec2("vol"), "ec2_ids"), "Status": "attached"}}],
            "IamInstanceProfile": {"Arn": m(f"arn:aws:iam::{acct}:instance-profile/{v.name()}", "arns"), "Id": m(v.unique_id("AIPA"), "access_keys")},
            "State": {"Code": 16, "Name": "running"},
        }
        insts.append(inst)
    return {"Reservations": [{"ReservationId": res, "OwnerId": acct, "Instances": insts}]}, acct, res


@template("basics_cli_output")
def describe_instances_json(v, m):
    doc, _, _ = describe_instances_doc(v, m, v.r.randint(1, 2))
    return "$ aws ec2 describe-instances\n" + jdump(doc, v)


@template("basics_cli_output")
def describe_instances_text(v, m):
    doc, acct, res = describe_instances_doc(v, m, v.r.randint(1, 3))
    lines = [f"RESERVATIONS\t{acct}\t{res}"]
    for i in doc["Reservations"][0]["Instances"]:
        lines.append(f"INSTANCES\t0\tx86_64\t\tFalse\tTrue\txen\t{i['ImageId']}\t{i['InstanceId']}\t{i['InstanceType']}\t{i['KeyName']}\t{i['LaunchTime']}\t{i['PrivateDnsName']}\t{i['PrivateIpAddress']}\t\t{i['PublicDnsName']}\t{i['PublicIpAddress']}\t/dev/xvda\tebs\tTrue\t\t{i['SubnetId']}\thvm\t{i['VpcId']}")
        lines.append(f"SECURITYGROUPS\t{i['SecurityGroups'][0]['GroupId']}\t{i['SecurityGroups'][0]['GroupName']}")
        lines.append(f"IAMINSTANCEPROFILE\t{i['IamInstanceProfile']['Arn']}\t{i['IamInstanceProfile']['Id']}")
        lines.append(f"BLOCKDEVICEMAPPINGS\t/dev/xvda\nEBS\t{i['LaunchTime']}\tTrue\tattached\t{i['BlockDeviceMappings'][0]['Ebs']['VolumeId']}")
        lines.append(f"NETWORKINTERFACES\t{i['NetworkInterfaces'][0]['NetworkInterfaceId']}\t{acct}")
    return "$ aws ec2 describe-instances --output text\n" + "\n".join(lines) + "\n"


@template("basics_cli_output")
def describe_instances_table(v, m):
    doc, acct, res = describe_instances_doc(v, m, 1)
    i = doc["Reservations"][0]["Instances"][0]
    rows = [("OwnerId", acct), ("ReservationId", res), ("## Instances", None),
            ("ImageId", i["ImageId"]), ("InstanceId", i["InstanceId"]), ("InstanceType", i["InstanceType"]),
            ("KeyName", i["KeyName"]), ("PrivateDnsName", i["PrivateDnsName"]), ("PrivateIpAddress", i["PrivateIpAddress"]),
            ("PublicDnsName", i["PublicDnsName"]), ("PublicIpAddress", i["PublicIpAddress"]),
            ("SubnetId", i["SubnetId"]), ("VpcId", i["VpcId"])]
    text = "$ aws ec2 describe-instances --output table\n" + R.cli_table("DescribeInstances", rows) + "\n"
    m.items = [(x, k) for x, k in m.items if x in text]
    return text


@template("basics_cli_output")
def describe_subnets_sgs(v, m):
    vpc = m(v.ec2("vpc"), "ec2_ids")
    acct = m(v.account(), "account_ids")
    region = v.region()
    subs = []
    for _ in range(v.r.randint(2, 4)):
        sid = m(v.ec2("subnet"), "ec2_ids")
        subs.append({"AvailabilityZone": region + v.choice("abc"), "CidrBlock": m(v.cidr(), "ip_addresses"), "SubnetId": sid,
                     "VpcId": vpc, "OwnerId": acct, "SubnetArn": m(f"arn:aws:ec2:{region}:{acct}:subnet/{sid}", "arns"),
                     "MapPublicIpOnLaunch": False, "AvailableIpAddressCount": v.r.randint(10, 250)})
    return "$ aws ec2 describe-subnets --filters Name=vpc-id,Values=" + vpc + "\n" + jdump({"Subnets": subs}, v)


@template("basics_cli_output")
def rds_elasticache_endpoints(v, m):
    name = m(v.name(), "named_resources")
    region = v.region()
    host = m(v.rds_host(name, region, cluster=v.r.random() < 0.5), "hostnames")
    cache = m(v.cache_host(v.name(), region), "hostnames")
    return v.choice([
        jdump({"DBInstances": [{"DBInstanceIdentifier": name, "Endpoint": {"Address": host, "Port": 5432, "HostedZoneId": "Z2R2ITUGPM61AM"}}]}, v) + f"\nREDIS_URL=rediss://{cache}:6379/0\n",
        f"DATABASE_URL=postgresql://app:$DB_PASSWORD@{host}:5432/{v.word()}\nREDIS_HOST={cache}\n",
        f"psql: error: connection to server at \"{host}\" ({m(v.ip_private(), 'ip_addresses')}), port 5432 failed: Connection timed out\n\tIs the server running on that host and accepting TCP/IP connections?\n",
    ])


@template("basics_sdk_code")
def sdk_snippets(v, m):
    region = v.region()
    acct = m(v.account(), "account_ids")
    table = m(v.name("camel"), "named_resources")
    queue_url = f"https://sqs.{region}.amazonaws.com/{acct}/{m(v.name(), 'named_resources')}"
    topic = m(f"arn:aws:sns:{region}:{acct}:{v.name()}", "arns")
    lang = v.r.randrange(4)
    if lang == 0:
        return f"""import boto3

dynamodb = boto3.resource("dynamodb", region_name="{region}")
table = dynamodb.Table("{table}")
sqs = boto3.client("sqs")
QUEUE_URL = "{queue_url}"

def handler(event, context):
    for rec in event["Records"]:
        table.put_item(Item={{"pk": rec["messageId"]}})
    boto3.client("sns").publish(TopicArn="{topic}", Message="done")
"""
    if lang == 1:
        return f"""import {{ DynamoDBClient }} from "@aws-sdk/client-dynamodb";
import {{ SQSClient, SendMessageCommand }} from "@aws-sdk/client-sqs";

const TABLE_NAME = "{table}";
const sqs = new SQSClient({{ region: "{region}" }});
await sqs.send(new SendMessageCommand({{
  QueueUrl: "{queue_url}",
  MessageBody: JSON.stringify({{ topic: "{topic}" }}),
}}));
"""
    if lang == 2:
        return f"""svc := dynamodb.NewFromConfig(cfg)
out, err := svc.GetItem(ctx, &dynamodb.GetItemInput{{
	TableName: aws.String("{table}"),
	Key:       key,
}})
queueURL := "{queue_url}"
topicArn := "{topic}"
"""
    return f"""val sqs = SqsClient {{ region = "{region}" }}
sqs.sendMessage {{
    queueUrl = "{queue_url}"
    messageBody = "{m.free_text(table)}"
}}
// notify {topic}
"""


@template("basics_sts_imds")
def imds_metadata(v, m):
    i = m(v.ec2("i"), "ec2_ids")
    acct = m(v.account(), "account_ids")
    ip = m(v.ip_private(), "ip_addresses")
    ami = m(v.ec2("ami"), "ec2_ids")
    region = v.region()
    return (f"$ curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" http://169.254.169.254/latest/dynamic/instance-identity/document\n"
            + json.dumps({"accountId": acct, "architecture": "x86_64", "availabilityZone": region + "a", "imageId": ami,
                          "instanceId": i, "instanceType": "m5.large", "pendingTime": ts(v) + "Z", "privateIp": ip,
                          "region": region, "version": "2017-09-30"}, indent=2) + "\n")


@template("basics_cloudtrail")
def cloudtrail_event(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    rid = m(v.unique_id("AROA"), "access_keys")
    k = m(v.access_key("ASIA"), "access_keys")
    role = v.name()
    ip = m(v.ip_public(), "ip_addresses")
    b = m(v.bucket(), "s3_buckets")
    ev = {"eventVersion": "1.09", "userIdentity": {
        "type": "AssumedRole", "principalId": f"{rid}:{v.person()}",
        "arn": m(f"arn:aws:sts::{acct}:assumed-role/{role}/{v.person()}", "arns"), "accountId": acct, "accessKeyId": k,
        "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": rid, "arn": m(f"arn:aws:iam::{acct}:role/{role}", "arns"),
                                             "accountId": acct, "userName": role}}},
        "eventTime": ts(v) + "Z", "eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy", "awsRegion": region,
        "sourceIPAddress": ip, "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64",
        "requestParameters": {"bucketName": b, "Host": f"{b}.s3.{region}.amazonaws.com"},
        "responseElements": None, "requestID": v.chars("ABCDEF0123456789", 16), "eventID": v.uuid(),
        "readOnly": False, "eventType": "AwsApiCall", "recipientAccountId": acct}
    m(f"{b}.s3.{region}.amazonaws.com", "hostnames")
    return jdump(ev, v)


@template("basics_logs")
def vpc_flow_logs(v, m):
    acct = m(v.account(), "account_ids")
    eni = m(v.ec2("eni"), "ec2_ids")
    lines = ["version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"]
    for _ in range(v.r.randint(4, 10)):
        a = m(v.ip_private(), "ip_addresses")
        b = m(v.choice([v.ip_private(), v.ip_public()]), "ip_addresses")
        t = v.r.randint(1700000000, 1800000000)
        lines.append(f"2 {acct} {eni} {a} {b} {v.r.randint(1024, 65535)} {v.choice([443, 5432, 6379, 22, 80])} 6 {v.r.randint(1, 90)} {v.r.randint(40, 90000)} {t} {t + 60} {v.choice(['ACCEPT', 'REJECT'])} OK")
    return "\n".join(lines) + "\n"


@template("basics_logs")
def alb_logs(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    lb = v.name()[:24].rstrip("-")
    lbid = v.chars("0123456789abcdef", 16)
    tg = v.name()[:24].rstrip("-")
    lines = []
    for _ in range(v.r.randint(2, 5)):
        client = m(v.ip_public(), "ip_addresses")
        target = m(v.ip_private(), "ip_addresses")
        tgarn = m(f"arn:aws:elasticloadbalancing:{region}:{acct}:targetgroup/{tg}/{v.chars('0123456789abcdef', 16)}", "arns")
        lines.append(f'https {ts(v)}.{v.r.randint(100000, 999999)}Z app/{lb}/{lbid} {client}:{v.r.randint(1024, 65535)} {target}:8080 0.001 0.{v.r.randint(10, 999):03d} 0.000 200 200 {v.r.randint(100, 900)} {v.r.randint(100, 90000)} "GET https://{v.word()}.{v.org()}.com:443/api/{v.word()} HTTP/1.1" "Mozilla/5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 {tgarn} "Root=1-{v.chars("0123456789abcdef", 8)}-{v.chars("0123456789abcdef", 24)}" "{v.word()}.{v.org()}.com" "arn:aws:acm:{region}:{acct}:certificate/{v.uuid()}" 0 {ts(v)}.000000Z "forward" "-" "-" "{target}:8080" "200" "-" "-"')
    text = "\n".join(lines) + "\n"
    for cert in [x for x in text.split('"') if x.startswith("arn:aws:acm:")]:
        m(cert, "arns")
    return text


@template("basics_tables")
def md_csv_tables(v, m):
    rows = []
    for _ in range(v.r.randint(3, 6)):
        rows.append([m(v.ec2("i"), "ec2_ids"), m(v.ip_private(), "ip_addresses"), v.choice(["t3.large", "m6i.xlarge", "r6g.2xlarge"]),
                     m(v.ec2("subnet"), "ec2_ids"), v.choice(["running", "stopped"])])
    hdr = ["InstanceId", "PrivateIp", "Type", "Subnet", "State"]
    if v.r.random() < 0.5:
        return "Instances to right-size:\n\n" + R.md_table(hdr, rows) + "\n"
    return R.csv_table(hdr, rows) + "\n"


@template("basics_json_in_json")
def sns_in_sqs(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    topic = m(f"arn:aws:sns:{region}:{acct}:{v.name()}", "arns")
    b = m(v.bucket(), "s3_buckets")
    inner = json.dumps({"Records": [{"eventSource": "aws:s3", "awsRegion": region, "s3": {"bucket": {"name": b, "arn": f"arn:aws:s3:::{b}"}, "object": {"key": f"{v.word()}/{v.uuid()}.csv"}}}]})
    m(f"arn:aws:s3:::{b}", "arns")
    msg = json.dumps({"Type": "Notification", "MessageId": v.uuid(), "TopicArn": topic, "Message": inner, "Timestamp": ts(v) + ".123Z"})
    return jdump({"Records": [{"messageId": v.uuid(), "body": msg, "eventSourceARN": m(f"arn:aws:sqs:{region}:{acct}:{v.name()}", "arns"), "awsRegion": region}]}, v)


@template("basics_json_in_json")
def step_functions_output(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    fn = m(v.name(), "named_resources")
    i = m(v.ec2("i"), "ec2_ids")
    payload = json.dumps({"statusCode": 200, "body": json.dumps({"instance": i, "function": fn})})
    return jdump({"executionArn": m(f"arn:aws:states:{region}:{acct}:execution:{v.name('camel')}:{v.uuid()}", "arns"),
                  "status": "SUCCEEDED", "output": payload,
                  "input": json.dumps({"FunctionName": m(f"arn:aws:lambda:{region}:{acct}:function:{fn}", "arns")})}, v)



# -- Secrets standing alone (appended last: earlier classes keep their
# values). The credential templates above always print the access key id
# just before the secret, which let a secret be found by its neighbour
# alone; these give it no neighbour, and add the secret values AWS keeps.

def password(v):
    return v.fresh(lambda: v.chars("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 14) + v.choice("#!%@") + str(v.r.randint(10, 99)))


@template("secrets_alone")
def configure_set_secret_only(v, m):
    prof = v.choice(["", f" --profile {v.org()}-{v.env()}"])
    key = v.choice(["aws_secret_access_key", f"profile.{v.org()}.aws_secret_access_key", "default.aws_secret_access_key"])
    s = m(v.secret_key(), "secret_keys")
    return f"$ aws configure set {key} {s}{prof}\n$ aws configure get region{prof}\n{v.region()}\n"


@template("secrets_alone")
def k8s_env_secret_only(v, m):
    s = m(v.secret_key(), "secret_keys")
    b = m(v.bucket(), "s3_buckets")
    return f"""      containers:
        - name: {v.word()}
          env:
            - name: AWS_REGION
              value: {v.region()}
            - name: AWS_SECRET_ACCESS_KEY
              value: {s}
            - name: S3_BUCKET
              value: "{b}"
"""


@template("secrets_alone")
def ecs_environment(v, m):
    s = m(v.secret_key(), "secret_keys")
    b = m(v.bucket(), "s3_buckets")
    return jdump({"containerDefinitions": [{"name": v.word(), "environment": [
        {"name": "AWS_SECRET_ACCESS_KEY", "value": s},
        {"name": "S3_BUCKET", "value": b},
        {"name": "LOG_LEVEL", "value": "info"}]}]}, v)


@template("secrets_alone")
def secrets_manager_value(v, m):
    pw = m(password(v), "secret_values")
    user = v.person().lower()
    name = f"{v.env()}/{v.word()}/db"
    return f"$ aws secretsmanager get-secret-value --secret-id {name}\n" + jdump({
        "Name": name,
        "SecretString": json.dumps({"username": user, "password": pw, "engine": "postgres", "port": 5432}),
        "VersionStages": ["AWSCURRENT"]}, v)


@template("secrets_alone")
def ssm_secure_string(v, m):
    val = m(f"{v.word()}_{v.chars('abcdefghijklmnopqrstuvwxyz0123456789', 24)}", "secret_values")
    name = f"/{v.env()}/{v.word()}/api-key"
    return v.choice([
        f"$ aws ssm get-parameter --name {name} --with-decryption\n" + jdump({"Parameter": {
            "Name": name, "Type": "SecureString", "Value": val, "Version": v.r.randint(1, 9)}}, v),
        f"$ aws ssm put-parameter --name {name} --type SecureString --value '{val}' --overwrite\n",
    ])


@template("secrets_alone")
def rds_master_password(v, m):
    pw = m(password(v), "secret_values")
    return (f"$ aws rds create-db-instance --db-instance-identifier {v.word()}-{v.env()} --engine postgres "
            f"--master-username {v.person().lower()} --master-user-password '{pw}' --allocated-storage 20\n")


@template("secrets_alone")
def eks_token(v, m):
    tok = m("k8s-aws-v1." + v._b64_blob(v.r.randint(300, 500)).replace("+", "-").replace("/", "_").rstrip("="), "eks_tokens")
    return jdump({"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1beta1", "spec": {},
                  "status": {"expirationTimestamp": ts(v) + "Z", "token": tok}}, v)


@template("secrets_alone")
def cognito_client_secret(v, m):
    sec = m(v.chars("abcdefghijklmnopqrstuvwxyz0123456789", 52), "secret_values")
    return f"$ aws cognito-idp describe-user-pool-client --user-pool-id {v.region()}_{v.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 9)} --client-id x\n" + jdump(
        {"UserPoolClient": {"ClientName": v.word(), "ClientSecret": sec, "AllowedOAuthFlows": ["code"]}}, v)


# -- Accounts in one form only (appended last). cdk_bootstrap above also
# writes the account in cdk.context.json and the assets bucket, which let
# `aws://<account>/<region>` pass by propagation alone.

@template("accounts_alone")
def cdk_environment_only(v, m):
    acct = m(v.account(), "account_ids")
    region = v.region()
    stack = v.name("camel")
    return v.choice([
        f"$ npx cdk bootstrap aws://{acct}/{region}\n ⏳  Bootstrapping environment aws://{acct}/{region}...\n ✅  Environment aws://{acct}/{region} bootstrapped (no changes).\n",
        f"$ npx cdk deploy {stack}\n{stack}: deploying... [1/1]\n ❌  {stack} failed: Error: Need to perform AWS calls for account {acct}, but no credentials have been configured\n",
        jdump({"app": "npx ts-node bin/app.ts", "context": {"env": f"aws://{acct}/{region}"}}, v),
    ])

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "corpus", "positives", "handwritten.jsonl"))
    args = ap.parse_args()
    v = Values(SEED)
    w = Writer(os.path.normpath(args.out), v)
    for cls, fns in TEMPLATES.items():
        for i in range(max(PER_CLASS, 6 * len(fns))):
            fn = fns[i % len(fns)]
            m = Labels()
            text = fn(v, m)
            # A template labels values as it draws them; a variant it did not
            # pick may leave some out of the text.
            m.items = [(x, k) for x, k in m.items if x in text]
            w.add(cls, text, m.items, source=f"hand-written: scripts/corpus/gen_handwritten.py {fn.__name__} (seed {SEED})")
    n = w.write()
    print(f"{w.path}: {n} records in {len(TEMPLATES)} classes")


if __name__ == "__main__":
    main()
