use serde::Serialize;

/// A finding's status (DESIGN.md, "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Error,
    NotApplicable,
    Waived,
    Manual,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::NotApplicable => "not_applicable",
            Status::Waived => "waived",
            Status::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pass" => Status::Pass,
            "fail" => Status::Fail,
            "error" => Status::Error,
            "not_applicable" => Status::NotApplicable,
            "waived" => Status::Waived,
            "manual" => Status::Manual,
            _ => return None,
        })
    }

    /// The statuses a rule may return; waivers and manual evidence are the engine's.
    pub fn from_rule(text: &str) -> Option<Self> {
        Self::parse(text).filter(|s| matches!(s, Status::Pass | Status::Fail | Status::Error | Status::NotApplicable))
    }

    /// How bad: the worst status wins when findings are summed up.
    pub fn rank(self) -> u8 {
        match self {
            Status::Fail => 5,
            Status::Error => 4,
            Status::Waived => 3,
            Status::Pass => 2,
            Status::Manual => 1,
            Status::NotApplicable => 0,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
