//! The engine: evaluates each control's Rego rule one scope at a time and turns the
//! rule's results, the collectors' gaps and observations into findings.
//!
//! The engine, not the rule, applies the audit rules (DESIGN.md):
//! - a gap covering a control's scope makes its findings there `error`;
//! - "no resources" is `not_applicable` only where the collector observed the full
//!   listing; otherwise the control has nothing to say about that scope;
//! - every finding cites the evidence its resources came from.
//!
//! So a rule stays a few lines about one thing.

mod from_text;
mod inputs;
mod malformed;
pub mod rewrite;
mod status;
pub mod testing;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use evidra_collector_core::{Gap, ResourceRecord, Scope};
use serde_json::Value;

pub use inputs::{EachRecord, build_inputs};
pub use status::Status;

use crate::catalogue::{Catalogue, Control};
use crate::store::{RunData, StoredFinding};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{file}: {message}")]
    Rule { file: String, message: String },
    #[error("evaluation time `{0}` is not an RFC 3339 time")]
    BadTime(String),
}

/// How the message of a finding starts when its control's rule failed to evaluate (the
/// rest is regorus's report: file, line, what went wrong).
pub const RULE_FAILED: &str = "the rule failed to evaluate";

/// The resource type of scope-level findings (no single resource is concerned).
pub const SCOPE_TYPE: &str = "scope";

/// A control's rule, parsed and checked, run by regorus's interpreter.
///
/// Not by regorus's Rego VM (the `rvm` feature), though it ran our rules about twice as
/// fast: in 0.14.1 the VM keeps an undefined value as an element of an array or object
/// comprehension (`[x.name | some x in list]` counts a list entry without `name`) and
/// gives nothing instead of the `else` value when the first body assigns an undefined
/// value. Every built-in control's test cases passed under it, but a rule's author
/// writes Rego, and a count that includes missing data can turn into a pass. The tests
/// `rego_semantics_*` in tests/catalogue.rs hold the engine to Rego's meaning.
#[derive(Clone)]
pub struct Rule {
    engine: regorus::Engine,
    entry: String,
}

/// Compiles a control's rule, checking it declares `package controls.<id>` and a
/// `results` rule.
pub fn compile(control: &Control) -> Result<Rule, EngineError> {
    let err = |message: String| EngineError::Rule {
        file: control.rego_source.clone(),
        message,
    };
    let mut engine = regorus::Engine::new();
    let package = engine
        .add_policy(control.rego_source.clone(), control.rego.clone())
        .map_err(|e| err(e.to_string()))?;
    let expected = format!("data.{}", control.package());
    if package != expected {
        return Err(err(format!(
            "declares package `{}`; control `{}` needs `package {}`",
            package.trim_start_matches("data."),
            control.id,
            control.package()
        )));
    }
    if !control.rego.contains("results") {
        return Err(err("defines no `results` rule".into()));
    }
    Ok(Rule {
        engine,
        entry: format!("{expected}.results"),
    })
}

impl Rule {
    /// Runs the rule over `input`, giving the value of its `results`.
    fn run(&mut self, input: regorus::Value) -> Result<regorus::Value, String> {
        self.engine.set_input(input);
        self.engine.eval_rule(self.entry.clone()).map_err(|e| e.to_string())
    }
}

/// Evaluates every control of `catalogue` over one run's data, at time `now`.
pub fn evaluate(catalogue: &Catalogue, data: &RunData, now: &str) -> Result<Vec<StoredFinding>, EngineError> {
    let mut findings = Vec::new();
    evaluate_each(catalogue, data, now, |batch| {
        findings.extend(batch);
        Ok::<_, EngineError>(())
    })?;
    findings.sort();
    Ok(findings)
}

/// [`evaluate`], handing each control's findings (and then the scanners') to `sink` as
/// they are made, in no set order, so a run's findings need never all be in memory.
pub fn evaluate_each<E: From<EngineError>>(
    catalogue: &Catalogue,
    data: &RunData,
    now: &str,
    sink: impl FnMut(Vec<StoredFinding>) -> Result<(), E>,
) -> Result<ControlTimes, E> {
    let scanned = crate::scan::findings(data);
    evaluate_index(catalogue, &Index::new(data), scanned, now, sink)
}

