#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into fuzz/corpus/<target>/ from the repo's own
fixtures (tests/fixtures, examples/demo, controls/, README and module examples).

Nothing here is committed as a corpus: run it again at any time (scripts/fuzz.sh does).
Seeds are the real files, and for the big ones also a cut-down copy (the first few rows
or findings) so the fuzzer starts from inputs it can mutate quickly. Seed files are
named `seed-*`; whatever the fuzzer adds beside them is left alone.

Usage: fuzz/make_seeds.py [CORPUS_DIR]   (default: fuzz/corpus)
"""

import gzip
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
DEMO = ROOT / "examples" / "demo"
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "fuzz" / "corpus"

# Seeds above this are cut down (libFuzzer's -max_len in scripts/fuzz.sh is 128 KiB).
BIG = 16 * 1024


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    folder = OUT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"seed-{name}").write_bytes(data)


def slug(path):
    return str(path.relative_to(ROOT)).replace("/", "_")


def file_seed(target, path):
    """The file as it is, plus a cut-down copy when it is big."""
    data = path.read_bytes()
    put(target, slug(path), data)
    if len(data) > BIG:
        small = cut_down(data)
        if small is not None:
            put(target, slug(path) + ".small", small)


def cut_down(data):
    """The first rows of a CSV, or the first 3 items of a JSON document's arrays."""
    text = data.decode("utf-8", errors="replace")
    if text.lstrip().startswith(("{", "[")):
        try:
            value = json.loads(text)
        except ValueError:
            return None

        def shrink(v):
            if isinstance(v, list):
                return [shrink(x) for x in v[:3]]
            if isinstance(v, dict):
                return {k: shrink(x) for k, x in v.items()}
            return v

        return json.dumps(shrink(value), indent=1).encode()
    return "\n".join(text.splitlines()[:6]).encode() + b"\n"


def files_seeds():
    for path in [FIX / "files/credential-report.csv", FIX / "malformed/bad-csv/credential-report.csv",
                 *sorted(DEMO.glob("*/iam/credential-report.csv"))]:
        file_seed("credential_report", path)
    for path in [FIX / "files/account-authorization-details.json",
                 FIX / "malformed/truncated-json/account-authorization-details.json",
                 *sorted(DEMO.glob("*/iam/account-authorization-details.json"))]:
        file_seed("authorization_details", path)
    for path in [FIX / "files/config-snapshot.json", FIX / "malformed/snapshot-missing-items/config-snapshot.json",
                 *sorted(DEMO.glob("*/config/*/config-snapshot.json"))]:
        file_seed("config_snapshot", path)
        # Config delivers snapshots gzipped; the importer gunzips by content.
        data = path.read_bytes()
        if len(data) > BIG:
            data = cut_down(data) or data
        put("config_snapshot", slug(path) + ".gz", gzip.compress(data, mtime=0))
    others = ["password-policy", "account-summary", "configuration-recorders", "configuration-recorder-status",
              "virtual-mfa-devices", "delivery-channels", "config-rules", "config-rule-compliance"]
    for path in sorted([*FIX.glob("files/*.json"), *DEMO.glob("*/*/*.json"), *DEMO.glob("*/*/*/*.json")]):
        if path.stem in others:
            file_seed("aws_exports", path)
    put("aws_exports", "no-password-policy", '{"PasswordPolicy": null}\n')
    put("aws_exports", "unknown-json", (FIX / "malformed/unknown/notes.json").read_bytes())


