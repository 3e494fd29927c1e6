//! Building a run's Rego inputs on every core while the store reads the run.
//!
//! Turning a record's stored JSON into the rules' input (parsing it, then building
//! regorus values) costs about 8 µs a record, and the store's reading a tenth of that:
//! done on the reading thread alone, the 200,000 records of `benches/scale.sh 100000`
//! took 1.6-1.8 s before the first rule could run. Here the reading thread cuts the
//! records into chunks and the cores build them, and the inputs come back in the
//! records' order.

use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use evidra_collector_core::ResourceRecord;
use serde_json::Value;

use super::{Input, InputBuilder};
use crate::store::RunData;

/// What reading a run calls with each record and its stored properties text.
pub type EachRecord<'a> = dyn FnMut(&mut ResourceRecord, &str) + 'a;

/// Records handed to a builder at a time: enough that passing them costs nothing next
/// to building them, few enough (a few MB of text) that the chunks in flight stay small.
const RECORDS_PER_CHUNK: usize = 2048;

/// Reads a run with `read` and builds each record's input on as many threads as the
/// machine has cores. `read` must hand every record, in order, with its stored
/// properties text, to the callback it is given, and return the run's data (as
/// [`crate::store::Store::run_data_with`] does); `inputs[i]` is then the input of
/// `data.resources[i]`, exactly as [`InputBuilder`] builds it.
pub fn build_inputs<E>(read: impl FnOnce(&mut EachRecord) -> Result<RunData, E>) -> Result<(RunData, Vec<Input>), E> {
    let threads = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    if threads <= 1 {
        let mut builder = InputBuilder::default();
        let mut inputs = Vec::new();
        let data = read(&mut |record, properties| inputs.push(builder.build(record, properties)))?;
        return Ok((data, inputs));
    }
    std::thread::scope(|s| {
        let (to_build, jobs) = sync_channel::<Chunk>(2 * threads);
        // Shared by the builders only: when they are all gone (a builder panicked), the
        // receiver goes with them and the reader's next send fails instead of waiting.
        let jobs = Arc::new(Mutex::new(jobs));
        let (to_collect, built) = channel::<(usize, Vec<Built>)>();
        for _ in 0..threads {
            let (jobs, to_collect) = (Arc::clone(&jobs), to_collect.clone());
            s.spawn(move || build_chunks(&jobs, &to_collect));
        }
        drop((jobs, to_collect));
        let read = read_in_chunks(read, &to_build);
        drop(to_build);
        // Every chunk sent comes back unless a builder panicked, and then the scope
        // re-raises that panic when it ends.
        let mut chunks: Vec<(usize, Vec<Built>)> = built.iter().collect();
        let mut data = read?;
        chunks.sort_unstable_by_key(|(index, _)| *index);
        let mut inputs = Vec::with_capacity(data.resources.len());
        for (built, record) in chunks.into_iter().flat_map(|(_, built)| built).zip(&mut data.resources) {
            if let Some(properties) = built.kept_properties {
                record.properties = properties;
            }
            inputs.push(built.input);
        }
        Ok((data, inputs))
    })
}

/// A run of consecutive records: what a builder needs of each, and where they start.
struct Chunk {
    index: usize,
    records: Vec<(ResourceRecord, String)>,
}

/// One record's input, and its parsed properties when the record keeps them (see
/// [`InputBuilder::build`]).
struct Built {
    input: Input,
    kept_properties: Option<Value>,
}

/// Runs `read`, sending its records to the builders in chunks as they come.
fn read_in_chunks<E>(
    read: impl FnOnce(&mut EachRecord) -> Result<RunData, E>,
    to_build: &SyncSender<Chunk>,
) -> Result<RunData, E> {
    let mut chunk = Chunk {
        index: 0,
        records: Vec::with_capacity(RECORDS_PER_CHUNK),
    };
    let send = |chunk: &mut Chunk| {
        let records = std::mem::replace(&mut chunk.records, Vec::with_capacity(RECORDS_PER_CHUNK));
        // Fails only when every builder panicked: the scope re-raises that panic.
        let _ = to_build.send(Chunk {
            index: chunk.index,
            records,
        });
        chunk.index += 1;
    };
    let data = read(&mut |record, properties| {
        // The builder needs the record's names, not its evidence list or properties
        // (the properties are the text beside it).
        let named = ResourceRecord {
            provider: record.provider.clone(),
            account: record.account.clone(),
            region: record.region.clone(),
            resource_type: record.resource_type.clone(),
            resource_id: record.resource_id.clone(),
            properties: Value::Null,
            evidence: Vec::new(),
        };
        chunk.records.push((named, properties.to_owned()));
        if chunk.records.len() == RECORDS_PER_CHUNK {
            send(&mut chunk);
        }
    })?;
    if !chunk.records.is_empty() {
        send(&mut chunk);
    }
    Ok(data)
}