/// How long each control took to evaluate (its ID and wall time), slowest first: where a
/// slow run's time went, and what a control's author should look at.
pub type ControlTimes = Vec<(String, std::time::Duration)>;

/// Builds each record's Rego input while the store reads the run
/// ([`crate::store::Store::run_data_with`]), from the stored JSON text, so a record's
/// parsed properties live only until its input is built: holding the whole run parsed
/// as well was 0.4 GB more at 200,000 records (benches/scale.sh).
#[derive(Default)]
pub struct InputBuilder {
    keys: Interner,
}

/// A record's input to the rules, made by [`InputBuilder`].
pub struct Input(regorus::Value);

impl Input {
    /// The input as rules see it (`input.resources[_]`).
    pub fn value(&self) -> &regorus::Value {
        &self.0
    }
}

impl InputBuilder {
    /// Builds `record`'s input from its stored `properties`. Scanner findings keep their
    /// parsed properties in the record: they are read from there, not by rules.
    pub fn build(&mut self, record: &mut ResourceRecord, properties: &str) -> Input {
        let keys = &mut self.keys;
        let is_finding = record.resource_type == crate::scan::FINDING;
        let direct = (!is_finding).then(|| from_text::to_rego(properties, keys)).flatten();
        let properties = direct.unwrap_or_else(|| {
            let parsed: Value = serde_json::from_str(properties).unwrap_or(Value::Null);
            let built = to_rego(&parsed, keys);
            if is_finding {
                record.properties = parsed;
            }
            built
        });
        Input(rego_record(record, properties, keys))
    }
}

/// [`evaluate_each`] over a run whose records' inputs were built by an [`InputBuilder`]
/// (`inputs[i]` is the input of `data.resources[i]`).
pub fn evaluate_with_inputs<E: From<EngineError>>(
    catalogue: &Catalogue,
    data: &RunData,
    inputs: Vec<Input>,
    now: &str,
    sink: impl FnMut(Vec<StoredFinding>) -> Result<(), E>,
) -> Result<ControlTimes, E> {
    let scanned = crate::scan::findings(data);
    let inputs = inputs.into_iter().map(|Input(value)| value).collect();
    let index = Index::with_inputs(data, inputs);
    let times = evaluate_index(catalogue, &index, scanned, now, sink);
    // Freeing the inputs (a tree of values per record) took 0.2 s at 200,000 records,
    // with nothing else left to do on the other core: the run's findings are still
    // being committed on this thread, and its seal comes next.
    let inputs: Vec<regorus::Value> = index.resources.into_values().flatten().map(|e| e.input).collect();
    // If no thread can be made, the inputs are freed here, with the refused closure.
    let _ = std::thread::Builder::new().spawn(move || drop(inputs));
    times
}

fn evaluate_index<E: From<EngineError>>(
    catalogue: &Catalogue,
    index: &Index<'_>,
    scanned: Vec<StoredFinding>,
    now: &str,
    mut sink: impl FnMut(Vec<StoredFinding>) -> Result<(), E>,
) -> Result<ControlTimes, E> {
    let now_ns = now_ns(now)?;
    let mut times = Vec::new();
    // The controls with the most records first, so that the last to finish are small
    // ones and no core waits alone for a large one at the end.
    let mut order: Vec<&Control> = catalogue.controls.iter().collect();
    order.sort_by_key(|c| std::cmp::Reverse(index.records_of(&c.resource_types)));
    in_parallel(
        &order,
        |control| {
            let started = std::time::Instant::now();
            let findings = evaluate_control(control, index, now, now_ns);
            (control.id.clone(), started.elapsed(), findings)
        },
        |(id, took, findings)| {
            times.push((id, took));
            sink(findings?)
        },
    )?;
    // Scanner results were judged by their scanner: imported as they are, no rule runs.
    sink(scanned)?;
    times.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(times)
}

