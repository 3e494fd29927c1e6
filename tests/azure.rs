//! `evidra collect --source azure` against a local Resource Manager stand-in
//! (tests/peers/arm_standin.py: ARM's paths, api-versions, paging, error bodies, 429s),
//! and the offline import of `az` exports.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

use common::{NOW, free_port, stderr};
use serde_json::{Value, json};

const SUB_A: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const SUB_B: &str = "7d2c3f44-9a8e-4f1b-b0c5-1e2f3a4b5c6d";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// Python 3 for the stand-in (standard library only): the test venv's when there is one.
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("EVIDRA_TEST_PYTHON") {
        return p.into();
    }
    let venv = common::repo().join(".venv/bin/python");
    if venv.exists() { venv } else { "python3".into() }
}

/// The stand-in, on 127.0.0.1 and a free port, stopped when dropped.
struct Standin {
    child: Child,
    port: u16,
    log: PathBuf,
    tls: bool,
}

impl Standin {
    fn start(dir: &Path, config: &Value, tls: Option<(&Path, &Path)>) -> Self {
        let port = free_port();
        let config_path = dir.join(format!("arm-{port}.json"));
        std::fs::write(&config_path, config.to_string()).unwrap();
        let log = dir.join(format!("arm-{port}.jsonl"));
        let mut cmd = Command::new(python());
        cmd.arg(common::repo().join("tests/peers/arm_standin.py"))
            .arg(port.to_string())
            .arg(&config_path)
            .arg(&log);
        if let Some((cert, key)) = tls {
            cmd.arg(cert).arg(key);
        }
        let mut child = cmd.spawn().expect("start the ARM stand-in");
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self {
                    child,
                    port,
                    log,
                    tls: tls.is_some(),
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the ARM stand-in exited before listening: {status}");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = child.kill();
        panic!("the ARM stand-in did not listen on 127.0.0.1:{port}");
    }

    fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs evidra in `dir` with Azure pointed at `arm` and nothing else of the caller's
/// environment that could choose another credential.
fn evidra_azure(dir: &Path, arm: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_evidra"));
    cmd.args(args)
        .current_dir(dir)
        .env("EVIDRA_NOW", NOW)
        .env_remove("EVIDRA_DB")
        .env("EVIDRA_AZURE_ARM_ENDPOINT", arm)
        .env("EVIDRA_AZURE_GRAPH_ENDPOINT", arm);
    for var in [
        "EVIDRA_AZURE_TOKEN",
        "EVIDRA_AZURE_GRAPH_TOKEN",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_AUTHORITY_HOST",
        "IDENTITY_ENDPOINT",
        "MSI_ENDPOINT",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run evidra")
}

/// A value that appears nowhere else, to look for in the store afterwards.
fn unique(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{label}{nanos:x}{}", std::process::id())
}

fn reports(dir: &Path) -> (Value, Vec<Value>) {
    let mut findings: BTreeMap<String, Value> = BTreeMap::new();
    let mut first = Value::Null;
    for framework in ["soc2", "iso27001"] {
        let out = common::evidra(dir, &["report", "--framework", framework, "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        for f in report["findings"].as_array().unwrap() {
            let key = format!("{} {} {}", f["control"], f["resource"]["type"], f["resource"]["id"]);
            findings.insert(key, f.clone());
        }
        if first.is_null() {
            first = report;
        }
    }
    (first, findings.into_values().collect())
}

/// The status of `control` on the one resource of subscription `sub` whose id ends with
/// `suffix` (the scope itself for a suffix of `""`).
fn status(findings: &[Value], control: &str, sub: &str, suffix: &str) -> (String, String) {
    let found: Vec<&Value> = findings
        .iter()
        .filter(|f| {
            let id = f["resource"]["id"].as_str().unwrap();
            f["control"] == control
                && f["resource"]["account"] == sub
                && if suffix.is_empty() {
                    id == format!("azure/{sub}/global")
                } else {
                    id.ends_with(suffix)
                }
        })
        .collect();
    assert_eq!(found.len(), 1, "{control} on *{suffix}: {found:#?}");
    (
        found[0]["status"].as_str().unwrap().to_owned(),
        found[0]["message"].as_str().unwrap().to_owned(),
    )
}

fn azure_controls(dir: &Path) -> BTreeSet<String> {
    let out = common::evidra(dir, &["controls", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = list.as_array().or_else(|| list["controls"].as_array()).unwrap().clone();
    list.iter()
        .filter_map(|c| c["id"].as_str())
        .filter(|id| id.starts_with("azure."))
        .map(str::to_owned)
        .collect()
}

/// Every byte the run left: the database file, every blob, record and gap.
fn assert_absent_from_store(dir: &Path, secrets: &[&str]) {
    let mut haystacks: Vec<(String, Vec<u8>)> = Vec::new();
    for name in ["evidra.db", "evidra.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            haystacks.push((name.into(), bytes));
        }
    }
    let store = evidra::store::Store::open(&dir.join("evidra.db")).unwrap();
    let run = store.resolve_run("latest").unwrap();
    for e in store.evidence(&run.id).unwrap() {
        haystacks.push((e.operation.clone(), store.blob(&e.sha256).unwrap().unwrap_or_default()));
    }
    let data = store.run_data(&run.id).unwrap();
    for r in &data.resources {
        haystacks.push((r.resource_id.clone(), r.properties.to_string().into_bytes()));
    }
    for (g, _) in &data.gaps {
        haystacks.push((g.operation.clone(), g.error.clone().into_bytes()));
    }
    for secret in secrets {
        for (what, bytes) in &haystacks {
            assert!(
                !String::from_utf8_lossy(bytes).contains(secret),
                "secret {secret} found in {what}"
            );
        }
    }
}

#[test]
fn a_small_estate_gives_the_expected_findings() {
    let dir = tempfile::tempdir().unwrap();
    let token = unique("arm-token-");
    let graph_token = unique("graph-token-");
    let (sas, key, custom) = (unique("SEEDEDsas"), unique("SEEDEDkey"), unique("SEEDEDdata"));
    let storage_path = format!("/subscriptions/{SUB_A}/providers/microsoft.storage/storageaccounts");
    let standin = Standin::start(
        dir.path(),
        &json!({
            "tokens": [token], "graph_tokens": [graph_token], "page_size": 2,
            "forbidden": [SUB_B], "throttle": {storage_path.clone(): 1}, "retry_after": 1,
            "secrets": {"sas_sig": sas, "storage_key": key, "custom_data": custom},
        }),
        None,
    );
    let out = evidra_azure(
        dir.path(),
        &standin.url(),
        &[
            ("EVIDRA_AZURE_TOKEN", &token),
            ("EVIDRA_AZURE_GRAPH_TOKEN", &graph_token),
        ],
        &["collect", "--source", "azure"],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "the forbidden subscription is a gap: a partial run\n{}",
        stderr(&out)
    );

    let (report, findings) = reports(dir.path());
    assert_eq!(report["run"]["status"], "partial");
    let gaps = report["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "only the forbidden subscription is a gap: {gaps:#?}");
    assert_eq!(gaps[0]["scope"], format!("azure/{SUB_B}/global"));
    assert!(
        gaps[0]["error"].as_str().unwrap().starts_with("AuthorizationFailed: ")
            && gaps[0]["error"].as_str().unwrap().ends_with("(HTTP 403)"),
        "{gaps:#?}"
    );

    // Every Azure control: the expected result on the good and the bad resources of A,
    // and `error` (never a pass) everywhere in the subscription that could not be read.
    let expected: &[(&str, &str, &str)] = &[
        ("azure.storage.https_only", "/stproddata01", "pass"),
        ("azure.storage.https_only", "/stlegacyweb", "fail"),
        ("azure.storage.https_only", "/stdev01", "pass"),
        ("azure.storage.min_tls_12", "/stproddata01", "pass"),
        ("azure.storage.min_tls_12", "/stlegacyweb", "fail"),
        ("azure.storage.no_public_blob_access", "/stproddata01", "pass"),
        ("azure.storage.no_public_blob_access", "/stlegacyweb", "fail"),
        ("azure.storage.default_network_deny", "/stproddata01", "pass"),
        ("azure.storage.default_network_deny", "/stlegacyweb", "fail"),
        ("azure.storage.default_network_deny", "/stdev01", "pass"),
        ("azure.network.nsg_no_internet_ssh_rdp", "/nsg-web", "fail"),
        ("azure.network.nsg_no_internet_ssh_rdp", "/nsg-data", "pass"),
        ("azure.keyvault.purge_protection", "/kv-prod-data", "pass"),
        ("azure.keyvault.purge_protection", "/kv-legacy", "fail"),
        ("azure.keyvault.soft_delete", "/kv-prod-data", "pass"),
        ("azure.keyvault.soft_delete", "/kv-legacy", "fail"),
        ("azure.keyvault.rbac_authorization", "/kv-prod-data", "pass"),
        ("azure.keyvault.rbac_authorization", "/kv-legacy", "fail"),
        ("azure.sql.auditing_enabled", "/sql-prod", "pass"),
        ("azure.sql.auditing_enabled", "/sql-legacy", "fail"),
        ("azure.sql.no_public_network_access", "/sql-prod", "pass"),
        ("azure.sql.no_public_network_access", "/sql-legacy", "fail"),
        ("azure.sql.tde_enabled", "/db-orders", "pass"),
        ("azure.sql.tde_enabled", "/db-legacy", "fail"),
        ("azure.sql.tde_enabled", "sql-prod/databases/master", "not_applicable"),
        ("azure.compute.disk_encryption", "/disk-data-01", "pass"),
        ("azure.compute.disk_encryption", "/disk-web-os", "fail"),
        ("azure.monitor.activity_log_exported", "", "pass"),
        ("azure.policy.regulatory_initiative_assigned", "", "pass"),
        ("azure.authorization.owner_count", "", "fail"),
        (
            "azure.authorization.no_guest_owners",
            "a0000000-0000-4000-8000-000000000001",
            "pass",
        ),
        (
            "azure.authorization.no_guest_owners",
            "a0000000-0000-4000-8000-000000000003",
            "fail",
        ),
        (
            "azure.authorization.no_guest_owners",
            "a0000000-0000-4000-8000-000000000004",
            "not_applicable",
        ),
        (
            "azure.authorization.no_guest_owners",
            "a0000000-0000-4000-8000-000000000005",
            "not_applicable",
        ),
        ("azure.resources.required_tags", "/resourceGroups/rg-prod-data", "pass"),
        ("azure.resources.required_tags", "/resourceGroups/rg-prod-web", "fail"),
        ("azure.resources.required_tags", "/storageAccounts/stproddata01", "pass"),
        ("azure.resources.required_tags", "/storageAccounts/stlegacyweb", "fail"),
        (
            "azure.resources.locks_on_production",
            "/resourceGroups/rg-prod-data",
            "pass",
        ),
        (
            "azure.resources.locks_on_production",
            "/resourceGroups/rg-prod-web",
            "fail",
        ),
        (
            "azure.resources.locks_on_production",
            "/resourceGroups/rg-dev",
            "not_applicable",
        ),
    ];
    let mut failures = Vec::new();
    for (control, suffix, want) in expected {
        let (got, message) = status(&findings, control, SUB_A, suffix);
        if got != *want {
            failures.push(format!("{control} on *{suffix}: {got}, expected {want} ({message})"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let (_, policy) = status(&findings, "azure.policy.regulatory_initiative_assigned", SUB_A, "");
    assert!(
        policy.contains("ISO/IEC 27001:2022") && policy.contains("4 non-compliant resource(s)"),
        "{policy}"
    );
    let (_, owners) = status(&findings, "azure.authorization.owner_count", SUB_A, "");
    assert!(
        owners.starts_with("4 Owner assignments") && owners.contains("Platform Admins"),
        "{owners}"
    );
    let (_, guest) = status(
        &findings,
        "azure.authorization.no_guest_owners",
        SUB_A,
        "a0000000-0000-4000-8000-000000000003",
    );
    assert!(guest.contains("eve_fabrikam.com#EXT#"), "{guest}");

    let controls = azure_controls(dir.path());
    assert!(controls.len() >= 18, "{controls:?}");
    for control in &controls {
        let in_a: Vec<&Value> = findings
            .iter()
            .filter(|f| f["control"] == control.as_str() && f["resource"]["account"] == SUB_A)
            .collect();
        assert!(!in_a.is_empty(), "{control} has no finding in {SUB_A}");
        assert!(
            in_a.iter().all(|f| f["status"] != "error"),
            "{control}: an error where everything was collected: {in_a:#?}"
        );
        assert!(
            expected.iter().any(|(c, _, _)| c == control),
            "{control} has no expected result in this test"
        );
        let in_b: Vec<&Value> = findings
            .iter()
            .filter(|f| f["control"] == control.as_str() && f["resource"]["account"] == SUB_B)
            .collect();
        assert!(
            !in_b.is_empty() && in_b.iter().all(|f| f["status"] == "error"),
            "{control} in the forbidden subscription: {in_b:#?}"
        );
    }

    // The wire: documented api-versions only (no 400), pages followed, the throttled
    // listing retried after its Retry-After, then served.
    let requests = standin.requests();
    for r in &requests {
        assert!(
            [200, 403, 429].contains(&r["status"].as_i64().unwrap()),
            "unexpected answer: {r}"
        );
    }
    for listing in ["resourcegroups", "providers/Microsoft.Authorization/roleAssignments"] {
        assert!(
            requests
                .iter()
                .any(|r| r["path"] == format!("/subscriptions/{SUB_A}/{listing}") && r["query"]["$skiptoken"] == "2"),
            "the second page of {listing} was not read"
        );
    }
    let storage: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"].as_str().unwrap().to_lowercase() == storage_path)
        .collect();
    assert_eq!(storage[0]["status"], 429, "{storage:#?}");
    assert_eq!(storage[1]["status"], 200, "{storage:#?}");
    let waited = storage[1]["t"].as_f64().unwrap() - storage[0]["t"].as_f64().unwrap();
    assert!(waited >= 0.95, "retried after {waited} s, before Retry-After: 1");

    // Evidence: each response as received (secrets masked, and said so).
    let store = evidra::store::Store::open(&dir.path().join("evidra.db")).unwrap();
    let run = store.resolve_run("latest").unwrap();
    let evidence = store.evidence(&run.id).unwrap();
    let page = evidence
        .iter()
        .find(|e| e.operation == format!("GET /subscriptions/{SUB_A}/resourcegroups?api-version=2021-04-01"))
        .expect("the resource group listing is evidence");
    let bytes = store.blob(&page.sha256).unwrap().unwrap();
    assert_eq!(page.media_type, "application/json; charset=utf-8");
    assert!(
        String::from_utf8_lossy(&bytes).contains(r#""nextLink": "http://127.0.0.1:"#),
        "the page as the server sent it: {}",
        String::from_utf8_lossy(&bytes)
    );
    let masked: Vec<&evidra::store::EvidenceMeta> = evidence
        .iter()
        .filter(|e| e.media_type.contains("evidra-masked="))
        .collect();
    assert!(
        masked
            .iter()
            .any(|e| e.operation.contains("/auditingSettings/default")
                && e.media_type.contains("storageAccountAccessKey")),
        "{masked:#?}"
    );
    let vaults = evidence
        .iter()
        .find(|e| e.operation.contains("/providers/Microsoft.KeyVault/vaults?"))
        .unwrap();
    assert!(
        !vaults.media_type.contains("evidra-masked"),
        "access policy permissions are not secrets: {vaults:?}"
    );
    let data = store.run_data(&run.id).unwrap();
    let legacy = data
        .resources
        .iter()
        .find(|r| r.resource_type == "azure.storage.account" && r.resource_id.ends_with("/stlegacyweb"))
        .unwrap();
    assert!(
        legacy.properties["tags"]["export-url"]
            .as_str()
            .unwrap()
            .contains("masked by evidra"),
        "{}",
        legacy.properties
    );
    let resources = data
        .resources
        .iter()
        .filter(|r| r.resource_type == "azure.resources.resource" && r.account == SUB_A)
        .count();
    assert_eq!(resources, 14, "every page of the generic resource listing");
    for f in &findings {
        assert!(!f["evidence"].as_array().unwrap().is_empty(), "{f}");
    }

    assert_absent_from_store(dir.path(), &[&token, &graph_token, &sas, &key, &custom]);
    let verify = common::evidra(dir.path(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stderr(&verify));
}

/// A CA made now, and a certificate for 127.0.0.1 signed by it: (ca.pem, cert.pem, key.pem).
fn test_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.distinguished_name.push(DnType::CommonName, "evidra test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    let cert = params.signed_by(&key, &ca).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

#[test]
fn the_client_secret_flow_gets_its_token_from_an_https_authority() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_ca(dir.path());
    let secret = unique("client-secret-");
    let issued = unique("issued-token-");
    let client_id = "3f1e2d4c-0000-4000-8000-00000000c1d0";
    let authority = Standin::start(
        dir.path(),
        &json!({"client": {"tenant": TENANT, "client_id": client_id, "client_secret": secret, "access_token": issued}}),
        Some((&cert, &key)),
    );
    let arm = Standin::start(
        dir.path(),
        &json!({"tokens": [issued], "graph_tokens": [issued], "page_size": 100}),
        None,
    );
    std::fs::write(
        dir.path().join("evidra.toml"),
        format!("[[azure]]\ncredential = \"client_secret\"\nsubscriptions = [\"{SUB_A}\"]\n"),
    )
    .unwrap();
    let out = evidra_azure(
        dir.path(),
        &arm.url(),
        &[
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", client_id),
            ("AZURE_CLIENT_SECRET", &secret),
            ("AZURE_AUTHORITY_HOST", &authority.url()),
            ("SSL_CERT_FILE", ca.to_str().unwrap()),
        ],
        &["collect", "--source", "azure"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let tokens: Vec<Value> = authority.requests();
    assert!(
        tokens
            .iter()
            .any(|r| r["path"] == format!("/{TENANT}/oauth2/v2.0/token") && r["status"] == 200),
        "{tokens:#?}"
    );
    let requests = arm.requests();
    assert!(
        requests.iter().all(|r| r["status"] == 200),
        "the issued token opened every read: {requests:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r["path"] == format!("/subscriptions/{SUB_A}") && r["query"]["api-version"] == "2022-12-01"),
        "a configured subscription is read by GET: {requests:#?}"
    );
    assert!(
        !requests.iter().any(|r| r["path"] == "/subscriptions"),
        "configured subscriptions are not listed"
    );

    let (report, findings) = reports(dir.path());
    assert_eq!(report["run"]["status"], "complete");
    assert_eq!(
        status(&findings, "azure.storage.https_only", SUB_A, "/stlegacyweb").0,
        "fail"
    );
    assert_eq!(
        status(
            &findings,
            "azure.authorization.no_guest_owners",
            SUB_A,
            "a0000000-0000-4000-8000-000000000003"
        )
        .0,
        "fail"
    );
    assert_absent_from_store(dir.path(), &[&secret, &issued]);
}

/// Collects SUB_A with the `credential` of an `[[azure]]` entry, from a Resource Manager
/// stand-in that accepts only `issued`: the run is complete, every read was authorised,
/// a known finding is there, and none of `secrets` reached the store.
fn collects_with_credential(dir: &Path, arm: &Standin, credential: &str, env: &[(&str, &str)], secrets: &[&str]) {
    std::fs::write(
        dir.join("evidra.toml"),
        format!("[[azure]]\ncredential = \"{credential}\"\nsubscriptions = [\"{SUB_A}\"]\n"),
    )
    .unwrap();
    let out = evidra_azure(dir, &arm.url(), env, &["collect", "--source", "azure"]);
    assert_eq!(out.status.code(), Some(0), "{credential}: {}", stderr(&out));
    let requests = arm.requests();
    assert!(
        !requests.is_empty() && requests.iter().all(|r| r["status"] == 200),
        "{credential}: the issued token opened every read: {requests:#?}"
    );
    let (report, findings) = reports(dir);
    assert_eq!(report["run"]["status"], "complete");
    assert_eq!(
        status(&findings, "azure.storage.https_only", SUB_A, "/stlegacyweb").0,
        "fail"
    );
    assert_absent_from_store(dir, secrets);
}

#[test]
fn workload_identity_exchanges_the_federated_token_at_an_https_authority() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_ca(dir.path());
    let federated = unique("eyJhbGciOiJSUzI1NiJ9.federated-");
    let issued = unique("issued-token-");
    let client_id = "3f1e2d4c-0000-4000-8000-00000000c1d1";
    let authority = Standin::start(
        dir.path(),
        &json!({"client": {"tenant": TENANT, "client_id": client_id, "assertion": federated, "access_token": issued}}),
        Some((&cert, &key)),
    );
    let arm = Standin::start(dir.path(), &json!({"tokens": [issued], "graph_tokens": [issued]}), None);
    let token_file = dir.path().join("azure-identity-token");
    std::fs::write(&token_file, &federated).unwrap();
    collects_with_credential(
        dir.path(),
        &arm,
        "workload_identity",
        &[
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", client_id),
            ("AZURE_FEDERATED_TOKEN_FILE", token_file.to_str().unwrap()),
            ("AZURE_AUTHORITY_HOST", &authority.url()),
            ("SSL_CERT_FILE", ca.to_str().unwrap()),
        ],
        &[&federated, &issued],
    );
    assert!(
        authority
            .requests()
            .iter()
            .any(|r| r["path"] == format!("/{TENANT}/oauth2/v2.0/token") && r["status"] == 200),
        "the federated token was exchanged"
    );
}

#[test]
fn an_app_service_managed_identity_gets_its_token_from_identity_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let header = unique("identity-header-");
    let issued = unique("issued-token-");
    let identity = Standin::start(
        dir.path(),
        &json!({"msi": {"header": header, "access_token": issued}}),
        None,
    );
    let arm = Standin::start(dir.path(), &json!({"tokens": [issued], "graph_tokens": [issued]}), None);
    let endpoint = format!("{}/msi/token", identity.url());
    collects_with_credential(
        dir.path(),
        &arm,
        "managed_identity",
        &[("IDENTITY_ENDPOINT", &endpoint), ("IDENTITY_HEADER", &header)],
        &[&header, &issued],
    );
    let resources: Vec<Value> = identity
        .requests()
        .iter()
        .filter(|r| r["path"] == "/msi/token" && r["status"] == 200)
        .map(|r| r["query"]["resource"].clone())
        .collect();
    // The audience is Resource Manager's origin (here the stand-in's, as
    // https://management.azure.com on Azure's public cloud); asked once, then cached.
    assert_eq!(resources, [json!(arm.url())], "one token, for Resource Manager");
}

#[test]
fn the_azure_cli_credential_asks_az_for_a_resource_manager_token() {
    let dir = tempfile::tempdir().unwrap();
    let issued = unique("issued-token-");
    let arm = Standin::start(dir.path(), &json!({"tokens": [issued], "graph_tokens": [issued]}), None);
    // A stand-in `az` on PATH, answering `az account get-access-token -o json --scope S`
    // as Azure CLI 2.54+ does, and noting how it was called.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let calls = dir.path().join("az-calls.txt");
    let az = bin.join("az");
    std::fs::write(
        &az,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nprintf '{{\"accessToken\": \"{issued}\", \"expiresOn\": \"2099-01-01 00:00:00.000000\", \"expires_on\": 4070908800, \"tenant\": \"{TENANT}\", \"tokenType\": \"Bearer\"}}\\n'\n",
            calls.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    collects_with_credential(dir.path(), &arm, "azure_cli", &[("PATH", &path)], &[&issued]);
    // The audience is Resource Manager's origin (here the stand-in's, as
    // https://management.azure.com on Azure's public cloud); `az` runs once, then the
    // token is cached.
    let calls = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        [format!(
            "account get-access-token -o json --scope {}/.default",
            arm.url()
        )],
        "{calls}"
    );
}

#[test]
fn reads_are_paced_by_the_subscription_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let token = unique("arm-token-");
    let standin = Standin::start(dir.path(), &json!({"tokens": [token], "page_size": 2}), None);
    // A small bucket, so that pacing shows within a small estate (the default is 250, 25/s).
    std::fs::write(
        dir.path().join("evidra.toml"),
        format!("[[azure]]\nsubscriptions = [\"{SUB_A}\"]\nburst = 5\nmax_requests_per_second = 20\n"),
    )
    .unwrap();
    let out = evidra_azure(
        dir.path(),
        &standin.url(),
        &[("EVIDRA_AZURE_TOKEN", &token)],
        &["collect", "--source", "azure"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let times: Vec<f64> = standin.requests().iter().map(|r| r["t"].as_f64().unwrap()).collect();
    assert!(times.len() > 25, "{} requests", times.len());
    let span = times.last().unwrap() - times.first().unwrap();
    let floor = (times.len() - 5 - 1) as f64 / 20.0;
    assert!(
        span >= floor * 0.9,
        "{} requests in {span:.2} s: a bucket of 5 refilled 20/s needs at least {floor:.2} s",
        times.len()
    );
}

#[test]
fn a_wrong_token_is_a_gap_naming_the_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let standin = Standin::start(dir.path(), &json!({"tokens": [unique("right-")]}), None);
    let wrong = unique("wrong-");
    let out = evidra_azure(
        dir.path(),
        &standin.url(),
        &[("EVIDRA_AZURE_TOKEN", &wrong)],
        &["collect", "--source", "azure"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let (report, findings) = reports(dir.path());
    let gaps = report["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert!(
        gaps[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("InvalidAuthenticationToken: "),
        "{gaps:#?}"
    );
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f["status"] == "error"), "{findings:#?}");
    assert_absent_from_store(dir.path(), &[&wrong]);
}

#[test]
fn az_exports_are_imported_into_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports").join(format!("azure-{SUB_A}"));
    std::fs::create_dir_all(&exports).unwrap();
    let sas = unique("SEEDEDsig");
    let conn = unique("SEEDEDconn");
    let rg = format!("/subscriptions/{SUB_A}/resourceGroups/rg-app");
    // `az resource list`: ARM casing, no properties.
    std::fs::write(
        exports.join("resources.json"),
        serde_json::to_vec_pretty(&json!([
            {"id": format!("{rg}/providers/Microsoft.Storage/storageAccounts/stapp01"), "name": "stapp01",
             "type": "Microsoft.Storage/storageAccounts", "location": "westeurope", "resourceGroup": "rg-app",
             "tags": {"owner": "app-team", "data-classification": "internal"}, "properties": null, "kind": "StorageV2"},
            {"id": format!("{rg}/providers/Microsoft.Web/sites/app01"), "name": "app01", "type": "Microsoft.Web/sites",
             "location": "westeurope", "resourceGroup": "rg-app", "tags": {"owner": "app-team",
             "backup": format!("https://stapp01.blob.core.windows.net/b?sv=2022-11-02&se=2031-01-01&sig={sas}")}}
        ]))
        .unwrap(),
    )
    .unwrap();
    // `az graph query -q "Resources | ..."`: lower-cased types, ARM's properties.
    std::fs::write(
        exports.join("graph.json"),
        serde_json::to_vec_pretty(&json!({"count": 3, "total_records": 3, "skip_token": null, "data": [
            {"id": rg, "name": "rg-app", "type": "microsoft.resources/subscriptions/resourcegroups", "subscriptionId": SUB_A,
             "location": "westeurope", "tags": {"owner": "app-team", "data-classification": "internal"},
             "properties": {"provisioningState": "Succeeded"}},
            {"id": format!("{rg}/providers/Microsoft.Storage/storageAccounts/stapp01"), "name": "stapp01",
             "type": "microsoft.storage/storageaccounts", "subscriptionId": SUB_A, "resourceGroup": "rg-app",
             "location": "westeurope", "tags": {"owner": "app-team", "data-classification": "internal"},
             "properties": {"supportsHttpsTrafficOnly": false, "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": false}},
            {"id": format!("{rg}/providers/microsoft.insights/components/appi01"), "name": "appi01",
             "type": "microsoft.insights/components", "subscriptionId": SUB_A, "resourceGroup": "rg-app",
             "location": "westeurope", "tags": {},
             "properties": {"ConnectionString": format!("InstrumentationKey={conn};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/"),
                            "InstrumentationKey": conn, "Application_Type": "web"}}
        ]}))
        .unwrap(),
    )
    .unwrap();
    // `az role assignment list --include-inherited`: flattened, with resolved names.
    let owner = "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    let assignment = |name: &str, principal: &str, scope: &str| {
        json!({"id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"), "name": name,
               "principalId": "11111111-0000-4000-8000-00000000000a", "principalName": principal, "principalType": "User",
               "roleDefinitionId": format!("/subscriptions/{SUB_A}{owner}"), "roleDefinitionName": "Owner", "scope": scope,
               "type": "Microsoft.Authorization/roleAssignments", "condition": null})
    };
    std::fs::write(
        exports.join("roles.json"),
        serde_json::to_vec_pretty(&json!([
            assignment("r1", "alice@contoso.com", &format!("/subscriptions/{SUB_A}")),
            assignment(
                "r2",
                "mallory_evil.com#EXT#@contoso.onmicrosoft.com",
                "/providers/Microsoft.Management/managementGroups/contoso"
            ),
        ]))
        .unwrap(),
    )
    .unwrap();

    let out = common::evidra(dir.path(), &["collect", "--source", "files", "--path", "exports"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (_, findings) = reports(dir.path());
    assert_eq!(
        status(&findings, "azure.storage.https_only", SUB_A, "/stapp01").0,
        "fail"
    );
    assert_eq!(
        status(&findings, "azure.storage.min_tls_12", SUB_A, "/stapp01").0,
        "pass"
    );
    assert_eq!(
        status(&findings, "azure.authorization.no_guest_owners", SUB_A, "/r2").0,
        "fail"
    );
    assert_eq!(
        status(&findings, "azure.authorization.no_guest_owners", SUB_A, "/r1").0,
        "pass"
    );
    // Two owners: the subscription's and one inherited from the management group.
    assert_eq!(
        status(&findings, "azure.authorization.owner_count", SUB_A, "").0,
        "pass"
    );
    assert_eq!(
        status(&findings, "azure.resources.required_tags", SUB_A, "/sites/app01").0,
        "fail"
    );

    let store = evidra::store::Store::open(&dir.path().join("evidra.db")).unwrap();
    let run = store.resolve_run("latest").unwrap();
    let evidence = store.evidence(&run.id).unwrap();
    let graph = evidence.iter().find(|e| e.operation == "az graph query").unwrap();
    assert!(
        graph.media_type.contains("evidra-masked=") && graph.media_type.contains("ConnectionString"),
        "{graph:?}"
    );
    let roles = evidence
        .iter()
        .find(|e| e.operation == "az role assignment list")
        .unwrap();
    assert_eq!(
        store.blob(&roles.sha256).unwrap().unwrap(),
        std::fs::read(exports.join("roles.json")).unwrap(),
        "a file without secrets is kept byte for byte"
    );
    assert_absent_from_store(dir.path(), &[&sas, &conn]);
}
