//! SARIF 2.1.0 (OASIS), what most code and IaC scanners write: Trivy, Checkov,
//! Semgrep, CodeQL... Parsed with `serde-sarif`, whose types are generated from the
//! published schema.
//!
//! Per run: the tool (`tool.driver.name`, which names the scanner: `scan.sarif.<tool>.<rule>`),
//! its rules, and its results. Per result: the rule (`ruleId`, `rule.id` or `ruleIndex`),
//! `kind` (default `fail`), `level` or the rule's `security-severity` property (GitHub's
//! convention, a CVSS-like score that Trivy and CodeQL write), the message, and the first
//! location: the artifact URI, plus the logical location when one is named.
//!
//! SARIF has no field for a compliance framework, so SARIF findings are unmapped.
//! The scope is `scan/<repository>/global` when the run names its repository
//! (`versionControlProvenance`), else `scan/scan/global`.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_sarif::sarif::{self, ResultKind, ResultLevel};

use super::{Finding, Scan, Severity, dotted_id, id_part, scope};

/// A SARIF log: `version` and `runs`.
pub fn looks_like(value: &Value) -> bool {
    value.get("runs").is_some_and(Value::is_array) && value.get("version").is_some()
}

fn security_severity(properties: Option<&sarif::PropertyBag>) -> Option<Severity> {
    let value = properties?.additional_properties.get("security-severity")?;
    let score = match value {
        Value::String(s) => s.trim().parse().ok()?,
        other => other.as_f64()?,
    };
    Some(Severity::from_score(score))
}

fn level_severity(level: ResultLevel) -> Severity {
    match level {
        ResultLevel::Error => Severity::High,
        ResultLevel::Warning => Severity::Medium,
        ResultLevel::Note => Severity::Low,
        ResultLevel::None => Severity::Info,
    }
}

/// A rule's `defaultConfiguration.level`, which the generated types leave as JSON.
fn level_named(value: &Value) -> Option<ResultLevel> {
    Some(match value.as_str()? {
        "error" => ResultLevel::Error,
        "warning" => ResultLevel::Warning,
        "note" => ResultLevel::Note,
        "none" => ResultLevel::None,
        _ => return None,
    })
}

/// A filled message longer than this is cut short (and says so). The message is only
/// the finding's text (the SARIF file itself is kept verbatim as evidence), and without
/// a bound a small file expands without limit: a template of many `{0}` filled with a
/// long argument is their product, for every result that uses it.
const MAX_FILLED: usize = 64 * 1024;

