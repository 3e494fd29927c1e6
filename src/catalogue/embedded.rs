//! The files `build.rs` embedded: `CONTROLS` (relative to `controls/`) and `DEMO`
//! (relative to `examples/demo/`).

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
