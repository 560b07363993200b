//! ARNs in every partition: `arn:partition:service:region:account:resource`.
//!
//! Anchored on the `:` of `arn:` (the catalog's pass over colons). The whole ARN is one match (so an account
//! id inside it is not masked separately), of kind `ARN_<SERVICE>`; a
//! service not in the table gives the generic kind `ARN`. The resource part
//! may hold `/ : - . _ + = , @ * ? ~`; it ends at white space, quotes,
//! brackets, a backtick, `, `, `,arn:` or any other byte, and trailing `.`, `,` or
//! `:` is punctuation, not part of the ARN. A templated ARN of IaC (a
//! `${…}` placeholder for its partition, region or account) is masked in
//! parts: its account and its resource name, not its placeholders.

use super::util::{before_is, m, WORD};
use super::{Family, Match};
#[cfg(test)]
use memchr::memmem::Finder;

const PARTITIONS: &[&[u8]] = &[
    b"aws",
    b"aws-cn",
    b"aws-us-gov",
    b"aws-iso",
    b"aws-iso-b",
    b"aws-iso-e",
    b"aws-iso-f",
    b"aws-eusc",
];

fn resource_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'/' | b':' | b'-' | b'.' | b'_' | b'+' | b'=' | b',' | b'@' | b'*' | b'?' | b'~'
        )
}

/// The end of the resource part that starts at `start`: it runs over
/// [`resource_byte`]s, stops at a `,` that ends it (before white space or
/// another `arn:`), and sheds a trailing byte of `punctuation`.
fn resource_end(text: &[u8], arn: usize, start: usize, punctuation: &[u8]) -> usize {
    // An ARN that is a field of a CSV row (`…,arn:aws:s3:::b,AwsS3Bucket`)
    // ends at the next comma: the columns after it are not its name.
    let csv = arn.checked_sub(1).and_then(|i| text.get(i)) == Some(&b',');
    let mut end = start;
    while let Some(&b) = text.get(end) {
        let comma_stop = b == b','
            && (csv
                || text.get(end + 1).is_none_or(|c| c.is_ascii_whitespace())
                || text.get(end + 1..end + 5) == Some(b"arn:"));
        if !resource_byte(b) || comma_stop {
            break;
        }
        end += 1;
    }
    while end > start && text.get(end - 1).is_some_and(|b| punctuation.contains(b)) {
        end -= 1;
    }
    end
}

/// The token kind of an ARN of `service`.
fn kind_of(service: &[u8]) -> &'static str {
    match SERVICE_KINDS.binary_search_by(|(s, _)| s.as_bytes().cmp(service)) {
        Ok(i) => SERVICE_KINDS.get(i).map_or("ARN", |(_, k)| k),
        Err(_) => "ARN",
    }
}

/// The field starting at `i` up to the next `:`, if its bytes all satisfy
/// `ok`; returns the field and the index after the colon.
fn field(text: &[u8], i: usize, max: usize, ok: impl Fn(u8) -> bool) -> Option<(&[u8], usize)> {
    let rest = text.get(i..)?;
    let n = rest.iter().take(max + 1).position(|&b| b == b':')?;
    let f = rest.get(..n)?;
    f.iter().all(|&b| ok(b)).then_some((f, i + n + 1))
}

/// Parses the ARN starting at `p` (the `a` of `arn:`); returns its end and
/// kind.
pub(super) fn parse_at(text: &[u8], p: usize) -> Option<(usize, &'static str)> {
    let (partition, i) = field(text, p + 4, 10, |b| b.is_ascii_lowercase() || b == b'-')?;
    if !PARTITIONS.contains(&partition) {
        return None;
    }
    let (service, i) = field(text, i, 40, |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
    })?;
    if service.is_empty() {
        return None;
    }
    // `*` is a wildcard of IAM policies (`arn:aws:logs:*:123456789012:*`):
    // the account beside it is still the customer's.
    let (region, i) = field(text, i, 30, |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'*'
    })?;
    let (account, start) = field(text, i, 20, |b| {
        b.is_ascii_alphanumeric() || b == b'-' || b == b'*'
    })?;
    let end = resource_end(text, p, start, b".,:");
    let resource = text.get(start..end).unwrap_or_default();
    if end == start || aws_owned(service, region, account, resource) {
        return None;
    }
    Some((end, kind_of(service)))
}

