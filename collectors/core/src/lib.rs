//! The records every evidra collector produces, and the [`Collector`] trait.
//!
//! This crate has no cloud SDK dependencies on purpose: the store, the engine and the
//! reports depend on it, and they must build and test without any SDK.

mod collector;
mod limiter;
mod pipeline;
mod records;

pub use collector::{
    BatchSink, BoxFuture, CollectContext, CollectError, Collector, Progress, ProgressHandle, SinkError, Unit,
};
pub use limiter::TokenBucket;
pub use pipeline::pipelined;
pub use records::{Batch, Evidence, EvidenceSource, Gap, Observation, ResourceRecord, Scope, sha256_hex};

/// Facts about AWS shared by the live and the file collectors.
pub mod aws {
    /// The AWS Config resource types evidra's controls read, as evidra names them.
    /// A region where Config is not recording leaves all of them unknown: a gap.
    pub const CONFIG_RESOURCE_TYPES: [&str; 12] = [
        "aws.cloudtrail.trail",
        "aws.ec2.instance",
        "aws.ec2.security_group",
        "aws.ec2.volume",
        "aws.ec2.vpc",
        "aws.elasticloadbalancingv2.load_balancer",
        "aws.kms.key",
        "aws.lambda.function",
        "aws.rds.db_instance",
        "aws.s3.account_public_access_block",
        "aws.s3.bucket",
        "aws.dynamodb.table",
    ];

    /// The resource type of AWS Config's own state in one region (recorders, snapshot).
    pub const CONFIG_REGION: &str = "aws.config.region";
}
