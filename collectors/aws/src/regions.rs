//! `regions = "all"`: the regions enabled in an account, asked of the account itself
//! (`account:ListRegions`), so opt-in regions nobody enabled are neither probed nor
//! reported as unreadable, and a region enabled tomorrow is read without a config change.

use aws_sdk_account::Client;
use aws_sdk_account::types::RegionOptStatus;
use evidra_collector_core::Scope;
use evidra_collector_core::aws::{CONFIG_REGION, CONFIG_RESOURCE_TYPES};

use crate::gap::gap;
use crate::reader::Reader;

pub const OP: &str = "account:ListRegions";

/// Every resource type read per region: what an account's regions being unknown hides.
pub fn regional_types() -> Vec<&'static str> {
    let mut types = vec![CONFIG_REGION, crate::config::RULE, crate::config::PACK];
    types.extend(CONFIG_RESOURCE_TYPES);
    types
}

/// The account's enabled regions (`ENABLED` or `ENABLED_BY_DEFAULT`), sorted, with every
/// page of the listing kept as evidence (disabled regions included: that a region is off
/// is part of the picture). `None` when they cannot be listed, with a gap covering every
/// region of the account: falling back to a guessed list would hide regions from the
/// audit without saying so.
pub async fn enabled(reader: &mut Reader, client: &Client, account: &str) -> Option<Vec<String>> {
    let pages = reader
        .pages(
            OP,
            |token| client.list_regions().max_results(50).set_next_token(token).send(),
            |out| out.next_token().map(str::to_owned),
        )
        .await;
    let pages = match pages {
        Ok(pages) => pages,
        Err(error) => {
            let scope = Scope::new("aws", account, "*");
            reader.gap(gap(reader.collector, &scope, OP, error, &regional_types()));
            return None;
        }
    };
    let mut regions: Vec<String> = pages
        .iter()
        .flat_map(|(_, page)| page.regions())
        .filter(|r| {
            matches!(
                r.region_opt_status(),
                Some(RegionOptStatus::Enabled | RegionOptStatus::EnabledByDefault)
            )
        })
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    regions.sort();
    regions.dedup();
    Some(regions)
}
