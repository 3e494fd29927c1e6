//! Embeds the built-in control catalogue (`controls/`) and the demo estate
//! (`examples/demo/`) into the binary, so `evidra` works from any folder.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn table(name: &str, root: &Path) -> String {
    let mut code = format!("pub static {name}: &[(&str, &[u8])] = &[\n");
    for path in files(root) {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let abs = path.canonicalize().unwrap_or(path.clone());
        let _ = writeln!(code, "    ({rel:?}, include_bytes!({:?})),", abs.to_string_lossy());
    }
    code.push_str("];\n");
    code
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let mut code = table("CONTROLS", &manifest.join("controls"));
    code.push_str(&table("DEMO", &manifest.join("examples/demo")));
    if let Err(e) = std::fs::write(out.join("embedded.rs"), code) {
        panic!("cannot write embedded.rs: {e}");
    }
    println!("cargo:rerun-if-changed=controls");
    println!("cargo:rerun-if-changed=examples/demo");
}
