#!/usr/bin/env python3
"""Generate the evidra demo estate (examples/demo/) and, with --fixtures, the small
test fixtures (tests/fixtures/files/ and tests/fixtures/malformed/).

Every file is written in the exact shape the AWS CLI (v2, default JSON output) or
AWS Config (configuration snapshot delivered to S3) produces:

  iam/credential-report.csv              `aws iam get-credential-report`, Content base64-decoded
  iam/account-authorization-details.json `aws iam get-account-authorization-details`
  iam/password-policy.json               `aws iam get-account-password-policy`
  iam/account-summary.json               `aws iam get-account-summary`
  iam/virtual-mfa-devices.json           `aws iam list-virtual-mfa-devices`
  config/<region>/configuration-recorders.json        `aws configservice describe-configuration-recorders`
  config/<region>/configuration-recorder-status.json  `aws configservice describe-configuration-recorder-status`
  config/<region>/delivery-channels.json `aws configservice describe-delivery-channels`
  config/<region>/config-rules.json      `aws configservice describe-config-rules`
  config/<region>/config-rule-compliance.json  `aws configservice describe-compliance-by-config-rule`
  config/<region>/config-snapshot.json   a configuration snapshot as AWS Config delivers it to S3

Deterministic: no wall clock, no unseeded randomness. Every identifier and every
time of day is derived from SEED by hashing, so the same script always writes the
same bytes. The estate is pinned to the reference date REF (2026-11-15); all ages
("key rotated 30 days ago") are relative to it. Evaluations are expected to run a
few days later (around 2026-11-20), so no age is placed near a threshold: fresh
means <= 60 days, stale means >= 120 days.

python3 stdlib only.  Usage:
    python3 scripts/gen-demo.py              # (re)write examples/demo/
    python3 scripts/gen-demo.py --fixtures   # (re)write tests/fixtures/{files,malformed}/
    python3 scripts/gen-demo.py --check      # regenerate into a temp dir and compare
"""

import argparse
import filecmp
import hashlib
import json
import os
import shutil
import sys
import tempfile
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

SEED = "evidra-demo/acme-analytics/2026-11-15"
REF = datetime(2026, 11, 15, tzinfo=timezone.utc)
# When the credential report was generated (GeneratedTime). All "N days ago" times
# of day fall between 00:00 and 05:00 UTC, so "0 days ago" is still before this.
REPORT_TIME = REF + timedelta(hours=6, minutes=12, seconds=40)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CRED_HEADER = [
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
]

# ---------------------------------------------------------------------------
# deterministic helpers
# ---------------------------------------------------------------------------


def _digest(*parts):
    return hashlib.sha256((SEED + "|" + "|".join(str(p) for p in parts)).encode()).digest()


def _int(*parts):
    return int.from_bytes(_digest(*parts)[:8], "big")


def _chars(alphabet, n, *parts):
    out, i = [], 0
    while len(out) < n:
        for b in _digest(i, *parts):
            out.append(alphabet[b % len(alphabet)])
            if len(out) == n:
                break
        i += 1
    return "".join(out)


B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def iam_unique_id(prefix, *parts):
    """AIDA/AROA/AGPA/ANPA/AIPA + 17 characters, as IAM unique IDs look."""
    return prefix + _chars(B32, 17, "iam-id", prefix, *parts)


def hex_id(n, *parts):
    return _chars("0123456789abcdef", n, "hex", *parts)


def det_uuid(*parts):
    return str(uuid.UUID(bytes=_digest("uuid", *parts)[:16], version=4))


def ago(days, key, hours=0):
    """A fixed instant `days` before REF, at a time of day derived from `key`."""
    secs = _int("tod", key) % (5 * 3600)
    ms = _int("ms", key) % 1000
    return REF - timedelta(days=days) + timedelta(hours=hours, seconds=secs, milliseconds=ms)


def at(y, m, d, key):
    secs = _int("tod", key) % 86400
    ms = _int("ms", key) % 1000
    return datetime(y, m, d, tzinfo=timezone.utc) + timedelta(seconds=secs, milliseconds=ms)


