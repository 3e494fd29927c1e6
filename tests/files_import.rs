//! The files collector on real-format exports, and on malformed ones.

mod common;

use std::collections::BTreeMap;

use evidra_collector_files::{SourceFile, import, read_dir};

fn import_fixture(sub: &str) -> Result<evidra_collector_core::Batch, evidra_collector_core::CollectError> {
    let dir = common::fixtures(sub);
    let files = read_dir(&dir)?;
    import("fixture", &files, common::NOW)
}

fn by_type(batch: &evidra_collector_core::Batch) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in &batch.resources {
        *counts.entry(r.resource_type.clone()).or_default() += 1;
    }
    counts
}

#[test]
fn every_fixture_format_is_recognised_and_kept_verbatim() {
    let batch = import_fixture("files").expect("fixtures import");
    assert_eq!(batch.evidence.len(), 7, "one evidence record per file");
    for e in &batch.evidence {
        let original = std::fs::read(common::fixtures("files").join(&e.source.scope)).unwrap();
        assert_eq!(e.bytes, original, "{} stored verbatim", e.source.scope);
        assert_eq!(e.sha256, evidra_collector_core::sha256_hex(&original));
    }
    let counts = by_type(&batch);
    assert_eq!(counts["aws.iam.account"], 1);
    assert_eq!(
        counts["aws.iam.user"], 3,
        "alice and bob (both sources) and svc-ci (report only)"
    );
    assert_eq!(counts["aws.iam.group"], 1);
    assert_eq!(counts["aws.iam.role"], 1);
    assert_eq!(counts["aws.config.region"], 1);
    assert_eq!(counts["aws.s3.bucket"], 1);
    assert_eq!(counts["aws.ec2.security_group"], 1);
    assert_eq!(counts["aws.ec2.volume"], 1);
    assert!(batch.gaps.is_empty());
}

#[test]
fn credential_report_and_authorization_details_merge_per_user() {
    let batch = import_fixture("files").unwrap();
    let bob = batch
        .resources
        .iter()
        .find(|r| r.resource_id.ends_with(":user/bob"))
        .unwrap();
    assert_eq!(
        bob.evidence.len(),
        2,
        "bob cites the credential report and the authorization details"
    );
    assert_eq!(bob.properties["credential_report"]["password_enabled"], true);
    let inline = &bob.properties["inline_policies"][0]["document"];
    assert!(inline.is_object(), "the URL-encoded inline policy is decoded: {inline}");
    assert!(inline["Statement"].is_array());
    let account = batch
        .resources
        .iter()
        .find(|r| r.resource_type == "aws.iam.account")
        .unwrap();
    assert_eq!(account.account, "123456789012");
    assert!(
        account.properties["root"]["mfa_active"].is_boolean(),
        "the <root_account> row lands on the account"
    );
    assert!(account.properties["password_policy"]["MinimumPasswordLength"].is_number());
    assert!(account.properties["summary"]["AccountMFAEnabled"].is_number());
}

#[test]
fn files_are_recognised_by_content_not_name() {
    let dir = common::fixtures("files");
    let files: Vec<SourceFile> = read_dir(&dir)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, f)| SourceFile {
            path: format!("export-{i}.dat").into(),
            bytes: f.bytes,
        })
        .collect();
    let batch = import("renamed", &files, common::NOW).expect("renamed files still import");
    assert_eq!(by_type(&batch), by_type(&import_fixture("files").unwrap()));
}

#[test]
fn gzipped_config_snapshot_imports() {
    use std::io::Write;
    let original = std::fs::read(common::fixtures("files/config-snapshot.json")).unwrap();
    let mut gz = flate2_writer();
    gz.write_all(&original).unwrap();
    let bytes = gz.finish().unwrap();
    let files = vec![SourceFile {
        path: "123456789012_Config_us-east-1_ConfigSnapshot.json.gz".into(),
        bytes: bytes.clone(),
    }];
    let batch = import("gz", &files, common::NOW).expect("gzip snapshot imports");
    assert_eq!(batch.evidence[0].bytes, bytes, "the gzip file itself is the evidence");
    assert_eq!(batch.evidence[0].media_type, "application/gzip");
    assert!(batch.resources.iter().any(|r| r.resource_type == "aws.s3.bucket"));
}

fn flate2_writer() -> flate2::write::GzEncoder<Vec<u8>> {
    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default())
}

#[test]
fn malformed_files_are_errors_naming_the_file() {
    for (folder, file, expected) in [
        ("truncated-json", "account-authorization-details.json", "not valid JSON"),
        ("bad-csv", "credential-report.csv", "line 3"),
        ("unknown", "notes.json", "not a recognised export"),
        (
            "snapshot-missing-items",
            "config-snapshot.json",
            "`configurationItems` is not an array",
        ),
    ] {
        let err = import_fixture(&format!("malformed/{folder}"))
            .err()
            .unwrap_or_else(|| panic!("{folder} must not import"));
        let text = err.to_string();
        assert!(text.contains(file), "{folder}: error names the file: {text}");
        assert!(
            text.contains(expected),
            "{folder}: error says what is wrong ({expected}): {text}"
        );
    }
}