/// Runs `work` over every item on as many threads as the machine has cores, handing each
/// result to `sink` on the calling thread as it comes. Controls are independent (each
/// has its own Rego engine and reads the shared index), so they spread over cores
/// without locks; a work queue rather than fixed chunks, because one control can cost a
/// hundred others. The first error from `sink` stops the work.
fn in_parallel<T: Sync, R: Send, E>(
    items: &[T],
    work: impl Fn(&T) -> R + Sync,
    mut sink: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(items.len());
    if threads <= 1 {
        return items.iter().try_for_each(|item| sink(work(item)));
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        // A rendezvous: a finished result waits in its worker until the sink takes it, so
        // at most one result per worker and the one being stored are in memory (a
        // control's findings over 100,000 resources are about 55 MB).
        let (send, receive) = std::sync::mpsc::sync_channel::<R>(0);
        for _ in 0..threads {
            let send = send.clone();
            let (next, stop, work) = (&next, &stop, &work);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    if send.send(work(item)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(send);
        let result = receive.iter().try_for_each(&mut sink);
        if result.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        // Dropping the receiver unblocks any worker waiting to send, so the scope ends.
        drop(receive);
        result
    })
}

fn now_ns(now: &str) -> Result<i128, EngineError> {
    crate::time_fmt::parse(now)
        .map(|t| t.unix_timestamp_nanos())
        .map_err(|_| EngineError::BadTime(now.to_owned()))
}

/// A run's data indexed by resource type, so each control reads only its own types.
///
/// Each record's Rego input object is built here once and shared (reference counted)
/// by every control and scope that reads it: serialising every resource to JSON text and
/// parsing it back, per control, was most of the evaluation time at scale.
pub struct Index<'a> {
    resources: BTreeMap<&'a str, Vec<Entry<'a>>>,
    observed: BTreeMap<(&'a str, Scope), &'a [String]>,
    gaps: &'a [(Gap, String)],
}

/// A record and its input object (`provider`, `account`, `region`, `type`, `id`,
/// `properties`), as rules see it in `input.resources`.
struct Entry<'a> {
    record: &'a ResourceRecord,
    input: regorus::Value,
}

impl<'a> Index<'a> {
    pub fn new(data: &'a RunData) -> Self {
        let mut keys = Interner::default();
        let inputs = data
            .resources
            .iter()
            .map(|r| {
                let properties = to_rego(&r.properties, &mut keys);
                rego_record(r, properties, &mut keys)
            })
            .collect();
        Self::with_inputs(data, inputs)
    }

    /// Indexes `data` whose records' Rego values are `inputs` (in the same order), so
    /// that a caller who owns the data can free each record's properties once converted.
    fn with_inputs(data: &'a RunData, inputs: Vec<regorus::Value>) -> Self {
        let mut resources: BTreeMap<&str, Vec<Entry<'a>>> = BTreeMap::new();
        for (r, input) in data.resources.iter().zip(inputs) {
            resources
                .entry(r.resource_type.as_str())
                .or_default()
                .push(Entry { record: r, input });
        }
        let observed = data
            .observations
            .iter()
            .map(|o| ((o.resource_type.as_str(), o.scope.clone()), o.evidence.as_slice()))
            .collect();
        Self {
            resources,
            observed,
            gaps: &data.gaps,
        }
    }

    /// How many records of `types` the run has, in every scope.
    fn records_of(&self, types: &[String]) -> usize {
        types
            .iter()
            .filter_map(|t| self.resources.get(t.as_str()))
            .map(Vec::len)
            .sum()
    }

    /// The records of `types` in `scope`, with their input objects.
    fn in_scope(&self, types: &[String], scope: &Scope) -> Vec<&Entry<'a>> {
        types
            .iter()
            .flat_map(|t| self.resources.get(t.as_str()).into_iter().flatten())
            .filter(|e| {
                let r = e.record;
                r.provider == scope.provider && r.account == scope.account && r.region == scope.region
            })
            .collect()
    }
}

