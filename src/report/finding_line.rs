//! A finding of the JSON report as one line of compact JSON, written by hand.
//!
//! The auditor's JSON report of a large run is almost all findings: a million of them.
//! One to a line, compact, they make 470 MB where serde_json's pretty layout made
//! 720 MB, most of it indentation, and writing it (the kernel copying it into the page
//! cache) was a third of the report's time (perf on benches/scale.sh 100000). A line
//! per finding also suits `grep` and `jq -c`. Through serde_json each string was
//! escaped byte by byte; here strings go through [`crate::canonical::string_to`]
//! (serde_json's escapes, held equal by its own test), and a test holds every finding's
//! bytes equal to serde_json's `to_writer`.

use std::sync::Arc;

use super::model::{Finding, RequirementMap};
use crate::canonical::string_to;

/// How a finding's line starts: inside the report's object, inside its findings list.
const INDENT: &[u8] = b"\n    ";

/// Writes the items of the report's findings list one after another, each on its own
/// line, with the commas between them.
#[derive(Default)]
pub struct FindingLines {
    /// How many findings were written.
    written: usize,
    /// The requirements of the last finding written and their layout: a control's
    /// findings share one map, and come one after another.
    requirements: Option<(Arc<RequirementMap>, Vec<u8>)>,
}

impl FindingLines {
    /// Whether any finding was written (the list then ends on a line of its own).
    pub fn any(&self) -> bool {
        self.written > 0
    }

    /// Appends `finding` to `out`, after a `,` unless it is the first, on a new line, as
    /// serde_json's `to_writer` writes it.
    pub fn write(&mut self, finding: &Finding, out: &mut Vec<u8>) {
        if self.any() {
            out.push(b',');
        }
        self.written += 1;
        out.extend_from_slice(INDENT);
        out.extend_from_slice(b"{\"control\":");
        string_to(&finding.control, out);
        out.extend_from_slice(b",\"evidence\":");
        strings(out, &finding.evidence);
        out.extend_from_slice(b",\"message\":");
        string_to(&finding.message, out);
        if let Some(overdue) = finding.overdue {
            out.extend_from_slice(if overdue {
                b",\"overdue\":true"
            } else {
                b",\"overdue\":false"
            });
        }
        out.extend_from_slice(b",\"requirements\":");
        let cached = self
            .requirements
            .as_ref()
            .filter(|(map, _)| Arc::ptr_eq(map, &finding.requirements));
        match cached {
            Some((_, layout)) => out.extend_from_slice(layout),
            None => {
                let mut layout = Vec::new();
                requirements(&mut layout, &finding.requirements);
                out.extend_from_slice(&layout);
                self.requirements = Some((finding.requirements.clone(), layout));
            }
        }
        let resource = &finding.resource;
        for (key, value) in [
            (&b",\"resource\":{\"account\":"[..], &resource.account),
            (b",\"id\":", &resource.id),
            (b",\"provider\":", &resource.provider),
            (b",\"region\":", &resource.region),
            (b",\"type\":", &resource.resource_type),
        ] {
            out.extend_from_slice(key);
            string_to(value, out);
        }
        out.extend_from_slice(b"},\"severity\":");
        string_to(&finding.severity, out);
        out.extend_from_slice(b",\"status\":");
        string_to(finding.status.as_str(), out);
        out.push(b'}');
    }
}

/// A list of strings.
fn strings(out: &mut Vec<u8>, items: &[String]) {
    out.push(b'[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        string_to(item, out);
    }
    out.push(b']');
}

/// The requirements map (framework -> ids).
fn requirements(out: &mut Vec<u8>, map: &RequirementMap) {
    out.push(b'{');
    for (n, (framework, ids)) in map.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        string_to(framework, out);
        out.push(b':');
        strings(out, ids);
    }
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

    #[test]
    fn a_finding_is_written_as_serde_json_writes_it() {
        let mut map = BTreeMap::new();
        map.insert("soc2".to_owned(), vec!["CC6.1".to_owned(), AWKWARD.to_owned()]);
        map.insert("iso27001".to_owned(), vec![]);
        map.insert(AWKWARD.to_owned(), vec!["A.8.5".to_owned()]);
        let maps = [Arc::new(map), Arc::new(BTreeMap::new())];
        let mut writer = FindingLines::default();
        assert!(!writer.any());
        // Twice each map in turn: laid out, then taken from the cache.
        for requirements in [&maps[0], &maps[0], &maps[1], &maps[1], &maps[0]] {
            for overdue in [None, Some(true), Some(false)] {
                for evidence in [0, 1, 3] {
                    let finding = finding(overdue, evidence, requirements);
                    let comma = if writer.any() { "," } else { "" };
                    let mut out = Vec::new();
                    writer.write(&finding, &mut out);
                    let expected = format!("{comma}\n    {}", serde_json::to_string(&finding).unwrap());
                    assert_eq!(String::from_utf8(out).unwrap(), expected);
                }
            }
        }
        assert!(writer.any());
    }
}