/// Whether an ARN names something AWS owns and publishes, the same for
/// every customer: managed policies (account `aws`), Step Functions
/// service integrations (`arn:aws:states:::lambda:invoke`), public SSM
/// parameters (`parameter/aws/service/…`), AWS Health's public events
/// (`arn:aws:health:us-east-1::event/EC2/…`) and the Control Catalog's
/// controls (`arn:aws:controlcatalog:::control/…`). The model needs to read
/// these (AdministratorAccess is not ReadOnlyAccess), and they reveal
/// nothing.
fn aws_owned(service: &[u8], region: &[u8], account: &[u8], resource: &[u8]) -> bool {
    account == b"aws"
        || (service == b"states" && region.is_empty() && account.is_empty())
        || (service == b"ssm" && account.is_empty() && resource.starts_with(b"parameter/aws/"))
        || (service == b"health" && account.is_empty() && resource.starts_with(b"event/"))
        || (service == b"controlcatalog" && account.is_empty())
        // Lambda's managed runtimes (`arn:aws:lambda:eu-west-1::runtime:…`).
        || (service == b"lambda" && account.is_empty() && resource.starts_with(b"runtime:"))
}

/// Appends every ARN in `text` (the reference for [`at_colon`]).
#[cfg(test)]
pub(super) fn find(text: &[u8], arn: &Finder<'static>, out: &mut Vec<Match<'_>>) {
    for p in arn.find_iter(text) {
        at_colon(text, p + 3, out);
    }
}

/// Appends the ARN whose `arn:` ends with the `:` at `colon`, if there is
/// one (the catalog calls it for every `:`).
pub(super) fn at_colon(text: &[u8], colon: usize, out: &mut Vec<Match<'_>>) {
    // Byte comparisons, not a slice comparison: this runs at every colon.
    let Some(p) = colon.checked_sub(3) else {
        return;
    };
    if !matches!(text.get(p..colon), Some([b'a', b'r', b'n'])) || before_is(&WORD, text, p) {
        return;
    }
    if let Some((end, kind)) = parse_at(text, p) {
        out.push(m(p, end, kind, Family::Arns));
    } else {
        templated_at(text, p, out);
    }
}

/// Longest template placeholder (`${data.aws_caller_identity.current.account_id}`).
const MAX_PLACEHOLDER: usize = 100;

/// The end of the template placeholder (`${…}`: CloudFormation
/// `${AWS::Region}`, Terraform `${var.region}`, Serverless `${aws:region}`,
/// CDK `${Stack.of(this).region}`; documentation's `[REGION]`,
/// `<account-id>`, `{region}`) that starts at `i`, if one does.
fn placeholder_end(text: &[u8], i: usize) -> Option<usize> {
    // Documentation's placeholders: `[REGION]`, `<region>`, `{account}`.
    if let Some(close) = match text.get(i) {
        Some(b'[') => Some(b']'),
        Some(b'<') => Some(b'>'),
        Some(b'{') => Some(b'}'),
        _ => None,
    } {
        let rest = text.get(i + 1..)?;
        let n = rest
            .iter()
            .take(41)
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))?;
        return (n > 0 && rest.get(n) == Some(&close)).then_some(i + 1 + n + 1);
    }
    if text.get(i..i + 2) != Some(b"${") {
        return None;
    }
    let rest = text.get(i + 2..)?;
    let n = rest
        .iter()
        .take(MAX_PLACEHOLDER)
        .position(|&b| b == b'}' || b == b'\n' || b == b'"')?;
    (rest.get(n) == Some(&b'}')).then_some(i + 2 + n + 1)
}

