//! Which account and region a file belongs to. Some exports name neither (a password
//! policy, an account summary), so we look at the folder and its neighbours, and say
//! so clearly when we cannot tell: guessing would file evidence under the wrong account.

use std::path::Path;

pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// `arn:partition:service:region:account:resource` → account (may be empty or `aws`).
pub fn account_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

pub fn region_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-4`...
pub fn looks_like_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// A 12-digit account ID in a folder name of `path` (`aws-111122223333/iam/...`).
pub fn account_in_path(path: &Path) -> Option<String> {
    path.parent()?.components().rev().find_map(|c| {
        let name = c.as_os_str().to_string_lossy();
        name.split(|ch: char| !ch.is_ascii_digit())
            .find(|part| is_account_id(part))
            .map(str::to_owned)
    })
}

/// A region name among the folder names of `path` (`config/eu-west-1/...`).
pub fn region_in_path(path: &Path) -> Option<String> {
    path.parent()?.components().rev().find_map(|c| {
        let name = c.as_os_str().to_string_lossy();
        looks_like_region(&name).then(|| name.into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_accounts_in_paths() {
        assert!(looks_like_region("us-gov-west-1"));
        assert!(looks_like_region("eu-west-1"));
        assert!(!looks_like_region("config"));
        assert!(!looks_like_region("aws-111122223333"));
        assert_eq!(
            account_in_path(Path::new("aws-111122223333/iam/policy.json")).as_deref(),
            Some("111122223333")
        );
        assert_eq!(
            region_in_path(Path::new("a/config/eu-west-1/status.json")).as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(account_in_path(Path::new("policy.json")), None);
    }
}
