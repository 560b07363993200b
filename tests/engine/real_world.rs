//! Texts as developers paste them or their tools print them, each with
//! the values that must not reach the provider: masked as a text body and
//! as the `tool_result` of a Claude Code request, none of them survives,
//! and both restore byte for byte. Each row is a form a leak hunt found
//! (issue #13), cut down to the least text that leaked.

use super::{engine, tool_result};
use aws_masker::mask::{BodyKind, MaskReport};
use aws_masker::restore::{restore_bytes, restore_json, Escape};

/// A text and the values in it that must be masked.
type Case = (&'static str, &'static [&'static str]);

const CASES: &[Case] = &[
    // JSON written by PHP's json_encode: every `/` escaped.
    (
        r#"{"SecretAccessKey":"AT0mzM\/+ufvd3IJI0vmhZEVUbncW6fK8kEKkcfc6"}"#,
        &[r"AT0mzM\/+ufvd3IJI0vmhZEVUbncW6fK8kEKkcfc6", "ufvd3IJI0vmhZEVUbncW6fK8kEKkcfc6"],
    ),
    (
        r#"{"role":"arn:aws:iam::123456789012:role\/media-transcoder"}"#,
        &["123456789012", "media-transcoder"],
    ),
    (
        r#"{"QueueUrl":"https:\/\/sqs.us-east-1.amazonaws.com\/123456789012\/transcode-done"}"#,
        &["123456789012", "transcode-done"],
    ),
    // Console fragments write `%` as `$25`; Logs Insights links as `*`.
    (
        "https://console.aws.amazon.com/iam/home#/roles?r=arn$253Aaws$253Aiam$253A$253A123456789012$253Arole$252Fapp-role",
        &["123456789012", "app-role"],
    ),
    (
        "#logsV2:logs-insights$3FqueryDetail$3D~(source~(~'arn*3aaws*3alogs*3aus-east-1*3a123456789012*3alog-group*3a*2fecs*2fbilling-api))",
        &["123456789012"],
    ),
    // Secret keys under labels that are no key word of the SDKs.
    (
        "Access Key: AKIAQ3EGRJ5XUSFMYZ7A\nSecret Key: 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",
        &["AKIAQ3EGRJ5XUSFMYZ7A", "t+RoHAUaw+ork8g6Dcovq7n/C5SZujC+atuFeCTu"],
    ),
    (
        "AWS secret key = AT0mzM/+ufvd3IJI0vmhZEVUbncW6fK8kEKkcfc6",
        &["AT0mzM/+ufvd3IJI0vmhZEVUbncW6fK8kEKkcfc6"],
    ),
    (
        "export AWS_SECRET=AT0mzM/+ufvd3IJI0vmhZEVUbncW6fK8kEKkcfc6\nS3_SECRET=t+RoHAUaw+ork8g6Dcovq7n/C5SZujC+atuFeCTu",
        &["AT0mzM/+ufvd3IJI0vmhZEVUbncW6fK8kEKkcfc6", "t+RoHAUaw+ork8g6Dcovq7n/C5SZujC+atuFeCTu"],
    ),
    (
        "jdbc:awsathena://athena.us-east-1.amazonaws.com:443;User=AKIAQ3EGRJ5XUSFMYZ7A;Password=t+RoHAUaw+ork8g6Dcovq7n/C5SZujC+atuFeCTu;S3OutputLocation=s3://athena-results-x1/",
        &["AKIAQ3EGRJ5XUSFMYZ7A", "t+RoHAUaw+ork8g6Dcovq7n/C5SZujC+atuFeCTu"],
    ),
    // A tool's JSON output quoted as a tool result's text: read as the
    // JSON it is (lists by their key, tags by their `Key`, a document
    // inside a literal of it).
    (
        "{\n    \"TableNames\": [\n        \"contoso-carts\",\n        \"contoso-orders\"\n    ]\n}\n",
        &["contoso-carts", "contoso-orders"],
    ),
    (
        r#"{"Tags": [{"Key": "Name", "Value": "web-frontend-1"}], "imageManifest": "{\"name\": \"ubuntu-repo\"}", "repositoryName": "ubuntu-repo"}"#,
        &["web-frontend-1", "ubuntu-repo"],
    ),
    // Hadoop's and Spark's S3 schemes.
    (
        "df = spark.read.parquet(\"s3a://margie-events-curated/2024/\")\nold = \"s3n://margie-events-legacy/x\"",
        &["margie-events-curated", "margie-events-legacy"],
    ),
    // Terraform: `name` of an AWS resource or data source, not of others.
    (
        "resource \"aws_dynamodb_table\" \"carts\" {\n  name         = \"contoso-media-tbl\"\n  hash_key     = \"id\"\n}\n\ndata \"aws_iam_role\" \"r\" { name = \"deployer-role\" }\n",
        &["contoso-media-tbl", "deployer-role"],
    ),
    // An SSM parameter's name is a path.
    (
        "$ aws ssm get-parameter --name /woodgrove/prod/rate-limit --with-decryption",
        &["/woodgrove/prod/rate-limit"],
    ),
    // Log groups named by AWS's conventions, with no key around them.
    (
        "$ aws logs tail /ecs/relecloud-booking-api --follow\n\"awslogs-group\": \"/aws/lambda/claims-intake-prod\"",
        &["relecloud-booking-api", "claims-intake-prod"],
    ),
    // Application settings naming a resource with its service's name.
    (
        "[orders]\nsqs_queue_name = litware-order-events\ndynamodb_table = litware-order-state\nlambda_function = litware-order-enricher\nORDERS_DYNAMODB_TABLE=litware-orders-v2\n",
        &["litware-order-events", "litware-order-state", "litware-order-enricher", "litware-orders-v2"],
    ),
    // Load balancers in ALB access logs and CloudWatch dimensions.
    (
        "https 2024-06-11T10:00:01Z app/shop-prod-alb/cb0bd3d4fa182cd9 203.0.113.9:51234 10.0.1.12:8080\n{\"Name\": \"TargetGroup\", \"Value\": \"targetgroup/storefront-web/943f017f100becff\"}",
        &["shop-prod-alb", "storefront-web"],
    ),
    // A tool's pretty-printed JSON after the command that printed it.
    (
        "$ aws dynamodb list-tables\n{\n    \"TableNames\": [\n        \"contoso-carts\",\n        \"ContosoInventory\"\n    ]\n}\n$ echo done\n",
        &["contoso-carts", "ContosoInventory"],
    ),
    // JSON read literal by literal still sees what the text around a
    // value said: an account under a key that says so, a hosted zone's
    // path under `Id`.
    (
        r#"{"accountSettings": {"awsAccountNumber": "123456789101"}, "HostedZones": [{"Id": "/hostedzone/ZNDMLTTG5RR2HER"}]}"#,
        &["123456789101", "ZNDMLTTG5RR2HER"],
    ),
    // Terraform's AWS provider naming a resource in an error.
    (
        "│ Error: creating DynamoDB Table (loyalty-points-ledger): operation error\n│ Error: creating S3 Bucket (blueyonder-static-prd): BucketAlreadyExists",
        &["loyalty-points-ledger", "blueyonder-static-prd"],
    ),
    // `aws` not first on its line: in backticks, after a shell history's
    // number, `sudo`, an env assignment, a Dockerfile's `RUN`; and the
    // plural and less common flags.
    (
        "Run `aws ecs update-service --cluster halcyon-prod --service checkout-web` again.",
        &["halcyon-prod", "checkout-web"],
    ),
    (
        "  205  aws events put-rule --name kestrel-reconcile-job --schedule-expression 'rate(1 hour)'\n  206  sudo aws ecs describe-services --cluster prod-x --services payout-worker\n",
        &["kestrel-reconcile-job", "prod-x", "payout-worker"],
    ),
    (
        "AWS_PROFILE=ops aws elbv2 describe-target-groups --names halcyon-checkout-tg\nRUN aws ecs register-task-definition --task-definition quarry-etl:7 --rule nightly-sync-rule\n",
        &["halcyon-checkout-tg", "quarry-etl", "nightly-sync-rule"],
    ),
    // `--query … --output text`: only the query says what the fields
    // are; a terminal may have turned the tabs into spaces.
    (
        "$ aws lambda list-functions --query 'Functions[].FunctionName' --output text\norders-api-handler\tstripe-webhook-ingest\n$ aws organizations list-accounts --query 'Accounts[].[Id,Name]' --output text\n344711152332\tferncrest-log-archive\n",
        &["orders-api-handler", "stripe-webhook-ingest", "344711152332", "ferncrest-log-archive"],
    ),
    (
        "bash-5.2$ aws s3api list-buckets --query 'Buckets[].Name' --output text\nacme-prod-billing-exports       acme-staging-assets\nbash-5.2$ aws route53 list-hosted-zones --query 'HostedZones[].[Id,Config.PrivateZone]' --output text\n/hostedzone/Z04417312KQ7X3PL9MNB0\tFalse\n",
        &["acme-prod-billing-exports", "acme-staging-assets", "Z04417312KQ7X3PL9MNB0"],
    ),
    (
        "$ aws ec2 describe-instances --query \"Reservations[].Instances[].[InstanceId,Tags[?Key=='Name'].Value|[0]]\" --output text\ni-0a1b2c3d4e5f60718\tkafka-broker-1\n$ aws ssm get-parameters-by-path --path /p/ --query 'Parameters[].[Name,Type]' --output text\n/pinewood/prod/db-host\tString\n$ aws ssm get-parameter --name /p/db --with-decryption --query Parameter.Value --output text\nvK7#pq!Lz2@mWr9\n",
        &["kafka-broker-1", "/pinewood/prod/db-host", "vK7#pq!Lz2@mWr9"],
    ),
    (
        "$ aws eks list-clusters --output text\nCLUSTERS\tquarry-eks-sandbox\n",
        &["quarry-eks-sandbox"],
    ),
    // Tables: a one-column list under its plural, a nested table whose
    // rules have no `|`, column titles as people write them, code spans.
    (
        "||        TableNames         ||\n|+---------------------------+|\n||  halcyon-idempotency-keys ||\n||  HalcyonFeatureFlags      ||\n|+---------------------------+|\n",
        &["halcyon-idempotency-keys", "HalcyonFeatureFlags"],
    ),
    (
        "||   accountId   |      accountName         |     emailAddress       ||\n|+---------------+--------------------------+------------------------+|\n||  168494888361 |  ferncrest-prod          |  aws+prod@ferncrest.io ||\n",
        &["168494888361", "ferncrest-prod"],
    ),
    (
        "| Account name        | Account ID   | OU  |\n|---------------------|--------------|-----|\n| ferncrest-mgmt      | 792448538713 | Root |\n\n|Role|Trusted by|\n|-|-|\n|deploy-from-gitlab|lambda.amazonaws.com|\n\n| Bucket | Region |\n| --- | --- |\n| `halcyon-user-uploads` | us-west-2 |\n",
        &["ferncrest-mgmt", "792448538713", "deploy-from-gitlab", "halcyon-user-uploads"],
    ),
    // IAM Identity Center's token cache (~/.aws/sso/cache/*.json).
    (
        r#"{"startUrl": "https://d-9067a1b2c3.awsapps.com/start", "accessToken": "aoaAAAAAGZyK9x2Lm7QwE3rT5yU8iO0pA1sD4fG6hJ9kL2zX5cV7bN0mQ3wE6:MGUCMQDk8x2", "refreshToken": "aorAAAAAGZyL0y3Mn8RxF4sU6zV9jP1qB2tE5gH7iK0lM3aY6dW8cO1nR4x"}"#,
        &["aoaAAAAAGZyK9x2Lm7QwE3rT5yU8iO0pA1sD4fG6hJ9kL2zX5cV7bN0mQ3wE6", "aorAAAAAGZyL0y3Mn8RxF4sU6zV9jP1qB2tE5gH7iK0lM3aY6dW8cO1nR4x"],
    ),
    // Console links: the console's own words say what the next part
    // names.
    (
        "Open https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/orders-api-handler?tab=monitoring and https://us-east-1.console.aws.amazon.com/iam/home#/roles/details/orders-api-handler-role-7hx2kq1m?section=permissions",
        &["orders-api-handler", "orders-api-handler-role-7hx2kq1m"],
    ),
    (
        "https://s3.console.aws.amazon.com/s3/buckets/acme-prod-billing-exports?region=us-east-1&prefix=cur/\nhttps://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fstripe-webhook-ingest/log-events\nhttps://console.aws.amazon.com/dynamodbv2/home?region=us-west-2#table?name=halcyon-carts-prod\nhttps://us-west-2.console.aws.amazon.com/ecs/v2/clusters/halcyon-prod/services/checkout-web/health\n",
        &["acme-prod-billing-exports", "stripe-webhook-ingest", "halcyon-carts-prod", "halcyon-prod", "checkout-web"],
    ),
    // A name an ARN gave, when the ARN ends in a qualifier (a Lambda
    // version, a log group's `:*`), is masked where it stands alone.
    (
        "functions:\n  csvIngest: pinewood-imports-dev-csvIngest\nStack Outputs:\n  CsvIngestLambdaFunctionQualifiedArn: arn:aws:lambda:eu-central-1:722026593455:function:pinewood-imports-dev-csvIngest:12\n",
        &["pinewood-imports-dev-csvIngest", "722026593455"],
    ),
    (
        "LOGGROUPS\tarn:aws:logs:us-east-1:362293031823:log-group:/custom/quarry-etl:*\t1699990031442\t/custom/quarry-etl\n",
        &["/custom/quarry-etl", "362293031823"],
    ),
    // An image's repository after its ECR registry; a setting naming it.
    (
        "image: 722026593455.dkr.ecr.eu-central-1.amazonaws.com/pinewood/checkout:2024.06.18-3\necr_repo = \"bluefin/scoring-api\"\n",
        &["pinewood/checkout", "bluefin/scoring-api", "722026593455"],
    ),
    // Deploy tools' output: CDK's `Stack.Output = value`, the stack that
    // Serverless and SAM name.
    (
        "Outputs:\nHalcyonApiStack.AssetsBucketName = halcyonapistack-assetsbucket5cb76180-1xq7z0wkmd3pa\nHalcyonApiStack.UserPoolClientId = 4m2k9q8r7t6y5u4i3o2p1a0s9d\n",
        &["halcyonapistack-assetsbucket5cb76180-1xq7z0wkmd3pa", "4m2k9q8r7t6y5u4i3o2p1a0s9d"],
    ),
    (
        "✔ Service deployed to stack orbitly-notifications-prod (94s)\n\tStack name                   : lumen-media-api\nSuccessfully created/updated stack - bluefin-scoring in us-west-2\n",
        &["orbitly-notifications-prod", "lumen-media-api", "bluefin-scoring"],
    ),
    // CSV exports: values by their column's title; an ARN that is a
    // field ends at its comma, so the account it names spreads.
    (
        "Service,LinkedAccount,LinkedAccountName,UsageType,2024-06\nAWS Lambda,729563178897,bluefin-dev,USE1-Lambda-GB-Second,15.41\n",
        &["729563178897", "bluefin-dev"],
    ),
    (
        "Id,Arn,Email,Name,Status\n344711152332,arn:aws:organizations::792448538713:account/o-7kq2mx9zpl/344711152332,aws+logs@ferncrest.io,ferncrest-log-archive,ACTIVE\n",
        &["344711152332", "792448538713", "ferncrest-log-archive"],
    ),
    (
        "$ aws s3api list-buckets --query 'Buckets[].Name' --output text\nacme-prod-billing-exports       acme-staging-assets\n",
        &["acme-prod-billing-exports", "acme-staging-assets"],
    ),
    // SDK calls: boto3's SSM `Name=`, CDK's lookups, the Java SDK v1.
    (
        "value = ssm.get_parameter(Name='/kestrel/prod/db-password', WithDecryption=True)\nt = dynamodb.Table.fromTableName(this, 'Runs', 'kestrel-report-runs');\nlegacy.putObject(\"orbitly-invoices-archive\", key, file);\n",
        &["/kestrel/prod/db-password", "kestrel-report-runs", "orbitly-invoices-archive"],
    ),
    // Serverless' settings: a table or queue by an env var's ending.
    (
        "ORDERS_TABLE=pinewood-orders-local\nDYNAMO_TABLE: halcyon-carts-prod\nJOBS_QUEUE=halcyon-jobs\n",
        &["pinewood-orders-local", "halcyon-carts-prod", "halcyon-jobs"],
    ),
];

/// Texts in which nothing may be masked: what the rules above take must
/// not be taken where its context is missing.
const CLEAN: &[&str] = &[
    "symbol_table = build(tokens2)\njob_queue = queue.Queue(maxsize=10)\n",
    "class Stack:\n    def push(self, x):\n        self.top = x - 1\n        Config.max_depth = depth2\n",
    "interface Session {\n  accessToken: string;\n  refreshToken?: string | null;\n}\nconst accessToken = await getAccessToken(refreshToken);\n",
    // A header row is no key | value pair: its titles stay.
    "|  AllocationId   |  AssociationId   |  NetworkInterfaceId  |\n+-----------------+------------------+----------------------+\n",
    "$ aws lambda list-functions --query 'Functions[].[Runtime,MemorySize]' --output text\npython3.12\t512\n",
    "resource \"aws_s3_bucket\" \"b\" {\n  bucket = var.bucket\n}\n\nresource \"random_pet\" \"p\" {\n  name = \"pet-name-1\"\n}\n",
    "def greet(name=\"alice-smith\"):\n    return name\n",
    "MyFunctionName: foo-bar\nsrc/app/models/0123456789abcdef\n",
    "Error: creating the cache directory (tmp-cache): permission denied\n[\n  \"not\", \"aws\"\n]\n",
    "see hdfs://namenode/a and s3x://not-a-scheme/b",
    "aws ssm get-parameter --name /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
    "aws ecr get-login-password | docker login --username AWS --password-stdin registry.example.com",
];

/// Whether `value` stands in `text` as a whole word (not inside a token
/// or a longer value).
fn stands_in(text: &str, value: &str) -> bool {
    let word = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    text.match_indices(value).any(|(at, _)| {
        !word(text.as_bytes().get(at.wrapping_sub(1)).copied())
            && !word(text.as_bytes().get(at + value.len()).copied())
    })
}

#[test]
fn real_world_forms_leak_nothing_and_round_trip() {
    let e = engine();
    let mut failures = Vec::new();
    for (text, values) in CASES {
        for kind in [BodyKind::Text, BodyKind::Json] {
            let body = match kind {
                BodyKind::Json => tool_result::request(text),
                _ => text.as_bytes().to_vec(),
            };
            let mut tokens = e.new_token_map();
            let masked = e
                .mask_body(&body, kind, &mut tokens, &mut MaskReport::default())
                .unwrap()
                .unwrap_or_else(|| body.clone());
            let seen = match kind {
                BodyKind::Json => tool_result::text_of(&masked),
                _ => String::from_utf8(masked.clone()).unwrap(),
            };
            for value in *values {
                if stands_in(&seen, value) {
                    failures.push(format!("{kind:?}: {value} in {seen}"));
                }
            }
            let restored = match kind {
                BodyKind::Json => restore_json(&tokens, &masked, false).0,
                _ => restore_bytes(&tokens, &masked, Escape::Raw),
            };
            let restored = restored.unwrap_or(masked);
            // A text that is JSON is masked through its literals' escapes,
            // and comes back up to their spelling (`\/` as `/`).
            let as_json = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).ok();
            assert!(
                restored == body || as_json(&body).is_some_and(|v| Some(v) == as_json(&restored)),
                "{kind:?} round trip of {text}: {}",
                String::from_utf8_lossy(&restored)
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} leaks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `text` masked as a text body (`None`: nothing to mask).
fn mask_text(e: &aws_masker::mask::Engine, text: &str) -> Option<Vec<u8>> {
    e.mask_body(
        text.as_bytes(),
        BodyKind::Text,
        &mut e.new_token_map(),
        &mut MaskReport::default(),
    )
    .unwrap()
}

#[test]
fn texts_without_context_stay_as_they_are() {
    let e = engine();
    for text in CLEAN {
        let masked = mask_text(&e, text);
        assert!(
            masked.is_none(),
            "{text}\nmasked: {}",
            String::from_utf8_lossy(&masked.unwrap())
        );
    }
}

/// Texts where some values must be masked and others, AWS's own, must
/// stay readable beside them: (text, masked, kept).
const KEPT: &[(&str, &[&str], &[&str])] = &[
    // A region in an SSO role's path is not learned as a name.
    (
        r#"{"roleArn": "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0a1b2c3d4e5f6a7b", "awsRegion": "eu-west-1"}
aws s3 ls --region eu-west-1"#,
        &["123456789012", "AWSReservedSSO_Admin_0a1b2c3d4e5f6a7b"],
        &["\"awsRegion\": \"eu-west-1\"", "--region eu-west-1"],
    ),
];

#[test]
fn aws_owned_values_stay_beside_masked_ones() {
    let e = engine();
    for (text, masked_values, kept) in KEPT {
        let masked = mask_text(&e, text).unwrap_or_else(|| text.as_bytes().to_vec());
        let masked = String::from_utf8(masked).unwrap();
        for value in *masked_values {
            assert!(!stands_in(&masked, value), "{value} leaks in {masked}");
        }
        for value in *kept {
            assert!(masked.contains(value), "{value} was masked in {masked}");
        }
    }
}

/// Claude Code's shape: the Bash tool's command in the assistant's
/// `tool_use`, its output in the user's `tool_result` with the same id.
/// Only the query says what the output's fields are.
#[test]
fn query_output_is_read_with_the_command_of_its_tool_use() {
    let e = engine();
    // Written out, not built with `json!` (which sorts keys): clients put
    // `id` before `input` and `tool_use_id` before `content`.
    let body = r#"{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[
{"role":"user","content":"which lambdas do we have?"},
{"role":"assistant","content":[{"type":"text","text":"Let me list them."},
 {"type":"tool_use","id":"toolu_01A","name":"Bash","input":{"command":"aws lambda list-functions --query 'Functions[].[FunctionName,Runtime]' --output text","description":"List functions"}},
 {"type":"tool_use","id":"toolu_01B","name":"Bash","input":{"command":"ls -la","description":"List files"}}]},
{"role":"user","content":[
 {"type":"tool_result","tool_use_id":"toolu_01B","content":"total 0\nwhat-ever.txt"},
 {"type":"tool_result","tool_use_id":"toolu_01A","content":"orders-api-handler\tnodejs20.x\nstripe-webhook-ingest\tpython3.12\n"},
 {"type":"text","text":"why is stripe-webhook-ingest slow? what do you think?"}]}]}"#
        .to_string();
    let mut tokens = e.new_token_map();
    let masked = e
        .mask_body(
            body.as_bytes(),
            BodyKind::Json,
            &mut tokens,
            &mut MaskReport::default(),
        )
        .unwrap()
        .unwrap();
    let seen = String::from_utf8(masked.clone()).unwrap();
    for value in ["orders-api-handler", "stripe-webhook-ingest"] {
        assert!(!stands_in(&seen, value), "{value} leaks in {seen}");
    }
    for kept in [
        "nodejs20.x",
        "what-ever.txt",
        "what do you think?",
        "Let me list them.",
    ] {
        assert!(seen.contains(kept), "{kept} was masked in {seen}");
    }
    let restored = restore_json(&tokens, &masked, false).0.unwrap();
    assert_eq!(restored, body.as_bytes());
}
