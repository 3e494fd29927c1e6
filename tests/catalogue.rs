//! Catalogue hygiene: everything loads, strictly; every control is tested and its cases pass.

mod common;

use evidra::catalogue::{Catalogue, Source};

#[test]
fn the_builtin_catalogue_loads_and_every_case_passes() {
    let catalogue = Catalogue::builtin().unwrap();
    assert!(catalogue.framework("soc2").is_some() && catalogue.framework("iso27001").is_some());
    assert_eq!(catalogue.framework("iso27001").unwrap().requirements.len(), 93);
    assert_eq!(catalogue.framework("soc2").unwrap().requirements.len(), 61);
    for control in &catalogue.controls {
        assert!(!control.tests.is_empty(), "{} has test cases", control.id);
        assert!(!control.requirements.is_empty(), "{} maps to requirements", control.id);
        assert!(
            control
                .source
                .ends_with(&format!("{}.toml", control.id.rsplit('.').next().unwrap()))
        );
    }
    let failures: Vec<String> = evidra::engine::testing::run_all(&catalogue.controls)
        .into_iter()
        .flat_map(|r| {
            r.failures
                .into_iter()
                .map(move |f| format!("{} / {}: {f}", r.control, r.case))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Built-in controls whose rule still fails, and with it leaves every resource of its
/// scope unjudged, when one record beside the others is malformed. This list only
/// shrinks: a control fixed must leave it, and no control may join it.
const FAILING_ON_A_MALFORMED_RECORD: &[&str] = &[
    "aws.config.delivery_channel",
    "aws.config.recorder_all_resources",
    "aws.config.recorder_enabled",
    "aws.config.rules_compliant",
    "aws.ec2.default_sg_closed",
    "aws.ec2.sg_no_public_all_ports",
    "aws.ec2.sg_no_public_rdp",
    "aws.ec2.sg_no_public_ssh",
    "aws.iam.access_key_rotation",
    "aws.iam.cross_account_external_id",
    "aws.iam.no_admin_inline_policies",
    "aws.iam.no_privilege_escalation_inline",
    "aws.iam.no_wildcard_trust",
    "aws.iam.root_hardware_mfa",
    "aws.iam.root_not_used_recently",
    "aws.iam.support_role_exists",
    "aws.iam.unused_credentials_disabled",
    "aws.iam.users_in_groups",
    "aws.kms.key_rotation",
    "aws.s3.bucket_tls_only",
];

/// A rule that fails over one malformed record (a string where an object was expected)
/// makes every resource of its scope an `error`: a region's volumes unjudged over one
/// volume's tags. `evidra controls test` warns about such rules; the built-in ones are
/// held to it here.
#[test]
fn no_builtin_rule_fails_its_whole_scope_over_one_malformed_record() {
    let catalogue = Catalogue::builtin().unwrap();
    let mut failing = Vec::new();
    let mut reasons = Vec::new();
    for result in evidra::engine::testing::malformed_checks(&catalogue.controls) {
        if !result.failures.is_empty() {
            if !FAILING_ON_A_MALFORMED_RECORD.contains(&result.control.as_str()) {
                reasons.push(format!("{}: {}", result.control, result.failures.join("; ")));
            }
            failing.push(result.control);
        }
    }
    assert!(reasons.is_empty(), "{reasons:#?}");
    let fixed: Vec<&&str> = FAILING_ON_A_MALFORMED_RECORD
        .iter()
        .filter(|id| !failing.iter().any(|f| f == **id))
        .collect();
    assert!(fixed.is_empty(), "no longer failing, take them off the list: {fixed:?}");
}

fn user_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const RULE: &str = "package controls.acme.s3.tagged\nresults contains {\"resource\": r.id, \"status\": \"pass\", \"message\": \"ok\"} if { some r in input.resources }\n";

fn control(extra: &str) -> String {
    format!(
        "id = \"acme.s3.tagged\"\ntitle = \"t\"\nseverity = \"low\"\nresource_types = [\"aws.s3.bucket\"]\ndescription = \"d\"\nrationale = \"r\"\n{extra}\n[remediation]\nsummary = \"s\"\n"
    )
}

#[test]
fn an_unknown_key_names_the_file_and_line() {
    let dir = user_dir(&[
        ("s3/tagged.toml", &control("severty = \"low\"")),
        ("s3/tagged.rego", RULE),
    ]);
    let err = Catalogue::load(&[Source::BuiltIn, Source::Dir(dir.path().into())])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tagged.toml") && err.contains("line 7") && err.contains("severty"),
        "{err}"
    );
}

#[test]
fn an_unknown_requirement_is_an_error() {
    let mapping = "[[requirement]]\nframework = \"soc2\"\nid = \"CC99.9\"\nrationale = \"x\"\n";
    let dir = user_dir(&[("s3/tagged.toml", &control(mapping)), ("s3/tagged.rego", RULE)]);
    let err = Catalogue::load(&[Source::BuiltIn, Source::Dir(dir.path().into())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("CC99.9") && err.contains("tagged.toml:"), "{err}");
}

#[test]
fn a_context_type_must_be_one_of_the_resource_types_and_not_all_of_them() {
    for (extra, says) in [
        (
            "context_types = [\"aws.s3.account_public_access_block\"]",
            "not one of the control's",
        ),
        ("context_types = [\"aws.s3.bucket\"]", "judge nothing"),
    ] {
        let dir = user_dir(&[("s3/tagged.toml", &control(extra)), ("s3/tagged.rego", RULE)]);
        let err = Catalogue::load(&[Source::Dir(dir.path().into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("tagged.toml") && err.contains(says), "{err}");
    }
}

#[test]
fn rego_that_does_not_compile_names_the_rule_file() {
    let dir = user_dir(&[
        ("s3/tagged.toml", &control("")),
        (
            "s3/tagged.rego",
            "package controls.acme.s3.tagged\nresults contains x if {",
        ),
    ]);
    let err = Catalogue::load(&[Source::BuiltIn, Source::Dir(dir.path().into())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("tagged.rego"), "{err}");
}

#[test]
fn a_duplicate_id_is_an_error() {
    let dup = control("").replace("acme.s3.tagged", "aws.iam.root_mfa");
    let dir = user_dir(&[
        ("iam/root_mfa.toml", &dup),
        ("iam/root_mfa.rego", &RULE.replace("acme.s3.tagged", "aws.iam.root_mfa")),
    ]);
    let err = Catalogue::load(&[Source::BuiltIn, Source::Dir(dir.path().into())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("already defined"), "{err}");
}

#[test]
fn user_controls_load_beside_the_builtin_ones() {
    let dir = user_dir(&[("s3/tagged.toml", &control("")), ("s3/tagged.rego", RULE)]);
    let catalogue = Catalogue::with_dirs(&[dir.path().into()]).unwrap();
    assert!(catalogue.control("acme.s3.tagged").is_some());
    assert!(catalogue.control("aws.iam.root_mfa").is_some());
}

/// Runs the test cases of one user control (`rule` over `aws.s3.bucket`) through the
/// engine, returning the failures.
fn user_control_failures(rule: &str, cases: &str) -> Vec<String> {
    let dir = user_dir(&[
        ("s3/tagged.toml", &format!("{}{cases}", control(""))),
        ("s3/tagged.rego", rule),
    ]);
    let catalogue = Catalogue::load(&[Source::Dir(dir.path().into())]).unwrap();
    let acme: Vec<_> = catalogue.controls.iter().filter(|c| c.id == "acme.s3.tagged").collect();
    assert_eq!(acme.len(), 1);
    evidra::engine::testing::run_all(acme)
        .into_iter()
        .flat_map(|r| r.failures)
        .collect()
}

/// A test case: one bucket with `properties` (TOML), expected to pass with `message`.
fn pass_case(name: &str, properties: &str, message: &str) -> String {
    format!(
        "\n[[test]]\nname = \"{name}\"\n[[test.resource]]\nid = \"arn:aws:s3:::b\"\n{properties}\n\
         [[test.expect]]\nresource = \"arn:aws:s3:::b\"\nstatus = \"pass\"\nmessage = \"{message}\"\n"
    )
}

/// regorus 0.14.1's Rego VM kept `[t.key | some t in tags]`'s entry for a tag without a
/// `key` as an undefined element, so a count of the keys included the tag with none.
#[test]
fn rego_semantics_an_undefined_term_adds_nothing_to_a_comprehension() {
    let rule = r#"package controls.acme.s3.tagged
results contains {"resource": r.id, "status": "pass", "message": sprintf("%d keys, %d values", [count(keys), count(values)])} if {
    some r in input.resources
    keys := [t.key | some t in r.properties.tags]
    values := {i: v | some i, t in r.properties.tags; v := t.value}
}
"#;
    let case = pass_case(
        "a tag without a key or a value is not counted",
        r#"properties.tags = [{ key = "owner", value = "ops" }, { note = "neither" }]"#,
        "1 keys, 1 values",
    );
    assert_eq!(user_control_failures(rule, &case), Vec::<String>::new());
}

/// regorus 0.14.1's Rego VM gave a function no value at all, instead of its `else`
/// value, when the first body assigned an undefined value: no result for the resource.
#[test]
fn rego_semantics_else_follows_a_body_whose_assignment_is_undefined() {
    let rule = r#"package controls.acme.s3.tagged
verdict(r) := {"status": "fail", "message": m} if {
    m := r.properties.reason
} else := {"status": "pass", "message": "no reason to fail"}

results contains object.union({"resource": r.id}, verdict(r)) if {
    some r in input.resources
}
"#;
    let case = pass_case(
        "the else value when the first body's assignment is undefined",
        r#"properties.name = "b""#,
        "no reason to fail",
    );
    assert_eq!(user_control_failures(rule, &case), Vec::<String>::new());
}

/// A rule that matches nothing in its input (here a misspelt property) gave no result
/// at all, and the engine reported the scope `not_applicable` "no aws.s3.bucket in this
/// scope" while a bucket was there: a broken rule read as nothing to judge.
#[test]
fn a_rule_silent_about_every_resource_is_an_error_not_not_applicable() {
    let rule = r#"package controls.acme.s3.tagged
results contains {"resource": r.id, "status": "pass", "message": "tagged"} if {
    some r in input.resources
    count(r.properties.tagz) > 0
}
"#;
    let case = "\n[[test]]\nname = \"a bucket the rule says nothing about\"\n[[test.resource]]\n\
                id = \"arn:aws:s3:::b\"\nproperties.tags = [{ key = \"owner\" }]\n\
                [[test.expect]]\nresource = \"aws/123456789012/us-east-1\"\nstatus = \"error\"\n\
                message = \"the rule gave no result for the 1 resource(s) of aws.s3.bucket\"\n";
    assert_eq!(user_control_failures(rule, case), Vec::<String>::new());

    // With no bucket at all, the scope still has nothing to judge.
    let empty = "\n[[test]]\nname = \"no bucket\"\n[[test.expect]]\n\
                 resource = \"aws/123456789012/us-east-1\"\nstatus = \"not_applicable\"\n\
                 message = \"no aws.s3.bucket in this scope\"\n";
    assert_eq!(user_control_failures(rule, empty), Vec::<String>::new());
}

/// Two buckets, `a` (properties `{ bad = true, name = "a" }`) and `b` (no properties),
/// and what the engine is expected to make of `rule`'s results over them.
fn two_bucket_case(expect: &[(&str, &str, &str)]) -> String {
    let mut case = String::from(
        "\n[[test]]\nname = \"two buckets\"\n\
         [[test.resource]]\nid = \"a\"\nproperties = { bad = true, name = \"a\" }\n\
         [[test.resource]]\nid = \"b\"\n",
    );
    for (resource, status, message) in expect {
        case.push_str(&format!(
            "[[test.expect]]\nresource = \"{resource}\"\nstatus = \"{status}\"\nmessage = \"{message}\"\n"
        ));
    }
    case
}

/// How the engine turns a rule's results into findings, one rule per behaviour (each
/// case also fails on any finding it does not expect).
#[test]
fn the_engine_turns_results_into_findings_as_documented() {
    let head = "package controls.acme.s3.tagged\n";
    for (what, body, expect) in [
        (
            "a resource said to pass and to fail fails",
            r#"results contains {"resource": r.id, "status": "pass", "message": "ok"} if { some r in input.resources }
results contains {"resource": r.id, "status": "fail", "message": "bad"} if { some r in input.resources; r.properties.bad }"#,
            vec![("a", "fail", "bad"), ("b", "pass", "ok")],
        ),
        (
            "a resource of a judged type with no result is an error",
            r#"results contains {"resource": r.id, "status": "pass", "message": "named"} if { some r in input.resources; r.properties.name }"#,
            vec![
                ("a", "pass", "named"),
                ("b", "error", "the rule gave no result for this resource"),
            ],
        ),
        (
            "an unknown status is an error",
            r#"results contains {"resource": r.id, "status": "maybe", "message": "?"} if { some r in input.resources }"#,
            vec![
                ("a", "error", "the rule returned unknown status `maybe`"),
                ("b", "error", "the rule returned unknown status `maybe`"),
            ],
        ),
        (
            "results that are not a set of objects fail every resource",
            "results := 5",
            vec![
                (
                    "a",
                    "error",
                    "the rule failed to evaluate: `results` must be a set of objects",
                ),
                ("b", "error", "the rule failed to evaluate"),
            ],
        ),
        (
            "a result without a status fails every resource",
            r#"results contains {"resource": r.id} if { some r in input.resources }"#,
            vec![
                ("a", "error", "a result has no `status`"),
                ("b", "error", "a result has no `status`"),
            ],
        ),
        (
            "a result about the scope alone leaves the resources unjudged",
            r#"results contains {"resource": input.scope.id, "status": "pass", "message": "scope ok"}"#,
            vec![("aws/123456789012/us-east-1", "pass", "scope ok")],
        ),
        (
            "a result naming a resource outside the records keeps its own type",
            r#"results contains {"resource": r.id, "status": "pass", "message": "ok"} if { some r in input.resources }
results contains {"resource": "elsewhere", "type": "aws.s3.bucket", "status": "fail", "message": "named by the rule"}"#,
            vec![
                ("a", "pass", "ok"),
                ("b", "pass", "ok"),
                ("elsewhere", "fail", "named by the rule"),
            ],
        ),
    ] {
        let failures = user_control_failures(&format!("{head}{body}\n"), &two_bucket_case(&expect));
        assert_eq!(failures, Vec::<String>::new(), "{what}");
    }
}

/// A rewrite of user_console_mfa that passes every case of the control but takes any
/// `mfa_active` that is not false (say the text "x") for an MFA device.
fn console_mfa_rewrite_that_misreads_bad_data(rule: &str) -> String {
    let rewrite = rule.replace(
        "p.credential_report.mfa_active == true",
        "p.credential_report.mfa_active",
    );
    assert_ne!(rewrite, rule, "the rule still has the line the rewrite changes");
    rewrite
}

/// `evidra controls compare` runs a control's rule and a rewrite over the control's
/// cases as written and with each property of each resource changed. It catches a
/// rewrite the cases alone pass, on the change that tells them apart; the rule against
/// itself differs nowhere.
#[test]
fn compare_catches_a_rewrite_that_passes_every_case_but_misreads_bad_data() {
    let catalogue = Catalogue::with_dirs(&[]).unwrap();
    let control = catalogue
        .controls
        .iter()
        .find(|c| c.id == "aws.iam.user_console_mfa")
        .unwrap();
    let itself = evidra::engine::rewrite::compare(control, "same.rego", &control.rego).unwrap();
    assert!(itself.differences.is_empty());
    assert!(
        itself.inputs > 10 * itself.cases,
        "{} inputs from {} cases",
        itself.inputs,
        itself.cases
    );

    let rewrite = console_mfa_rewrite_that_misreads_bad_data(&control.rego);
    let mut rewritten = control.clone();
    rewritten.rego = rewrite.clone();
    let cases = evidra::engine::testing::run_all([&rewritten]);
    assert!(
        cases.iter().all(|c| c.failures.is_empty()),
        "the cases alone pass the rewrite: {cases:?}"
    );
    let compared = evidra::engine::rewrite::compare(control, "rewrite.rego", &rewrite).unwrap();
    let text_flag = compared
        .differences
        .iter()
        .find(|d| {
            d.change
                .ends_with(r#"properties.credential_report.mfa_active set to "x""#)
        })
        .expect("a flag that is text tells them apart");
    let statuses = |findings: &[evidra::store::StoredFinding]| -> Vec<String> {
        findings.iter().map(|f| f.status.clone()).collect()
    };
    assert_eq!(statuses(&text_flag.old), ["fail"]);
    assert_eq!(statuses(&text_flag.new), ["pass"]);
}

/// The command's exit status says whether the rewrite judges as the rule does.
#[test]
fn controls_compare_exits_1_on_a_difference_and_0_without() {
    let dir = tempfile::tempdir().unwrap();
    let rule = std::fs::read_to_string(common::repo().join("controls/aws/iam/user_console_mfa.rego")).unwrap();
    let compare = |name: &str, text: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let args = [
            "controls",
            "compare",
            "aws.iam.user_console_mfa",
            file.to_str().unwrap(),
        ];
        let out = common::evidra(dir.path(), &args);
        (out.status.code(), common::stdout(&out))
    };
    let (code, out) = compare("same.rego", &rule);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("the same findings on all"), "{out}");
    let (code, out) = compare("rewrite.rego", &console_mfa_rewrite_that_misreads_bad_data(&rule));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the findings differ on"), "{out}");
}