/// A field of a templated ARN from `i` to the next `:` outside a
/// placeholder: its end, whether it holds a placeholder, and the index
/// after the colon.
fn templated_field(
    text: &[u8],
    i: usize,
    max: usize,
    ok: impl Fn(u8) -> bool,
) -> Option<(usize, bool, usize)> {
    let (mut j, mut templated) = (i, false);
    while j - i <= max {
        if let Some(e) = placeholder_end(text, j) {
            (j, templated) = (e, true);
            continue;
        }
        match text.get(j) {
            Some(b':') => return Some((j, templated, j + 1)),
            Some(&b) if ok(b) => j += 1,
            _ => return None,
        }
    }
    None
}

/// Appends the customer parts of the templated ARN at `p` (an IaC ARN
/// whose partition, region or account is a placeholder:
/// `arn:${AWS::Partition}:iam::${AWS::AccountId}:role/deploy`): its
/// account when it is one, and its resource after the resource type (which
/// stays readable, as the placeholders do). A whole-ARN token would hide
/// the template from the model; a partial one keeps it.
fn templated_at(text: &[u8], p: usize, out: &mut Vec<Match<'_>>) {
    let lower_dash = |b: u8| b.is_ascii_lowercase() || b == b'-';
    let Some((pe, partition_t, i)) = templated_field(text, p + 4, 20, lower_dash) else {
        return;
    };
    let partition = text.get(p + 4..pe).unwrap_or_default();
    if !partition_t && !PARTITIONS.contains(&partition) {
        return;
    }
    let Some((service, i)) = field(text, i, 40, |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
    }) else {
        return;
    };
    let region_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'*';
    let region_start = i;
    let Some((re, region_t, i)) = templated_field(text, i, 120, region_ok) else {
        return;
    };
    let account_ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'*';
    let Some((ae, account_t, start)) = templated_field(text, i, 120, account_ok) else {
        return;
    };
    if service.is_empty() || !(partition_t || region_t || account_t) {
        return;
    }
    let region = text.get(region_start..re).unwrap_or_default();
    let account = text.get(i..ae).unwrap_or_default();
    if super::account_ids::is_account(account) {
        out.push(m(i, ae, "ACCOUNT", Family::Arns));
    }
    // The resource, up to its first placeholder or the ARN's end.
    let end = resource_end(text, p, start, b".,:/");
    let resource = text.get(start..end).unwrap_or_default();
    if aws_owned(service, region, account, resource) {
        return;
    }
    // `role/`, `function:`, `table/`, `parameter/`: the resource type.
    let typed = resource
        .iter()
        .position(|&b| b == b'/' || b == b':')
        .filter(|&n| {
            n > 0
                && resource
                    .get(..n)
                    .is_some_and(|t| t.iter().all(u8::is_ascii_alphabetic))
        })
        .map_or(start, |n| start + n + 1);
    let name = text.get(typed..end).unwrap_or_default();
    if name.iter().any(u8::is_ascii_alphanumeric) {
        out.push(m(typed, end, "ARN_RESOURCE", Family::Arns));
    }
}