/// A builder thread: builds chunks until the reader is done, each with the same
/// [`InputBuilder`] so that its records share their keys and small values.
fn build_chunks(jobs: &Mutex<Receiver<Chunk>>, to_collect: &std::sync::mpsc::Sender<(usize, Vec<Built>)>) {
    let mut builder = InputBuilder::default();
    loop {
        // A poisoned lock means another builder panicked; that panic ends the scope.
        let next = match jobs.lock() {
            Ok(jobs) => jobs.recv(),
            Err(_) => return,
        };
        let Ok(chunk) = next else { return };
        let built = chunk
            .records
            .into_iter()
            .map(|(mut record, properties)| {
                let input = builder.build(&mut record, &properties);
                let kept_properties = (!record.properties.is_null()).then_some(record.properties);
                Built { input, kept_properties }
            })
            .collect();
        if to_collect.send((chunk.index, built)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of two kinds, the scanner findings among them keeping their properties,
    /// with texts that differ record by record.
    fn records(count: usize) -> Vec<(ResourceRecord, String)> {
        (0..count)
            .map(|i| {
                let kind = if i % 7 == 0 {
                    crate::scan::FINDING
                } else {
                    "aws.iam.user"
                };
                let record = ResourceRecord {
                    provider: "aws".into(),
                    account: format!("{:012}", i % 3),
                    region: "global".into(),
                    resource_type: kind.into(),
                    resource_id: format!("arn:aws:iam::0:user/u{i}"),
                    properties: Value::Null,
                    evidence: vec![format!("{i:064}")],
                };
                let text = if i % 11 == 5 {
                    "not json".to_owned()
                } else {
                    format!(r#"{{"name":"u{i}","keys":[{{"active":{}}}],"n":{i}}}"#, i % 2 == 0)
                };
                (record, text)
            })
            .collect()
    }

    /// A reader like the store's: each record in order, then the run's data.
    fn reader(
        records: &[(ResourceRecord, String)],
        fail_after: Option<usize>,
    ) -> impl FnOnce(&mut EachRecord) -> Result<RunData, String> + '_ {
        move |each| {
            let mut data = RunData::default();
            for (n, (record, text)) in records.iter().enumerate() {
                if fail_after == Some(n) {
                    return Err(format!("the disk went away at record {n}"));
                }
                let mut record = record.clone();
                each(&mut record, text);
                data.resources.push(record);
            }
            Ok(data)
        }
    }

    /// Chunk edges (a full last chunk, and one record past it) lose, double or reorder
    /// nothing: the inputs and the kept properties are those built one by one.
    #[test]
    fn inputs_built_on_every_core_are_those_built_in_order() {
        for count in [0, 1, RECORDS_PER_CHUNK, 3 * RECORDS_PER_CHUNK + 1] {
            let records = records(count);
            let (data, inputs) = build_inputs(reader(&records, None)).unwrap();
            let mut builder = InputBuilder::default();
            let mut expected = Vec::new();
            let mut expected_records = Vec::new();
            for (record, text) in &records {
                let mut record = record.clone();
                expected.push(builder.build(&mut record, text).0);
                expected_records.push(record);
            }
            let inputs: Vec<regorus::Value> = inputs.into_iter().map(|Input(value)| value).collect();
            assert_eq!(inputs, expected, "{count} records");
            assert_eq!(data.resources, expected_records, "{count} records");
            if count > 7 {
                assert!(
                    data.resources[7].properties.is_object(),
                    "a finding keeps its properties"
                );
                assert!(data.resources[1].properties.is_null(), "others do not");
            }
        }
    }

    /// A read that fails part way is that error, after the builders stop: never a hang,
    /// never the records read so far.
    #[test]
    fn a_read_that_fails_part_way_is_that_error() {
        let records = records(5 * RECORDS_PER_CHUNK);
        let outcome = build_inputs(reader(&records, Some(4 * RECORDS_PER_CHUNK + 10)));
        assert_eq!(
            outcome.err(),
            Some(format!("the disk went away at record {}", 4 * RECORDS_PER_CHUNK + 10))
        );
    }
}