# The Azure exports of tests/azure.rs (az_exports_are_imported_into_the_same_records)
# and of collectors/files/src/azure_export.rs's unit tests.
SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-app"
OWNER = "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def azure_seeds():
    resource_list = [
        {"id": f"{RG}/providers/Microsoft.Storage/storageAccounts/stapp01", "name": "stapp01",
         "type": "Microsoft.Storage/storageAccounts", "location": "westeurope", "resourceGroup": "rg-app",
         "tags": {"owner": "app-team", "data-classification": "internal"}, "properties": None, "kind": "StorageV2"},
        {"id": f"{RG}/providers/Microsoft.Web/sites/app01", "name": "app01", "type": "Microsoft.Web/sites",
         "location": "westeurope", "resourceGroup": "rg-app",
         "tags": {"owner": "app-team",
                  "backup": "https://stapp01.blob.core.windows.net/b?sv=2022-11-02&se=2031-01-01&sig=SEEDEDsig"}},
        {"id": f"{RG}/providers/Microsoft.KeyVault/vaults/kv-app", "name": "kv-app",
         "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "resourceGroup": "rg-app", "tags": {}},
    ]
    put("azure_resource_list", "az-resource-list", json.dumps(resource_list, indent=2))
    put("azure_resource_list", "az-resource-list-compact", json.dumps(resource_list[:1]))
    graph = {"count": 3, "total_records": 3, "skip_token": None, "data": [
        {"id": RG, "name": "rg-app", "type": "microsoft.resources/subscriptions/resourcegroups", "subscriptionId": SUB,
         "location": "westeurope", "tags": {"owner": "app-team"}, "properties": {"provisioningState": "Succeeded"}},
        {"id": f"{RG}/providers/Microsoft.Storage/storageAccounts/stapp01", "name": "stapp01",
         "type": "microsoft.storage/storageaccounts", "subscriptionId": SUB, "resourceGroup": "rg-app",
         "location": "westeurope", "tags": {},
         "properties": {"supportsHttpsTrafficOnly": False, "minimumTlsVersion": "TLS1_2",
                        "allowBlobPublicAccess": False}},
        {"id": f"{RG}/providers/microsoft.insights/components/appi01", "name": "appi01",
         "type": "microsoft.insights/components", "subscriptionId": SUB, "resourceGroup": "rg-app",
         "location": "westeurope", "tags": {},
         "properties": {"ConnectionString": "InstrumentationKey=SEEDEDconn;IngestionEndpoint=https://x/",
                        "InstrumentationKey": "SEEDEDconn", "Application_Type": "web",
                        "secrets": {"password": ["a", {"token": "b"}], "keep": 1}}},
    ]}
    put("azure_graph_query", "az-graph-query", json.dumps(graph, indent=2))
    put("azure_graph_query", "az-graph-query-array", json.dumps(graph["data"]))
    put("azure_graph_query", "az-graph-query-camel",
        json.dumps({"totalRecords": 1, "skipToken": "abc", "data": graph["data"][:1]}))

    def assignment(name, principal, scope):
        return {"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}", "name": name,
                "principalId": "11111111-0000-4000-8000-00000000000a", "principalName": principal,
                "principalType": "User", "roleDefinitionId": f"/subscriptions/{SUB}{OWNER}",
                "roleDefinitionName": "Owner", "scope": scope,
                "type": "Microsoft.Authorization/roleAssignments", "condition": None}

    roles = [assignment("r1", "alice@contoso.com", f"/subscriptions/{SUB}"),
             assignment("r2", "mallory_evil.com#EXT#@contoso.onmicrosoft.com",
                        "/providers/Microsoft.Management/managementGroups/contoso")]
    put("azure_role_assignments", "az-role-assignment-list", json.dumps(roles, indent=2))
    arm_shape = [{"id": roles[0]["id"], "name": "r1", "type": "Microsoft.Authorization/roleAssignments",
                  "properties": {"roleDefinitionId": roles[0]["roleDefinitionId"],
                                 "principalId": roles[0]["principalId"], "scope": roles[0]["scope"]}}]
    put("azure_role_assignments", "arm-role-assignments", json.dumps(arm_shape))


def scanner_seeds():
    for path in sorted((FIX / "scanners/prowler").glob("*.ocsf.json")):
        file_seed("prowler_ocsf", path)
    for path in sorted((FIX / "scanners/prowler").glob("*.csv")):
        file_seed("prowler_csv", path)
    for path in [*sorted((FIX / "scanners/prowler").glob("*.asff.json")), FIX / "scanners/securityhub/get-findings.json"]:
        file_seed("asff", path)
    for path in sorted((FIX / "scanners/sarif").glob("*.sarif")):
        file_seed("sarif", path)
    # collectors/files/src/scanners/sarif.rs's unit test: message strings with arguments.
    log = {"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "Semgrep OSS", "rules": [
            {"id": "python.lang.security.audit.eval", "shortDescription": {"text": "eval"},
             "defaultConfiguration": {"level": "note"}, "properties": {"security-severity": "7.5"},
             "messageStrings": {"m": {"text": "eval of {0} in {1}"}}}]}},
        "versionControlProvenance": [{"repositoryUri": "https://github.com/acme/app"}],
        "results": [
            {"ruleId": "python.lang.security.audit.eval", "message": {"id": "m", "arguments": ["input", "main"]},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app.py"}, "region": {"startLine": 3}},
                            "logicalLocations": [{"name": "main"}]}]},
            {"ruleIndex": 0, "message": {"text": "ok"}, "kind": "pass"},
            {"rule": {"id": "python.lang.security.audit.eval"}, "message": {"text": "s"},
             "suppressions": [{"kind": "inSource", "status": "accepted"}]},
            {"ruleId": "python.lang.security.audit.eval", "message": {"text": "i"}, "kind": "informational"}]}]}
    put("sarif", "message-strings", json.dumps(log, indent=1))