/// ARN services with their token kinds, sorted by service for binary search.
pub(super) const SERVICE_KINDS: &[(&str, &str)] = &[
    ("access-analyzer", "ARN_ACCESS_ANALYZER"),
    ("acm", "ARN_ACM"),
    ("acm-pca", "ARN_ACM_PCA"),
    ("airflow", "ARN_AIRFLOW"),
    ("amplify", "ARN_AMPLIFY"),
    ("aoss", "ARN_AOSS"),
    ("apigateway", "ARN_APIGATEWAY"),
    ("app-integrations", "ARN_APP_INTEGRATIONS"),
    ("appconfig", "ARN_APPCONFIG"),
    ("appflow", "ARN_APPFLOW"),
    ("application-autoscaling", "ARN_APPLICATION_AUTOSCALING"),
    ("appmesh", "ARN_APPMESH"),
    ("apprunner", "ARN_APPRUNNER"),
    ("appstream", "ARN_APPSTREAM"),
    ("appsync", "ARN_APPSYNC"),
    ("aps", "ARN_APS"),
    ("athena", "ARN_ATHENA"),
    ("autoscaling", "ARN_AUTOSCALING"),
    ("backup", "ARN_BACKUP"),
    ("batch", "ARN_BATCH"),
    ("bedrock", "ARN_BEDROCK"),
    ("budgets", "ARN_BUDGETS"),
    ("cassandra", "ARN_CASSANDRA"),
    ("ce", "ARN_CE"),
    ("chime", "ARN_CHIME"),
    ("cloud9", "ARN_CLOUD9"),
    ("cloudformation", "ARN_CLOUDFORMATION"),
    ("cloudfront", "ARN_CLOUDFRONT"),
    ("cloudhsm", "ARN_CLOUDHSM"),
    ("cloudsearch", "ARN_CLOUDSEARCH"),
    ("cloudshell", "ARN_CLOUDSHELL"),
    ("cloudtrail", "ARN_CLOUDTRAIL"),
    ("cloudwatch", "ARN_CLOUDWATCH"),
    ("codeartifact", "ARN_CODEARTIFACT"),
    ("codebuild", "ARN_CODEBUILD"),
    ("codecommit", "ARN_CODECOMMIT"),
    ("codeconnections", "ARN_CODECONNECTIONS"),
    ("codedeploy", "ARN_CODEDEPLOY"),
    ("codeguru-reviewer", "ARN_CODEGURU_REVIEWER"),
    ("codepipeline", "ARN_CODEPIPELINE"),
    ("codestar-connections", "ARN_CODESTAR_CONNECTIONS"),
    ("cognito-identity", "ARN_COGNITO_IDENTITY"),
    ("cognito-idp", "ARN_COGNITO_IDP"),
    ("comprehend", "ARN_COMPREHEND"),
    ("config", "ARN_CONFIG"),
    ("connect", "ARN_CONNECT"),
    ("databrew", "ARN_DATABREW"),
    ("datasync", "ARN_DATASYNC"),
    ("dax", "ARN_DAX"),
    ("detective", "ARN_DETECTIVE"),
    ("devicefarm", "ARN_DEVICEFARM"),
    ("directconnect", "ARN_DIRECTCONNECT"),
    ("dlm", "ARN_DLM"),
    ("dms", "ARN_DMS"),
    ("docdb-elastic", "ARN_DOCDB_ELASTIC"),
    ("ds", "ARN_DS"),
    ("dynamodb", "ARN_DYNAMODB"),
    ("ebs", "ARN_EBS"),
    ("ec2", "ARN_EC2"),
    ("ecr", "ARN_ECR"),
    ("ecr-public", "ARN_ECR_PUBLIC"),
    ("ecs", "ARN_ECS"),
    ("eks", "ARN_EKS"),
    ("elasticache", "ARN_ELASTICACHE"),
    ("elasticbeanstalk", "ARN_ELASTICBEANSTALK"),
    ("elasticfilesystem", "ARN_ELASTICFILESYSTEM"),
    ("elasticloadbalancing", "ARN_ELASTICLOADBALANCING"),
    ("elasticmapreduce", "ARN_ELASTICMAPREDUCE"),
    ("elastictranscoder", "ARN_ELASTICTRANSCODER"),
    ("emr-containers", "ARN_EMR_CONTAINERS"),
    ("emr-serverless", "ARN_EMR_SERVERLESS"),
    ("es", "ARN_ES"),
    ("events", "ARN_EVENTS"),
    ("evidently", "ARN_EVIDENTLY"),
    ("execute-api", "ARN_EXECUTE_API"),
    ("firehose", "ARN_FIREHOSE"),
    ("fis", "ARN_FIS"),
    ("forecast", "ARN_FORECAST"),
    ("fsx", "ARN_FSX"),
    ("gamelift", "ARN_GAMELIFT"),
    ("glacier", "ARN_GLACIER"),
    ("globalaccelerator", "ARN_GLOBALACCELERATOR"),
    ("glue", "ARN_GLUE"),
    ("grafana", "ARN_GRAFANA"),
    ("greengrass", "ARN_GREENGRASS"),
    ("guardduty", "ARN_GUARDDUTY"),
    ("health", "ARN_HEALTH"),
    ("iam", "ARN_IAM"),
    ("identitystore", "ARN_IDENTITYSTORE"),
    ("imagebuilder", "ARN_IMAGEBUILDER"),
    ("inspector", "ARN_INSPECTOR"),
    ("inspector2", "ARN_INSPECTOR2"),
    ("iot", "ARN_IOT"),
    ("iotevents", "ARN_IOTEVENTS"),
    ("ivs", "ARN_IVS"),
    ("kafka", "ARN_KAFKA"),
    ("kafkaconnect", "ARN_KAFKACONNECT"),
    ("kendra", "ARN_KENDRA"),
    ("kinesis", "ARN_KINESIS"),
    ("kinesisanalytics", "ARN_KINESISANALYTICS"),
    ("kinesisvideo", "ARN_KINESISVIDEO"),
    ("kms", "ARN_KMS"),
    ("lakeformation", "ARN_LAKEFORMATION"),
    ("lambda", "ARN_LAMBDA"),
    ("lex", "ARN_LEX"),
    ("lightsail", "ARN_LIGHTSAIL"),
    ("logs", "ARN_LOGS"),
    ("macie2", "ARN_MACIE2"),
    ("mediaconvert", "ARN_MEDIACONVERT"),
    ("medialive", "ARN_MEDIALIVE"),
    ("mediapackage", "ARN_MEDIAPACKAGE"),
    ("mediastore", "ARN_MEDIASTORE"),
    ("memorydb", "ARN_MEMORYDB"),
    ("mq", "ARN_MQ"),
    ("neptune-db", "ARN_NEPTUNE_DB"),
    ("network-firewall", "ARN_NETWORK_FIREWALL"),
    ("networkmanager", "ARN_NETWORKMANAGER"),
    ("oam", "ARN_OAM"),
    ("opensearch", "ARN_OPENSEARCH"),
    ("organizations", "ARN_ORGANIZATIONS"),
    ("outposts", "ARN_OUTPOSTS"),
    ("personalize", "ARN_PERSONALIZE"),
    ("pinpoint", "ARN_PINPOINT"),
    ("pipes", "ARN_PIPES"),
    ("polly", "ARN_POLLY"),
    ("qldb", "ARN_QLDB"),
    ("quicksight", "ARN_QUICKSIGHT"),
    ("ram", "ARN_RAM"),
    ("rds", "ARN_RDS"),
    ("rds-db", "ARN_RDS_DB"),
    ("redshift", "ARN_REDSHIFT"),
    ("redshift-serverless", "ARN_REDSHIFT_SERVERLESS"),
    ("rekognition", "ARN_REKOGNITION"),
    ("resource-explorer-2", "ARN_RESOURCE_EXPLORER_2"),
    ("resource-groups", "ARN_RESOURCE_GROUPS"),
    ("rolesanywhere", "ARN_ROLESANYWHERE"),
    ("route53", "ARN_ROUTE53"),
    ("route53resolver", "ARN_ROUTE53RESOLVER"),
    ("rum", "ARN_RUM"),
    ("s3", "ARN_S3"),
    ("s3-object-lambda", "ARN_S3_OBJECT_LAMBDA"),
    ("s3-outposts", "ARN_S3_OUTPOSTS"),
    ("s3express", "ARN_S3EXPRESS"),
    ("sagemaker", "ARN_SAGEMAKER"),
    ("scheduler", "ARN_SCHEDULER"),
    ("schemas", "ARN_SCHEMAS"),
    ("sdb", "ARN_SDB"),
    ("secretsmanager", "ARN_SECRETSMANAGER"),
    ("securityhub", "ARN_SECURITYHUB"),
    ("serverlessrepo", "ARN_SERVERLESSREPO"),
    ("servicecatalog", "ARN_SERVICECATALOG"),
    ("servicediscovery", "ARN_SERVICEDISCOVERY"),
    ("ses", "ARN_SES"),
    ("shield", "ARN_SHIELD"),
    ("signer", "ARN_SIGNER"),
    ("sns", "ARN_SNS"),
    ("sqs", "ARN_SQS"),
    ("ssm", "ARN_SSM"),
    ("ssm-incidents", "ARN_SSM_INCIDENTS"),
    ("sso", "ARN_SSO"),
    ("sso-directory", "ARN_SSO_DIRECTORY"),
    ("states", "ARN_STATES"),
    ("storagegateway", "ARN_STORAGEGATEWAY"),
    ("sts", "ARN_STS"),
    ("support", "ARN_SUPPORT"),
    ("swf", "ARN_SWF"),
    ("synthetics", "ARN_SYNTHETICS"),
    ("tag", "ARN_TAG"),
    ("textract", "ARN_TEXTRACT"),
    ("timestream", "ARN_TIMESTREAM"),
    ("transcribe", "ARN_TRANSCRIBE"),
    ("transfer", "ARN_TRANSFER"),
    ("translate", "ARN_TRANSLATE"),
    ("vpc-lattice", "ARN_VPC_LATTICE"),
    ("waf", "ARN_WAF"),
    ("waf-regional", "ARN_WAF_REGIONAL"),
    ("wafv2", "ARN_WAFV2"),
    ("wellarchitected", "ARN_WELLARCHITECTED"),
    ("workspaces", "ARN_WORKSPACES"),
    ("xray", "ARN_XRAY"),
];

