//! A record's stored properties read into its Rego input: the engine's own reader of
//! JSON text (engine/from_text.rs) against serde_json's path, which scanner findings
//! take. Whatever the text, both must give the same properties.
#![no_main]

use evidra::engine::InputBuilder;
use evidra_collector_core::ResourceRecord;
use libfuzzer_sys::fuzz_target;

fn record(resource_type: &str) -> ResourceRecord {
    ResourceRecord {
        provider: "aws".to_owned(),
        account: "111122223333".to_owned(),
        region: "global".to_owned(),
        resource_type: resource_type.to_owned(),
        resource_id: "arn:aws:iam::111122223333:user/u".to_owned(),
        properties: serde_json::Value::Null,
        evidence: Vec::new(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // One builder each, twice over: the second reading meets the first's shared values.
    let (mut direct, mut parsed) = (InputBuilder::default(), InputBuilder::default());
    for _ in 0..2 {
        let read = direct.build(&mut record("aws.iam.user"), text);
        let through_serde = parsed.build(&mut record(evidra::scan::FINDING), text);
        assert_eq!(read.value()["properties"], through_serde.value()["properties"], "{text}");
    }
});
