//! Times are RFC 3339 in UTC, to the second, everywhere: in the store, in manifests and
//! in reports. One format means string order is time order.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn format(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

pub fn now() -> String {
    format(OffsetDateTime::now_utc())
}

pub fn parse(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(text, &Rfc3339)
}

/// Accepts `2026-11-20` or a full RFC 3339 time; a bare date is midnight UTC.
pub fn parse_date_or_time(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = parse(text) {
        return Some(t);
    }
    parse(&format!("{text}T00:00:00Z")).ok()
}
