"""Labelling AWS values in text that was not written by us (botocore's
examples and documentation): what is customer-identifying gets a kind,
what AWS owns or documents as a placeholder range does not.

The kinds are those of the hand-written corpus (scripts/corpus/values.py
draws them): arns, account_ids, ec2_ids, access_keys, secret_keys,
session_tokens, ip_addresses, hostnames, s3_buckets, named_resources,
organizations, kms_keys, route53_zones, cloudfront_ids, apigateway_ids,
cognito, rds_resource_ids, ssm_ids.
"""

import ipaddress
import re

from values import EC2_PREFIXES

ARN_RE = re.compile(r"arn:(aws[a-z-]*):([a-z0-9-]+):([^:\s\"'<>,]*):([^:\s\"'<>,]*):([^\s\"'<>,;()\[\]{}\\]+)")
ACCOUNT_RE = re.compile(r"(?<![\d])\d{12}(?![\d])")
EC2_RE = re.compile(r"(?<![A-Za-z0-9-])(?:" + "|".join(sorted((re.escape(p) for p in EC2_PREFIXES), key=len, reverse=True))
                    + r")-(?:[0-9a-f]{17}|[0-9a-f]{8})(?![A-Za-z0-9-])")
ACCESS_KEY_RE = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|APKA|ABIA|ACCA|ASCA)[A-Z0-9]{16}(?![A-Z0-9])")
IPV4_RE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)")
IPV6_RE = re.compile(r"(?<![0-9A-Fa-f:])(?:2[0-9a-f]{3}|f[cd][0-9a-f]{2}):[0-9a-f:]*[0-9a-f](?![0-9a-f:])", re.I)
S3_URI_RE = re.compile(r"s3a?://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?=[/\s\"'),]|$)")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
HOST_RE = re.compile(r"(?<![A-Za-z0-9.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
                     r"(?:amazonaws\.com(?:\.cn)?|cloudfront\.net|on\.aws|api\.aws|awsapps\.com|amazoncognito\.com"
                     r"|elasticbeanstalk\.com|awsglobalaccelerator\.com|awsapprunner\.com)(?![A-Za-z0-9-])")
ORG_RE = re.compile(r"(?<![A-Za-z0-9-])(?:o-[a-z0-9]{10,32}|ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})(?![A-Za-z0-9-])")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MRK_RE = re.compile(r"^mrk-[0-9a-f]{32}$")
ZONE_RE = re.compile(r"^(?:/hostedzone/)?(Z[A-Z0-9]{8,32})$")
USER_POOL_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d_[A-Za-z0-9]{6,12}$")
IDENTITY_POOL_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d:[0-9a-f-]{36}$")
MI_RE = re.compile(r"(?<![A-Za-z0-9-])mi-[0-9a-f]{17}(?![A-Za-z0-9-])")
DBI_RE = re.compile(r"(?<![A-Za-z0-9-])(?:db|cluster)-[A-Z0-9]{26}(?![A-Za-z0-9-])")
REGION_RE = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$")
REGION_ABBR_RE = re.compile(r"^[a-z]{3,4}\d$")  # use1, apse2 (ElastiCache hosts)
PLACEHOLDER_LABELS = {"region", "region-code", "service", "service-id", "service-abbreviation", "endpoint"}

# Networks that are nobody's data: documentation ranges (RFC 5737, RFC
# 3849), loopback, link-local (IMDS, the Amazon DNS), the unspecified and
# broadcast addresses, and public resolvers.
PUBLIC_NETS = [ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "127.0.0.0/8", "169.254.0.0/16",
    "0.0.0.0/8", "255.0.0.0/8", "224.0.0.0/4", "2001:db8::/32")]
