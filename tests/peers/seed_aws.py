"""Seeds moto with a test estate, through the real AWS API (boto3).

Usage: python seed_aws.py ENDPOINT SCENARIO [ARG]
  estate      users with and without console passwords and MFA, keys, policies on
              users, groups and roles, a weak password policy, Config recording in
              us-east-1 (S3 bucket, security groups, a Config rule) and a stopped
              recorder in eu-west-1.
  users N     N IAM users (half with console passwords, a third with access keys).
  org         an organisation: this account (the management account) and the member
              accounts `prod` and `dev` (created through Organizations, so each has
              OrganizationAccountAccessRole), and `closed` (closed: SUSPENDED). Each
              active account gets IAM users (`<name>-admin` with a console password and
              no MFA) and Config recording in us-east-1. Prints the account IDs as JSON.
"""

import json
import sys

import boto3

ENDPOINT, SCENARIO = sys.argv[1], sys.argv[2]
ACCOUNT = "123456789012"


def client(service, region="us-east-1", credentials=None):
    keys = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=region, **keys)


ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
READ = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]})


def estate():
    iam = client("iam")
    admin = iam.create_policy(PolicyName="admin-all", PolicyDocument=ADMIN)["Policy"]["Arn"]
    read = iam.create_policy(PolicyName="s3-read", PolicyDocument=READ)["Policy"]["Arn"]
    iam.create_group(GroupName="Engineers")
    iam.attach_group_policy(GroupName="Engineers", PolicyArn=read)
    for name in ["alice", "bob", "carol", "dave"]:
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName="Engineers", UserName=name)
    # alice: console password and a virtual MFA device.
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-9")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321")
    # bob: console password, no MFA.
    iam.create_login_profile(UserName="bob", Password="Correct-Horse-Battery-9")
    # carol: an access key, no console.
    iam.create_access_key(UserName="carol")
    # dave: a managed policy attached to the user, and an inline one.
    iam.attach_user_policy(UserName="dave", PolicyArn=admin)
    iam.put_user_policy(UserName="dave", PolicyName="scratch", PolicyDocument=READ)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="deployer", PolicyArn=admin)
    iam.update_account_password_policy(MinimumPasswordLength=8, RequireSymbols=True)

    role = f"arn:aws:iam::{ACCOUNT}:role/config"
    east = client("config", "us-east-1")
    east.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role,
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
    east.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-delivery"})
    east.start_configuration_recorder(ConfigurationRecorderName="default")
    east.put_config_rule(ConfigRule={"ConfigRuleName": "s3-bucket-versioning-enabled",
        "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"},
        "Scope": {"ComplianceResourceTypes": ["AWS::S3::Bucket"]}})
    west = client("config", "eu-west-1")
    west.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role,
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False}})
    s3 = client("s3")
    s3.create_bucket(Bucket="estate-data")
    ec2 = client("ec2")
    sg = ec2.create_security_group(GroupName="ssh-open", Description="ssh from anywhere")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def users(n):
    iam = client("iam")
    for i in range(n):
        name = f"user{i:05d}"
        iam.create_user(UserName=name)
        if i % 2 == 0:
            iam.create_login_profile(UserName=name, Password="Correct-Horse-Battery-9")
        if i % 3 == 0:
            iam.create_access_key(UserName=name)


def account_basics(name, account, credentials=None):
    iam = client("iam", credentials=credentials)
    iam.create_user(UserName=f"{name}-admin")
    iam.create_login_profile(UserName=f"{name}-admin", Password="Correct-Horse-Battery-9")
    iam.update_account_password_policy(MinimumPasswordLength=14)
    config = client("config", "us-east-1", credentials)
    config.put_configuration_recorder(ConfigurationRecorder={"name": "default",
        "roleARN": f"arn:aws:iam::{account}:role/config",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": f"config-{account}"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")


def org():
    organizations = client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    ids = {"management": ACCOUNT}
    for name in ["prod", "dev", "closed"]:
        status = organizations.create_account(AccountName=name, Email=f"{name}@example.invalid")
        ids[name] = status["CreateAccountStatus"]["AccountId"]
    organizations.close_account(AccountId=ids["closed"])
    account_basics("management", ACCOUNT)
    sts = client("sts")
    for name in ["prod", "dev"]:
        role = f"arn:aws:iam::{ids[name]}:role/OrganizationAccountAccessRole"
        creds = sts.assume_role(RoleArn=role, RoleSessionName="seed")["Credentials"]
        account_basics(name, ids[name], {"aws_access_key_id": creds["AccessKeyId"],
                                         "aws_secret_access_key": creds["SecretAccessKey"],
                                         "aws_session_token": creds["SessionToken"]})
    print(json.dumps(ids))


if SCENARIO == "estate":
    estate()
elif SCENARIO == "org":
    org()
elif SCENARIO == "users":
    users(int(sys.argv[3]))
else:
    sys.exit(f"unknown scenario {SCENARIO}")
print("seeded", SCENARIO)