/// A record, with its `properties` (as Rego values), as a Rego value.
fn rego_record(r: &ResourceRecord, properties: regorus::Value, keys: &mut Interner) -> regorus::Value {
    let mut object = BTreeMap::new();
    for (key, value) in [
        ("provider", keys.get(&r.provider)),
        ("account", keys.get(&r.account)),
        ("region", keys.get(&r.region)),
        ("type", keys.get(&r.resource_type)),
        ("id", regorus::Value::from(r.resource_id.as_str())),
        ("properties", properties),
    ] {
        object.insert(keys.get(key), value);
    }
    regorus::Value::from(object)
}

/// Object keys, short texts and the few repeated names above, allocated once for the run:
/// a hundred thousand records of one type share their thirty keys instead of each
/// holding its own copies, which was most of the engine's memory at scale.
#[derive(Default)]
struct Interner {
    texts: FoldMap<String, regorus::Value>,
    /// Small arrays and objects by their JSON text (see [`SHARED_CONTAINER_MAX`]).
    containers: FoldMap<String, regorus::Value>,
}

/// The engine's hash maps, keyed by texts from the run (keys, IDs): hashed with
/// foldhash, seeded per process, where std's SipHash was a fifth of building the inputs
/// and a few percent of a large control's evaluation (benches/scale.sh).
type FoldMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

impl Interner {
    fn get(&mut self, text: &str) -> regorus::Value {
        if let Some(value) = self.texts.get(text) {
            return value.clone();
        }
        let value = regorus::Value::from(text);
        self.texts.insert(text.to_owned(), value.clone());
        value
    }
}

/// Texts up to this length are interned: most repeated values are short, and
/// longer texts (ARNs, policy documents) are mostly unique.
const INTERNED_TEXT_MAX: usize = 32;

/// Arrays and objects of at most this many values (nested ones included) whose texts
/// are short are shared by every record holding an equal one: a user's inactive second
/// access key, its certificates, a bucket's public access block. Each costs a tree node
/// of about half a kilobyte however few its fields. Shared, the evaluation of 100,000
/// users and 100,000 Config items peaks at 0.84 GB instead of 1.0-1.07 GB, and runs a
/// second faster (benches/scale.sh). Values never change once built, so sharing them
/// is invisible to rules.
const SHARED_CONTAINER_MAX: usize = 16;

/// Whether `value` is small enough to share (see [`SHARED_CONTAINER_MAX`]).
fn shareable(value: &Value, budget: &mut usize) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    match value {
        Value::String(s) => s.len() <= INTERNED_TEXT_MAX,
        Value::Array(items) => items.iter().all(|v| shareable(v, budget)),
        Value::Object(map) => map
            .iter()
            .all(|(k, v)| k.len() <= INTERNED_TEXT_MAX && shareable(v, budget)),
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    }
}

/// A JSON value as Rego sees it: the same value `regorus` makes of the JSON text (whole
/// numbers as integers, others as floats), with interned keys, short texts and small
/// containers.
fn to_rego(value: &Value, keys: &mut Interner) -> regorus::Value {
    if matches!(value, Value::Array(_) | Value::Object(_)) && shareable(value, &mut SHARED_CONTAINER_MAX.clone()) {
        // Canonical text: equal values, equal texts. Written by `canonical` rather than
        // serde_json's `Display`, which went through the formatter a token at a time
        // (2% of a whole run's CPU, perf on benches/scale.sh).
        let text = crate::canonical::to_string(value);
        if let Some(shared) = keys.containers.get(&text) {
            return shared.clone();
        }
        let built = to_rego_unshared(value, keys);
        keys.containers.insert(text, built.clone());
        return built;
    }
    to_rego_unshared(value, keys)
}