def control_seeds():
    controls = ROOT / "controls"
    for toml in sorted(controls.glob("*/*/*.toml")):
        rego = toml.with_suffix(".rego")
        rel = toml.relative_to(controls)
        parts = [f"{rel}\n{toml.read_text()}"]
        if rego.exists():
            parts.append(f"{rego.relative_to(controls)}\n{rego.read_text()}")
        put("control", slug(toml), "\0".join(parts))


def config_seeds():
    put("evidra_toml", "empty", "")
    put("evidra_toml", "organisation", 'organisation = "Acme Analytics"\n')
    put("evidra_toml", "full", """organisation = "Acme Analytics"
controls = ["my-controls", "/opt/evidra/controls"]
exceptions = "exceptions.toml"
signing_key = "evidra-signing.key"

[deadlines]      # days to fix an open finding, by severity
critical = 7
high = 30
medium = 90
low = 180
""")
    put("evidra_toml", "unknown-key", 'organisation = "x"\nregion = "us-east-1"\n')
    put("exceptions", "demo-exceptions", (ROOT / "examples/demo-exceptions.toml").read_bytes())
    put("exceptions", "readme", """[[exception]]
control = "aws.iam.user_console_mfa"          # globs: * and ?
resource = "arn:aws:iam::111122223333:user/finance.temp"
justification = "Temporary contractor; console limited to the office range by an SCP."
approved_by = "Dana Whitfield (CISO)"
approved_on = 2026-10-15
expires = 2027-01-31
""")
    put("exceptions", "globs", """[[exception]]
control = "aws.iam.*"
resource = "arn:aws:iam::*:user/?reak-glass*"
justification = "j"
approved_by = "a"
approved_on = "2026-01-01"
expires = 2026-12-31T23:59:59Z
""")


