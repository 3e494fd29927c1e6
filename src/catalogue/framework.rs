//! A framework (SOC 2, ISO/IEC 27001:2022): its families and requirements, each with
//! what an auditor expects when no automated control covers it.

use serde::{Deserialize, Serialize};

use super::{CatalogueError, line_of};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub id: String,
    pub name: String,
    pub version: String,
    #[serde(rename = "family")]
    pub families: Vec<Family>,
    #[serde(rename = "requirement")]
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub id: String,
    pub family: String,
    pub title: String,
    /// The evidence an auditor expects when no automated control covers the requirement.
    pub manual: String,
}

impl Framework {
    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }

    pub fn family(&self, id: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.id == id)
    }
}

pub fn parse(file: &str, text: &str) -> Result<Framework, CatalogueError> {
    let framework: Framework = toml::from_str(text).map_err(|e| CatalogueError::Parse {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    let mut seen = std::collections::BTreeSet::new();
    for requirement in &framework.requirements {
        let line = line_of(text, &format!("id = \"{}\"", requirement.id));
        if !seen.insert(requirement.id.as_str()) {
            return Err(CatalogueError::Invalid {
                file: file.to_owned(),
                line,
                what: format!("requirement `{}` is listed twice", requirement.id),
            });
        }
        if framework.family(&requirement.family).is_none() {
            return Err(CatalogueError::Invalid {
                file: file.to_owned(),
                line,
                what: format!(
                    "requirement `{}` names unknown family `{}`",
                    requirement.id, requirement.family
                ),
            });
        }
    }
    Ok(framework)
}