fn to_rego_unshared(value: &Value, keys: &mut Interner) -> regorus::Value {
    match value {
        Value::Null => regorus::Value::Null,
        Value::Bool(b) => regorus::Value::from(*b),
        Value::Number(n) => rego_number(n),
        // Short texts repeat across records ("false", "N/A", dates, regions): one copy each.
        Value::String(s) if s.len() <= INTERNED_TEXT_MAX => keys.get(s),
        Value::String(s) => regorus::Value::from(s.as_str()),
        Value::Array(items) => regorus::Value::from(items.iter().map(|v| to_rego(v, keys)).collect::<Vec<_>>()),
        Value::Object(map) => regorus::Value::from(
            map.iter()
                .map(|(k, v)| (keys.get(k), to_rego(v, keys)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

/// A JSON number as regorus reads one: whole numbers as integers, others as floats.
fn rego_number(n: &serde_json::Number) -> regorus::Value {
    match (n.as_u64(), n.as_i64(), n.as_f64()) {
        (Some(u), _, _) => regorus::Value::from(u),
        (None, Some(i), _) => regorus::Value::from(i),
        (None, None, Some(f)) => regorus::Value::from(f),
        (None, None, None) => regorus::Value::Null,
    }
}

/// A gap hurts the controls reading one of its resource types; `*` is every type of the
/// gap's provider (an account that could not be read at all).
fn gap_affects(gap: &Gap, types: &[String]) -> bool {
    let prefix = format!("{}.", gap.scope.provider);
    gap.resource_types.iter().any(|t| {
        if t == "*" {
            types.iter().any(|c| c.starts_with(&prefix))
        } else {
            types.contains(t)
        }
    })
}

fn gap_covers(gap: &Gap, scope: &Scope) -> bool {
    gap.scope.provider == scope.provider
        && (gap.scope.account == "*" || gap.scope.account == scope.account)
        && (gap.scope.region == "*" || gap.scope.region == scope.region)
}

fn finding(
    control: &Control,
    scope: &Scope,
    resource_type: &str,
    resource_id: &str,
    status: Status,
    message: String,
    evidence: Vec<String>,
) -> StoredFinding {
    StoredFinding {
        control: control.id.clone(),
        provider: scope.provider.clone(),
        account: scope.account.clone(),
        region: scope.region.clone(),
        resource_type: resource_type.to_owned(),
        resource_id: resource_id.to_owned(),
        status: status.as_str().to_owned(),
        message,
        evidence,
    }
}

/// A finding about the scope itself rather than one of its resources.
fn scope_finding(
    control: &Control,
    scope: &Scope,
    status: Status,
    message: String,
    evidence: Vec<String>,
) -> StoredFinding {
    finding(
        control,
        scope,
        SCOPE_TYPE,
        &scope.to_string(),
        status,
        message,
        evidence,
    )
}

/// Evaluates one control over the indexed run.
pub fn evaluate_control(
    control: &Control,
    index: &Index<'_>,
    now: &str,
    now_ns: i128,
) -> Result<Vec<StoredFinding>, EngineError> {
    evaluate_control_with(control, &mut None, index, now, now_ns)
}

/// [`evaluate_control`], with `rule` holding the control's compiled rule from the first
/// scope that needs it on: a caller evaluating many small inputs (test cases, and
/// `controls test`'s malformed copies of them) compiles it once.
pub(crate) fn evaluate_control_with(
    control: &Control,
    rule: &mut Option<Rule>,
    index: &Index<'_>,
    now: &str,
    now_ns: i128,
) -> Result<Vec<StoredFinding>, EngineError> {
    let types = &control.resource_types;
    let mut scopes: BTreeSet<Scope> = BTreeSet::new();
    for t in types {
        scopes.extend(
            index
                .resources
                .get(t.as_str())
                .into_iter()
                .flatten()
                .map(|e| e.record.scope()),
        );
        scopes.extend(index.observed.keys().filter(|(ot, _)| ot == t).map(|(_, s)| s.clone()));
    }
    scopes.extend(
        index
            .gaps
            .iter()
            .filter(|(g, _)| gap_affects(g, types))
            .map(|(g, _)| g.scope.clone()),
    );

    let mut out = Vec::new();
    for scope in scopes {
        let entries = index.in_scope(types, &scope);
        let resources: Vec<&ResourceRecord> = entries.iter().map(|e| e.record).collect();
        let gaps: Vec<&(Gap, String)> = index
            .gaps
            .iter()
            .filter(|(g, _)| gap_affects(g, types) && gap_covers(g, &scope))
            .collect();
        let observed: BTreeSet<String> = types
            .iter()
            .filter_map(|t| index.observed.get(&(t.as_str(), scope.clone())))
            .flat_map(|e| e.iter().cloned())
            .collect();
        let unknown: Vec<&String> = types
            .iter()
            .filter(|t| {
                !index.observed.contains_key(&(t.as_str(), scope.clone()))
                    && !resources.iter().any(|r| &r.resource_type == *t)
            })
            .collect();

        if !gaps.is_empty() || !unknown.is_empty() {
            let mut reasons: Vec<String> = gaps
                .iter()
                .map(|(g, _)| format!("{} failed: {}", g.operation, g.error))
                .collect();
            if !unknown.is_empty() {
                reasons.push(format!(
                    "no evidence collected for {}",
                    unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            let gap_evidence: BTreeSet<String> = gaps
                .iter()
                .map(|(_, sha)| sha.clone())
                .chain(observed.iter().cloned())
                .collect();
            let message = format!("evidence incomplete: {}", reasons.join("; "));
            if resources.is_empty() {
                out.push(scope_finding(
                    control,
                    &scope,
                    Status::Error,
                    message,
                    gap_evidence.into_iter().collect(),
                ));
            } else {
                for r in &resources {
                    let mut evidence = gap_evidence.clone();
                    evidence.extend(r.evidence.iter().cloned());
                    out.push(finding(
                        control,
                        &scope,
                        &r.resource_type,
                        &r.resource_id,
                        Status::Error,
                        message.clone(),
                        evidence.into_iter().collect(),
                    ));
                }
            }
            continue;
        }

        let rule = match rule {
            Some(rule) => rule,
            None => rule.insert(compile(control)?),
        };
        let value = run_rule(rule, &scope, &entries, now, now_ns);
        let results = value.and_then(|value| {
            rule_results(&value).map(|results| findings_from(control, &scope, &resources, &observed, results))
        });
        out.extend(results.unwrap_or_else(|e| rule_failed(control, &scope, &resources, observed, &e)));
    }
    Ok(out)
}

/// One result of a rule, borrowed from the rule's value.
struct RuleResult<'v> {
    resource: &'v str,
    /// The type a result names for a resource that is not a record of the scope.
    resource_type: Option<&'v str>,
    status: &'v str,
    message: &'v str,
}

/// Runs the rule over the scope's records, giving the value of its `results`.
fn run_rule(
    rule: &mut Rule,
    scope: &Scope,
    entries: &[&Entry<'_>],
    now: &str,
    now_ns: i128,
) -> Result<regorus::Value, String> {
    let text = |s: &str| regorus::Value::from(s);
    let mut scope_object = BTreeMap::new();
    scope_object.insert(text("provider"), text(&scope.provider));
    scope_object.insert(text("account"), text(&scope.account));
    scope_object.insert(text("region"), text(&scope.region));
    scope_object.insert(text("id"), text(&scope.to_string()));
    let mut input = BTreeMap::new();
    input.insert(text("scope"), regorus::Value::from(scope_object));
    input.insert(text("now"), text(now));
    input.insert(text("now_ns"), regorus::Value::from(now_ns as i64));
    input.insert(
        text("resources"),
        regorus::Value::from(entries.iter().map(|e| e.input.clone()).collect::<Vec<_>>()),
    );
    rule.run(regorus::Value::from(input))
}

/// The results in a rule's value: a set (or array) of objects with text fields
/// `resource`, `status`, optional `message` and `type`.
fn rule_results(value: &regorus::Value) -> Result<Vec<RuleResult<'_>>, String> {
    let items: Vec<&regorus::Value> = match value {
        regorus::Value::Set(items) => items.iter().collect(),
        regorus::Value::Array(items) => items.iter().collect(),
        regorus::Value::Undefined | regorus::Value::Null => Vec::new(),
        other => return Err(format!("`results` must be a set of objects, got {}", json_text(other))),
    };
    // The keys are made once, not per result: a million results looked up four keys each.
    let [resource_key, type_key, status_key, message_key] =
        ["resource", "type", "status", "message"].map(regorus::Value::from);
    items
        .into_iter()
        .map(|item| {
            let field = |key: &regorus::Value| match item {
                regorus::Value::Object(fields) => match fields.get(key) {
                    Some(regorus::Value::String(s)) => Some(s.as_ref()),
                    _ => None,
                },
                _ => None,
            };
            let missing = |key: &str| format!("a result has no `{key}`: {}", json_text(item));
            Ok(RuleResult {
                resource: field(&resource_key).ok_or_else(|| missing("resource"))?,
                resource_type: field(&type_key),
                status: field(&status_key).ok_or_else(|| missing("status"))?,
                message: field(&message_key).unwrap_or_default(),
            })
        })
        .collect()
}

/// A rule's value as JSON text, for messages about a malformed result.
fn json_text(value: &regorus::Value) -> String {
    value.to_json_str().unwrap_or_else(|_| format!("{value:?}"))
}

/// Every resource of the scope `error` (or the scope, if it has none): the rule failed.
fn rule_failed(
    control: &Control,
    scope: &Scope,
    resources: &[&ResourceRecord],
    observed: BTreeSet<String>,
    error: &str,
) -> Vec<StoredFinding> {
    let message = format!("{RULE_FAILED}: {error}");
    if resources.is_empty() {
        return vec![scope_finding(
            control,
            scope,
            Status::Error,
            message,
            observed.into_iter().collect(),
        )];
    }
    resources
        .iter()
        .map(|r| {
            finding(
                control,
                scope,
                &r.resource_type,
                &r.resource_id,
                Status::Error,
                message.clone(),
                sorted(&r.evidence),
            )
        })
        .collect()
}

/// A verdict on one resource: the worst the rule said of it.
type Verdict<'v> = (Status, Cow<'v, str>);

/// Keeps the worse of `verdict` and what `slot` holds: a rule that says both pass and
/// fail for one resource fails it (equal statuses: the larger message, so the outcome
/// never depends on the order of the results).
fn keep_worst<'v>(slot: &mut Option<Verdict<'v>>, verdict: Verdict<'v>) {
    if slot
        .as_ref()
        .is_none_or(|(s, m)| (verdict.0.rank(), &verdict.1) > (s.rank(), m))
    {
        *slot = Some(verdict);
    }
}

/// A resource's evidence hashes, sorted and each once.
fn sorted(evidence: &[String]) -> Vec<String> {
    let mut evidence = evidence.to_vec();
    evidence.sort_unstable();
    evidence.dedup();
    evidence
}

/// The evidence of a finding about the scope rather than one record: every record's and
/// the listings that observed them, sorted and each once.
fn scope_evidence(resources: &[&ResourceRecord], observed: &BTreeSet<String>) -> Vec<String> {
    resources
        .iter()
        .flat_map(|r| r.evidence.iter().cloned())
        .chain(observed.iter().cloned())
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect()
}

/// The findings of one scope from its rule's results.
///
/// Results are matched to the scope's records by position (an ID looked up once), not
/// kept in maps keyed by copied IDs: at a million findings, that bookkeeping and its
/// copies cost as much as a simple rule (perf on benches/scale.sh).
fn findings_from(
    control: &Control,
    scope: &Scope,
    resources: &[&ResourceRecord],
    observed: &BTreeSet<String>,
    results: Vec<RuleResult<'_>>,
) -> Vec<StoredFinding> {
    // An ID held by two records of different types names the later one, as it did when
    // this was a map built in the records' order.
    // Three lookups a record (see `FoldMap`).
    let position: FoldMap<&str, usize> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.resource_id.as_str(), i))
        .collect();
    let mut verdicts: Vec<Option<Verdict<'_>>> = vec![None; resources.len()];
    // Results naming no record of the scope (the scope itself, or what the rule names by
    // its own `type`), by (type, ID).
    let mut others: BTreeMap<(&str, &str), Option<Verdict<'_>>> = BTreeMap::new();
    for result in results {
        let verdict = match Status::from_rule(result.status) {
            Some(status) => (status, Cow::Borrowed(result.message)),
            None => (
                Status::Error,
                Cow::Owned(format!("the rule returned unknown status `{}`", result.status)),
            ),
        };
        match position.get(result.resource) {
            Some(&i) => keep_worst(&mut verdicts[i], verdict),
            None => keep_worst(
                others
                    .entry((result.resource_type.unwrap_or(SCOPE_TYPE), result.resource))
                    .or_default(),
                verdict,
            ),
        }
    }
    let mut out = Vec::with_capacity(resources.len() + others.len());
    if !others.is_empty() {
        let all_evidence = scope_evidence(resources, observed);
        for ((resource_type, resource), verdict) in others {
            if let Some((status, message)) = verdict {
                out.push(finding(
                    control,
                    scope,
                    resource_type,
                    resource,
                    status,
                    message.into_owned(),
                    all_evidence.clone(),
                ));
            }
        }
    }
    // A rule that judges resources of a type one by one must judge every one of them. A
    // type no result names is context (locks read to judge resource groups), and a rule
    // that judges only the scope ("a support role exists") names no resource at all.
    let judged: BTreeSet<&str> = resources
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| v.is_some())
        .map(|(r, _)| r.resource_type.as_str())
        .collect();
    for (i, (r, verdict)) in resources.iter().zip(verdicts).enumerate() {
        // Where two records share an ID, only the later one is judged (see `position`).
        if position.get(r.resource_id.as_str()) != Some(&i) {
            continue;
        }
        let (status, message) = match verdict {
            Some((status, message)) => (status, message.into_owned()),
            None if judged.contains(r.resource_type.as_str()) => {
                (Status::Error, "the rule gave no result for this resource".to_owned())
            }
            None => continue,
        };
        out.push(finding(
            control,
            scope,
            &r.resource_type,
            &r.resource_id,
            status,
            message,
            sorted(&r.evidence),
        ));
    }
    if out.is_empty() {
        let names = control.resource_types.join(", ");
        let to_judge = resources
            .iter()
            .filter(|r| !control.context_types.contains(&r.resource_type))
            .count();
        // Resources were there and the rule said nothing about any of them, nor about
        // the scope: a rule that fails to match its input (a renamed field, a typo in
        // a helper) looks exactly like this, so it is not "nothing to judge".
        let (status, message, evidence) = if to_judge > 0 {
            (
                Status::Error,
                format!("the rule gave no result for the {to_judge} resource(s) of {names} in this scope"),
                scope_evidence(resources, observed),
            )
        } else {
            (
                Status::NotApplicable,
                format!("no {names} in this scope"),
                observed.iter().cloned().collect(),
            )
        };
        out.push(scope_finding(control, scope, status, message, evidence));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, properties: &str) -> (ResourceRecord, String) {
        let record = ResourceRecord {
            provider: "aws".into(),
            account: "123456789012".into(),
            region: "global".into(),
            resource_type: "aws.iam.user".into(),
            resource_id: id.into(),
            properties: Value::Null,
            evidence: vec![],
        };
        (record, properties.into())
    }

    fn certificates(input: &Input) -> regorus::Value {
        input.0["properties"]["credential_report"]["certificates"].clone()
    }

    #[test]
    fn equal_small_containers_of_two_records_are_one_value() {
        let certs = r#"[{"active":false,"number":1},{"active":false,"number":2}]"#;
        let mut builder = InputBuilder::default();
        let (mut a, a_text) = user(
            "a",
            &format!(r#"{{"credential_report":{{"user":"a","certificates":{certs}}}}}"#),
        );
        let (mut b, b_text) = user(
            "b",
            &format!(r#"{{"credential_report":{{"user":"b","certificates":{certs}}}}}"#),
        );
        let (a, b) = (builder.build(&mut a, &a_text), builder.build(&mut b, &b_text));
        let (regorus::Value::Array(x), regorus::Value::Array(y)) = (certificates(&a), certificates(&b)) else {
            panic!("certificates are arrays");
        };
        assert!(std::sync::Arc::ptr_eq(&x, &y), "one shared array");
        // Sharing changes nothing a rule sees: the values equal fresh conversions.
        let fresh: regorus::Value = regorus::Value::from_json_str(certs).unwrap();
        assert_eq!(regorus::Value::Array(x), fresh);
        assert_ne!(
            a.0["properties"]["credential_report"],
            b.0["properties"]["credential_report"]
        );
    }
}