PUBLIC_IPS = {"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "208.67.222.222"}

# Services whose ARNs name AWS-owned things when the account is empty
# (`arn:aws:states:::lambda:invoke`) unlike those below, whose empty-account
# ARNs still name a customer's resource.
CUSTOMER_EMPTY_ACCOUNT = {"s3", "route53", "apigateway", "execute-api", "cloudfront", "waf", "wafv2", "globalaccelerator",
                          "identitystore"}
# Services whose empty-account ARNs are AWS's own, public resources.
AWS_OWNED_EMPTY_ACCOUNT = {"states", "health", "forecast", "controltower", "controlcatalog", "wellarchitected", "events"}

# `...Name` members that do not name a customer's resource.
NOT_RESOURCE_NAME_KEYS = {
    "RegionName", "ZoneName", "AvailabilityZoneName", "DeviceName", "MetricName", "EngineName", "PlatformName",
    "SolutionStackName", "AttributeName", "FilterName", "DimensionName", "StatisticName", "EventName",
    "ParameterName", "OptionName", "SettingName", "TagName", "ActionName", "MethodName", "HeaderName",
    "FieldName", "ColumnName", "ProductName", "DisplayName", "FriendlyName", "FileName", "ContentType",
    "LocationName", "GroupOwnerName", "InstanceTypeName", "VolumeTypeName", "ServicePrincipalName",
    "ResourceTypeName", "TypeName", "PropertyName", "OperationName", "PolicyTypeName", "AliasName",
    "ErrorName", "ReasonName", "CertificateAuthorityName", "DomainName", "RecordName", "Namespace",
    "FunctionVersionName", "RuntimeName", "LanguageName", "LocaleName", "ModelName", "FamilyName",
    "MetricStreamName", "SourceName", "PlatformVersionName", "StatusName", "StageName", "LayerName",
    "ClassName", "NodeName", "TableFieldName", "OptionGroupName", "DBParameterGroupName",
    "CacheParameterGroupName", "ParameterGroupName", "EngineVersionName", "VariableName",
    "AccountQuotaName", "ProcessName", "RootDeviceName", "VirtualName", "VTLDeviceProductIdentifier",
    "CACertificateIdentifier", "CertificateIdentifier", "LogFileName", "HttpName",
}
NOT_RESOURCE_NAME_KEYS_LOWER = {k.lower() for k in NOT_RESOURCE_NAME_KEYS}
# Values that are words, not names a customer picked to tell things apart.
STOP_VALUES = {"default", "test", "main", "master", "primary", "none", "all", "example", "true", "false",
               "string", "name", "value", "null", "admin", "public", "private", "ALL", "NONE",
               # The field's own name as its placeholder (`s3://bucket/key`):
               # the same text uses it as a word ("the bucket must be …").
               "bucket"}
# AWS managed policy names: AWS's, and the model must tell them apart.
AWS_MANAGED_POLICY_RE = re.compile(r"^(?:AWS|Amazon)[A-Za-z0-9]+|^(?:AdministratorAccess|ReadOnlyAccess|PowerUserAccess|"
                                   r"ViewOnlyAccess|SecurityAudit|IAMFullAccess|Billing|SupportUser|DatabaseAdministrator|"
                                   r"NetworkAdministrator|SystemAdministrator|DataScientist)$")


# Words after which a dotted quad is a version or a section number
# (`JDK 20.0.10.4`, `section 9.7.3.1`, `engine release 1.3.0.0`), as the
# engine's ip_addresses module reads them.
VERSION_WORDS = {"section", "sections", "version", "ver", "build", "release", "driver", "firmware",
                 "kernel", "jdk", "jre", "windows", "macos", "chrome", "firefox", "python", "node", "also"}


def after_version_word(text, start):
    m = re.search(r"(?:^|[^A-Za-z])([A-Za-z]{1,12}) $", text[max(0, start - 14):start])
    return text[max(0, start - 2):start] == "\u00a7 " or bool(m and m.group(1).lower() in VERSION_WORDS)


def is_example_ip(ip):
    """Documentation's made-up addresses, as the engine's ip_addresses
    module reads them: octets that count up or down by one (`1.2.3.4`,
    `101.102.103.104`), or digits that do (`123.45.67.89`); never a
    private or shared address."""
    o = [int(x) for x in ip.split(".")]
    if o[0] == 10 or (o[0] == 172 and 16 <= o[1] < 32) or (o[0] == 192 and o[1] == 168) or (o[0] == 100 and 64 <= o[1] < 128):
        return False
    d = [int(c) for c in ip if c.isdigit()]
    return any(all(b - a == step for a, b in zip(xs, xs[1:])) for xs in (o, d) for step in (1, -1))


def is_public_ip(text):
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return True  # not an address at all
    return text in PUBLIC_IPS or any(ip in n for n in PUBLIC_NETS if n.version == ip.version)


def is_netmask(text):
    try:
        n = int(ipaddress.IPv4Address(text))
    except ValueError:
        return False
    inv = n ^ 0xFFFFFFFF
    return n != 0 and (inv & (inv + 1)) == 0 and text.startswith("255.")


def arn_parts(a):
    m = ARN_RE.fullmatch(a)
    return m.groups() if m else None


def trim_arn(a):
    return a.rstrip(".:/")


def classify_arn(a):
    """'customer', 'aws' (AWS-owned, public) or 'placeholder'."""
    p = arn_parts(a)
    if not p:
        return "placeholder"
    _, service, region, account, resource = p
    if re.fullmatch(r"\d{12}", account):
        return "customer"
    if (account == "" and service in CUSTOMER_EMPTY_ACCOUNT and resource and not resource.startswith("*")
            and not any(c in a for c in "&<>[]{}?")):
        return "customer"
    if any(c in a for c in "&<>[]{}*?"):
        return "placeholder"
    if account == "aws":
        return "aws"
    if account == "":
        if (service in AWS_OWNED_EMPTY_ACCOUNT or (service == "ssm" and resource.startswith("parameter/aws/"))
                or (service == "rds" and resource.startswith("cert:"))):
            return "aws"
    # `account-id`, `<account>`, `${AWS::AccountId}`, `*`: a template, with
    # no customer value in the account place.
    return "placeholder"


class Labeller:
    """Finds customer values in strings, by shape and by the key they sit
    under. `endpoint_prefixes` are the host labels that name an AWS service
    endpoint, not a customer resource."""

    def __init__(self, endpoint_prefixes, name_keys):
        self.endpoints = set(endpoint_prefixes) | {
            "s3", "s3-website", "s3-accelerate", "dualstack", "fips", "s3-control", "s3-outposts",
            "amazonaws", "api", "runtime", "data", "vpce", "console", "signin", "portal", "sso", "oidc",
            "awsapps", "elb", "compute", "internal", "ec2", "aws"}
        self.name_keys = {k for k in name_keys if k.lower() not in NOT_RESOURCE_NAME_KEYS_LOWER}
        self.aws_owned = []  # AWS-owned ARNs and public IPs seen (near-miss material)

    def customer_host(self, host):
        labels = host.split(".")
        for suffix in (["amazonaws", "com", "cn"], ["amazonaws", "com"], ["cloudfront", "net"], ["on", "aws"],
                       ["api", "aws"], ["awsapps", "com"], ["amazoncognito", "com"], ["elasticbeanstalk", "com"],
                       ["awsglobalaccelerator", "com"], ["awsapprunner", "com"]):
            if labels[-len(suffix):] == suffix:
                rest = labels[:-len(suffix)]
                break
        else:
            return False
        if not rest:
            return False
        if labels[-2:] not in (["amazonaws", "com"], ["api", "aws"]) and labels[-3:-1] != ["amazonaws", "com"]:
            return True  # every host under those other domains is a customer's
        if len(rest) == 1:
            return False  # a service principal: `config.amazonaws.com`
        # A customer's host names a resource beside a region or the S3
        # endpoint (`mydb.c9x.us-east-1.rds...`, `bucket.s3.amazonaws.com`);
        # one without either is a service's (`procurement-insights.marketplace`).
        anchored = any(REGION_RE.match(x) or REGION_ABBR_RE.match(x) or x in ("s3", "compute-1")
                       or x.startswith(("s3-", "s3.")) or x.isdigit() for x in rest)
        return anchored and any(not self.endpoint_label(x) for x in rest)

    def endpoint_label(self, x):
        return (x in self.endpoints or REGION_RE.match(x) is not None or REGION_ABBR_RE.match(x) is not None
                or x in PLACEHOLDER_LABELS or x.startswith("s3-"))

    def by_shape(self, text, out):
        """Labels every value recognisable by its shape alone."""
        for m in ARN_RE.finditer(text):
            if text[m.end():m.end() + 1] in ("{", "<", "[") or "$" in m.group(0):
                continue  # cut at a template placeholder: not a whole ARN
            a = trim_arn(m.group(0))
            cls = classify_arn(a)
            if cls == "customer":
                out.append((a, "arns"))
                _, service, _, account, resource = arn_parts(a)
                if account:
                    out.append((account, "account_ids"))
                _, _, region, _, _ = arn_parts(a)
                if service == "s3" and not account and not region:
                    b = resource.split("/")[0]
                    if BUCKET_RE.match(b):
                        out.append((b, "s3_buckets"))
            elif cls == "aws":
                self.aws_owned.append(a)
        for m in ACCESS_KEY_RE.finditer(text):
            out.append((m.group(0), "access_keys"))
        for m in EC2_RE.finditer(text):
            out.append((m.group(0), "ec2_ids"))
        for m in MI_RE.finditer(text):
            out.append((m.group(0), "ssm_ids"))
        for m in DBI_RE.finditer(text):
            out.append((m.group(0), "rds_resource_ids"))
        for m in ORG_RE.finditer(text):
            out.append((m.group(0), "organizations"))
        for m in IPV4_RE.finditer(text):
            ip = m.group(0)
            if all(int(o) <= 255 for o in ip.split(".")):
                if (is_public_ip(ip) or is_netmask(ip) or is_example_ip(ip)
                        or after_version_word(text, m.start())):
                    self.aws_owned.append(ip)
                else:
                    out.append((ip, "ip_addresses"))
        for m in IPV6_RE.finditer(text):
            ip = m.group(0)
            try:
                ipaddress.IPv6Address(ip)
            except ValueError:
                continue
            if not is_public_ip(ip):
                out.append((ip, "ip_addresses"))
        for m in S3_URI_RE.finditer(text):
            if m.group(1) not in STOP_VALUES:
                out.append((m.group(1), "s3_buckets"))
        for m in HOST_RE.finditer(text):
            if self.customer_host(m.group(0)):
                out.append((m.group(0), "hostnames"))

    def by_key(self, service, key, value, out):
        """Labels a whole string value by the member it is the value of."""
        if not isinstance(key, str) or not value or any(c.isspace() for c in value) or len(value) > 2048:
            return
        low = key.lower()
        if re.fullmatch(r"\d{12}", value) and ("account" in low or "owner" in low or low in ("registryid", "id", "targetid", "principal", "aws")):
            out.append((value, "account_ids"))
        elif re.search(r"secret_?access_?key$|^secretkey$", low) and len(value) >= 16:
            out.append((value, "secret_keys"))
        elif low in ("sessiontoken", "session_token", "securitytoken") and len(value) >= 16:
            out.append((value, "session_tokens"))
        elif re.search(r"(^|[a-z])bucket(name)?$", low) and BUCKET_RE.match(value) and value not in STOP_VALUES:
            out.append((value, "s3_buckets"))
        elif (low.endswith("keyid") or low == "keyid") and service == "kms" and (UUID_RE.match(value) or MRK_RE.match(value)):
            out.append((value, "kms_keys"))
        elif low in ("hostedzoneid", "id", "zoneid") and ZONE_RE.match(value) and service == "route53":
            out.append((value, "route53_zones"))
        elif low in ("distributionid", "id") and service == "cloudfront" and re.fullmatch(r"E[A-Z0-9]{12,13}", value):
            out.append((value, "cloudfront_ids"))
        elif low in ("restapiid", "apiid", "id") and service in ("apigateway", "apigatewayv2") and re.fullmatch(r"[a-z0-9]{10}", value):
            out.append((value, "apigateway_ids"))
        elif low == "userpoolid" and USER_POOL_RE.match(value):
            out.append((value, "cognito"))
        elif low == "identitypoolid" and IDENTITY_POOL_RE.match(value):
            out.append((value, "cognito"))
        elif key in self.name_keys and self.is_resource_name(key, value):
            out.append((value, "named_resources"))

    @staticmethod
    def is_resource_name(key, value):
        if len(value) < 3 or len(value) > 256 or value in STOP_VALUES or value.isdigit():
            return False
        if value.startswith(("arn:", "com.amazonaws.", "aws.", "AWS/", "aws/", "/aws/service", "s3://", "http")):
            return False
        if any(c in value for c in "<>${}*\"'`,"):
            return False  # a placeholder or a pattern, not a name
        if key == "PolicyName" and AWS_MANAGED_POLICY_RE.match(value):
            return False
        if REGION_RE.match(value) or re.fullmatch(r"[a-z]{2}-[a-z]+-\d[a-z]", value):
            return False
        return True