def iam_ts(dt):
    """IAM (query protocol) timestamps as the CLI prints them: whole seconds."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def cli_ms_ts(dt):
    """JSON-protocol (Config) timestamps as the CLI prints them: epoch millis -> micro."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d000+00:00" % (dt.microsecond // 1000)


def ci_ts(dt):
    """Timestamps inside a Config snapshot file."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def epoch_ms(dt):
    return int(dt.timestamp() * 1000)


def pdoc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


# ---------------------------------------------------------------------------
# writers
# ---------------------------------------------------------------------------


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def cli_json(obj):
    # aws-cli v2 prints JSON with 4-space indentation and a trailing newline.
    return json.dumps(obj, indent=4, ensure_ascii=False) + "\n"


def write_cli_json(path, obj):
    write_text(path, cli_json(obj))


def write_snapshot(path, obj):
    # Config writes snapshot objects as compact single-line JSON.
    write_text(path, json.dumps(obj, separators=(",", ":"), ensure_ascii=False))


def csv_field(v):
    if any(c in v for c in ',"\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def csv_text(rows):
    # The decoded report: "\n" line ends, no trailing newline after the last row.
    return "\n".join(",".join(csv_field(v) for v in row) for row in rows)


# ---------------------------------------------------------------------------
# IAM model
# ---------------------------------------------------------------------------


class Key:
    def __init__(self, active, rotated, used=None, service="s3", region="us-east-1"):
        self.active = active
        self.rotated = rotated      # days before REF the key was created
        self.used = used            # days before REF last used, or None (never)
        self.service = service
        self.region = region


class User:
    def __init__(self, name, created, groups=(), path="/", console=None, mfa=False,
                 keys=(), attached=(), inline=(), tags=None, note=""):
        self.name = name
        self.created = created      # days before REF
        self.groups = list(groups)
        self.path = path
        # console: None (no password) or (last_used_days | None, last_changed_days)
        self.console = console
        self.mfa = mfa
        self.keys = list(keys)
        self.attached = list(attached)   # managed policy names (resolved via policy table)
        self.inline = list(inline)       # (name, document, url_encoded: bool)
        self.tags = tags or {}
        self.note = note


class Account:
    def __init__(self, account_id, alias):
        self.id = account_id
        self.alias = alias
        self.root = {}
        self.users = []
        self.groups = []      # dicts: name, created, attached, inline
        self.roles = []       # dicts
        self.local_policies = []   # dicts: name, path, created, versions [(vid, days, doc)], default, description
        self.aws_policy_meta = {}  # name -> meta for AWS managed policies used
        self.password_policy = None
        self.password_expiry = None
        self.summary_extra = {}
        # Virtual MFA devices created but assigned to no one (their device names);
        # must match summary_extra["UnassignedMFADevices"].
        self.unassigned_mfa = []


# AWS managed policies referenced by the estate. Documents of the large ones are
# abbreviated (the real ones run to thousands of actions); the shape is real.
AWS_MANAGED = {
    "AdministratorAccess": dict(
        path="/", policy_id="ANPAIWMBCKSKIEE64ZLYK", created=(2015, 2, 6), updated=(2015, 2, 6),
        version="v1", attachable=True,
        description="Provides full access to AWS services and resources.",
        doc=pdoc({"Effect": "Allow", "Action": "*", "Resource": "*"})),
    "PowerUserAccess": dict(
        path="/", created=(2015, 2, 6), updated=(2023, 7, 6), version="v5", attachable=True,
        description="Provides full access to AWS services and resources, but does not allow "
                    "management of Users and groups.",
        doc=pdoc(
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"],
             "Resource": "*"},
            {"Effect": "Allow",
             "Action": ["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole",
                        "iam:ListRoles", "organizations:DescribeOrganization",
                        "account:ListRegions", "account:GetAccountInformation"],
             "Resource": "*"})),
    "ReadOnlyAccess": dict(
        path="/", created=(2015, 2, 6), updated=(2026, 9, 30), version="v128", attachable=True,
        description="Provides read-only access to AWS services and resources.",
        doc=pdoc({"Sid": "ReadOnlyActions", "Effect": "Allow",
                  "Action": ["cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:List*",
                             "config:Describe*", "config:Get*", "config:List*",
                             "ec2:Describe*", "ec2:Get*", "iam:Generate*", "iam:Get*",
                             "iam:List*", "kms:Describe*", "kms:Get*", "kms:List*",
                             "rds:Describe*", "rds:List*", "s3:Get*", "s3:List*"],
                  "Resource": "*"})),
    "SecurityAudit": dict(
        path="/", created=(2015, 2, 6), updated=(2026, 8, 12), version="v52", attachable=True,
        description="The security audit template grants access to read security "
                    "configuration metadata. It is useful for software that audits the "
                    "configuration of an AWS account.",
        doc=pdoc({"Effect": "Allow",
                  "Action": ["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus",
                             "config:Describe*", "ec2:DescribeSecurityGroups",
                             "iam:GenerateCredentialReport", "iam:Get*", "iam:List*",
                             "kms:GetKeyRotationStatus", "kms:ListKeys",
                             "rds:DescribeDBInstances", "s3:GetBucketPolicy",
                             "s3:GetEncryptionConfiguration", "s3:ListAllMyBuckets"],
                  "Resource": "*"})),
    "Billing": dict(
        path="/job-function/", created=(2016, 11, 10), updated=(2025, 5, 21), version="v14",
        attachable=True, description="Grants permissions for billing and cost management. "
        "This includes viewing account usage and viewing and modifying budgets and payment methods.",
        doc=pdoc({"Effect": "Allow",
                  "Action": ["account:GetAccountInformation", "aws-portal:*Billing",
                             "aws-portal:*PaymentMethods", "aws-portal:*Usage", "billing:*",
                             "budgets:ModifyBudget", "budgets:ViewBudget", "ce:*",
                             "cur:*", "invoicing:*", "payments:*", "tax:*"],
                  "Resource": "*"})),
    "AWSSupportAccess": dict(
        path="/", created=(2015, 2, 6), updated=(2015, 2, 6), version="v1", attachable=True,
        description="Allows users to access the AWS Support Center.",
        doc=pdoc({"Effect": "Allow", "Action": ["support:*"], "Resource": "*"})),
    "AmazonSSMManagedInstanceCore": dict(
        path="/", created=(2019, 3, 15), updated=(2023, 5, 17), version="v3", attachable=True,
        description="The policy for Amazon EC2 Role to enable AWS Systems Manager service "
                    "core functionality.",
        doc=pdoc({"Effect": "Allow",
                  "Action": ["ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance",
                             "ssm:GetDocument", "ssm:DescribeDocument", "ssm:GetManifest",
                             "ssm:GetParameter", "ssm:GetParameters", "ssm:ListAssociations",
                             "ssm:ListInstanceAssociations", "ssm:PutInventory",
                             "ssm:PutComplianceItems", "ssm:PutConfigurePackageResult",
                             "ssm:UpdateAssociationStatus", "ssm:UpdateInstanceAssociationStatus",
                             "ssm:UpdateInstanceInformation"],
                  "Resource": "*"},
                 {"Effect": "Allow",
                  "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                             "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
                  "Resource": "*"},
                 {"Effect": "Allow",
                  "Action": ["ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage",
                             "ec2messages:FailMessage", "ec2messages:GetEndpoint",
                             "ec2messages:GetMessages", "ec2messages:SendReply"],
                  "Resource": "*"})),
    "AWSLambdaBasicExecutionRole": dict(
        path="/service-role/", created=(2015, 4, 9), updated=(2015, 4, 9), version="v1",
        attachable=True, description="Provides write permissions to CloudWatch Logs.",
        doc=pdoc({"Effect": "Allow",
                  "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                  "Resource": "*"})),
    "AmazonRDSEnhancedMonitoringRole": dict(
        path="/service-role/", created=(2015, 11, 11), updated=(2023, 3, 14), version="v3",
        attachable=True, description="Provides access to Cloudwatch for RDS Enhanced Monitoring",
        doc=pdoc({"Sid": "EnableCreationAndManagementOfRDSCloudwatchLogGroups",
                  "Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
                  "Resource": ["arn:aws:logs:*:*:log-group:RDS*"]},
                 {"Sid": "EnableCreationAndManagementOfRDSCloudwatchLogStreams",
                  "Effect": "Allow",
                  "Action": ["logs:CreateLogStream", "logs:PutLogEvents",
                             "logs:DescribeLogStreams", "logs:GetLogEvents"],
                  "Resource": ["arn:aws:logs:*:*:log-group:RDS*:log-stream:*"]})),
    "AWSConfigServiceRolePolicy": dict(
        path="/aws-service-role/", created=(2018, 5, 30), updated=(2026, 10, 1), version="v98",
        attachable=False, description="Allows Config to call AWS services and collect "
        "resource configurations on your behalf.",
        doc=pdoc({"Sid": "AWSConfigServiceRolePolicyStatementID", "Effect": "Allow",
                  "Action": ["cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors",
                             "ec2:Describe*", "iam:GetAccountAuthorizationDetails",
                             "iam:GetPolicy", "iam:GetPolicyVersion", "kms:DescribeKey",
                             "kms:GetKeyRotationStatus", "rds:DescribeDBInstances",
                             "s3:GetBucketPolicy", "s3:GetBucketVersioning",
                             "s3:GetEncryptionConfiguration", "s3:ListAllMyBuckets"],
                  "Resource": "*"})),
    "AWSSupportServiceRolePolicy": dict(
        path="/aws-service-role/", created=(2018, 4, 19), updated=(2026, 6, 3), version="v40",
        attachable=False, description="Enables resource access for AWS to provide billing, "
        "administrative and support services",
        doc=pdoc({"Sid": "AWSSupportPermissions", "Effect": "Allow",
                  "Action": ["cloudtrail:DescribeTrails", "ec2:DescribeSecurityGroups",
                             "iam:GetAccountSummary", "rds:DescribeDBInstances",
                             "s3:GetBucketLocation"],
                  "Resource": "*"})),
    "AWSTrustedAdvisorServiceRolePolicy": dict(
        path="/aws-service-role/", created=(2018, 2, 22), updated=(2026, 2, 17), version="v27",
        attachable=False, description="Access for the AWS Trusted Advisor Service to help "
        "reduce cost, increase performance, and improve security of your AWS environment.",
        doc=pdoc({"Sid": "TrustedAdvisorServiceRolePermissions", "Effect": "Allow",
                  "Action": ["cloudtrail:DescribeTrails", "ec2:DescribeSecurityGroups",
                             "ec2:DescribeVolumes", "iam:GenerateCredentialReport",
                             "iam:GetCredentialReport", "rds:DescribeDBInstances",
                             "s3:GetBucketPolicyStatus"],
                  "Resource": "*"})),
    "AmazonRDSServiceRolePolicy": dict(
        path="/aws-service-role/", created=(2018, 1, 8), updated=(2026, 4, 2), version="v30",
        attachable=False, description="Allows Amazon RDS to manage AWS resources on your behalf",
        doc=pdoc({"Sid": "Ec2", "Effect": "Allow",
                  "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:CreateNetworkInterface",
                             "ec2:DeleteNetworkInterface", "ec2:DescribeAvailabilityZones",
                             "ec2:DescribeInternetGateways", "ec2:DescribeSecurityGroups",
                             "ec2:DescribeSubnets", "ec2:DescribeVpcAttribute",
                             "ec2:DescribeVpcs", "ec2:ModifyNetworkInterfaceAttribute"],
                  "Resource": "*"})),
    "AmazonS3FullAccess": dict(
        path="/", created=(2015, 2, 6), updated=(2021, 9, 27), version="v2", attachable=True,
        description="Provides full access to all buckets via the AWS Management Console.",
        doc=pdoc({"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"],
                  "Resource": "*"})),
}


def aws_policy_arn(name):
    return "arn:aws:iam::aws:policy%s%s" % (AWS_MANAGED[name]["path"], name)


def policy_ref(acct, name):
    """{PolicyName, PolicyArn} for a customer managed or AWS managed policy name."""
    for p in acct.local_policies:
        if p["name"] == name:
            return {"PolicyName": name,
                    "PolicyArn": "arn:aws:iam::%s:policy%s%s" % (acct.id, p.get("path", "/"), name)}
    return {"PolicyName": name, "PolicyArn": aws_policy_arn(name)}


def user_arn(acct, u):
    return "arn:aws:iam::%s:user%s%s" % (acct.id, u.path, u.name)


# ---------------------------------------------------------------------------
# IAM builders
# ---------------------------------------------------------------------------


def _not_before(dt, floor):
    """Events about a user cannot precede what they depend on (creation, key creation)."""
    return dt if dt > floor else floor + timedelta(minutes=7, seconds=13)


def user_created(acct, u):
    return ago(u.created, ("created", acct.id, u.name))


def password_last_used(acct, u):
    """When the user last signed in with the password, or None (never / no password)."""
    if not u.console or u.console[0] is None:
        return None
    return _not_before(ago(u.console[0], ("pwused", acct.id, u.name)), user_created(acct, u))


def credential_report(acct):
    rows = [CRED_HEADER]
    r = acct.root
    rows.append([
        "<root_account>", "arn:aws:iam::%s:root" % acct.id,
        iam_ts(r["created"]), "not_supported",
        iam_ts(r["password_last_used"]) if r.get("password_last_used") else "no_information",
        "not_supported", "not_supported", "true" if r["mfa"] else "false",
        "false", "N/A", "N/A", "N/A", "N/A",
        "false", "N/A", "N/A", "N/A", "N/A",
        "false", "N/A", "false", "N/A",
    ])
    for u in sorted(acct.users, key=lambda u: u.name):
        created = user_created(acct, u)
        row = [u.name, user_arn(acct, u), iam_ts(created)]
        if u.console:
            changed = u.console[1]
            changed_dt = _not_before(ago(changed, ("pwchanged", acct.id, u.name)), created)
            used_dt = password_last_used(acct, u)
            row += [
                "true",
                iam_ts(used_dt) if used_dt else "no_information",
                iam_ts(changed_dt),
                iam_ts(changed_dt + timedelta(days=acct.password_expiry))
                if acct.password_expiry else "N/A",
            ]
        else:
            row += ["false", "N/A", "N/A", "N/A"]
        row.append("true" if u.mfa else "false")
        for i in range(2):
            if i < len(u.keys):
                k = u.keys[i]
                rotated = _not_before(ago(k.rotated, ("key", acct.id, u.name, i)), created)
                row += ["true" if k.active else "false", iam_ts(rotated)]
                if k.used is None:
                    row += ["N/A", "N/A", "N/A"]
                else:
                    used = _not_before(ago(k.used, ("keyused", acct.id, u.name, i)), rotated)
                    row += [iam_ts(used), k.region, k.service]
            else:
                row += ["false", "N/A", "N/A", "N/A", "N/A"]
        row += ["false", "N/A", "false", "N/A"]
        assert len(row) == 22, (u.name, len(row))
        rows.append(row)
    return csv_text(rows)


def url_encode_policy(doc):
    # The raw IAM API returns policy documents RFC 3986 percent-encoded, exactly as
    # they were submitted (here: pretty-printed, so newlines and spaces are encoded).
    return quote(json.dumps(doc, indent=4), safe="*")


def user_detail(acct, u):
    d = {
        "Path": u.path,
        "UserName": u.name,
        "UserId": iam_unique_id("AIDA", acct.id, u.name),
        "Arn": user_arn(acct, u),
        "CreateDate": iam_ts(ago(u.created, ("created", acct.id, u.name))),
    }
    if u.inline:
        d["UserPolicyList"] = [
            {"PolicyName": name,
             "PolicyDocument": url_encode_policy(doc) if encoded else doc}
            for name, doc, encoded in u.inline
        ]
    d["GroupList"] = list(u.groups)
    d["AttachedManagedPolicies"] = [policy_ref(acct, p) for p in u.attached]
    d["Tags"] = [{"Key": k, "Value": v} for k, v in u.tags.items()]
    return d


def group_detail(acct, g):
    return {
        "Path": g.get("path", "/"),
        "GroupName": g["name"],
        "GroupId": iam_unique_id("AGPA", acct.id, g["name"]),
        "Arn": "arn:aws:iam::%s:group%s%s" % (acct.id, g.get("path", "/"), g["name"]),
        "CreateDate": iam_ts(ago(g["created"], ("group", acct.id, g["name"]))),
        "GroupPolicyList": [{"PolicyName": n, "PolicyDocument": doc}
                            for n, doc in g.get("inline", [])],
        "AttachedManagedPolicies": [policy_ref(acct, p) for p in g.get("attached", [])],
    }


def role_core(acct, r):
    return {
        "Path": r.get("path", "/"),
        "RoleName": r["name"],
        "RoleId": iam_unique_id("AROA", acct.id, r["name"]),
        "Arn": "arn:aws:iam::%s:role%s%s" % (acct.id, r.get("path", "/"), r["name"]),
        "CreateDate": iam_ts(ago(r["created"], ("role", acct.id, r["name"]))),
        "AssumeRolePolicyDocument": r["trust"],
    }


def role_detail(acct, r):
    d = role_core(acct, r)
    profiles = []
    if r.get("instance_profile"):
        ip = r["instance_profile"]
        profiles.append({
            "Path": "/",
            "InstanceProfileName": ip,
            "InstanceProfileId": iam_unique_id("AIPA", acct.id, ip),
            "Arn": "arn:aws:iam::%s:instance-profile/%s" % (acct.id, ip),
            "CreateDate": iam_ts(ago(r["created"], ("role", acct.id, r["name"]))),
            "Roles": [role_core(acct, r)],
        })
    d["InstanceProfileList"] = profiles
    d["RolePolicyList"] = [{"PolicyName": n, "PolicyDocument": doc}
                           for n, doc in r.get("inline", [])]
    d["AttachedManagedPolicies"] = [policy_ref(acct, p) for p in r.get("attached", [])]
    d["Tags"] = [{"Key": k, "Value": v} for k, v in r.get("tags", {}).items()]
    if r.get("last_used") is not None:
        d["RoleLastUsed"] = {
            "LastUsedDate": iam_ts(ago(r["last_used"], ("roleused", acct.id, r["name"]))),
            "Region": r.get("last_used_region", "us-east-1"),
        }
    else:
        d["RoleLastUsed"] = {}
    return d


def attachment_counts(acct):
    counts = {}
    for u in acct.users:
        for p in u.attached:
            counts[p] = counts.get(p, 0) + 1
    for g in acct.groups:
        for p in g.get("attached", []):
            counts[p] = counts.get(p, 0) + 1
    for r in acct.roles:
        for p in r.get("attached", []):
            counts[p] = counts.get(p, 0) + 1
    return counts


def policies_list(acct):
    counts = attachment_counts(acct)
    out = []
    for p in sorted(acct.local_policies, key=lambda p: p["name"]):
        versions = []
        for vid, days, doc in sorted(p["versions"], key=lambda v: -int(v[0][1:])):
            versions.append({
                "Document": doc,
                "VersionId": vid,
                "IsDefaultVersion": vid == p["default"],
                "CreateDate": iam_ts(ago(days, ("polver", acct.id, p["name"], vid))),
            })
        created = ago(p["created"], ("polver", acct.id, p["name"], "v1"))
        latest = max(p["versions"], key=lambda v: int(v[0][1:]))
        entry = {
            "PolicyName": p["name"],
            "PolicyId": iam_unique_id("ANPA", acct.id, p["name"]),
            "Arn": "arn:aws:iam::%s:policy%s%s" % (acct.id, p.get("path", "/"), p["name"]),
            "Path": p.get("path", "/"),
            "DefaultVersionId": p["default"],
            "AttachmentCount": counts.get(p["name"], 0),
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
        }
        if p.get("description"):
            entry["Description"] = p["description"]
        entry["CreateDate"] = iam_ts(created)
        entry["UpdateDate"] = iam_ts(ago(latest[1], ("polver", acct.id, p["name"], latest[0])))
        entry["PolicyVersionList"] = versions
        out.append(entry)
    # AWS managed policies appear too, but only those attached to something here.
    for name in sorted(n for n in counts if n in AWS_MANAGED):
        m = AWS_MANAGED[name]
        created = at(*m["created"], key=("awspol", name, "c"))
        updated = at(*m["updated"], key=("awspol", name, "u"))
        entry = {
            "PolicyName": name,
            "PolicyId": m.get("policy_id") or iam_unique_id("ANPA", "aws", name),
            "Arn": aws_policy_arn(name),
            "Path": m["path"],
            "DefaultVersionId": m["version"],
            "AttachmentCount": counts[name],
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": m["attachable"],
            "Description": m["description"],
            "CreateDate": iam_ts(created),
            "UpdateDate": iam_ts(updated),
            "PolicyVersionList": [{
                "Document": m["doc"],
                "VersionId": m["version"],
                "IsDefaultVersion": True,
                "CreateDate": iam_ts(updated),
            }],
        }
        out.append(entry)
    return out


def authorization_details(acct):
    return {
        "UserDetailList": [user_detail(acct, u) for u in sorted(acct.users, key=lambda u: u.name)],
        "GroupDetailList": [group_detail(acct, g) for g in sorted(acct.groups, key=lambda g: g["name"])],
        "RoleDetailList": [role_detail(acct, r) for r in sorted(acct.roles, key=lambda r: r["name"])],
        "Policies": policies_list(acct),
    }


def account_summary(acct):
    mfa_users = sum(1 for u in acct.users if u.mfa)
    in_use = mfa_users + (1 if acct.root["mfa"] else 0)
    counts = attachment_counts(acct)
    profiles = sum(1 for r in acct.roles if r.get("instance_profile"))
    sm = {
        "GroupPolicySizeQuota": 5120,
        "InstanceProfilesQuota": 1000,
        "Policies": len(acct.local_policies),
        "GroupsPerUserQuota": 10,
        "InstanceProfiles": profiles,
        "AttachedPoliciesPerUserQuota": 10,
        "Users": len(acct.users),
        "PoliciesQuota": 1500,
        "Providers": acct.summary_extra.get("Providers", 0),
        "AccountMFAEnabled": 1 if acct.root["mfa"] else 0,
        "AccessKeysPerUserQuota": 2,
        "AssumeRolePolicySizeQuota": 2048,
        "PolicyVersionsInUseQuota": 10000,
        "GlobalEndpointTokenVersion": 1,
        "VersionsPerPolicyQuota": 5,
        "AttachedPoliciesPerGroupQuota": 10,
        "PolicySizeQuota": 6144,
        "Groups": len(acct.groups),
        "AccountSigningCertificatesPresent": 0,
        "UsersQuota": 5000,
        "ServerCertificatesQuota": 20,
        "MFADevices": in_use + acct.summary_extra.get("UnassignedMFADevices", 0),
        "UserPolicySizeQuota": 2048,
        "PolicyVersionsInUse": sum(counts.values()),
        "ServerCertificates": 0,
        "Roles": len(acct.roles),
        "RolesQuota": 1000,
        "SigningCertificatesPerUserQuota": 2,
        "MFADevicesInUse": in_use,
        "RolePolicySizeQuota": 10240,
        "AttachedPoliciesPerRoleQuota": 10,
        "AccountAccessKeysPresent": 0,
        "AccountPasswordPresent": 1,
        "GroupsQuota": 300,
    }
    return {"SummaryMap": sm}


def virtual_mfa_devices(acct):
    """`aws iam list-virtual-mfa-devices` (assignment status Any): one device per user
    whose credential report row says mfa_active, and the unassigned ones (serial number
    only). A root user with MFA has a hardware device here, so root is not listed."""
    assert not acct.root["mfa"] or acct.root.get("mfa_device") == "hardware", acct.id
    devices = []
    for u in acct.users:
        if not u.mfa:
            continue
        created = user_created(acct, u)
        # Enrolled within a few days of the user's creation.
        lag = _int("mfalag", acct.id, u.name) % 9
        enabled = _not_before(ago(max(u.created - lag, 0), ("mfaenable", acct.id, u.name)), created)
        user = {
            "Path": u.path,
            "UserName": u.name,
            "UserId": iam_unique_id("AIDA", acct.id, u.name),
            "Arn": user_arn(acct, u),
            "CreateDate": iam_ts(created),
        }
        used = password_last_used(acct, u)
        if used:
            user["PasswordLastUsed"] = iam_ts(used)
        devices.append({"SerialNumber": "arn:aws:iam::%s:mfa/%s" % (acct.id, u.name),
                        "User": user, "EnableDate": iam_ts(enabled)})
    assert len(acct.unassigned_mfa) == acct.summary_extra.get("UnassignedMFADevices", 0)
    for name in acct.unassigned_mfa:
        devices.append({"SerialNumber": "arn:aws:iam::%s:mfa/%s" % (acct.id, name)})
    devices.sort(key=lambda d: d["SerialNumber"])
    return {"VirtualMFADevices": devices}


def write_iam(base, acct):
    write_text(os.path.join(base, "iam", "credential-report.csv"), credential_report(acct))
    write_cli_json(os.path.join(base, "iam", "account-authorization-details.json"),
                   authorization_details(acct))
    write_cli_json(os.path.join(base, "iam", "password-policy.json"),
                   {"PasswordPolicy": acct.password_policy})
    write_cli_json(os.path.join(base, "iam", "account-summary.json"), account_summary(acct))
    write_cli_json(os.path.join(base, "iam", "virtual-mfa-devices.json"), virtual_mfa_devices(acct))


# ---------------------------------------------------------------------------
# common policy documents
# ---------------------------------------------------------------------------


def trust_service(*services):
    return pdoc({"Effect": "Allow",
                 "Principal": {"Service": services[0] if len(services) == 1 else list(services)},
                 "Action": "sts:AssumeRole"})


def trust_account(account_id, external_id=None, mfa=False):
    st = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % account_id},
          "Action": "sts:AssumeRole"}
    if external_id:
        st["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    elif mfa:
        st["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    return pdoc(st)


def s3_read_doc(bucket, sid=None):
    st = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
          "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket]}
    if sid:
        st = dict({"Sid": sid}, **st)
    return pdoc(st)


# ---------------------------------------------------------------------------
# the estate: acme-prod (111122223333)
# ---------------------------------------------------------------------------

PROD = "111122223333"
SANDBOX = "444455556666"
MGMT = "999900001111"          # Acme's AWS Organizations management account
VENDOR = "555566667777"        # monitoring vendor (trusted with an ExternalId)
AUDITOR = "777788889999"       # former external audit firm (trusted without one)


def build_prod():
    a = Account(PROD, "acme-prod")
    # Root MFA is a hardware key (FIDO2, kept in the office safe): it is not among
    # the virtual MFA devices.
    a.root = {"created": at(2019, 3, 4, ("root", PROD)), "mfa": True, "mfa_device": "hardware",
              "password_last_used": ago(100, ("rootpw", PROD))}
    a.password_policy = {
        "MinimumPasswordLength": 8,
        "RequireSymbols": False,
        "RequireNumbers": True,
        "RequireUppercaseCharacters": True,
        "RequireLowercaseCharacters": True,
        "AllowUsersToChangePassword": True,
        "ExpirePasswords": False,
    }
    a.password_expiry = None
    a.summary_extra = {"Providers": 1, "UnassignedMFADevices": 1}
    # The virtual device of a leaver: deactivated when the user was deleted, never
    # deleted itself.
    a.unassigned_mfa = ["t.walsh"]

    mfa_enforce = pdoc({
        "Sid": "DenyAllExceptListedIfNoMFA", "Effect": "Deny",
        "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser",
                      "iam:ChangePassword", "iam:ListMFADevices", "iam:ListVirtualMFADevices",
                      "iam:ResyncMFADevice", "sts:GetSessionToken"],
        "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})
    deploy_v3 = pdoc(
        {"Sid": "EcrPush", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:CompleteLayerUpload",
                    "ecr:GetAuthorizationToken", "ecr:InitiateLayerUpload", "ecr:PutImage",
                    "ecr:UploadLayerPart"],
         "Resource": "*"},
        {"Sid": "EcsDeploy", "Effect": "Allow",
         "Action": ["ecs:DescribeServices", "ecs:DescribeTaskDefinition",
                    "ecs:RegisterTaskDefinition", "ecs:UpdateService"],
         "Resource": "*"},
        {"Sid": "PassTaskRoles", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": "arn:aws:iam::%s:role/ecs-task-*" % PROD},
        {"Sid": "Artifacts", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::acme-prod-artifacts/*"})
    a.local_policies = [
        dict(name="acme-full-access", created=1650, default="v2",
             description="Temporary full access for the Jenkins migration (2022)",
             versions=[("v1", 1650, pdoc({"Effect": "Allow", "Action": ["ec2:*", "s3:*"],
                                          "Resource": "*"})),
                       ("v2", 1400, pdoc({"Effect": "Allow", "Action": "*",
                                          "Resource": "*"}))]),
        # Non-default v1 allowed everything; the default (v3) is scoped. An importer
        # must judge the DEFAULT version only.
        dict(name="acme-deploy-policy", created=900, default="v3",
             description="CI/CD deployments to ECS",
             versions=[("v1", 900, pdoc({"Effect": "Allow", "Action": "*", "Resource": "*"})),
                       ("v2", 700, pdoc({"Effect": "Allow", "Action": ["ecr:*", "ecs:*"],
                                         "Resource": "*"})),
                       ("v3", 210, deploy_v3)]),
        dict(name="etl-data-access", created=820, default="v1",
             versions=[("v1", 820, pdoc(
                 {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                  "Resource": ["arn:aws:s3:::acme-prod-data-lake",
                               "arn:aws:s3:::acme-prod-data-lake/*"]},
                 {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                  "Resource": "arn:aws:kms:us-east-1:%s:key/%s" % (PROD, kms_key_id("prod-data"))}))]),
        dict(name="legacy-reporting-s3-read", created=1500, default="v1",
             versions=[("v1", 1500, s3_read_doc("acme-legacy-exports"))]),
        dict(name="acme-mfa-enforce", created=1200, default="v1",
             description="Deny everything but MFA self-service until the user signs in with MFA",
             versions=[("v1", 1200, mfa_enforce)]),
        dict(name="acme-unused-draft", created=300, default="v1",
             versions=[("v1", 300, s3_read_doc("acme-analytics-scratch"))]),
    ]

    self_service = pdoc(
        {"Sid": "ManageOwnCredentials", "Effect": "Allow",
         "Action": ["iam:ChangePassword", "iam:CreateAccessKey", "iam:DeleteAccessKey",
                    "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:UpdateAccessKey",
                    "iam:GetLoginProfile"],
         "Resource": "arn:aws:iam::%s:user/${aws:username}" % PROD},
        {"Sid": "ManageOwnMFA", "Effect": "Allow",
         "Action": ["iam:CreateVirtualMFADevice", "iam:DeactivateMFADevice",
                    "iam:EnableMFADevice", "iam:ListMFADevices", "iam:ResyncMFADevice"],
         "Resource": ["arn:aws:iam::%s:mfa/${aws:username}" % PROD,
                      "arn:aws:iam::%s:user/${aws:username}" % PROD]})
    a.groups = [
        dict(name="Admins", created=2400, attached=["AdministratorAccess"]),
        dict(name="Developers", created=2300, attached=["PowerUserAccess", "acme-mfa-enforce"],
             inline=[("developers-self-service", self_service)]),
        dict(name="ReadOnly", created=2300, attached=["ReadOnlyAccess"]),
        dict(name="Billing", created=2100, attached=["Billing"]),
        dict(name="Deployers", created=900, attached=["acme-deploy-policy"]),
        dict(name="DataPipelines", created=820, attached=["etl-data-access"]),
    ]

    athena_doc = pdoc(
        {"Sid": "AdhocAthena", "Effect": "Allow",
         "Action": ["athena:GetQueryExecution", "athena:GetQueryResults",
                    "athena:StartQueryExecution", "glue:GetTable", "glue:GetDatabase"],
         "Resource": "*"},
        {"Sid": "AthenaResults", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::acme-analytics-scratch/athena-results/*"})
    scratch_doc = pdoc({"Sid": "ScratchBucket", "Effect": "Allow", "Action": "s3:*",
                        "Resource": ["arn:aws:s3:::acme-analytics-scratch",
                                     "arn:aws:s3:::acme-analytics-scratch/*"]})

    U = User
    a.users = [
        # --- Admins
        U("a.morgan", 2400, ["Admins"], console=(1, 300), mfa=True,
          tags={"team": "leadership", "email": "a.morgan@acme-analytics.example"}),
        U("j.chen", 2100, ["Admins"], console=(0, 150), mfa=True,
          keys=[Key(True, 35, 1, "ec2")], tags={"team": "platform"}),
        U("ops-admin", 1700, ["Admins"], console=(12, 400), mfa=True,
          attached=["AdministratorAccess"], tags={"team": "platform"},
          note="AdministratorAccess attached directly to the user"),
        U("s.rivera", 1300, ["Admins"], console=(3, 200), mfa=True,
          keys=[Key(True, 150, 3, "cloudformation")], tags={"team": "platform"}),
        # --- Developers
        U("b.kowalski", 1200, ["Developers"], console=(2, 90), mfa=True,
          keys=[Key(True, 20, 0, "ecr")]),
        U("c.dubois", 1100, ["Developers"], console=(5, 250), mfa=True),
        U("d.fischer", 1000, ["Developers"], console=(1, 180), mfa=True,
          keys=[Key(True, 45, 2, "athena")],
          inline=[("athena-adhoc-queries", athena_doc, True)],
          note="inline user policy, returned URL-encoded"),
        U("e.haddad", 950, ["Developers"], console=(4, 60), mfa=True,
          keys=[Key(True, 58, 6, "sts")]),
        U("f.ito", 900, ["Developers"], console=(9, 340), mfa=True),
        U("g.lindqvist", 880, ["Developers"], console=(2, 210), mfa=True,
          keys=[Key(True, 210, 1, "s3")]),
        U("h.nakamura", 850, ["Developers"], console=(6, 120), mfa=True),
        U("i.petrov", 800, ["Developers"], console=(1, 75), mfa=True,
          keys=[Key(False, 400, 380, "s3"), Key(True, 12, 0, "lambda")]),
        U("k.osei", 760, ["Developers"], console=(3, 44), mfa=True,
          inline=[("scratch-bucket-full", scratch_doc, False)],
          note="inline user policy (decoded JSON)"),
        U("l.martins", 700, ["Developers"], console=(8, 100), mfa=True),
        U("m.okafor", 650, ["Developers"], console=(2, 320), mfa=False,
          note="console password, no MFA"),
        U("n.schmidt", 600, ["Developers"], console=(1, 95), mfa=True,
          keys=[Key(True, 130, 0, "dynamodb")]),
        U("o.brennan", 520, ["Developers"], console=(11, 130), mfa=True),
        U("p.sharma", 400, ["Developers"], console=(0, 15), mfa=False,
          keys=[Key(True, 15, 0, "ecs")], note="console password, no MFA"),
        U("q.zhang", 330, ["Developers"], console=(4, 160), mfa=True),
        U("r.patel", 250, ["Developers"], console=(2, 50), mfa=True,
          keys=[Key(True, 5, 1, "sqs")]),
        U("u.adeyemi", 4, ["Developers"], console=(None, 4), mfa=False,
          tags={"onboarding": "2026-11"}, note="new hire: password set, never signed in, no MFA"),
        U("x.former", 1500, ["Developers"], console=(260, 600), mfa=True,
          keys=[Key(False, 300, 270, "s3")],
          note="dormant: last sign-in 260 days ago, only key is inactive"),
        # --- ReadOnly
        U("analyst.jones", 700, ["ReadOnly"], console=(1, 100), mfa=True),
        U("analyst.kaur", 500, ["ReadOnly"], console=(3, 80), mfa=True),
        U("analyst.lopez", 300, ["ReadOnly"], console=(7, 290), mfa=False,
          note="console password, no MFA"),
        U("v.costa", 200, ["ReadOnly"], console=(15, 190), mfa=True),
        U("auditor.external", 30, ["ReadOnly"], path="/external/", console=(5, 30), mfa=True,
          tags={"company": "Example Assurance LLP", "expires": "2027-01-31"}),
        U("y.intern", 420, ["ReadOnly"], console=None, mfa=False,
          note="console password removed, no keys"),
        # --- Billing
        U("finance.temp", 160, ["Billing"], console=(20, 160), mfa=False,
          note="console password, no MFA"),
        U("w.young", 1400, ["Billing"], console=(10, 85), mfa=True),
        # --- service users (no console)
        U("ci-deployer", 900, ["Deployers"], path="/service/",
          keys=[Key(True, 30, 0, "ecr")], tags={"owner": "platform", "purpose": "jenkins"}),
        U("terraform-state", 600, ["Deployers"], path="/service/",
          keys=[Key(True, 10, None)], note="fresh key, never used"),
        U("etl-loader", 820, ["DataPipelines"], path="/service/",
          keys=[Key(True, 200, 0, "s3")], tags={"owner": "data-platform"}),
        U("backup-agent", 780, ["DataPipelines"], path="/service/",
          keys=[Key(True, 40, 0, "s3"), Key(False, 500, 420, "s3")]),
        U("monitoring-exporter", 640, ["ReadOnly"], path="/service/",
          keys=[Key(True, 25, 0, "cloudwatch"), Key(True, 140, 30, "cloudwatch")],
          note="two active keys, key 2 is stale"),
        U("legacy-reporting", 1500, [], path="/service/",
          keys=[Key(True, 412, 300, "s3")], attached=["legacy-reporting-s3-read"],
          note="customer managed policy attached directly, key 412 days old"),
    ]

    github_trust = pdoc({
        "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::%s:oidc-provider/token.actions.githubusercontent.com" % PROD},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme-analytics/*:ref:refs/heads/main"}}})
    a.roles = [
        dict(name="OrganizationAccountAccessRole", created=2450, trust=trust_account(MGMT),
             attached=["AdministratorAccess"], last_used=40),
        dict(name="acme-support", created=1100, trust=trust_account(PROD, mfa=True),
             attached=["AWSSupportAccess"], last_used=75,
             tags={"purpose": "cis-1.17-support-role"}),
        dict(name="vendor-monitoring-readonly", created=700,
             trust=trust_account(VENDOR, external_id="acme-7f3c9e21-5b1d"),
             attached=["ReadOnlyAccess"], last_used=0, tags={"vendor": "ExampleMonitor"}),
        dict(name="external-auditor-access", created=1250, trust=trust_account(AUDITOR),
             attached=["SecurityAudit"], last_used=390,
             tags={"vendor": "Former Audit Firm"}),
        dict(name="app-server-role", created=1000, trust=trust_service("ec2.amazonaws.com"),
             instance_profile="app-server-profile", attached=["AmazonSSMManagedInstanceCore"],
             inline=[("app-data-read", s3_read_doc("acme-prod-data-lake", "ReadDataLake"))],
             last_used=0),
        dict(name="jenkins-legacy-role", created=1650, trust=trust_service("ec2.amazonaws.com"),
             instance_profile="jenkins-legacy-profile", attached=["acme-full-access"],
             last_used=2),
        dict(name="lambda-etl-role", path="/service-role/", created=820,
             trust=trust_service("lambda.amazonaws.com"),
             attached=["AWSLambdaBasicExecutionRole", "etl-data-access"], last_used=0),
        dict(name="github-actions-deploy", created=400, trust=github_trust,
             attached=["acme-deploy-policy"], last_used=1),
        dict(name="rds-monitoring-role", created=1000,
             trust=trust_service("monitoring.rds.amazonaws.com"),
             attached=["AmazonRDSEnhancedMonitoringRole"], last_used=0),
        dict(name="cloudtrail-cloudwatch-logs", created=1300,
             trust=trust_service("cloudtrail.amazonaws.com"),
             inline=[("cloudtrail-to-cwl", pdoc({
                 "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                 "Resource": "arn:aws:logs:us-east-1:%s:log-group:aws-cloudtrail-logs-acme:*" % PROD}))],
             last_used=0),
        dict(name="AWSServiceRoleForConfig", path="/aws-service-role/config.amazonaws.com/",
             created=1300, trust=trust_service("config.amazonaws.com"),
             attached=["AWSConfigServiceRolePolicy"], last_used=0),
        dict(name="AWSServiceRoleForSupport", path="/aws-service-role/support.amazonaws.com/",
             created=2450, trust=trust_service("support.amazonaws.com"),
             attached=["AWSSupportServiceRolePolicy"], last_used=None),
        dict(name="AWSServiceRoleForTrustedAdvisor",
             path="/aws-service-role/trustedadvisor.amazonaws.com/", created=2450,
             trust=trust_service("trustedadvisor.amazonaws.com"),
             attached=["AWSTrustedAdvisorServiceRolePolicy"], last_used=1),
        dict(name="AWSServiceRoleForRDS", path="/aws-service-role/rds.amazonaws.com/",
             created=1000, trust=trust_service("rds.amazonaws.com"),
             attached=["AmazonRDSServiceRolePolicy"], last_used=0),
    ]
    return a


def build_sandbox():
    a = Account(SANDBOX, "acme-sandbox")
    a.root = {"created": at(2023, 6, 12, ("root", SANDBOX)), "mfa": False,
              "password_last_used": ago(340, ("rootpw", SANDBOX))}
    a.password_policy = {
        "MinimumPasswordLength": 14,
        "RequireSymbols": True,
        "RequireNumbers": True,
        "RequireUppercaseCharacters": True,
        "RequireLowercaseCharacters": True,
        "AllowUsersToChangePassword": True,
        "ExpirePasswords": True,
        "MaxPasswordAge": 90,
        "PasswordReusePrevention": 24,
        "HardExpiry": False,
    }
    a.password_expiry = 90
    a.groups = [
        dict(name="SandboxAdmins", created=1250, attached=["AdministratorAccess"]),
        dict(name="SandboxDevelopers", created=1250, attached=["PowerUserAccess"]),
    ]
    U = User
    a.users = [
        U("sandbox-admin", 1250, ["SandboxAdmins"], console=(6, 40), mfa=True),
        U("dev.alpha", 700, ["SandboxDevelopers"], console=(1, 30), mfa=True,
          keys=[Key(True, 20, 1, "lambda")]),
        U("dev.beta", 500, ["SandboxDevelopers"], console=(14, 75), mfa=False,
          keys=[Key(True, 180, 14, "ec2")],
          note="console password, no MFA; key 180 days old"),
        U("sandbox-ci", 600, ["SandboxDevelopers"], path="/service/",
          keys=[Key(True, 50, 0, "cloudformation")]),
        U("experiment-bot", 400, [], path="/service/",
          keys=[Key(True, 300, 90, "s3")], attached=["AmazonS3FullAccess"],
          note="AWS managed policy attached directly; key 300 days old"),
    ]
    a.roles = [
        dict(name="OrganizationAccountAccessRole", created=1250, trust=trust_account(MGMT),
             attached=["AdministratorAccess"], last_used=12),
        dict(name="AWSServiceRoleForSupport", path="/aws-service-role/support.amazonaws.com/",
             created=1250, trust=trust_service("support.amazonaws.com"),
             attached=["AWSSupportServiceRolePolicy"], last_used=None),
        dict(name="AWSServiceRoleForTrustedAdvisor",
             path="/aws-service-role/trustedadvisor.amazonaws.com/", created=1250,
             trust=trust_service("trustedadvisor.amazonaws.com"),
             attached=["AWSTrustedAdvisorServiceRolePolicy"], last_used=3),
    ]
    return a


# ---------------------------------------------------------------------------
# AWS Config: recorders, status, snapshot
# ---------------------------------------------------------------------------


def recorder_arn(account, region):
    rid = _chars("abcdefghijklmnopqrstuvwxyz0123456789", 16, "recorder", account, region)
    return "arn:aws:config:%s:%s:configuration-recorder/default/%s" % (region, account, rid)


def recorders_doc(account, region, include_global):
    return {"ConfigurationRecorders": [{
        "arn": recorder_arn(account, region),
        "name": "default",
        "roleARN": "arn:aws:iam::%s:role/aws-service-role/config.amazonaws.com/"
                   "AWSServiceRoleForConfig" % account,
        "recordingGroup": {
            "allSupported": True,
            "includeGlobalResourceTypes": include_global,
            "resourceTypes": [],
            "exclusionByResourceTypes": {"resourceTypes": []},
            "recordingStrategy": {"useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"},
        },
        "recordingMode": {"recordingFrequency": "CONTINUOUS", "recordingModeOverrides": []},
        "recordingScope": "PAID",
    }]}


def recorder_status_recording(account, region, started):
    return {"ConfigurationRecordersStatus": [{
        "arn": recorder_arn(account, region),
        "name": "default",
        "lastStartTime": cli_ms_ts(started),
        "recording": True,
        "lastStatus": "SUCCESS",
        "lastStatusChangeTime": cli_ms_ts(ago(0, ("cfgstatus", account, region))),
    }]}


def recorder_status_stopped(account, region, started, failed, stopped):
    return {"ConfigurationRecordersStatus": [{
        "arn": recorder_arn(account, region),
        "name": "default",
        "lastStartTime": cli_ms_ts(started),
        "lastStopTime": cli_ms_ts(stopped),
        "recording": False,
        "lastStatus": "FAILURE",
        "lastErrorCode": "NoSuchBucketException",
        "lastErrorMessage": "The specified bucket does not exist.",
        "lastStatusChangeTime": cli_ms_ts(failed),
    }]}


def delivery_channels_doc(bucket):
    # DeliveryChannel members in the order the CLI prints them (name, s3BucketName,
    # s3KeyPrefix, s3KmsKeyArn, snsTopicARN, configSnapshotDeliveryProperties).
    return {"DeliveryChannels": [{
        "name": "default",
        "s3BucketName": bucket,
        "configSnapshotDeliveryProperties": {"deliveryFrequency": "TwentyFour_Hours"},
    }]}


# AWS Config managed rules in prod us-east-1: (rule name, source identifier, scope
# resource types, or None for a periodic rule, and the rule's default description).
CONFIG_RULES = [
    ("s3-bucket-versioning-enabled", "S3_BUCKET_VERSIONING_ENABLED", ["AWS::S3::Bucket"],
     "Checks if versioning is enabled for your S3 buckets. Optionally, the rule checks "
     "if MFA delete is enabled for your S3 buckets."),
    ("encrypted-volumes", "ENCRYPTED_VOLUMES", ["AWS::EC2::Volume"],
     "Checks if attached Amazon EBS volumes are encrypted and optionally are encrypted "
     "with a specified KMS key. The rule is NON_COMPLIANT if attached EBS volumes are "
     "unencrypted or are encrypted with a KMS key not in the supplied parameters."),
    ("rds-storage-encrypted", "RDS_STORAGE_ENCRYPTED", ["AWS::RDS::DBInstance"],
     "Checks if storage encryption is enabled for your Amazon RDS DB instances. The rule "
     "is NON_COMPLIANT if storage encryption is not enabled."),
    ("root-account-mfa-enabled", "ROOT_ACCOUNT_MFA_ENABLED", None,
     "Checks if the root user of your AWS account requires multi-factor authentication "
     "for console sign-in. The rule is NON_COMPLIANT if the root user does not have MFA "
     "enabled."),
    ("opensearch-encrypted-at-rest", "OPENSEARCH_ENCRYPTED_AT_REST", ["AWS::OpenSearch::Domain"],
     "Checks if Amazon OpenSearch Service domains have encryption at rest configuration "
     "enabled. The rule is NON_COMPLIANT if the EncryptionAtRestOptions field is not "
     "enabled."),
]

# What each rule finds non-compliant, judged on the configuration items of the snapshot
# (so the compliance always agrees with it). ENCRYPTED_VOLUMES only evaluates attached
# volumes: the detached orphaned-export-scratch is not counted.
RULE_CHECKS = {
    "S3_BUCKET_VERSIONING_ENABLED":
        lambda i: i["supplementaryConfiguration"]["BucketVersioningConfiguration"]["status"]
        != "Enabled",
    "ENCRYPTED_VOLUMES":
        lambda i: bool(i["configuration"]["attachments"]) and not i["configuration"]["encrypted"],
    "RDS_STORAGE_ENCRYPTED": lambda i: not i["configuration"]["storageEncrypted"],
    "OPENSEARCH_ENCRYPTED_AT_REST":
        lambda i: not i["configuration"]["EncryptionAtRestOptions"]["Enabled"],
}


def config_rule_id(account, region, name):
    return "config-rule-" + _chars("abcdefghijklmnopqrstuvwxyz0123456789", 6,
                                   "configrule", account, region, name)


def config_rules_doc(account, region):
    # ConfigRule members in the order the CLI prints them.
    rules = []
    for name, ident, types, description in sorted(CONFIG_RULES):
        rid = config_rule_id(account, region, name)
        rule = {
            "ConfigRuleName": name,
            "ConfigRuleArn": "arn:aws:config:%s:%s:config-rule/%s" % (region, account, rid),
            "ConfigRuleId": rid,
            "Description": description,
        }
        if types is not None:
            rule["Scope"] = {"ComplianceResourceTypes": list(types)}
        rule["Source"] = {"Owner": "AWS", "SourceIdentifier": ident}
        rule["InputParameters"] = "{}"
        if types is None:
            rule["MaximumExecutionFrequency"] = "TwentyFour_Hours"
        rule["ConfigRuleState"] = "ACTIVE"
        rule["EvaluationModes"] = [{"Mode": "DETECTIVE"}]
        rules.append(rule)
    return {"ConfigRules": rules}


def config_rule_compliance_doc(acct, snapshot):
    """Rule compliance as AWS Config would report it for this estate. A rule with no
    resource in scope (no OpenSearch domain here) has no evaluation: INSUFFICIENT_DATA."""
    out = []
    for name, ident, types, _ in sorted(CONFIG_RULES):
        if types is None:   # the periodic account-level rule (root MFA)
            assert ident == "ROOT_ACCOUNT_MFA_ENABLED"
            verdicts = [not acct.root["mfa"]]
        else:
            verdicts = [RULE_CHECKS[ident](i) for i in snapshot["configurationItems"]
                        if i["resourceType"] in types]
        bad = sum(verdicts)
        if not verdicts:
            compliance = {"ComplianceType": "INSUFFICIENT_DATA"}
        elif bad:
            compliance = {"ComplianceType": "NON_COMPLIANT",
                          "ComplianceContributorCount": {"CappedCount": bad, "CapExceeded": False}}
        else:
            compliance = {"ComplianceType": "COMPLIANT"}
        out.append({"ConfigRuleName": name, "Compliance": compliance})
    return {"ComplianceByConfigRules": out}


def kms_key_id(name, account=PROD):
    return det_uuid("kms", account, name)


def canonical_id(account):
    return hex_id(64, "canonical", account)


def sg_id(name, account=PROD):
    return "sg-" + hex_id(17, "sg", account, name)


def vpc_id(name, account=PROD):
    return "vpc-" + hex_id(17, "vpc", account, name)


def vol_id(name, account=PROD):
    return "vol-" + hex_id(17, "vol", account, name)


def instance_id(name, account=PROD):
    return "i-" + hex_id(17, "i", account, name)


def ci(account, region, rtype, rid, name, arn, az, config, supp, tags, created, captured,
       relationships=(), status="OK"):
    """One configuration item, keys in the order Config writes them."""
    if captured < created:   # a CI cannot be captured before the resource existed
        captured = created + timedelta(minutes=4, seconds=27, milliseconds=311)
    item = {
        "relatedEvents": [],
        "relationships": list(relationships),
        "configuration": config,
        "supplementaryConfiguration": supp,
        "tags": tags,
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": ci_ts(captured),
        "configurationStateId": epoch_ms(captured),
        "awsAccountId": account,
        "configurationItemStatus": status,
        "resourceType": rtype,
        "resourceId": rid,
    }
    if name is not None:
        item["resourceName"] = name
    item["ARN"] = arn
    item["awsRegion"] = region
    item["availabilityZone"] = az
    item["configurationStateMd5Hash"] = ""
    item["resourceCreationTime"] = ci_ts(created)
    return item


def rel(rtype, rid, name, rname=None):
    r = {"resourceId": rid}
    if rname is not None:
        r["resourceName"] = rname
    r["resourceType"] = rtype
    r["name"] = name
    return r


# --- S3 -------------------------------------------------------------------


def tls_only_statement(bucket):
    return {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def acl_string(account, public_read=False):
    cid = canonical_id(account)
    grants = [{"grantee": {"id": cid, "displayName": None}, "permission": "FullControl"}]
    if public_read:
        grants.append({"grantee": "AllUsers", "permission": "Read"})
    return json.dumps({"grantSet": None, "grantList": grants,
                       "owner": {"displayName": None, "id": cid},
                       "isRequesterCharged": False}, separators=(",", ":"))


def s3_bucket_ci(account, region, name, created, captured, pab, sse, versioning,
                 policy, tags=None, public_acl=False, website=None, logging_to=None):
    """pab: dict | None (no bucket-level block); sse: None | ("AES256", None, False) |
    ("aws:kms", key_arn, bucket_key); versioning: "Off" | "Enabled" | "Suspended";
    policy: dict | None."""
    supp = {
        "AccessControlList": acl_string(account, public_acl),
        "BucketAccelerateConfiguration": {"status": None},
        "BucketLoggingConfiguration": {
            "destinationBucketName": logging_to,
            "logFilePrefix": ("s3-access/%s/" % name) if logging_to else None},
        "BucketNotificationConfiguration": {"configurations": {}},
        "BucketPolicy": {"policyText": json.dumps(policy, separators=(",", ":"))
                         if policy else None},
        "BucketVersioningConfiguration": {"status": versioning, "isMfaDeleteEnabled": None},
        "IsRequesterPaysEnabled": False,
    }
    if website:
        supp["BucketWebsiteConfiguration"] = {
            "indexDocumentSuffix": website[0], "errorDocument": website[1],
            "redirectAllRequestsTo": None, "routingRules": []}
    if tags:
        supp["BucketTaggingConfiguration"] = {"tagSets": [{"tags": dict(tags)}]}
    if pab is not None:
        supp["PublicAccessBlockConfiguration"] = pab
    if sse is not None:
        algo, key, bucket_key = sse
        supp["ServerSideEncryptionConfiguration"] = {"rules": [{
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": algo, "kmsMasterKeyID": key},
            "bucketKeyEnabled": bucket_key}]}
    config = {"name": name,
              "owner": {"displayName": None, "id": canonical_id(account)},
              "creationDate": ci_ts(created)}
    return ci(account, region, "AWS::S3::Bucket", name, name, "arn:aws:s3:::%s" % name,
              "Regional", config, supp, dict(tags or {}), created, captured)


PAB_ALL = {"blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": True,
           "restrictPublicBuckets": True}
PAB_NONE = {"blockPublicAcls": False, "ignorePublicAcls": False, "blockPublicPolicy": False,
            "restrictPublicBuckets": False}


def prod_buckets(region):
    A = PROD
    kms_arn = "arn:aws:kms:%s:%s:key/%s" % (region, A, kms_key_id("prod-data"))
    out = []

    def add(name, created_days, captured_days, **kw):
        out.append(s3_bucket_ci(A, region, name, ago(created_days, ("bucket", name)),
                                ago(captured_days, ("bucketci", name)), **kw))

    add("acme-prod-data-lake", 1500, 40, pab=PAB_ALL, sse=("aws:kms", kms_arn, True),
        versioning="Enabled",
        policy=pdoc(tls_only_statement("acme-prod-data-lake")),
        tags={"environment": "production", "data-classification": "confidential"},
        logging_to="acme-prod-access-logs")
    add("acme-prod-cloudtrail-logs", 1300, 200, pab=PAB_ALL, sse=("AES256", None, False),
        versioning="Enabled",
        policy=pdoc(
            {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::acme-prod-cloudtrail-logs"},
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": "arn:aws:s3:::acme-prod-cloudtrail-logs/AWSLogs/%s/*" % A,
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
            tls_only_statement("acme-prod-cloudtrail-logs")),
        tags={"environment": "production"})
    add("acme-prod-config-delivery", 1300, 300, pab=PAB_ALL, sse=("AES256", None, False),
        versioning="Enabled",
        policy=pdoc(
            {"Sid": "AWSConfigBucketPermissionsCheck", "Effect": "Allow",
             "Principal": {"Service": "config.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": "arn:aws:s3:::acme-prod-config-delivery"},
            {"Sid": "AWSConfigBucketDelivery", "Effect": "Allow",
             "Principal": {"Service": "config.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": "arn:aws:s3:::acme-prod-config-delivery/AWSLogs/%s/Config/*" % A,
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
            tls_only_statement("acme-prod-config-delivery")),
        tags={"environment": "production"})
    add("acme-prod-backups", 1000, 90, pab=PAB_ALL, sse=("aws:kms", kms_arn, True),
        versioning="Enabled", policy=pdoc(tls_only_statement("acme-prod-backups")),
        tags={"environment": "production"})
    # Public static website: no public access block, public-read policy and ACL,
    # versioning never enabled, no TLS-only statement. Default SSE-S3 applies.
    add("acme-marketing-website", 1100, 15, pab=PAB_NONE, sse=("AES256", None, False),
        versioning="Off", public_acl=True, website=("index.html", "404.html"),
        policy=pdoc({"Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*",
                     "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::acme-marketing-website/*"}),
        tags={"environment": "production", "team": "marketing"})
    # Created 2018; its configuration item has not changed since Oct 2022, before S3
    # default encryption existed, so Config recorded no SSE configuration and no
    # bucket-level public access block.
    out.append(s3_bucket_ci(A, region, "acme-legacy-exports",
                            at(2018, 5, 22, ("bucket", "acme-legacy-exports")),
                            at(2022, 10, 3, ("bucketci", "acme-legacy-exports")),
                            pab=None, sse=None, versioning="Off", policy=None))
    add("acme-analytics-scratch", 700, 120, pab=PAB_ALL, sse=("AES256", None, False),
        versioning="Suspended", policy=None, tags={"environment": "development"})
    # Shared with a partner account: the policy is not public, but the public access
    # block is only half on.
    add("acme-partner-share", 600, 60,
        pab={"blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": False,
             "restrictPublicBuckets": False},
        sse=("AES256", None, False), versioning="Enabled",
        policy=pdoc({"Sid": "PartnerRead", "Effect": "Allow",
                     "Principal": {"AWS": "arn:aws:iam::%s:root" % VENDOR},
                     "Action": ["s3:GetObject", "s3:ListBucket"],
                     "Resource": ["arn:aws:s3:::acme-partner-share",
                                  "arn:aws:s3:::acme-partner-share/*"]},
                    tls_only_statement("acme-partner-share")),
        tags={"environment": "production"})
    return out


# --- security groups ----------------------------------------------------


def perm(proto, from_port=None, to_port=None, v4=(), v6=(), groups=(), account=PROD):
    p = {}
    if from_port is not None:
        p["fromPort"] = from_port
    p["ipProtocol"] = proto
    p["ipv6Ranges"] = [{"cidrIpv6": c} for c in v6]
    p["prefixListIds"] = []
    if to_port is not None:
        p["toPort"] = to_port
    p["userIdGroupPairs"] = [{"groupId": g, "userId": account} for g in groups]
    p["ipv4Ranges"] = [{"cidrIp": c} for c in v4]
    p["ipRanges"] = list(v4)
    return p


EGRESS_ALL = [perm("-1", v4=["0.0.0.0/0"])]


def sg_ci(account, region, name, vpc, description, ingress, egress, created_days,
          captured_days, tags=None):
    gid = sg_id(name if name != "default" else "default-" + vpc, account)
    config = {
        "description": description,
        "groupName": name,
        "ipPermissions": ingress,
        "ownerId": account,
        "groupId": gid,
        "ipPermissionsEgress": egress,
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
        "vpcId": vpc,
    }
    return ci(account, region, "AWS::EC2::SecurityGroup", gid, name,
              "arn:aws:ec2:%s:%s:security-group/%s" % (region, account, gid), "Not Applicable",
              config, {}, dict(tags or {}), ago(created_days, ("sg", name, vpc)),
              ago(captured_days, ("sgci", name, vpc)),
              relationships=[rel("AWS::EC2::VPC", vpc, "Is contained in Vpc")])


def prod_security_groups(region):
    A = PROD
    main, legacy = vpc_id("acme-prod"), vpc_id("acme-legacy")
    default_main = sg_id("default-" + main)
    alb, app = sg_id("web-alb"), sg_id("app-servers")
    items = [
        # default SG of the main VPC still has its out-of-the-box rules
        sg_ci(A, region, "default", main, "default VPC security group",
              [perm("-1", groups=[default_main])], EGRESS_ALL, 1500, 1500),
        # default SG of the legacy VPC: every rule removed (closed)
        sg_ci(A, region, "default", legacy, "default VPC security group", [], [], 2000, 600),
        sg_ci(A, region, "bastion-ssh", main, "SSH to the bastion host",
              [perm("tcp", 22, 22, v4=["0.0.0.0/0"])], EGRESS_ALL, 1200, 400,
              tags={"Name": "bastion-ssh"}),
        sg_ci(A, region, "windows-jumpbox", main, "RDP for the BI jump box",
              [perm("tcp", 3389, 3389, v4=["0.0.0.0/0"])], EGRESS_ALL, 900, 350,
              tags={"Name": "windows-jumpbox"}),
        sg_ci(A, region, "web-alb", main, "Public HTTPS load balancer",
              [perm("tcp", 80, 80, v4=["0.0.0.0/0"], v6=["::/0"]),
               perm("tcp", 443, 443, v4=["0.0.0.0/0"], v6=["::/0"])],
              EGRESS_ALL, 1400, 200, tags={"Name": "web-alb", "environment": "production"}),
        sg_ci(A, region, "app-servers", main, "Application servers behind the ALB",
              [perm("tcp", 8080, 8080, groups=[alb]),
               perm("tcp", 22, 22, v4=["10.20.0.0/16"])],
              EGRESS_ALL, 1400, 100, tags={"Name": "app-servers", "environment": "production"}),
        sg_ci(A, region, "rds-postgres", main, "PostgreSQL from the app tier",
              [perm("tcp", 5432, 5432, groups=[app])], [], 1000, 300,
              tags={"Name": "rds-postgres"}),
        sg_ci(A, region, "legacy-debug", main, "temporary debug access - remove",
              [perm("-1", v6=["::/0"])], EGRESS_ALL, 500, 480, tags={"Name": "legacy-debug"}),
        sg_ci(A, region, "vpn-admin", main, "SSH from the office VPN egress IP",
              [perm("tcp", 22, 22, v4=["203.0.113.10/32"])], EGRESS_ALL, 800, 90),
        sg_ci(A, region, "ftp-legacy", legacy, "Legacy partner file transfer",
              [perm("tcp", 20, 22, v4=["0.0.0.0/0"])], EGRESS_ALL, 1900, 1100),
        sg_ci(A, region, "monitoring", main, "SNMP from the monitoring subnet",
              [perm("udp", 161, 161, v4=["10.20.30.0/24"])], EGRESS_ALL, 600, 250),
    ]
    return items


def vpc_ci(account, region, name, cidr, created_days, is_default=False):
    vid = vpc_id(name, account)
    config = {
        "cidrBlock": cidr,
        "dhcpOptionsId": "dopt-" + hex_id(17, "dopt", account),
        "state": "available",
        "vpcId": vid,
        "ownerId": account,
        "instanceTenancy": "default",
        "ipv6CidrBlockAssociationSet": [],
        "cidrBlockAssociationSet": [{
            "associationId": "vpc-cidr-assoc-" + hex_id(17, "assoc", vid),
            "cidrBlock": cidr, "cidrBlockState": {"state": "associated", "statusMessage": None}}],
        "isDefault": is_default,
        "tags": [{"key": "Name", "value": name}],
    }
    return ci(account, region, "AWS::EC2::VPC", vid, name,
              "arn:aws:ec2:%s:%s:vpc/%s" % (region, account, vid), "Multiple Availability Zones",
              config, {}, {"Name": name}, ago(created_days, ("vpc", name)),
              ago(created_days, ("vpc", name)))


# --- CloudTrail -----------------------------------------------------------


def trail_ci(account, region, name, created_days, captured_days, multi, validation,
             kms_arn, log_group, bucket, tags=None):
    arn = "arn:aws:cloudtrail:%s:%s:trail/%s" % (region, account, name)
    config = {
        "name": name,
        "s3BucketName": bucket,
        "s3KeyPrefix": None,
        "snsTopicName": None,
        "snsTopicARN": None,
        "includeGlobalServiceEvents": multi,
        "isMultiRegionTrail": multi,
        "homeRegion": region,
        "trailARN": arn,
        "logFileValidationEnabled": validation,
        "cloudWatchLogsLogGroupArn": log_group,
        "cloudWatchLogsRoleArn": ("arn:aws:iam::%s:role/cloudtrail-cloudwatch-logs" % account)
        if log_group else None,
        "kmsKeyId": kms_arn,
        "hasCustomEventSelectors": not multi,
        "hasInsightSelectors": False,
        "isOrganizationTrail": False,
    }
    return ci(account, region, "AWS::CloudTrail::Trail", name, name, arn, "Not Applicable",
              config, {}, dict(tags or {}), ago(created_days, ("trail", name)),
              ago(captured_days, ("trailci", name)))


def prod_trails(region):
    A = PROD
    return [
        trail_ci(A, region, "acme-org-trail", 1300, 210, True, True,
                 "arn:aws:kms:%s:%s:key/%s" % (region, A, kms_key_id("cloudtrail")),
                 "arn:aws:logs:%s:%s:log-group:aws-cloudtrail-logs-acme:*" % (region, A),
                 "acme-prod-cloudtrail-logs", tags={"environment": "production"}),
        trail_ci(A, region, "acme-data-events-legacy", 1600, 900, False, False, None, None,
                 "acme-prod-cloudtrail-logs"),
    ]


# --- KMS ------------------------------------------------------------------


def kms_ci(account, region, name, created_days, captured_days, rotation, manager="CUSTOMER",
           description="", tags=None):
    kid = kms_key_id(name, account)
    arn = "arn:aws:kms:%s:%s:key/%s" % (region, account, kid)
    created = ago(created_days, ("kms", name))
    config = {
        "awsaccountId": account,
        "keyId": kid,
        "arn": arn,
        "creationDate": ci_ts(created),
        "enabled": True,
        "description": description,
        "keyUsage": "ENCRYPT_DECRYPT",
        "keyState": "Enabled",
        "deletionDate": None,
        "validTo": None,
        "origin": "AWS_KMS",
        "customKeyStoreId": None,
        "cloudHsmClusterId": None,
        "expirationModel": None,
        "keyManager": manager,
        "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "keySpec": "SYMMETRIC_DEFAULT",
        "encryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "signingAlgorithms": None,
        "multiRegion": False,
        "multiRegionConfiguration": None,
        "pendingDeletionWindowInDays": None,
    }
    return ci(account, region, "AWS::KMS::Key", kid, None, arn, "Not Applicable", config,
              {"KeyRotationStatus": rotation}, dict(tags or {}), created,
              ago(captured_days, ("kmsci", name)))


def prod_kms(region):
    A = PROD
    return [
        kms_ci(A, region, "prod-data", 1500, 30, True,
               description="acme-prod data lake and backups",
               tags={"environment": "production"}),
        kms_ci(A, region, "cloudtrail", 1300, 60, True, description="CloudTrail log encryption"),
        kms_ci(A, region, "legacy-app", 1800, 700, False,
               description="legacy reporting app (pre-2022)"),
        kms_ci(A, region, "aws-rds", 1000, 1000, True, manager="AWS",
               description="Default key that protects my RDS database volumes when no "
                           "other key is defined"),
    ]


# --- RDS ------------------------------------------------------------------


def rds_ci(account, region, ident, engine, version, klass, created_days, captured_days,
           encrypted, public, retention, multi_az, kms_name, tags, sg_name, az="us-east-1a"):
    dbi = "db-" + _chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 26, "dbi", account, ident)
    arn = "arn:aws:rds:%s:%s:db:%s" % (region, account, ident)
    created = ago(created_days, ("rds", ident))
    port = 5432 if engine == "postgres" else 3306
    kms_arn = ("arn:aws:kms:%s:%s:key/%s" % (region, account, kms_key_id(kms_name, account))
               if encrypted else None)
    vpc = vpc_id("acme-prod", account)
    config = {
        "dBInstanceIdentifier": ident,
        "dBInstanceClass": klass,
        "engine": engine,
        "dBInstanceStatus": "available",
        "masterUsername": "acme_admin",
        "dBName": "acme",
        "endpoint": {"address": "%s.c%s.%s.rds.amazonaws.com" % (ident, hex_id(11, "rdsdns", account), region),
                     "port": port, "hostedZoneId": "Z2R2ITUGPM61AM"},
        "allocatedStorage": 200,
        "instanceCreateTime": ci_ts(created),
        "preferredBackupWindow": "03:00-03:30",
        "backupRetentionPeriod": retention,
        "dBSecurityGroups": [],
        "vpcSecurityGroups": [{"vpcSecurityGroupId": sg_id(sg_name, account), "status": "active"}],
        "dBParameterGroups": [{"dBParameterGroupName": "default.%s%s" % (engine, version.split(".")[0]),
                               "parameterApplyStatus": "in-sync"}],
        "availabilityZone": az,
        "dBSubnetGroup": {
            "dBSubnetGroupName": "acme-prod-db-subnets",
            "dBSubnetGroupDescription": "private subnets for RDS",
            "vpcId": vpc,
            "subnetGroupStatus": "Complete",
            "subnets": [
                {"subnetIdentifier": "subnet-" + hex_id(17, "subnet", account, z),
                 "subnetAvailabilityZone": {"name": z}, "subnetStatus": "Active"}
                for z in ("us-east-1a", "us-east-1b", "us-east-1c")]},
        "preferredMaintenanceWindow": "sun:05:00-sun:05:30",
        "pendingModifiedValues": {},
        "latestRestorableTime": ci_ts(ago(0, ("rdsrestore", ident))),
        "multiAZ": multi_az,
        "engineVersion": version,
        "autoMinorVersionUpgrade": True,
        "readReplicaDBInstanceIdentifiers": [],
        "readReplicaDBClusterIdentifiers": [],
        "licenseModel": "postgresql-license" if engine == "postgres" else "general-public-license",
        "optionGroupMemberships": [{"optionGroupName": "default:%s-%s" % (engine, version.split(".")[0]),
                                    "status": "in-sync"}],
        "secondaryAvailabilityZone": "us-east-1b" if multi_az else None,
        "publiclyAccessible": public,
        "storageType": "gp3",
        "dbInstancePort": 0,
        "storageEncrypted": encrypted,
        "kmsKeyId": kms_arn,
        "dbiResourceId": dbi,
        "cACertificateIdentifier": "rds-ca-rsa2048-g1",
        "domainMemberships": [],
        "copyTagsToSnapshot": True,
        "monitoringInterval": 60,
        "enhancedMonitoringResourceArn": "arn:aws:logs:%s:%s:log-group:RDSOSMetrics:log-stream:%s"
                                         % (region, account, dbi),
        "monitoringRoleArn": "arn:aws:iam::%s:role/rds-monitoring-role" % account,
        "dBInstanceArn": arn,
        "iAMDatabaseAuthenticationEnabled": False,
        "performanceInsightsEnabled": False,
        "enabledCloudwatchLogsExports": [],
        "deletionProtection": True,
    }
    rels = [rel("AWS::EC2::SecurityGroup", sg_id(sg_name, account),
                "Is associated with SecurityGroup"),
            rel("AWS::RDS::DBSubnetGroup", "acme-prod-db-subnets",
                "Is associated with DBSubnetGroup", "acme-prod-db-subnets")]
    return ci(account, region, "AWS::RDS::DBInstance", dbi, ident, arn, az, config, {},
              dict(tags), created, ago(captured_days, ("rdsci", ident)), relationships=rels)


def prod_rds(region):
    A = PROD
    return [
        rds_ci(A, region, "acme-prod-postgres", "postgres", "16.4", "db.r6g.xlarge", 1000, 20,
               encrypted=True, public=False, retention=14, multi_az=True, kms_name="prod-data",
               tags={"environment": "production", "owner": "data-platform"},
               sg_name="rds-postgres"),
        rds_ci(A, region, "acme-prod-reporting-mysql", "mysql", "8.0.39", "db.m6g.large", 1400, 150,
               encrypted=False, public=True, retention=1, multi_az=False, kms_name=None,
               tags={"environment": "production", "owner": "bi"},
               sg_name="rds-postgres", az="us-east-1c"),
        rds_ci(A, region, "acme-staging-postgres", "postgres", "16.4", "db.t4g.medium", 600, 45,
               encrypted=True, public=False, retention=7, multi_az=False, kms_name="aws-rds",
               tags={"environment": "staging", "owner": "data-platform"},
               sg_name="rds-postgres", az="us-east-1b"),
    ]


# --- EBS ------------------------------------------------------------------


def volume_ci(account, region, name, created_days, captured_days, encrypted, kms_name, size,
              attached_to=None, az="us-east-1a", tags=None):
    vid = vol_id(name, account)
    created = ago(created_days, ("vol", name))
    attachments = []
    rels = []
    if attached_to:
        iid = instance_id(attached_to, account)
        attachments.append({
            "attachTime": ci_ts(created),
            "device": "/dev/xvda",
            "instanceId": iid,
            "state": "attached",
            "volumeId": vid,
            "deleteOnTermination": True,
            "associatedResource": None,
            "instanceOwningService": None,
        })
        rels.append(rel("AWS::EC2::Instance", iid, "Is attached to Instance"))
    config = {
        "attachments": attachments,
        "availabilityZone": az,
        "createTime": ci_ts(created),
        "encrypted": encrypted,
        "kmsKeyId": ("arn:aws:kms:%s:%s:key/%s" % (region, account, kms_key_id(kms_name, account))
                     if encrypted else None),
        "outpostArn": None,
        "size": size,
        "snapshotId": "snap-" + hex_id(17, "snap", account, name),
        "state": {"value": "in-use" if attached_to else "available"},
        "volumeId": vid,
        "iops": 3000,
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
        "volumeType": "gp3",
        "fastRestored": None,
        "multiAttachEnabled": False,
        "throughput": 125,
        "sseType": None,
    }
    return ci(account, region, "AWS::EC2::Volume", vid, None,
              "arn:aws:ec2:%s:%s:volume/%s" % (region, account, vid), az, config, {},
              dict(tags or {}), created, ago(captured_days, ("volci", name)), relationships=rels)


def prod_volumes(region):
    A = PROD
    return [
        volume_ci(A, region, "app-server-1-root", 400, 400, True, "prod-data", 50,
                  attached_to="app-server-1", tags={"Name": "app-server-1-root"}),
        volume_ci(A, region, "bastion-root", 1200, 1200, False, None, 20,
                  attached_to="bastion", tags={"Name": "bastion-root"}),
        volume_ci(A, region, "jenkins-data", 1650, 300, True, "prod-data", 500,
                  attached_to="jenkins-legacy", az="us-east-1b", tags={"Name": "jenkins-data"}),
        volume_ci(A, region, "orphaned-export-scratch", 700, 650, False, None, 1000,
                  az="us-east-1c", tags={"Name": "export-scratch (detached)"}),
    ]


def prod_snapshot(region):
    items = []
    items += prod_buckets(region)
    items += prod_security_groups(region)
    items += [vpc_ci(PROD, region, "acme-prod", "10.20.0.0/16", 1500),
              vpc_ci(PROD, region, "acme-legacy", "172.31.0.0/16", 2000)]
    items += prod_trails(region)
    items += prod_kms(region)
    items += prod_rds(region)
    items += prod_volumes(region)
    return {"fileVersion": "1.0",
            "configSnapshotId": det_uuid("snapshot", PROD, region, "2026-11-15"),
            "configurationItems": items}


# ---------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------

README = """\
# Demo estate: Acme Analytics

`evidra demo` runs on this folder. It is the exported AWS state of a fictional
data-analytics company, **Acme Analytics**, as of **2026-11-15** (evaluations are
meant to run a few days later, around 2026-11-20). Every file has exactly the
shape the AWS CLI (v2, JSON output) or AWS Config produces, so the same importer
reads real exports.

| folder | account | what |
|---|---|---|
| `aws-111122223333/` | `acme-prod` | production: ~36 IAM users, 14 roles, Config in us-east-1 (recording, with a snapshot and 5 managed rules) and eu-west-1 (recorder stopped, no snapshot) |
| `aws-444455556666/` | `acme-sandbox` | sandbox: IAM only, 5 users |

Files per account, each the output of one AWS CLI command (except the snapshot):

| file | command |
|---|---|
| `iam/credential-report.csv` | `aws iam get-credential-report` (the `Content`, base64-decoded) |
| `iam/account-authorization-details.json` | `aws iam get-account-authorization-details` |
| `iam/password-policy.json` | `aws iam get-account-password-policy` |
| `iam/account-summary.json` | `aws iam get-account-summary` |
| `iam/virtual-mfa-devices.json` | `aws iam list-virtual-mfa-devices` |
| `config/<region>/configuration-recorders.json` | `aws configservice describe-configuration-recorders` |
| `config/<region>/configuration-recorder-status.json` | `aws configservice describe-configuration-recorder-status` |
| `config/<region>/delivery-channels.json` | `aws configservice describe-delivery-channels` |
| `config/us-east-1/config-rules.json` | `aws configservice describe-config-rules` |
| `config/us-east-1/config-rule-compliance.json` | `aws configservice describe-compliance-by-config-rule` |
| `config/us-east-1/config-snapshot.json` | the configuration snapshot Config delivered to S3 (single-line JSON) |

The virtual MFA device list agrees with the credential report: one device per user
with `mfa_active` true, plus one unassigned device (`t.walsh`, a leaver's, never
deleted). Prod root's MFA is a hardware key, so it is not in the list; sandbox root
has no MFA at all. The Config rule compliance agrees with the snapshot.

## What is good

- prod root user: MFA on with a hardware key (no virtual device belongs to root), no
  access keys, password last used about 100 days earlier.
- Most people get permissions from groups (Admins, Developers, ReadOnly, Billing,
  Deployers, DataPipelines); most console users have MFA; most access keys are
  under 60 days old.
- A support role (`acme-support`, AWSSupportAccess), a vendor role that requires
  `sts:ExternalId`, a GitHub OIDC deploy role.
- Sandbox password policy: length 14, all character classes, reuse 24, expiry 90.
- us-east-1 Config recorder records everything, including global types, and its
  delivery channel sends to `acme-prod-config-delivery` daily.
- Config rule `root-account-mfa-enabled` is COMPLIANT.
- Data lake, backups, CloudTrail and Config buckets: public access blocked,
  encrypted, versioned, TLS-only bucket policies. The main trail is multi-region,
  validated, KMS-encrypted and sent to CloudWatch Logs. The production PostgreSQL
  database is encrypted, private, Multi-AZ, with 14 days of backups.

## What is bad

- prod password policy: minimum length 8, no symbols, no expiry, no reuse limit.
- sandbox root user has no MFA.
- Console users without MFA (prod: m.okafor, p.sharma, u.adeyemi, analyst.lopez,
  finance.temp; sandbox: dev.beta).
- Stale active access keys (over 90 days): s.rivera, g.lindqvist, n.schmidt,
  etl-loader, monitoring-exporter (key 2), legacy-reporting; sandbox dev.beta,
  experiment-bot.
- Policies attached straight to users: ops-admin (AdministratorAccess),
  legacy-reporting (customer managed), d.fischer and k.osei (inline); sandbox
  experiment-bot (AmazonS3FullAccess).
- `acme-full-access` grants `*` on `*` (attached to `jenkins-legacy-role`); the
  auditor role trusts another account with no ExternalId.
- eu-west-1 Config recorder exists but is stopped: its delivery channel still names
  `acme-prod-config-eu-west-1`, a bucket that no longer exists (the recorder reports
  NoSuchBucketException).
- Config rules NON_COMPLIANT in us-east-1: `s3-bucket-versioning-enabled` (3 buckets),
  `encrypted-volumes` (1: the attached bastion root volume; the rule ignores detached
  volumes, so the orphaned scratch volume is not counted), `rds-storage-encrypted`
  (1: the reporting MySQL). `opensearch-encrypted-at-rest` has no evaluation
  (INSUFFICIENT_DATA): Acme has no OpenSearch domain.
- A public website bucket, an old bucket with no recorded encryption or public
  access block, an unversioned/suspended bucket, buckets without TLS-only policies.
- Security groups open to the world on 22 (bastion-ssh, ftp-legacy via the range
  20-22) and 3389 (windows-jumpbox), all traffic from `::/0` (legacy-debug), and a
  default security group that still has rules.
- A single-region legacy trail without validation, KMS or CloudWatch Logs; a KMS
  key without rotation; a public, unencrypted, single-AZ production MySQL with
  1 day of backups; two unencrypted EBS volumes.

AWS managed policy documents inside `account-authorization-details.json` are
abbreviated (the real ones list thousands of actions); everything else about
their shape is real. One inline user policy (d.fischer's) is left URL-encoded, as
the raw IAM API returns it; the CLI decodes the others into JSON objects.

## Regenerate

```
python3 scripts/gen-demo.py            # rewrites examples/demo/ (same bytes every run)
python3 scripts/gen-demo.py --check    # verifies the committed files are up to date
```

The script is deterministic (fixed seed, fixed reference date, no wall clock).
Edit the estate in `scripts/gen-demo.py`, never the generated files by hand.
"""


def write_demo(out):
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    write_text(os.path.join(out, "README.md"), README)

    prod = build_prod()
    pbase = os.path.join(out, "aws-" + PROD)
    write_iam(pbase, prod)
    ue1 = os.path.join(pbase, "config", "us-east-1")
    write_cli_json(os.path.join(ue1, "configuration-recorders.json"),
                   recorders_doc(PROD, "us-east-1", True))
    write_cli_json(os.path.join(ue1, "configuration-recorder-status.json"),
                   recorder_status_recording(PROD, "us-east-1", ago(240, ("cfgstart", PROD, "us-east-1"))))
    ue1_snapshot = prod_snapshot("us-east-1")
    write_snapshot(os.path.join(ue1, "config-snapshot.json"), ue1_snapshot)
    write_cli_json(os.path.join(ue1, "delivery-channels.json"),
                   delivery_channels_doc("acme-prod-config-delivery"))
    write_cli_json(os.path.join(ue1, "config-rules.json"), config_rules_doc(PROD, "us-east-1"))
    write_cli_json(os.path.join(ue1, "config-rule-compliance.json"), config_rule_compliance_doc(prod, ue1_snapshot))
    ew1 = os.path.join(pbase, "config", "eu-west-1")
    write_cli_json(os.path.join(ew1, "configuration-recorders.json"),
                   recorders_doc(PROD, "eu-west-1", False))
    write_cli_json(os.path.join(ew1, "configuration-recorder-status.json"),
                   recorder_status_stopped(PROD, "eu-west-1",
                                           ago(700, ("cfgstart", PROD, "eu-west-1")),
                                           ago(160, ("cfgfail", PROD, "eu-west-1")),
                                           ago(158, ("cfgstop", PROD, "eu-west-1"))))
    # The channel still names the bucket that was deleted (hence the recorder's
    # NoSuchBucketException above).
    write_cli_json(os.path.join(ew1, "delivery-channels.json"),
                   delivery_channels_doc("acme-prod-config-eu-west-1"))

    sandbox = build_sandbox()
    write_iam(os.path.join(out, "aws-" + SANDBOX), sandbox)


# ---------------------------------------------------------------------------
# test fixtures (account 123456789012, us-east-1)
# ---------------------------------------------------------------------------

FIX = "123456789012"


def build_fixture_account():
    a = Account(FIX, "fixture")
    a.root = {"created": at(2020, 1, 15, ("root", FIX)), "mfa": True,
              "password_last_used": ago(60, ("rootpw", FIX))}
    a.password_policy = {
        "MinimumPasswordLength": 12,
        "RequireSymbols": True,
        "RequireNumbers": True,
        "RequireUppercaseCharacters": True,
        "RequireLowercaseCharacters": True,
        "AllowUsersToChangePassword": True,
        "ExpirePasswords": False,
    }
    a.local_policies = [dict(name="fixture-app-read", created=400, default="v1",
                             versions=[("v1", 400, s3_read_doc("fixture-app-data"))])]
    a.groups = [dict(name="Engineers", created=500, attached=["fixture-app-read"])]
    a.users = [
        User("alice", 500, ["Engineers"], console=(1, 30), mfa=True,
             keys=[Key(True, 20, 0, "s3")]),
        User("bob", 450, ["Engineers"], console=(3, 200), mfa=False,
             keys=[Key(True, 200, 10, "ec2")],
             inline=[("bob-ec2-describe", pdoc({"Effect": "Allow", "Action": "ec2:Describe*",
                                                "Resource": "*"}), True)]),
        User("svc-ci", 300, [], path="/service/",
             keys=[Key(True, 15, 0, "ecr"), Key(False, 250, 240, "ecr")]),
    ]
    a.roles = [dict(name="fixture-app-role", created=400, trust=trust_service("ec2.amazonaws.com"),
                    attached=["fixture-app-read"], last_used=1)]
    return a


def write_fixtures(files_dir, malformed_dir):
    # Only the files below are (over)written; other fixtures in these folders are kept.
    a = build_fixture_account()
    write_text(os.path.join(files_dir, "credential-report.csv"), credential_report(a))
    # Authorization details cover alice and bob only (svc-ci is in the credential
    # report alone), one group, one role, one customer managed policy.
    full = authorization_details(a)
    auth = {
        "UserDetailList": [u for u in full["UserDetailList"] if u["UserName"] in ("alice", "bob")],
        "GroupDetailList": full["GroupDetailList"],
        "RoleDetailList": full["RoleDetailList"],
        "Policies": [p for p in full["Policies"] if p["PolicyName"] == "fixture-app-read"],
    }
    auth_text = cli_json(auth)
    write_text(os.path.join(files_dir, "account-authorization-details.json"), auth_text)
    write_cli_json(os.path.join(files_dir, "password-policy.json"),
                   {"PasswordPolicy": a.password_policy})
    write_cli_json(os.path.join(files_dir, "account-summary.json"), account_summary(a))
    region = "us-east-1"
    write_cli_json(os.path.join(files_dir, "configuration-recorders.json"),
                   recorders_doc(FIX, region, True))
    write_cli_json(os.path.join(files_dir, "configuration-recorder-status.json"),
                   recorder_status_recording(FIX, region, ago(100, ("cfgstart", FIX, region))))
    snap_items = [
        s3_bucket_ci(FIX, region, "fixture-public-site", ago(300, ("bucket", "fps")),
                     ago(10, ("bucketci", "fps")), pab=PAB_NONE, sse=("AES256", None, False),
                     versioning="Off",
                     policy=pdoc({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                                  "Action": "s3:GetObject",
                                  "Resource": "arn:aws:s3:::fixture-public-site/*"})),
        sg_ci(FIX, region, "ssh-open", vpc_id("fixture", FIX), "SSH from anywhere",
              [perm("tcp", 22, 22, v4=["0.0.0.0/0"], account=FIX)],
              [perm("-1", v4=["0.0.0.0/0"], account=FIX)], 200, 50),
        volume_ci(FIX, region, "fixture-root", 150, 150, True, "fixture-ebs", 30,
                  attached_to="fixture-instance", tags={"Name": "fixture-root"}),
    ]
    write_snapshot(os.path.join(files_dir, "config-snapshot.json"),
                   {"fileVersion": "1.0",
                    "configSnapshotId": det_uuid("snapshot", FIX, region),
                    "configurationItems": snap_items})

    # --- malformed, one per folder
    write_text(os.path.join(malformed_dir, "truncated-json", "account-authorization-details.json"),
               auth_text[: len(auth_text) * 11 // 20])
    cred = credential_report(a).split("\n")
    bad = cred[2].split(",")
    del bad[9]   # drop access_key_1_last_rotated: 21 columns instead of 22
    write_text(os.path.join(malformed_dir, "bad-csv", "credential-report.csv"),
               "\n".join(cred[:2] + [",".join(bad)] + cred[3:]))
    write_cli_json(os.path.join(malformed_dir, "unknown", "notes.json"), {
        "title": "Quarterly access review - notes",
        "date": "2026-10-02",
        "attendees": ["compliance lead", "platform on-call"],
        "actions": [
            {"owner": "platform", "item": "remove the legacy-debug security group"},
            {"owner": "finance", "item": "enable MFA for finance.temp"},
        ],
    })
    write_snapshot(os.path.join(malformed_dir, "snapshot-missing-items", "config-snapshot.json"), {
        "fileVersion": "1.0",
        "configSnapshotId": det_uuid("snapshot", FIX, region, "malformed"),
        # a single item where an array of items belongs
        "configurationItems": snap_items[0],
    })


# ---------------------------------------------------------------------------
# validation and main
# ---------------------------------------------------------------------------


def validate_tree(root, malformed=False):
    """Every .json parses, every credential report row has 22 columns."""
    problems = []
    for dirpath, _, files in os.walk(root):
        for fn in sorted(files):
            p = os.path.join(dirpath, fn)
            if fn.endswith(".json"):
                try:
                    with open(p, encoding="utf-8") as f:
                        json.load(f)
                except ValueError as e:
                    if not malformed or "truncated" not in p:
                        problems.append("%s: %s" % (p, e))
            elif fn.endswith(".csv"):
                with open(p, encoding="utf-8") as f:
                    lines = f.read().split("\n")
                if lines[0].split(",") != CRED_HEADER:
                    problems.append("%s: header differs" % p)
                for i, line in enumerate(lines):
                    n = len(line.split(","))
                    if n != 22 and not (malformed and "bad-csv" in p):
                        problems.append("%s:%d: %d columns" % (p, i + 1, n))
    return problems


def same_files(fresh, target, exact):
    """Every generated file exists in target with the same bytes; with exact, target
    also holds nothing else."""
    for dirpath, _, files in os.walk(fresh):
        for fn in files:
            f = os.path.join(dirpath, fn)
            t = os.path.join(target, os.path.relpath(f, fresh))
            if not os.path.isfile(t) or not filecmp.cmp(f, t, shallow=False):
                return False
    if exact:
        for dirpath, _, files in os.walk(target):
            for fn in files:
                t = os.path.join(dirpath, fn)
                if not os.path.isfile(os.path.join(fresh, os.path.relpath(t, target))):
                    return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixtures", action="store_true",
                    help="write tests/fixtures/files and tests/fixtures/malformed instead")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary directory and compare with the tree")
    ap.add_argument("--out", help="output directory (default: examples/demo or tests/fixtures)")
    args = ap.parse_args()

    if args.fixtures:
        base = args.out or os.path.join(ROOT, "tests", "fixtures")
        targets = [os.path.join(base, "files"), os.path.join(base, "malformed")]
        gen = lambda root: write_fixtures(os.path.join(root, "files"), os.path.join(root, "malformed"))
    else:
        base = args.out or os.path.join(ROOT, "examples", "demo")
        targets = [base]
        gen = write_demo

    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = os.path.join(tmp, "out")
            gen(fresh)
            pairs = ([(os.path.join(fresh, "files"), targets[0]),
                      (os.path.join(fresh, "malformed"), targets[1])]
                     if args.fixtures else [(fresh, base)])
            stale = [t for f, t in pairs
                     if not os.path.isdir(t) or not same_files(f, t, exact=not args.fixtures)]
        if stale:
            print("out of date: %s (run scripts/gen-demo.py%s)"
                  % (", ".join(stale), " --fixtures" if args.fixtures else ""), file=sys.stderr)
            return 1
        print("up to date")
        return 0

    gen(base)
    problems = []
    for t in targets:
        problems += validate_tree(t, malformed=t.endswith("malformed"))
    for p in problems:
        print("invalid: " + p, file=sys.stderr)
    if problems:
        return 1
    print("wrote " + ", ".join(os.path.relpath(t, ROOT) for t in targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