/// `{0}`-style placeholders of a message string, filled from the result's arguments.
///
/// In one pass over the template: an argument goes in as it is and is never searched
/// for placeholders itself. Replacing `{0}`, then `{1}`... in the whole string in turn
/// (as this once did) also expanded placeholders inside earlier arguments, so arguments
/// `{1}{1}`, `{2}{2}`, ... doubled the message with each one: 30 of them in a few
/// hundred bytes of SARIF asked for gigabytes (found by fuzzing the SARIF importer).
fn fill(template: &str, arguments: &[String]) -> String {
    // A template longer than the bound is the file's own text, not an expansion.
    let limit = MAX_FILLED.max(template.len());
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        // `{0}`, `{12}`; not `{01}`, which the replacing version never matched either.
        let index = (digits > 0 && after[digits..].starts_with('}') && (digits == 1 || !after.starts_with('0')))
            .then(|| after[..digits].parse::<usize>().ok())
            .flatten();
        match index.and_then(|i| arguments.get(i)) {
            Some(argument) => {
                out.push_str(argument);
                rest = &after[digits + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
        if out.len() > limit {
            out.truncate(out.floor_char_boundary(limit));
            out.push_str(" [message cut short by evidra]");
            return out;
        }
    }
    out.push_str(rest);
    out
}

fn message(result: &sarif::Result, rule: Option<&sarif::ReportingDescriptor>) -> String {
    if let Some(text) = &result.message.text {
        return text.trim().to_owned();
    }
    let arguments = result.message.arguments.clone().unwrap_or_default();
    result
        .message
        .id
        .as_ref()
        .and_then(|id| rule?.message_strings.as_ref()?.get(id))
        .map(|m| fill(&m.text, &arguments))
        .unwrap_or_default()
}

/// The result's place: the first location's artifact URI, `#` the logical location
/// (`aws_s3_bucket.logs`) when one is named, and the start line for the message. Lines
/// are not part of the identity: they move whenever the file above them is edited.
fn place(result: &sarif::Result) -> (String, Option<i64>) {
    let location = result.locations.as_ref().and_then(|l| l.first());
    let physical = location.and_then(|l| l.physical_location.as_ref());
    let uri = physical
        .and_then(|p| p.artifact_location.as_ref())
        .and_then(|a| a.uri.clone())
        .or_else(|| result.analysis_target.as_ref().and_then(|a| a.uri.clone()));
    let logical = location
        .and_then(|l| l.logical_locations.as_ref())
        .and_then(|l| l.first())
        .and_then(|l| l.fully_qualified_name.clone().or_else(|| l.name.clone()));
    let line = physical.and_then(|p| p.region.as_ref()).and_then(|r| r.start_line);
    let resource = match (uri, logical) {
        (Some(uri), Some(logical)) => format!("{uri}#{logical}"),
        (Some(uri), None) => uri,
        (None, Some(logical)) => logical,
        (None, None) => "(no location)".to_owned(),
    };
    (resource, line)
}

/// A result the developers suppressed in the source (`# checkov:skip=`, `// nosemgrep`),
/// unless the suppression was rejected or is still under review.
fn suppressed(result: &sarif::Result) -> bool {
    result.suppressions.as_ref().is_some_and(|list| {
        list.iter().any(|s| match s.status.as_ref().and_then(Value::as_str) {
            None | Some("accepted") => true,
            Some(_) => false,
        })
    })
}

pub fn parse(value: Value) -> Result<Scan, String> {
    match value.get("version").and_then(Value::as_str) {
        Some("2.1.0") => {}
        Some(other) => return Err(format!("SARIF version {other}: only SARIF 2.1.0 is read")),
        None => return Err("a SARIF log without a `version` string".into()),
    }
    let log: sarif::Sarif = serde_json::from_value(value).map_err(|e| format!("not valid SARIF 2.1.0: {e}"))?;
    let tools: Vec<String> = log
        .runs
        .iter()
        .map(|run| {
            let driver = &run.tool.driver;
            match driver.semantic_version.as_ref().or(driver.version.as_ref()) {
                Some(version) => format!("{} {version}", driver.name),
                None => driver.name.clone(),
            }
        })
        .collect();
    let mut scan = Scan::new(tools.join(", "));
    for (r, run) in log.runs.iter().enumerate() {
        let driver = &run.tool.driver;
        let scanner = id_part(&driver.name);
        let repository = run
            .version_control_provenance
            .as_ref()
            .and_then(|v| v.first())
            .map(|v| v.repository_uri.as_str());
        let scope = scope(None, repository, None);
        // A run with no results still proves the tool looked: its findings elsewhere are fixed.
        scan.scopes.insert((scanner.clone(), scope.clone()));
        let rules: &[sarif::ReportingDescriptor] = driver.rules.as_deref().unwrap_or_default();
        let by_id: BTreeMap<&str, &sarif::ReportingDescriptor> = rules.iter().map(|d| (d.id.as_str(), d)).collect();
        for (i, result) in run.results.iter().flatten().enumerate() {
            let at = |what: &str| format!("run {} result {}: {what}", r + 1, i + 1);
            let indexed = result
                .rule_index
                .or_else(|| result.rule.as_ref().and_then(|d| d.index))
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| rules.get(n));
            let rule_id = result
                .rule_id
                .clone()
                .or_else(|| result.rule.as_ref().and_then(|d| d.id.clone()))
                .or_else(|| indexed.map(|d| d.id.clone()))
                .ok_or_else(|| at("names no rule (ruleId, rule.id or ruleIndex)"))?;
            let rule = by_id.get(rule_id.as_str()).copied().or(indexed);
            let failed = match result.kind {
                None | Some(ResultKind::Fail | ResultKind::Open | ResultKind::Review) => true,
                Some(ResultKind::Pass) => false,
                Some(ResultKind::NotApplicable) => {
                    scan.skip(&scanner, &scope, "not_applicable");
                    continue;
                }
                Some(ResultKind::Informational) => {
                    scan.skip(&scanner, &scope, "informational");
                    continue;
                }
            };
            if suppressed(result) {
                scan.skip(&scanner, &scope, "suppressed");
                continue;
            }
            // SARIF's default level is `warning` (§3.27.10).
            let level = result
                .level
                .or_else(|| rule.and_then(|d| level_named(d.default_configuration.as_ref()?.level.as_ref()?)))
                .unwrap_or(ResultLevel::Warning);
            let severity = security_severity(rule.and_then(|d| d.properties.as_ref()))
                .or_else(|| security_severity(result.properties.as_ref()))
                .unwrap_or_else(|| level_severity(level));
            let (resource, line) = place(result);
            let text = message(result, rule);
            let title = rule
                .and_then(|d| {
                    d.short_description
                        .as_ref()
                        .map(|m| m.text.clone())
                        .or_else(|| d.name.clone())
                })
                .unwrap_or_else(|| rule_id.clone());
            let help = rule.and_then(|d| d.help.as_ref()).map(|h| h.text.trim().to_owned());
            let remediation = match (help, rule.and_then(|d| d.help_uri.as_ref())) {
                (Some(text), Some(url)) if !text.contains(url.as_str()) => Some(format!("{text} See {url}")),
                (Some(text), _) => Some(text),
                (None, Some(url)) => Some(format!("See {url}")),
                (None, None) => None,
            };
            scan.findings.push(Finding {
                scope: scope.clone(),
                scanner: scanner.clone(),
                rule: rule_id.clone(),
                control: format!("scan.sarif.{scanner}.{}", dotted_id(&rule_id)),
                severity,
                failed,
                title,
                message: match line {
                    Some(line) => format!("line {line}: {text}"),
                    None => text,
                },
                resource,
                remediation,
                requirements: BTreeMap::new(),
                compliance_field: None,
            });
        }
    }
    Ok(scan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scanners::{Collected, FINDING};
    use evidra_collector_core::{Batch, ResourceRecord};
    use serde_json::json;

    fn log(results: Value) -> Value {
        json!({
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "Semgrep OSS", "rules": [
                    {"id": "python.lang.security.audit.eval", "shortDescription": {"text": "eval"},
                     "defaultConfiguration": {"level": "note"},
                     "messageStrings": {"m": {"text": "eval of {0}"}}}
                ]}},
                "versionControlProvenance": [{"repositoryUri": "https://github.com/acme/app"}],
                "results": results,
            }]
        })
    }

    #[test]
    fn kinds_suppressions_and_message_strings() {
        let at = |line: i64| json!([{"physicalLocation": {"artifactLocation": {"uri": "app.py"}, "region": {"startLine": line}}}]);
        let scan = parse(log(json!([
            {"ruleId": "python.lang.security.audit.eval", "message": {"id": "m", "arguments": ["input"]}, "locations": at(3)},
            {"ruleId": "python.lang.security.audit.eval", "message": {"text": "again"}, "locations": at(9)},
            {"ruleId": "python.lang.security.audit.eval", "message": {"text": "ok"}, "kind": "pass", "locations": at(4)},
            {"ruleId": "python.lang.security.audit.eval", "message": {"text": "s"}, "suppressions": [{"kind": "inSource"}]},
            {"ruleId": "python.lang.security.audit.eval", "message": {"text": "i"}, "kind": "informational"}
        ])))
        .unwrap();
        assert_eq!(scan.findings.len(), 3);
        let f = &scan.findings[0];
        assert_eq!(f.control, "scan.sarif.semgrep_oss.python.lang.security.audit.eval");
        assert_eq!(f.message, "line 3: eval of input");
        assert_eq!(f.severity, Severity::Low, "the rule's default level, note");
        assert_eq!(f.scope.account, "https://github.com/acme/app");
        assert!(!scan.findings[2].failed);
        let skipped: Vec<&str> = scan.skipped.keys().map(|(_, _, reason)| reason.as_str()).collect();
        assert_eq!(skipped, ["informational", "suppressed"]);

        let mut collected = Collected::default();
        collected.add(&scan, "sha", "semgrep.sarif");
        let mut batch = Batch::default();
        collected.into_batch(&mut batch);
        let findings: Vec<&ResourceRecord> = batch.resources.iter().filter(|r| r.resource_type == FINDING).collect();
        assert_eq!(findings.len(), 1, "one rule, one file: one finding, its lines merged");
        assert_eq!(findings[0].properties["status"], "fail", "a failure wins over a pass");
        assert_eq!(
            findings[0].properties["message"],
            "line 3: eval of input\nline 9: again"
        );
    }

    #[test]
    fn a_result_without_a_rule_is_an_error() {
        let err = parse(log(json!([{"message": {"text": "x"}}]))).unwrap_err();
        assert!(err.contains("run 1 result 1") && err.contains("names no rule"), "{err}");
    }
}
