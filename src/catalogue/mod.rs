//! The control catalogue: frameworks (SOC 2, ISO 27001) and controls, loaded from
//! `controls/` (embedded in the binary) plus any folders the user adds.
//!
//! A control is data: `<provider>/<service>/<name>.toml` (what it checks, why, how to
//! fix, which requirements it serves, its test cases) and `<name>.rego` beside it (the
//! rule). Loading is strict: unknown keys, unknown requirements, duplicate IDs and Rego
//! that does not compile are errors naming the file and line, because a silently
//! ignored typo in a control is a requirement that silently stops being checked.

mod control;
mod embedded;
mod framework;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use control::{Control, Expect, Mapping, Remediation, Severity, TestCase, TestGap, TestResource};
pub use framework::{Family, Framework, Requirement};

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}:{line}: {what}")]
    Invalid { file: String, line: usize, what: String },
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
}

/// Where control files come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The catalogue built into the binary.
    BuiltIn,
    /// A folder of the user's own controls (and, optionally, `frameworks/`).
    Dir(PathBuf),
}

/// A file of the catalogue: its display path and its text.
struct File {
    display: String,
    rel: String,
    text: String,
}

#[derive(Debug, Clone)]
pub struct Catalogue {
    pub frameworks: BTreeMap<String, Framework>,
    /// Sorted by ID.
    pub controls: Vec<Control>,
    /// SHA-256 over every file loaded (path and content): which catalogue judged a run.
    pub hash: String,
}

impl Catalogue {
    /// The built-in catalogue.
    pub fn builtin() -> Result<Self, CatalogueError> {
        Self::load(&[Source::BuiltIn])
    }

    /// The built-in catalogue plus the user's folders.
    pub fn with_dirs(dirs: &[PathBuf]) -> Result<Self, CatalogueError> {
        let mut sources = vec![Source::BuiltIn];
        sources.extend(dirs.iter().cloned().map(Source::Dir));
        Self::load(&sources)
    }

    pub fn load(sources: &[Source]) -> Result<Self, CatalogueError> {
        let mut files = Vec::new();
        for source in sources {
            match source {
                Source::BuiltIn => {
                    for (rel, bytes) in embedded::CONTROLS {
                        let text = String::from_utf8(bytes.to_vec()).map_err(|e| CatalogueError::Parse {
                            file: format!("controls/{rel}"),
                            message: format!("not UTF-8: {e}"),
                        })?;
                        files.push(File {
                            display: format!("controls/{rel}"),
                            rel: (*rel).to_owned(),
                            text,
                        });
                    }
                }
                Source::Dir(dir) => files.extend(read_dir(dir)?),
            }
        }
        build(files)
    }

    /// A catalogue from files in memory: (path relative to the catalogue's root, as in
    /// `controls/`, and text). The fuzz target loads controls this way.
    pub fn from_texts(texts: impl IntoIterator<Item = (String, String)>) -> Result<Self, CatalogueError> {
        let mut files: Vec<File> = texts
            .into_iter()
            .map(|(rel, text)| File {
                display: rel.clone(),
                rel,
                text,
            })
            .collect();
        // As `read_dir` does, so the result does not depend on the order given.
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        build(files)
    }

    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }

    pub fn framework(&self, id: &str) -> Option<&Framework> {
        self.frameworks.get(id)
    }

    /// The controls mapped to `framework`'s requirement `requirement`.
    pub fn controls_for<'a>(
        &'a self,
        framework: &'a str,
        requirement: &'a str,
    ) -> impl Iterator<Item = &'a Control> + 'a {
        self.controls.iter().filter(move |c| {
            c.requirements
                .iter()
                .any(|m| m.framework == framework && m.id == requirement)
        })
    }
}

fn read_dir(root: &Path) -> Result<Vec<File>, CatalogueError> {
    let io = |path: &Path, source| CatalogueError::Io {
        file: path.display().to_string(),
        source,
    };
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let entry = entry.map_err(|e| io(&dir, e))?;
            let path = entry.path();
            if entry.file_type().map_err(|e| io(&path, e))?.is_dir() {
                pending.push(path);
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("toml" | "rego")) {
                let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(File {
                    display: path.display().to_string(),
                    rel,
                    text,
                });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// 1-based line of the first occurrence of `needle` in `text` (1 when absent).
pub(crate) fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map(|at| text[..at].lines().count().max(1))
        .unwrap_or(1)
}

fn build(files: Vec<File>) -> Result<Catalogue, CatalogueError> {
    let mut hasher_input = Vec::new();
    let mut frameworks = BTreeMap::new();
    let mut rego: BTreeMap<String, &File> = BTreeMap::new();
    let mut tomls = Vec::new();
    for file in &files {
        hasher_input.extend_from_slice(file.rel.as_bytes());
        hasher_input.push(0);
        hasher_input.extend_from_slice(evidra_collector_core::sha256_hex(file.text.as_bytes()).as_bytes());
        hasher_input.push(b'\n');
        if file.rel.starts_with("frameworks/") && file.rel.ends_with(".toml") {
            let framework = framework::parse(&file.display, &file.text)?;
            if let Some(existing) = frameworks.insert(framework.id.clone(), framework) {
                return Err(CatalogueError::Invalid {
                    file: file.display.clone(),
                    line: 1,
                    what: format!("framework `{}` is defined twice", existing.id),
                });
            }
        } else if file.rel.ends_with(".rego") {
            rego.insert(file.rel.trim_end_matches(".rego").to_owned(), file);
        } else if file.rel.ends_with(".toml") {
            tomls.push(file);
        }
    }
    let mut controls: Vec<Control> = Vec::new();
    for file in tomls {
        let stem = file.rel.trim_end_matches(".toml");
        let rule = rego.remove(stem).ok_or_else(|| CatalogueError::Invalid {
            file: file.display.clone(),
            line: 1,
            what: format!("no rule beside it: expected {stem}.rego"),
        })?;
        let control = control::parse(&file.display, &file.text, stem, &rule.display, &rule.text, &frameworks)?;
        if let Some(other) = controls.iter().find(|c| c.id == control.id) {
            return Err(CatalogueError::Invalid {
                file: file.display.clone(),
                line: line_of(&file.text, "id"),
                what: format!("control `{}` is already defined in {}", control.id, other.source),
            });
        }
        controls.push(control);
    }
    if let Some((_, orphan)) = rego.into_iter().next() {
        return Err(CatalogueError::Invalid {
            file: orphan.display.clone(),
            line: 1,
            what: "a rule with no control file (.toml) beside it".into(),
        });
    }
    controls.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Catalogue {
        frameworks,
        controls,
        hash: evidra_collector_core::sha256_hex(&hasher_input),
    })
}

/// The demo estate embedded at build time: (path relative to `examples/demo/`, bytes).
pub fn demo_files() -> &'static [(&'static str, &'static [u8])] {
    embedded::DEMO
}
