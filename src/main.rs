//! The `evidra` command line. Only argument parsing and printing live here; the work
//! is in the library.

/// See Cargo.toml: allocation-heavy evaluation, measured faster with mimalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use evidra::catalogue::Catalogue;
use evidra::collect::{self, SourceKind, SourceOptions};
use evidra::config::Config;
use evidra::report::{self, Audience, Format};
use evidra::store::{RunStatus, Store, verify};

/// Exit codes (DESIGN.md): 0 done, 1 error, 2 usage, 3 partial run, 4 verification failed.
const EXIT_PARTIAL: u8 = 3;
const EXIT_VERIFY: u8 = 4;

#[derive(Parser)]
#[command(
    name = "evidra",
    version,
    about = "Compliance and audit evidence: collect, evaluate against SOC 2 and ISO 27001, report"
)]
struct Cli {
    /// The evidence store (SQLite).
    #[arg(long, global = true, env = "EVIDRA_DB", default_value = "evidra.db")]
    db: PathBuf,
    /// Settings file (default: ./evidra.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Evaluate at this time instead of the run's start (RFC 3339), to reproduce a
    /// past evaluation.
    #[arg(long, global = true, env = "EVIDRA_NOW", hide = true)]
    now: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole job on the built-in demo estate: collect, evaluate, write reports.
    Demo {
        /// Where to write the reports.
        #[arg(long, default_value = "evidra-out")]
        out: PathBuf,
    },
    /// Collect, store and evaluate one run; prints the run id.
    Collect {
        #[arg(long, value_enum, required = true)]
        source: Vec<SourceArg>,
        /// The folder of exported files (for `--source files`).
        #[arg(long)]
        path: Option<PathBuf>,
        /// Extra control folders, beside the built-in catalogue.
        #[arg(long)]
        controls: Vec<PathBuf>,
        /// Exit 5 when the run has new failures since the previous collection (`new`),
        /// any failure (`fail`), or an open finding past its `[deadlines]` (`overdue`):
        /// a CI gate after a scan follow-up.
        #[arg(long, value_enum)]
        fail_on: Option<FailOn>,
    },
    /// Write a self-contained evidence bundle of one run (zip).
    Export {
        #[arg(long, default_value = "latest")]
        run: String,
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
    /// Check a bundle with no database: exit 4 if any hash, file or signature fails.
    VerifyBundle { bundle: PathBuf },
    /// Verify a bundle, then add its run to the store (a no-op if already there).
    Import { bundle: PathBuf },
    /// Findings that appeared, were fixed or changed status between two runs.
    Diff {
        from: String,
        to: String,
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Remove runs that finished before DATE, sealing a (signed) tombstone into the
    /// chain first so that `verify` still holds and shows what was pruned.
    Prune {
        #[arg(long)]
        before: String,
    },
    /// The follow-up list: every failing finding across runs, oldest first, with the run
    /// that first saw it, its age at the latest run, and whether it is open or overdue.
    Findings {
        /// Only findings still failing in the latest run that covered them.
        #[arg(long)]
        open: bool,
        /// Only findings opened on or after this date (YYYY-MM-DD or RFC 3339).
        #[arg(long, value_parser = date_arg)]
        since: Option<String>,
        /// Only findings of at least this severity.
        #[arg(long, value_enum)]
        severity: Option<SeverityArg>,
        #[arg(long, value_enum, default_value = "text")]
        format: FindingsFormat,
        #[arg(long)]
        controls: Vec<PathBuf>,
    },
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Render a report of one run.
    Report {
        #[arg(long)]
        framework: String,
        #[arg(long, value_enum, default_value = "html")]
        format: FormatArg,
        /// A run id (or unique prefix), or `latest`.
        #[arg(long, default_value = "latest")]
        run: String,
        /// Report over a period instead of one run (SOC 2 Type II): every run evaluated
        /// from this date (YYYY-MM-DD) ...
        #[arg(long, requires = "to", conflicts_with = "run")]
        from: Option<String>,
        /// ... to this date, inclusive. html, pdf or json.
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// `customer`: a redacted 1–3 page summary for prospects (html, pdf or json),
        /// naming no account, resource or person.
        #[arg(long, value_enum, default_value = "auditor")]
        audience: AudienceArg,
        /// Output file (default: stdout).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        #[arg(long)]
        controls: Vec<PathBuf>,
    },
    /// List runs, oldest first.
    Runs {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Recompute every hash and the run chain; exit 4 on any break.
    Verify,
    /// The control catalogue.
    Controls {
        #[command(subcommand)]
        command: ControlsCommand,
    },
    /// Manual evidence for requirements no automated control covers.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
}

#[derive(Subcommand)]
enum EvidenceCommand {
    /// Attach a file (a policy, training records...) to a requirement; it is stored
    /// content-addressed and sealed into the run chain.
    Add {
        #[arg(long)]
        framework: String,
        #[arg(long)]
        requirement: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        note: Option<String>,
        /// Who attaches it (default: $USER).
        #[arg(long)]
        by: Option<String>,
    },
    /// List the attachments of a framework.
    List {
        #[arg(long)]
        framework: String,
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
}

#[derive(Subcommand)]
enum ControlsCommand {
    /// Every control: id, title, severity, requirements.
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Run the controls' own test cases (the built-in ones, plus DIR's).
    Test { dir: Option<PathBuf> },
    /// Check that a rewrite of a control's rule judges as the rule does: both run on
    /// each of the control's test cases, as written and with each property of each
    /// resource removed or set to null, "x", true, false, {}, [] or 0. Exit 1 if any
    /// finding differs.
    Compare {
        /// The control (built-in, or from `controls` in evidra.toml).
        id: String,
        /// The rewritten rule: a .rego file of the control's package.
        rewrite: PathBuf,
        /// List every input whose findings differ, not only the first five.
        #[arg(long)]
        all: bool,
    },
    /// Everything about one control: what it checks, why, how to fix it, its
    /// requirements with their rationale, and its Rego rule.
    Show {
        id: String,
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Every requirement of a framework, with the controls covering it or `manual`.
    Requirements {
        #[arg(long)]
        framework: String,
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Write a new Ed25519 key pair (evidra-signing.key, mode 0600, and .pub) into DIR;
    /// then set `signing_key = "DIR/evidra-signing.key"` in evidra.toml.
    Generate {
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    New,
    Fail,
    Overdue,
}

#[derive(Clone, Copy, ValueEnum)]
enum SeverityArg {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FindingsFormat {
    Text,
    Json,
    Csv,
}

/// `--since`: a date or an RFC 3339 time (a usage error otherwise, exit 2).
fn date_arg(text: &str) -> Result<String, String> {
    evidra::time_fmt::parse_date_or_time(text)
        .map(|_| text.to_owned())
        .ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

/// Exit code of `collect --fail-on` when the gate trips.
const EXIT_GATE: u8 = 5;

#[derive(Clone, Copy, ValueEnum)]
enum SourceArg {
    Files,
    Aws,
    Azure,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Html,
    Pdf,
    Json,
    Csv,
    Oscal,
}

#[derive(Clone, Copy, ValueEnum)]
enum AudienceArg {
    Auditor,
    Customer,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

unsafe extern "C" {
    // mimalloc's option calls (mimalloc.h), linked in with the allocator; `mimalloc`
    // declares them only behind a feature that adds a dependency for two functions.
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Has the allocator keep freed memory for `MILLISECONDS` before handing it back to the
/// kernel, instead of mimalloc's one second.
///
/// A run frees memory in one phase that the next one needs again: the parsed exports
/// before the rules' inputs are built, each control's inputs before the next control's.
/// Handed back after a second, that memory was faulted in again, zeroed, page by page.
/// At 100,000 users (benches/scale.sh) keeping it saved 0.3-0.4 s of kernel time and
/// 0.2-0.3 s of the run, and the peak stayed at 0.75-0.77 GiB: freed memory is reused
/// before more is asked for. (It held only once the seal stopped making large copies,
/// which kept memory cannot serve; see `Store::finish_run`.) Ten seconds is longer than
/// a phase of such a run, and short enough that a larger run still hands back what it
/// no longer uses.
fn keep_freed_memory_longer() {
    /// `mi_option_purge_delay` in mimalloc.h, in v2 and v3 alike (the enum is mimalloc's
    /// ABI: options are added at its end, never renumbered).
    const PURGE_DELAY: std::ffi::c_int = 15;
    /// Its default; any other value is someone's choice (`MIMALLOC_PURGE_DELAY`), kept.
    const DEFAULT: std::ffi::c_long = 1000;
    const MILLISECONDS: std::ffi::c_long = 10_000;
    // SAFETY: both take plain integers; mimalloc reads its options at each use, so they
    // may be set at any time, from any thread.
    unsafe {
        if mi_option_get(PURGE_DELAY) == DEFAULT {
            mi_option_set(PURGE_DELAY, MILLISECONDS);
        }
    }
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing to a closed pipe (`evidra ... | head`) would
    // panic; a command-line tool should end quietly instead, as Unix tools do.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default at startup, before any
    // thread exists, has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // No transparent huge pages for this process. mimalloc asks for them on its large
    // mappings, and it hands memory back to the kernel as it frees it; each huge page
    // faulted in again is 2 MiB zeroed. At 100,000 users (benches/scale.sh) that
    // zeroing was a tenth of all CPU time (perf), and without huge pages the run took
    // 1.2-2.3 s less in three alternating pairs, for the same peak. The same call
    // mimalloc itself makes for MIMALLOC_ALLOW_THP=0; it also covers hosts whose
    // kernel gives huge pages to every mapping (`always`), not only to those asking.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integer arguments and only sets a flag
    // of this process; if the kernel refuses it (too old), nothing changes.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    keep_freed_memory_longer();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // One line: the error and its causes, each said once (our error types often
            // name their cause in their own message already).
            let mut message = e.to_string();
            for cause in e.chain().skip(1) {
                let cause = cause.to_string();
                if !message.contains(&cause) {
                    message.push_str(": ");
                    message.push_str(&cause);
                }
            }
            eprintln!("evidra: error: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Demo { out } => demo(&cli.db, &out, &config, cli.now),
        Command::Collect {
            source,
            path,
            controls,
            fail_on,
        } => {
            if fail_on == Some(FailOn::Overdue) && config.deadlines.is_none() {
                bail!("--fail-on overdue needs remediation deadlines: add [deadlines] to evidra.toml (e.g. high = 30)");
            }
            let catalogue = catalogue(&config, &controls)?;
            let store = open_writer(&cli.db, &config)?;
            let options = SourceOptions {
                path,
                aws: config.aws.clone(),
                azure: config.azure.clone(),
            };
            let collectors = source
                .iter()
                .map(|s| {
                    collect::collector_for(
                        match s {
                            SourceArg::Files => SourceKind::Files,
                            SourceArg::Aws => SourceKind::Aws,
                            SourceArg::Azure => SourceKind::Azure,
                        },
                        &options,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut options = run_options(&config, cli.now)?;
            let bar = evidra::progress::Bar::for_stderr();
            if let Some(bar) = &bar {
                options.progress = bar.handle();
            }
            let outcome = runtime()?.block_on(collect::run_with(&store, &catalogue, &collectors, options));
            if let Some(bar) = &bar {
                bar.finish();
            }
            let outcome = outcome?;
            for id in &outcome.recovered {
                eprintln!("note: run {id} had been interrupted; it is now sealed as partial");
            }
            eprintln!(
                "run {} {}: {} findings, {} gaps, manifest {}",
                outcome.run.id,
                outcome.run.status.as_str(),
                outcome.findings,
                outcome.gaps,
                outcome.run.manifest.as_deref().unwrap_or("-")
            );
            let timings = std::env::var_os("EVIDRA_TIMINGS");
            if let Some(shown) = timings.as_ref().filter(|v| *v == "1" || *v == "all") {
                let t = &outcome.timings;
                eprintln!(
                    "timings: collect {:.2} s, evaluate {:.2} s (reading the run back {:.2} s), seal {:.2} s; {}:",
                    t.collect.as_secs_f64(),
                    t.evaluate.as_secs_f64(),
                    t.load.as_secs_f64(),
                    t.seal.as_secs_f64(),
                    if shown == "all" {
                        "every control"
                    } else {
                        "slowest controls"
                    }
                );
                // `all`: every control, slowest first, for whoever is tuning the rules.
                let listed = if shown == "all" { t.controls.len() } else { 5 };
                for (control, took) in t.controls.iter().take(listed) {
                    eprintln!("  {:>7.2} s  {control}", took.as_secs_f64());
                }
                // Against the evaluation's wall time, how much of it the rules were.
                let all: f64 = t.controls.iter().map(|(_, took)| took.as_secs_f64()).sum();
                eprintln!("  {all:>7.2} s  all {} controls, summed over threads", t.controls.len());
            }
            println!("{}", outcome.run.id);
            if fail_on == Some(FailOn::Overdue) && overdue_gate(&store, &catalogue, &outcome.run, &config)? {
                return Ok(EXIT_GATE);
            }
            if let Some(gate) = fail_on.filter(|g| *g != FailOn::Overdue) {
                let failing: Vec<_> = match (gate, evidra::diff::previous_collection(&store, &outcome.run)?) {
                    (FailOn::New, Some(previous)) => evidra::diff::runs(&store, &previous, &outcome.run)?.new_failures,
                    _ => evidra::diff::findings(&[], &store.findings(&outcome.run.id)?).new_failures,
                };
                if !failing.is_empty() {
                    let what = if gate == FailOn::New {
                        "new failures since the previous run"
                    } else {
                        "failures"
                    };
                    eprintln!("--fail-on: {} {what}", failing.len());
                    for c in failing.iter().take(20) {
                        eprintln!("  {} {} {}", c.control, c.resource, c.message);
                    }
                    return Ok(EXIT_GATE);
                }
            }
            Ok(if outcome.run.status == RunStatus::Partial {
                EXIT_PARTIAL
            } else {
                0
            })
        }
        Command::Report {
            framework,
            format,
            run,
            from,
            to,
            audience,
            output,
            controls,
        } => {
            if let (Some(from), Some(to)) = (&from, &to) {
                let catalogue = catalogue(&config, &controls)?;
                let store = open_existing(&cli.db)?;
                let model =
                    report::period::build(&store, &catalogue, &framework, from, to, config.organisation.clone())?;
                let bytes = match format {
                    FormatArg::Json => report::period::render_json(&model)?,
                    FormatArg::Html => report::period::render_html(&model)?.into_bytes(),
                    FormatArg::Pdf => report::pdf::render_period(&model)?,
                    _ => {
                        eprintln!("evidra: error: a period report (--from/--to) is html, pdf or json");
                        return Ok(2);
                    }
                };
                match output {
                    Some(path) => {
                        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?
                    }
                    None => std::io::stdout().write_all(&bytes)?,
                }
                return Ok(0);
            }
            let format = match format {
                FormatArg::Html => Format::Html,
                FormatArg::Pdf => Format::Pdf,
                FormatArg::Json => Format::Json,
                FormatArg::Csv => Format::Csv,
                FormatArg::Oscal => Format::Oscal,
            };
            let audience = match audience {
                AudienceArg::Auditor => Audience::Auditor,
                AudienceArg::Customer => Audience::Customer,
            };
            if audience == Audience::Customer && matches!(format, Format::Csv | Format::Oscal) {
                // A usage error (exit 2, as clap's own), caught before any work is done.
                eprintln!(
                    "evidra: error: the customer audience is html, pdf or json ({} lists the estate's resources)",
                    format.name()
                );
                return Ok(2);
            }
            let catalogue = catalogue(&config, &controls)?;
            let store = open_existing(&cli.db)?;
            let run = store.resolve_run(&run)?;
            let overdue = match &config.deadlines {
                Some(deadlines) => Some(evidra::followup::Overdue::of(&store, &catalogue, deadlines, &run)?),
                None => None,
            };
            if (format, audience) == (Format::Json, Audience::Auditor) {
                // Written as the findings are read: a million of them never held at once.
                let write = |out: &mut dyn std::io::Write| {
                    let organisation = config.organisation.clone();
                    report::write_json_streamed(
                        &store,
                        &catalogue,
                        &run,
                        &framework,
                        organisation,
                        overdue.as_ref(),
                        out,
                    )
                };
                match output {
                    Some(path) => write_atomically(&path, write)?,
                    None => write(&mut std::io::stdout().lock())?,
                }
                return Ok(0);
            }
            let mut model = report::build(&store, &catalogue, &run, &framework, config.organisation.clone())?;
            if let Some(overdue) = &overdue {
                overdue.flag(&mut model);
            }
            match output {
                Some(path) => write_atomically(&path, |out| report::write_for(&model, format, audience, out))?,
                None => report::write_for(&model, format, audience, &mut std::io::stdout().lock())?,
            }
            Ok(0)
        }
        Command::Runs { format } => {
            let store = open_existing(&cli.db)?;
            let runs = store.runs()?;
            if format == ListFormat::Json {
                println!("{}", serde_json::to_string_pretty(&runs)?);
            } else {
                println!("{:<4} {:<36} {:<20} {:<9} MANIFEST", "#", "RUN", "STARTED", "STATUS");
                for r in runs {
                    let manifest = r.manifest.as_deref().map(|m| &m[..16.min(m.len())]).unwrap_or("-");
                    println!(
                        "{:<4} {:<36} {:<20} {:<9} {manifest}",
                        r.seq,
                        r.id,
                        r.started_at,
                        r.status.as_str()
                    );
                }
            }
            Ok(0)
        }
        Command::Export { run, output } => {
            let catalogue = catalogue(&config, &[])?;
            let store = open_existing(&cli.db)?;
            let run = store.resolve_run(&run)?;
            let mut reports = Vec::new();
            for framework in catalogue.frameworks.keys() {
                let model = report::build(&store, &catalogue, &run, framework, config.organisation.clone())?;
                for format in [Format::Json, Format::Html] {
                    reports.push((
                        format!("{framework}.{}", format.extension()),
                        report::render(&model, format)?,
                    ));
                }
            }
            let signer = signer(&config)?;
            let files = evidra::bundle::export(&store, &run, reports, signer.as_ref(), &output)?;
            eprintln!(
                "wrote {} ({files} files, run {}, {})",
                output.display(),
                run.id,
                if signer.is_some() {
                    "signed"
                } else {
                    "unsigned: set signing_key in evidra.toml to sign"
                }
            );
            Ok(0)
        }
        Command::VerifyBundle { bundle } => {
            let check = evidra::bundle::verify(&bundle)?;
            if check.problems.is_empty() {
                let signed = match &check.signed_by {
                    Some(key) => format!("signed by key {key}"),
                    None => "UNSIGNED: integrity checked, origin not proven".into(),
                };
                println!(
                    "ok: {}: run {}, {} files verified, {signed}",
                    bundle.display(),
                    check.run_id.as_deref().unwrap_or("?"),
                    check.files
                );
                Ok(0)
            } else {
                for p in &check.problems {
                    println!("BROKEN: {p}");
                }
                eprintln!(
                    "{}: verification failed ({} problem(s))",
                    bundle.display(),
                    check.problems.len()
                );
                Ok(EXIT_VERIFY)
            }
        }
        Command::Import { bundle } => {
            let store = Store::open(&cli.db)?;
            let (check, run) = evidra::bundle::import(&store, &bundle)?;
            if !check.problems.is_empty() {
                for p in &check.problems {
                    println!("BROKEN: {p}");
                }
                eprintln!("{}: not imported: verification failed", bundle.display());
                return Ok(EXIT_VERIFY);
            }
            match run {
                Some(run) => eprintln!(
                    "imported run {} ({}) from {}",
                    run.id,
                    run.status.as_str(),
                    bundle.display()
                ),
                None => eprintln!(
                    "run {} is already in the store; nothing to do",
                    check.run_id.as_deref().unwrap_or("?")
                ),
            }
            println!("{}", check.run_id.unwrap_or_default());
            Ok(0)
        }
        Command::Findings {
            open,
            since,
            severity,
            format,
            controls,
        } => findings(&cli.db, &config, open, since, severity, format, &controls),
        Command::Diff { from, to, format } => {
            let store = open_existing(&cli.db)?;
            let (from, to) = (store.resolve_run(&from)?, store.resolve_run(&to)?);
            let diff = evidra::diff::runs(&store, &from, &to)?;
            if format == ListFormat::Json {
                println!("{}", serde_json::to_string_pretty(&diff)?);
                return Ok(0);
            }
            println!(
                "from run {} ({}) to run {} ({})",
                from.id, from.started_at, to.id, to.started_at
            );
            for (title, changes) in [
                ("new failures", &diff.new_failures),
                ("fixed", &diff.fixed),
                ("changed status", &diff.changed),
                ("findings gone", &diff.disappeared),
            ] {
                println!("\n{title} ({})", changes.len());
                for c in changes {
                    let before = c.before.as_deref().unwrap_or("-");
                    let after = c.after.as_deref().unwrap_or("-");
                    println!(
                        "  {before:>14} -> {after:<14} {} {}  {}",
                        c.control, c.resource, c.message
                    );
                }
            }
            println!(
                "\nresources appeared ({}), disappeared ({})",
                diff.resources_appeared.len(),
                diff.resources_disappeared.len()
            );
            for r in &diff.resources_appeared {
                println!("  + {r}");
            }
            for r in &diff.resources_disappeared {
                println!("  - {r}");
            }
            Ok(0)
        }
        Command::Prune { before } => {
            if evidra::time_fmt::parse_date_or_time(&before).is_none() || before.len() != 10 {
                bail!("--before {before}: not a date (YYYY-MM-DD)");
            }
            let store = open_writer(&cli.db, &config)?;
            match store.prune(&before, &evidra::time_fmt::now())? {
                Some(p) => {
                    eprintln!(
                        "pruned {} run(s) and {} evidence blob(s); tombstone run {}",
                        p.runs.len(),
                        p.blobs,
                        p.tombstone.id
                    );
                    println!("{}", p.tombstone.id);
                }
                None => eprintln!("nothing to prune: no run before the latest finished before {before}"),
            }
            Ok(0)
        }
        Command::Keys {
            command: KeysCommand::Generate { dir },
        } => {
            let (secret, public) = evidra::signing::generate(&dir)?;
            println!(
                "wrote {} (keep it secret; mode 0600) and {}",
                secret.display(),
                public.display()
            );
            println!(
                "sign every run and bundle: add `signing_key = \"{}\"` to evidra.toml",
                secret.display()
            );
            Ok(0)
        }
        Command::Verify => {
            let store = open_existing(&cli.db)?;
            let report = verify::verify(&store)?;
            if report.problems.is_empty() {
                println!(
                    "ok: {} runs and {} evidence blobs verified; the chain holds",
                    report.runs, report.blobs
                );
                for p in &report.pruned {
                    println!("note: {p}");
                }
                Ok(0)
            } else {
                for p in &report.problems {
                    println!("BROKEN: {p}");
                }
                eprintln!(
                    "verification failed: {} problem(s) in {}",
                    report.problems.len(),
                    cli.db.display()
                );
                Ok(EXIT_VERIFY)
            }
        }
        Command::Controls { command } => controls(command, &config),
        Command::Evidence { command } => evidence(command, &cli.db, &config),
    }
}

fn run_options(config: &Config, now: Option<String>) -> Result<collect::RunOptions> {
    let exceptions = config
        .exceptions
        .as_deref()
        .map(collect::ExceptionsFile::read)
        .transpose()?;
    Ok(collect::RunOptions {
        evaluated_at: now,
        exceptions,
        ..collect::RunOptions::default()
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn catalogue(config: &Config, extra: &[PathBuf]) -> Result<Catalogue> {
    let mut dirs = config.controls.clone();
    dirs.extend(extra.iter().cloned());
    Ok(Catalogue::with_dirs(&dirs)?)
}

/// Opens a store that must already exist (reports and checks never create one).
/// The signing key named in `evidra.toml`, if any.
fn signer(config: &Config) -> Result<Option<evidra::signing::Signer25519>> {
    Ok(config
        .signing_key
        .as_deref()
        .map(evidra::signing::Signer25519::load)
        .transpose()?)
}

/// Opens (creating) the store for writing runs, signing them when a key is configured.
fn open_writer(path: &Path, config: &Config) -> Result<Store> {
    let mut store = Store::open(path)?;
    if let Some(signer) = signer(config)? {
        store.set_signer(signer);
    }
    Ok(store)
}

/// Writes `path` through `write`, into a temporary file beside it renamed into place at
/// the end: a failed or killed report never leaves half a file under the report's name.
fn write_atomically<E>(path: &Path, write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), E>) -> Result<()>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let result = std::fs::File::create(&partial)
        .with_context(|| format!("cannot write {}", path.display()))
        .and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            write(&mut out)?;
            Ok(())
        })
        .and_then(|()| std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display())));
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn open_existing(path: &Path) -> Result<Store> {
    if !path.exists() {
        bail!(
            "{}: no evidence store here (run `evidra collect` or `evidra demo` first, or pass --db)",
            path.display()
        );
    }
    Ok(Store::open(path)?)
}

fn demo(db: &Path, out: &Path, config: &Config, now: Option<String>) -> Result<u8> {
    let catalogue = catalogue(config, &[])?;
    let store = open_writer(db, config)?;
    let collectors: Vec<Box<dyn evidra_collector_core::Collector>> = vec![Box::new(evidra::demo::collector())];
    let mut options = run_options(config, now)?;
    if options.exceptions.is_none() {
        options.exceptions = Some(evidra::demo::exceptions()?);
    }
    let outcome = runtime()?.block_on(collect::run_with(&store, &catalogue, &collectors, options))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let organisation = config
        .organisation
        .clone()
        .or_else(|| Some("Acme Analytics (demo)".into()));
    println!(
        "evidra demo: run {} ({}) in {}",
        outcome.run.id,
        outcome.run.status.as_str(),
        db.display()
    );
    println!(
        "  {} findings, {} gaps in coverage, manifest {}",
        outcome.findings,
        outcome.gaps,
        outcome.run.manifest.as_deref().unwrap_or("-")
    );
    for framework in ["soc2", "iso27001"] {
        let model = report::build(&store, &catalogue, &outcome.run, framework, organisation.clone())?;
        let mut written = Vec::new();
        for format in [Format::Html, Format::Pdf, Format::Json] {
            let path = out.join(format!("{framework}.{}", format.extension()));
            std::fs::write(&path, report::render(&model, format)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
            written.push(path.display().to_string());
        }
        let n = |s: &str| model.summary.by_status.get(s).copied().unwrap_or(0);
        println!(
            "  {:<20} {:>3} requirements: {:>3} passing, {:>3} failing, {:>3} error, {:>3} manual, {:>3} waived, {:>3} n/a",
            model.framework.name,
            model.summary.requirements,
            n("pass"),
            n("fail"),
            n("error"),
            n("manual"),
            n("waived"),
            n("not_applicable")
        );
        println!("  {:<20} {}", "", written.join(", "));
    }
    println!(
        "Open {} in a browser; `evidra verify` checks the evidence chain.",
        out.join("soc2.html").display()
    );
    Ok(0)
}

fn evidence(command: EvidenceCommand, db: &Path, config: &Config) -> Result<u8> {
    let catalogue = catalogue(config, &[])?;
    match command {
        EvidenceCommand::Add {
            framework,
            requirement,
            file,
            note,
            by,
        } => {
            let Some(fw) = catalogue.framework(&framework) else {
                bail!(
                    "unknown framework `{framework}` (known: {})",
                    catalogue.frameworks.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            };
            if fw.requirement(&requirement).is_none() {
                bail!(
                    "`{requirement}` is not a requirement of {} (see `evidra controls requirements --framework {framework}`)",
                    fw.name
                );
            }
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| file.display().to_string());
            let by = by
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "unknown".into());
            let store = open_writer(db, config)?;
            let new = evidra::store::NewAttachment {
                framework: &framework,
                requirement: &requirement,
                file_name: &file_name,
                bytes,
                note: note.as_deref(),
                added_by: &by,
            };
            let run = store.add_attachment(new, &evidra::time_fmt::now())?;
            eprintln!(
                "attached {file_name} to {framework} {requirement} (sealed as run {}); it appears in reports of runs collected from now on",
                run.id
            );
            println!("{}", run.id);
            Ok(0)
        }
        EvidenceCommand::List { framework, format } => {
            let store = open_existing(db)?;
            let attachments = store.attachments(&framework, None)?;
            if format == ListFormat::Json {
                println!("{}", serde_json::to_string_pretty(&attachments)?);
            } else {
                for a in attachments {
                    println!(
                        "{:<8} {:<40} {}  {} by {}{}",
                        a.requirement,
                        a.file_name,
                        &a.sha256[..16],
                        a.added_at,
                        a.added_by,
                        a.note.map(|n| format!(": {n}")).unwrap_or_default()
                    );
                }
            }
            Ok(0)
        }
    }
}

/// `collect --fail-on overdue`: whether any finding is open past its deadline after `run`
/// (the follow-up list up to it), naming the first few on stderr.
fn overdue_gate(store: &Store, catalogue: &Catalogue, run: &evidra::store::Run, config: &Config) -> Result<bool> {
    let overdue: Vec<_> = evidra::followup::track(store, catalogue, Some(run), config.deadlines.as_ref())?
        .into_iter()
        .filter(|t| t.overdue)
        .collect();
    if overdue.is_empty() {
        return Ok(false);
    }
    eprintln!("--fail-on: {} findings past their remediation deadline", overdue.len());
    for t in overdue.iter().take(20) {
        eprintln!(
            "  {} {} open {} days ({} deadline {} days) {}",
            t.control,
            t.resource.id,
            t.age_days,
            t.severity,
            t.deadline_days.unwrap_or_default(),
            t.message
        );
    }
    Ok(true)
}

/// `evidra findings`: the follow-up list.
fn findings(
    db: &Path,
    config: &Config,
    open: bool,
    since: Option<String>,
    severity: Option<SeverityArg>,
    format: FindingsFormat,
    controls: &[PathBuf],
) -> Result<u8> {
    let catalogue = catalogue(config, controls)?;
    let store = open_existing(db)?;
    let filter = evidra::followup::Filter {
        open_only: open,
        since: since.as_deref().and_then(evidra::time_fmt::parse_date_or_time),
        min_severity: severity.map(|s| {
            match s {
                SeverityArg::Critical => "critical",
                SeverityArg::High => "high",
                SeverityArg::Medium => "medium",
                SeverityArg::Low => "low",
                SeverityArg::Info => "info",
            }
            .to_owned()
        }),
    };
    let list: Vec<_> = evidra::followup::track(&store, &catalogue, None, config.deadlines.as_ref())?
        .into_iter()
        .filter(|t| filter.keeps(t))
        .collect();
    match format {
        FindingsFormat::Json => println!("{}", serde_json::to_string_pretty(&list)?),
        FindingsFormat::Csv => std::io::stdout().write_all(&evidra::followup::csv(&list)?)?,
        FindingsFormat::Text => {
            println!(
                "{:<10} {:>5} {:<8} {:<14} {:<7} {:<48} RESOURCE",
                "OPENED", "AGE", "SEVERITY", "STATUS", "DUE", "CONTROL"
            );
            for t in &list {
                let due = match (t.overdue, t.deadline_days) {
                    (true, _) => "OVERDUE".to_owned(),
                    (false, Some(d)) if t.open => format!("{}d", d - t.age_days),
                    _ => "-".to_owned(),
                };
                println!(
                    "{:<10} {:>4}d {:<8} {:<14} {:<7} {:<48} {}",
                    t.first_seen.at.get(..10).unwrap_or_default(),
                    t.age_days,
                    t.severity,
                    t.status,
                    due,
                    t.control,
                    t.resource.id
                );
            }
            let open = list.iter().filter(|t| t.open).count();
            let overdue = list.iter().filter(|t| t.overdue).count();
            println!(
                "\n{} findings: {open} open ({overdue} overdue), {} not open (fixed, gone or waived)",
                list.len(),
                list.len() - open
            );
        }
    }
    Ok(0)
}

fn controls(command: ControlsCommand, config: &Config) -> Result<u8> {
    match command {
        ControlsCommand::Show { id, format } => {
            let catalogue = catalogue(config, &[])?;
            let Some(c) = catalogue.control(&id) else {
                bail!("no control `{id}` (see `evidra controls list`)");
            };
            if format == ListFormat::Json {
                println!("{}", serde_json::to_string_pretty(c)?);
                return Ok(0);
            }
            println!("{}  [{}]\n{}\n", c.id, c.severity.as_str(), c.title);
            let context = if c.context_types.is_empty() {
                String::new()
            } else {
                format!(" ({} only as context)", c.context_types.join(", "))
            };
            println!(
                "Reads: {}{context}\nDefined in: {} and {}\n",
                c.resource_types.join(", "),
                c.source,
                c.rego_source
            );
            println!("What it checks\n  {}\n", c.description.trim().replace('\n', "\n  "));
            println!("Why it matters\n  {}\n", c.rationale.trim().replace('\n', "\n  "));
            println!("Requirements");
            for m in &c.requirements {
                let title = catalogue
                    .framework(&m.framework)
                    .and_then(|f| f.requirement(&m.id))
                    .map(|r| r.title.clone())
                    .unwrap_or_default();
                println!("  {} {} ({title})\n      {}", m.framework, m.id, m.rationale);
            }
            println!("\nHow to fix\n  {}", c.remediation.summary);
            for (label, text) in [
                ("Console", &c.remediation.console),
                ("CLI", &c.remediation.cli),
                ("Terraform", &c.remediation.terraform),
            ] {
                if let Some(text) = text {
                    println!("  {label}:\n    {}", text.trim().replace('\n', "\n    "));
                }
            }
            println!("\nRule ({})\n{}", c.rego_source, c.rego);
            println!(
                "Test cases: {}",
                c.tests.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join("; ")
            );
            Ok(0)
        }
        ControlsCommand::Requirements { framework, format } => {
            let catalogue = catalogue(config, &[])?;
            let Some(fw) = catalogue.framework(&framework) else {
                bail!(
                    "unknown framework `{framework}` (known: {})",
                    catalogue.frameworks.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            };
            let rows: Vec<serde_json::Value> = fw
                .requirements
                .iter()
                .map(|r| {
                    let controls: Vec<&str> = catalogue
                        .controls_for(&framework, &r.id)
                        .map(|c| c.id.as_str())
                        .collect();
                    serde_json::json!({
                        "framework": framework, "id": r.id, "family": r.family, "title": r.title,
                        "coverage": if controls.is_empty() { "manual" } else { "automated" },
                        "controls": controls,
                        "manual": if controls.is_empty() { Some(&r.manual) } else { None },
                    })
                })
                .collect();
            if format == ListFormat::Json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for r in &rows {
                    let controls = r["controls"]
                        .as_array()
                        .map(|c| c.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", "))
                        .unwrap_or_default();
                    let what = if controls.is_empty() {
                        format!("manual: {}", r["manual"].as_str().unwrap_or_default())
                    } else {
                        controls
                    };
                    println!(
                        "{:<8} {:<60} {what}",
                        r["id"].as_str().unwrap_or_default(),
                        r["title"].as_str().unwrap_or_default()
                    );
                }
                let automated = rows.iter().filter(|r| r["coverage"] == "automated").count();
                println!(
                    "\n{}: {} requirements, {automated} covered by automated controls, {} manual",
                    fw.name,
                    rows.len(),
                    rows.len() - automated
                );
            }
            Ok(0)
        }
        ControlsCommand::List { format } => {
            let catalogue = catalogue(config, &[])?;
            if format == ListFormat::Json {
                println!("{}", serde_json::to_string_pretty(&catalogue.controls)?);
            } else {
                for c in &catalogue.controls {
                    let soc2 = c.requirement_ids("soc2").join(",");
                    let iso = c.requirement_ids("iso27001").join(",");
                    println!(
                        "{:<44} {:<9} {}  [SOC 2 {soc2}; ISO {iso}]",
                        c.id,
                        c.severity.as_str(),
                        c.title
                    );
                }
            }
            Ok(0)
        }
        ControlsCommand::Compare { id, rewrite, all } => {
            let catalogue = catalogue(config, &[])?;
            let Some(control) = catalogue.controls.iter().find(|c| c.id == id) else {
                bail!("no control `{id}` (evidra controls list shows them)");
            };
            let text =
                std::fs::read_to_string(&rewrite).with_context(|| format!("cannot read {}", rewrite.display()))?;
            let comparison = evidra::engine::rewrite::compare(control, &rewrite.display().to_string(), &text)?;
            let inputs = format!(
                "{} inputs ({} test cases as written, and with each property of each resource changed)",
                comparison.inputs, comparison.cases
            );
            if comparison.differences.is_empty() {
                println!("{id}: the same findings on all {inputs}");
                return Ok(0);
            }
            println!(
                "{id}: the findings differ on {} of {inputs}:",
                comparison.differences.len()
            );
            let shown = |findings: &[evidra::store::StoredFinding]| -> String {
                if findings.is_empty() {
                    return "no finding".into();
                }
                findings
                    .iter()
                    .map(|f| {
                        // A failed rule's message quotes regorus's report, lines and all.
                        let message = f.message.split_whitespace().collect::<Vec<_>>().join(" ");
                        format!("{} on {}: \"{message}\"", f.status, f.resource_id)
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let shown_at_most = if all { usize::MAX } else { 5 };
            for d in comparison.differences.iter().take(shown_at_most) {
                println!("- case \"{}\", {}", d.case, d.change);
                println!("    rule:    {}", shown(&d.old));
                println!("    rewrite: {}", shown(&d.new));
            }
            if comparison.differences.len() > shown_at_most {
                println!(
                    "  ({} more; --all lists them)",
                    comparison.differences.len() - shown_at_most
                );
            }
            Ok(1)
        }
        ControlsCommand::Test { dir } => {
            let catalogue = catalogue(config, dir.as_slice())?;
            let controls: Vec<_> = match &dir {
                Some(d) => {
                    let prefix = d.display().to_string();
                    catalogue
                        .controls
                        .iter()
                        .filter(|c| c.source.starts_with(&prefix))
                        .collect()
                }
                None => catalogue.controls.iter().collect(),
            };
            let results = evidra::engine::testing::run_all(controls.iter().copied());
            let failed: Vec<_> = results.iter().filter(|r| !r.failures.is_empty()).collect();
            for r in &failed {
                for f in &r.failures {
                    println!("FAIL {} / {}: {f}", r.control, r.case);
                }
            }
            let without: Vec<&str> = controls
                .iter()
                .filter(|c| c.tests.is_empty())
                .map(|c| c.id.as_str())
                .collect();
            for id in &without {
                println!("FAIL {id}: has no test cases");
            }
            let warned: Vec<_> = evidra::engine::testing::malformed_checks(controls.iter().copied())
                .into_iter()
                .filter(|r| !r.failures.is_empty())
                .collect();
            for r in &warned {
                for f in &r.failures {
                    println!("WARN {} / {}: {f}", r.control, r.case);
                }
            }
            println!(
                "{} passed, {} failed{}",
                results.len() - failed.len(),
                failed.len() + without.len(),
                match warned.len() {
                    0 => String::new(),
                    n => format!("; {n} rule(s) warned: a malformed record fails them for their whole scope"),
                }
            );
            Ok(if failed.is_empty() && without.is_empty() { 0 } else { 1 })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::{CStr, c_char, c_void};

    unsafe extern "C" {
        fn mi_options_print_out(out: unsafe extern "C" fn(*const c_char, *mut c_void), arg: *mut c_void);
    }

    /// Appends one line mimalloc prints to the `String` behind `arg`.
    unsafe extern "C" fn append(message: *const c_char, arg: *mut c_void) {
        // SAFETY: mimalloc passes a NUL-terminated message, and `arg` is the test's String.
        unsafe { (*arg.cast::<String>()).push_str(&CStr::from_ptr(message).to_string_lossy()) }
    }

    /// The option set by number is the purge delay, by mimalloc's own name for it.
    #[test]
    fn freed_memory_is_kept_ten_seconds_by_mimallocs_purge_delay() {
        super::keep_freed_memory_longer();
        let mut printed = String::new();
        // SAFETY: `append` matches mimalloc's output function and gets `printed` as arg.
        unsafe { mi_options_print_out(append, (&raw mut printed).cast()) };
        assert!(printed.contains("option 'purge_delay': 10000"), "{printed}");
    }
}