#[cfg(test)]
mod tests {
    use super::super::tests::kinds_of;
    use super::*;

    fn found(input: &str) -> Vec<(&str, &str)> {
        let arn = Finder::new(b"arn:").into_owned();
        kinds_of(input, |b, out| find(b, &arn, out))
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("role arn:aws:iam::123456789012:role/Admin now", &["arn:aws:iam::123456789012:role/Admin"]),
            ("\"arn:aws:s3:::my-bucket/key.txt\",", &["arn:aws:s3:::my-bucket/key.txt"]),
            ("(arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-0123abcd).", &["arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-0123abcd"]),
            ("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:fn:PROD.", &["arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:fn:PROD"]),
            ("arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com, next", &["arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com"]),
            ("[arn:aws:sqs:us-east-1:123456789012:q1,arn:aws:sqs:us-east-1:123456789012:q2]", &["arn:aws:sqs:us-east-1:123456789012:q1", "arn:aws:sqs:us-east-1:123456789012:q2"]),
            ("`arn:aws:iam::123456789012:policy/*`", &["arn:aws:iam::123456789012:policy/*"]),
            ("arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/payments-alb/50dc6c495c0c9188>", &["arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/payments-alb/50dc6c495c0c9188"]),
            ("arn:aws-iso-b:s3:::b", &["arn:aws-iso-b:s3:::b"]),
            // IAM wildcards: the account is still the customer's.
            ("\"Resource\": \"arn:aws:logs:*:123456789012:*\"", &["arn:aws:logs:*:123456789012:*"]),
            ("arn:aws:dynamodb:us-east-1:*:table/orders", &["arn:aws:dynamodb:us-east-1:*:table/orders"]),
            // Owned and published by AWS: readable.
            ("arn:aws:iam::aws:policy/AdministratorAccess", &[]),
            ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", &[]),
            ("\"Resource\": \"arn:aws:states:::lambda:invoke\"", &[]),
            ("arn:aws:ssm:us-east-1::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", &[]),
            ("arn:aws:health:us-east-1::event/EC2/EC2_INSTANCE_RETIREMENT_SCHEDULED/EC2_INSTANCE_RETIREMENT_SCHEDULED_ABC123-DEF456", &[]),
            ("arn:aws:controlcatalog:::control/5kvme4m5d2b4d7if2fs5yg2ui", &[]),
            ("INIT_START Runtime Version: python:3.12.v27 Runtime Version ARN: arn:aws:lambda:eu-west-1::runtime:5c0a1f2e3d4b5a69", &[]),
            // A field of a CSV row ends at the comma; IAM names keep theirs.
            ("884036592425,HIGH,arn:aws:s3:::tidewater-site,AwsS3Bucket", &["arn:aws:s3:::tidewater-site"]),
            ("arn:aws:iam::123456789012:user/a,b", &["arn:aws:iam::123456789012:user/a,b"]),
            // Customer ARNs that look alike stay masked.
            ("arn:aws:states:us-east-1:123456789012:stateMachine:orders", &["arn:aws:states:us-east-1:123456789012:stateMachine:orders"]),
            ("arn:aws:ssm:us-east-1:123456789012:parameter/aws/app", &["arn:aws:ssm:us-east-1:123456789012:parameter/aws/app"]),
            ("arn:aws:iam::123456789012:policy/aws", &["arn:aws:iam::123456789012:policy/aws"]),
            ("arn:aws:health:us-east-1:123456789012:event/EC2/x", &["arn:aws:health:us-east-1:123456789012:event/EC2/x"]),
            // Near misses.
            ("arn: a note", &[]),
            ("warn:aws:iam::123456789012:role/x", &[]),
            ("arn:azure:iam::123456789012:role/x", &[]),
            ("arn:aws:iam::123456789012:", &[]),
            ("arn:aws::us-east-1:1:x", &[]),
        ];
        for (input, want) in cases {
            let got: Vec<&str> = found(input).iter().map(|v| v.0).collect();
            assert_eq!(got, *want, "{input}");
        }
    }

    /// Templated ARNs keep their placeholders and resource type readable;
    /// their account and resource name are masked.
    #[test]
    fn templated_arns() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/export-billing-v9",
                &[("export-billing-v9", "ARN_RESOURCE")],
            ),
            (
                "arn:${AWS::Partition}:iam::557494629783:role/invoices-qa",
                &[("557494629783", "ACCOUNT"), ("invoices-qa", "ARN_RESOURCE")],
            ),
            (
                "\"arn:aws:dynamodb:${aws:region}:${aws:accountId}:table/Audit\"",
                &[("Audit", "ARN_RESOURCE")],
            ),
            (
                "arn:aws:lambda:${Stack.of(this).region}:830907822109:function:notify-v5",
                &[("830907822109", "ACCOUNT"), ("notify-v5", "ARN_RESOURCE")],
            ),
            (
                "arn:aws:ssm:${AWS::Region}:${AWS::AccountId}:parameter/stg/fraud/*",
                &[("stg/fraud/*", "ARN_RESOURCE")],
            ),
            ("arn:aws:s3:::${BucketName}/*", &[]),
            (
                "arn:aws:cloudwatch:[REGION]:123456789012:alarm:WebServerCPUAlarm",
                &[
                    ("123456789012", "ACCOUNT"),
                    ("WebServerCPUAlarm", "ARN_RESOURCE"),
                ],
            ),
            (
                "arn:aws:iam::<account-id>:role/deployer",
                &[("deployer", "ARN_RESOURCE")],
            ),
            // AWS-owned, or nothing of the customer's: left alone.
            ("arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess", &[]),
            ("arn:aws:logs:${AWS::Region}:${AWS::AccountId}:*", &[]),
            // Not a template: the strict parser's (or nobody's).
            ("arn:${x", &[]),
            ("arn:foo:iam::${AWS::AccountId}:role/x", &[]),
        ];
        for (input, want) in cases {
            let mut got = found(input);
            got.sort_by_key(|(v, _)| input.find(v));
            assert_eq!(got, *want, "{input}");
        }
    }

    #[test]
    fn kinds() {
        assert_eq!(found("arn:aws:iam::123456789012:role/x")[0].1, "ARN_IAM");
        assert_eq!(
            found("arn:aws:cognito-idp:us-east-1:123456789012:userpool/x")[0].1,
            "ARN_COGNITO_IDP"
        );
        assert_eq!(
            found("arn:aws:newsvc:us-east-1:123456789012:thing/x")[0].1,
            "ARN"
        );
        assert!(SERVICE_KINDS.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