#[test]
fn a_password_policy_with_no_account_anywhere_is_an_error() {
    let bytes = std::fs::read(common::fixtures("files/password-policy.json")).unwrap();
    let err = import(
        "lonely",
        &[SourceFile {
            path: "password-policy.json".into(),
            bytes,
        }],
        common::NOW,
    )
    .unwrap_err();
    assert!(err.to_string().contains("cannot tell which AWS account"), "{err}");
}

#[test]
fn the_account_folder_name_places_account_wide_files() {
    let bytes = std::fs::read(common::fixtures("files/password-policy.json")).unwrap();
    let files = [SourceFile {
        path: "aws-210987654321/password-policy.json".into(),
        bytes,
    }];
    let batch = import("named", &files, common::NOW).unwrap();
    assert_eq!(batch.resources[0].account, "210987654321");
}

#[test]
fn a_stopped_recorder_without_snapshot_is_a_gap_for_config_resources() {
    let status =
        br#"{"ConfigurationRecordersStatus":[{"name":"default","recording":false,"lastStatus":"FAILURE"}]}"#.to_vec();
    let recorders = br#"{"ConfigurationRecorders":[{"name":"default","roleARN":"arn:aws:iam::123456789012:role/config","recordingGroup":{"allSupported":true}}]}"#.to_vec();
    let files = [
        SourceFile {
            path: "config/eu-west-1/status.json".into(),
            bytes: status,
        },
        SourceFile {
            path: "config/eu-west-1/recorders.json".into(),
            bytes: recorders,
        },
    ];
    let batch = import("stopped", &files, common::NOW).unwrap();
    assert_eq!(batch.gaps.len(), 1);
    let gap = &batch.gaps[0];
    assert_eq!(gap.scope.to_string(), "aws/123456789012/eu-west-1");
    assert_eq!(gap.error, "no configuration items: Config not recording");
    assert!(gap.resource_types.iter().any(|t| t == "aws.s3.bucket"));
}

#[test]
fn the_demo_estate_imports() {
    let files = read_dir(&common::repo().join("examples/demo")).unwrap();
    let batch = import("demo", &files, common::NOW).unwrap();
    assert!(
        batch
            .resources
            .iter()
            .filter(|r| r.resource_type == "aws.iam.user")
            .count()
            >= 30
    );
}

/// A credential report of `users` users (and the root row) for account 123456789012.
fn large_credential_report(users: usize) -> SourceFile {
    let mut csv = String::from(
        "user,arn,user_creation_time,password_enabled,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_2_active\n\
         <root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,true,false,N/A,false\n",
    );
    for i in 0..users {
        csv.push_str(&format!(
            "user{i:05},arn:aws:iam::123456789012:user/user{i:05},2024-01-01T00:00:00+00:00,true,false,false,N/A,false\n"
        ));
    }
    SourceFile {
        path: "aws-123456789012/credential-report.csv".into(),
        bytes: csv.into_bytes(),
    }
}

#[test]
fn a_large_import_reaches_the_sink_in_batches_that_add_up_to_the_whole() {
    let files = vec![large_credential_report(25_000)];
    let whole = import("large", &files, common::NOW).unwrap();
    let mut batches = Vec::new();
    evidra_collector_files::import_into("large", files, common::NOW, &mut |batch| {
        batches.push(batch.clone());
        Ok(())
    })
    .unwrap();
    assert!(batches.len() >= 3, "25,000 users in {} batches", batches.len());
    assert!(
        batches.iter().all(|b| b.resources.len() <= 20_000),
        "no batch holds the whole import"
    );
    let mut ids: Vec<&str> = batches
        .iter()
        .flat_map(|b| &b.resources)
        .map(|r| r.resource_id.as_str())
        .collect();
    ids.sort_unstable();
    let mut expected: Vec<&str> = whole.resources.iter().map(|r| r.resource_id.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(ids, expected, "every record once");
    assert_eq!(whole.resources.len(), 25_001, "25,000 users and the account");
    assert_eq!(batches.iter().map(|b| b.evidence.len()).sum::<usize>(), 1);
    assert_eq!(
        batches.iter().map(|b| b.observations.len()).sum::<usize>(),
        whole.observations.len()
    );
}

#[test]
fn a_bad_file_stops_a_large_import_before_any_batch_is_written() {
    let files = vec![
        large_credential_report(25_000),
        SourceFile {
            path: "aws-123456789012/zz-broken.json".into(),
            bytes: b"{\"UserDetailList\": [".to_vec(),
        },
    ];
    let mut written = 0;
    let err = evidra_collector_files::import_into("broken", files, common::NOW, &mut |_| {
        written += 1;
        Ok(())
    })
    .unwrap_err();
    assert!(err.to_string().contains("zz-broken.json"), "{err}");
    assert_eq!(written, 0, "nothing of an import that failed reaches the store");
}

/// Batches are made on a second thread while the sink stores the last one: a sink that
/// fails part way stops the import with its own error, takes no batch after it, and
/// the import does not wait for a batch nobody will take.
#[test]
fn a_store_that_fails_part_way_stops_a_large_import_with_its_error() {
    let files = vec![large_credential_report(45_000)];
    let mut offered = 0;
    let err = evidra_collector_files::import_into("large", files, common::NOW, &mut |_| {
        offered += 1;
        if offered == 2 {
            return Err(evidra_collector_core::SinkError("disk full".into()).into());
        }
        Ok(())
    })
    .unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");
    assert_eq!(offered, 2, "no batch after the failed one");
}
