//! A finding of the JSON report in serde_json's pretty layout, written by hand.
//!
//! The auditor's JSON report of a large run is almost all findings (a million of them
//! make 700 MB). Through serde_json each was serialised, then split into lines to indent
//! it; its string escaping goes byte by byte. Together that was about a third of the
//! report's CPU (perf on benches/scale.sh 100000). The layout is fixed, so it is written
//! here directly, strings escaped by [`crate::canonical::string_to`] (serde_json's
//! escapes, held equal by its own test); a test holds every finding's bytes equal to
//! serde_json's, and `the_streamed_json_report_is_the_built_one` the whole report.

use std::sync::Arc;

use super::model::{Finding, RequirementMap};
use crate::canonical::string_to;

/// Writes findings one after another, each indented `base` levels of two spaces.
pub struct PrettyFindings {
    base: usize,
    /// The requirements of the last finding written and their layout: a control's
    /// findings share one map, and come one after another.
    requirements: Option<(Arc<RequirementMap>, Vec<u8>)>,
}

impl PrettyFindings {
    pub fn new(base: usize) -> Self {
        Self {
            base,
            requirements: None,
        }
    }

    /// Appends `finding` to `out` on a new line, as serde_json's `to_writer_pretty`
    /// writes a list's item `base` levels in (the caller writes the `,` between items).
    pub fn write(&mut self, finding: &Finding, out: &mut Vec<u8>) {
        let base = self.base;
        line(out, base);
        out.extend_from_slice(b"{");
        member(out, base + 1, "control");
        string_to(&finding.control, out);
        out.push(b',');
        member(out, base + 1, "evidence");
        strings(out, base + 1, &finding.evidence);
        out.push(b',');
        member(out, base + 1, "message");
        string_to(&finding.message, out);
        out.push(b',');
        if let Some(overdue) = finding.overdue {
            member(out, base + 1, "overdue");
            out.extend_from_slice(if overdue { b"true" } else { b"false" });
            out.push(b',');
        }
        member(out, base + 1, "requirements");
        let cached = self
            .requirements
            .as_ref()
            .filter(|(map, _)| Arc::ptr_eq(map, &finding.requirements));
        match cached {
            Some((_, layout)) => out.extend_from_slice(layout),
            None => {
                let mut layout = Vec::new();
                requirements(&mut layout, base + 1, &finding.requirements);
                out.extend_from_slice(&layout);
                self.requirements = Some((finding.requirements.clone(), layout));
            }
        }
        out.push(b',');
        member(out, base + 1, "resource");
        let resource = &finding.resource;
        out.push(b'{');
        for (n, (key, value)) in [
            ("account", &resource.account),
            ("id", &resource.id),
            ("provider", &resource.provider),
            ("region", &resource.region),
            ("type", &resource.resource_type),
        ]
        .into_iter()
        .enumerate()
        {
            if n > 0 {
                out.push(b',');
            }
            member(out, base + 2, key);
            string_to(value, out);
        }
        line(out, base + 1);
        out.extend_from_slice(b"},");
        member(out, base + 1, "severity");
        string_to(&finding.severity, out);
        out.push(b',');
        member(out, base + 1, "status");
        string_to(finding.status.as_str(), out);
        line(out, base);
        out.push(b'}');
    }
}

/// A line break and `level` levels of indent.
fn line(out: &mut Vec<u8>, level: usize) {
    out.push(b'\n');
    for _ in 0..level {
        out.extend_from_slice(b"  ");
    }
}

/// A new line at `level` holding `"key": `.
fn member(out: &mut Vec<u8>, level: usize, key: &str) {
    line(out, level);
    string_to(key, out);
    out.extend_from_slice(b": ");
}

/// A list of strings that opens at `level` (serde_json writes an empty one as `[]`).
fn strings(out: &mut Vec<u8>, level: usize, items: &[String]) {
    if items.is_empty() {
        out.extend_from_slice(b"[]");
        return;
    }
    out.push(b'[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        line(out, level + 1);
        string_to(item, out);
    }
    line(out, level);
    out.push(b']');
}

/// The requirements map (framework -> ids), opening at `level`.
fn requirements(out: &mut Vec<u8>, level: usize, map: &RequirementMap) {
    if map.is_empty() {
        out.extend_from_slice(b"{}");
        return;
    }
    out.push(b'{');
    for (n, (framework, ids)) in map.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        member(out, level + 1, framework);
        strings(out, level + 1, ids);
    }
    line(out, level);
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::engine::Status;
    use crate::report::model::ResourceRef;

    const AWKWARD: &str = "quote \" back \\ tab\t line\n \u{1} \u{7f} é ✓ \u{2028}";

    fn finding(overdue: Option<bool>, evidence: usize, requirements: &Arc<RequirementMap>) -> Finding {
        Finding {
            control: format!("aws.iam.{AWKWARD}"),
            evidence: (0..evidence).map(|i| format!("{i}{AWKWARD}")).collect(),
            message: AWKWARD.into(),
            overdue,
            requirements: requirements.clone(),
            resource: ResourceRef {
                account: "1".into(),
                id: AWKWARD.into(),
                provider: "aws".into(),
                region: String::new(),
                resource_type: "aws.iam.user".into(),
            },
            severity: "high".into(),
            status: Status::NotApplicable,
        }
    }

    /// serde_json's pretty layout of `value` as a list item `base` levels in, as the
    /// streamed report wrote it before (a line break, then every line indented).
    fn serde_pretty(value: &Finding, base: usize) -> String {
        let pretty = format!("\n{}", serde_json::to_string_pretty(value).unwrap());
        pretty.replace('\n', &format!("\n{}", "  ".repeat(base)))
    }

    #[test]
    fn a_finding_is_written_as_serde_json_writes_it_pretty() {
        let mut map = BTreeMap::new();
        map.insert("soc2".to_owned(), vec!["CC6.1".to_owned(), AWKWARD.to_owned()]);
        map.insert("iso27001".to_owned(), vec![]);
        map.insert(AWKWARD.to_owned(), vec!["A.8.5".to_owned()]);
        let maps = [Arc::new(map), Arc::new(BTreeMap::new())];
        for base in [0, 2] {
            let mut writer = PrettyFindings::new(base);
            // Twice each map in turn: laid out, then taken from the cache.
            for requirements in [&maps[0], &maps[0], &maps[1], &maps[1], &maps[0]] {
                for overdue in [None, Some(true), Some(false)] {
                    for evidence in [0, 1, 3] {
                        let finding = finding(overdue, evidence, requirements);
                        let mut out = Vec::new();
                        writer.write(&finding, &mut out);
                        assert_eq!(String::from_utf8(out).unwrap(), serde_pretty(&finding, base));
                    }
                }
            }
        }
    }
}