def canonical(value):
    """src/canonical.rs: keys sorted at every level, no white space."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def bundle(signed):
    """An evidence bundle laid out as src/bundle.rs's export writes it, whose hashes all
    hold (the fuzzer cannot forge a SHA-256, so it needs one that verifies to reach
    the checks past them)."""
    evidence = {}
    for path in [DEMO / "aws-444455556666/iam/password-policy.json", DEMO / "aws-444455556666/iam/account-summary.json"]:
        data = path.read_bytes()
        evidence[sha(data)] = (data, path.name)
    rows = {
        "resources": [{"provider": "aws", "account": "444455556666", "region": "global", "type": "aws.iam.account",
                       "id": "444455556666", "properties": '{"account_id":"444455556666"}',
                       "evidence": json.dumps(sorted(evidence))}],
        "observations": [{"provider": "aws", "account": "444455556666", "region": "global",
                          "type": "aws.iam.account", "evidence": json.dumps(sorted(evidence))}],
        "gaps": [],
        "findings": [{"control": "aws.iam.password_policy", "provider": "aws", "account": "444455556666",
                      "region": "global", "type": "aws.iam.account", "id": "444455556666", "status": "pass",
                      "message": "ok", "evidence": json.dumps(sorted(evidence))}],
        "attachments": [],
    }
    doc = {section: sorted(sha(canonical(r).encode()) for r in rows[section]) for section in rows
           if section != "attachments"}
    doc["evidence"] = [{"sha256": s} for s in sorted(evidence)]
    doc_bytes = canonical(doc).encode()
    run = {"id": "0190c0de-0000-7000-8000-000000000001", "started_at": "2026-11-20T10:00:00Z",
           "evaluated_at": "2026-11-20T10:00:05Z", "finished_at": "2026-11-20T10:00:06Z", "status": "complete",
           "sources": "files", "catalogue": "0" * 64, "prev_manifest": None, "manifest": sha(doc_bytes),
           "signature": None, "public_key": None}
    key = None
    if signed:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
        run["public_key"] = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        run["signature"] = key.sign(doc_bytes).hex()
    files = {f"evidence/{s}": (data, {"media_type": "application/json", "collected_at": run["started_at"],
                                      "source": {"collector": "files", "operation": "iam:" + name,
                                                 "scope": "aws/444455556666/global"}})
             for s, (data, name) in evidence.items()}
    files["run.json"] = (canonical({"run": run, "rows": rows}).encode(), {"media_type": "application/json"})
    files["run-manifest.json"] = (doc_bytes, {"media_type": "application/json"})
    files["findings.json"] = (b"[]\n", {"media_type": "application/json"})
    listed = [{"path": p, "sha256": sha(b), "size": len(b), **meta} for p, (b, meta) in sorted(files.items())]
    manifest = json.dumps({"format": "evidra-bundle/1", "tool": {"name": "evidra", "version": "0.1.0"},
                           "run": run, "catalogue": run["catalogue"], "files": listed}, indent=2).encode() + b"\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        def add(name, data):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
        add("manifest.json", manifest)
        if key is not None:
            add("manifest.json.sig", key.sign(manifest).hex() + "\n")
            add("public-key", run["public_key"] + "\n")
        for name, (data, _) in sorted(files.items()):
            add(name, data)
    return out.getvalue()


def bundle_seeds():
    put("bundle", "unsigned.zip", bundle(signed=False))
    try:
        put("bundle", "signed.zip", bundle(signed=True))
    except ImportError:
        print("make_seeds: python3-cryptography is not installed; no signed bundle seed", file=sys.stderr)
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    put("bundle", "empty.zip", empty.getvalue())


def rego_input_seeds():
    """Records' stored properties: canonical JSON (sorted keys, no spaces), as the store
    keeps them, from the demo's and the fixtures' JSON, plus texts with escapes and every
    kind of number."""
    for path in sorted(list(DEMO.rglob("*.json")) + list(FIX.rglob("*.json")))[:40]:
        try:
            value = json.loads(path.read_bytes())
        except ValueError:
            continue
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        put("rego_input", slug(path), text.encode()[:BIG])
    put("rego_input", "escapes", '{"a":"q\\"b\\\\s\\u0001\\ud83d\\ude00","n":[0,-0,1.5,1e3,18446744073709551616]}')
    put("rego_input", "shared", '{"k":[{"active":false,"number":1},{"active":false,"number":2}]}')


def main():
    rego_input_seeds()
    files_seeds()
    azure_seeds()
    scanner_seeds()
    control_seeds()
    config_seeds()
    bundle_seeds()
    for folder in sorted(OUT.iterdir()):
        seeds = list(folder.glob("seed-*"))
        print(f"{folder.name}: {len(seeds)} seeds, {sum(p.stat().st_size for p in seeds)} bytes")


if __name__ == "__main__":
    main()
