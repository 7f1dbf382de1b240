//! Where the firmware of `train --device` is built, and how.
//!
//! The sources are packed into this binary (`host/build.rs`) and unpacked once into the cache,
//! `$TINYTRAIN_CACHE`, else `$XDG_CACHE_HOME/tinytrain`, else `~/.cache/tinytrain`:
//!
//! * `src-<key>/` — the sources of this version (`<key>`: a hash of their bytes);
//! * `target/` — cargo's target directory, shared by every build, so a second run only recompiles
//!   the generated experiment;
//! * `runs/<key>/` — the generated experiments ([`super::generate`]).
//!
//! `TINYTRAIN_FIRMWARE=DIR` builds from the `firmware/` directory of a checkout instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use super::boards::Board;

/// The packed sources (see `host/build.rs` for the layout).
static SOURCES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/firmware-sources.bin"));

/// The Cortex-M4F target every board of [`super::boards::BOARDS`] builds for.
pub const TARGET: &str = "thumbv7em-none-eabihf";

/// The cache directory (see the module documentation).
pub fn cache_dir() -> anyhow::Result<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("TINYTRAIN_CACHE") {
        return Ok(dir);
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Ok(dir.join("tinytrain"));
    }
    match var("HOME") {
        Some(home) => Ok(home.join(".cache").join("tinytrain")),
        None => bail!("no cache directory: set TINYTRAIN_CACHE (or HOME)"),
    }
}

/// The cache key of a set of bytes (content-addressed directories).
pub fn key(parts: &[&[u8]]) -> String {
    format!("{:016x}", crate::hash::fnv64(parts))
}

/// The packed files: `(path relative to the project root, bytes)`.
fn files() -> anyhow::Result<Vec<(&'static str, &'static [u8])>> {
    fn take(rest: &mut &'static [u8], n: usize) -> anyhow::Result<&'static [u8]> {
        if rest.len() < n {
            bail!("internal error: the packed firmware sources are cut short");
        }
        let (head, tail) = rest.split_at(n);
        *rest = tail;
        Ok(head)
    }
    fn length(rest: &mut &'static [u8]) -> anyhow::Result<usize> {
        let bytes: [u8; 4] = take(rest, 4)?.try_into()?;
        Ok(u32::from_le_bytes(bytes) as usize)
    }
    let mut rest = SOURCES;
    let mut files = Vec::new();
    while !rest.is_empty() {
        let n = length(&mut rest)?;
        let path = std::str::from_utf8(take(&mut rest, n)?).context("a packed path")?;
        let n = length(&mut rest)?;
        files.push((path, take(&mut rest, n)?));
    }
    Ok(files)
}

/// The packed file at `path` (relative to the project root), as text.
pub fn packed(path: &str) -> anyhow::Result<&'static str> {
    let (_, bytes) = files()?
        .into_iter()
        .find(|(p, _)| *p == path)
        .ok_or_else(|| anyhow::anyhow!("internal error: {path} is not packed"))?;
    std::str::from_utf8(bytes).with_context(|| format!("{path} is not UTF-8"))
}

/// The key of the packed sources (part of every cache key).
pub fn sources_key() -> String {
    key(&[SOURCES])
}

/// The `firmware/` directory to build in: `TINYTRAIN_FIRMWARE`, or the packed sources unpacked into
/// the cache (once; into a temporary directory renamed into place, so an interrupted unpacking is
/// never used).
pub fn sources(cache: &Path) -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("TINYTRAIN_FIRMWARE").filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        if !dir.join("Cargo.toml").is_file() || !dir.join("src/bin/device.rs").is_file() {
            bail!(
                "TINYTRAIN_FIRMWARE={}: not a tinytrain firmware directory (no Cargo.toml and src/bin/device.rs)",
                dir.display()
            );
        }
        return Ok(dir);
    }
    let root = cache.join(format!("src-{}", sources_key()));
    if !root.is_dir() {
        let partial = cache.join(format!("src-partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&partial);
        for (path, bytes) in files()? {
            let file = partial.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&file, bytes)
                .with_context(|| format!("cannot write {}", file.display()))?;
        }
        make_executable(&partial.join("firmware/qemu-run.sh"))?;
        if let Err(e) = std::fs::rename(&partial, &root) {
            // Another run unpacked the same sources first: use theirs.
            let _ = std::fs::remove_dir_all(&partial);
            if !root.is_dir() {
                return Err(e).with_context(|| format!("cannot create {}", root.display()));
            }
        }
    }
    Ok(root.join("firmware"))
}

/// Removes from `cargo`'s environment what a cargo or rustup that started this program may have
/// set, so that the firmware's own `rust-toolchain.toml` and `.cargo/config.toml` decide.
pub fn clean_environment(cargo: &mut Command) {
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC",
        "RUSTC_WRAPPER",
        "RUSTUP_TOOLCHAIN",
    ] {
        cargo.env_remove(var);
    }
}

/// `true` if `program` is on `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// `cargo build --release --bin BIN` (`device`, or `stream`) for `board` in `firmware`, the
/// experiment in `run` (the generated directory), cargo's output passed to stderr unless `quiet`.
/// Returns the ELF.
pub fn build(
    firmware: &Path,
    board: &Board,
    bin: &str,
    run: &Path,
    target_dir: &Path,
    quiet: bool,
) -> anyhow::Result<PathBuf> {
    let features = format!("{},{},device", board.transport(), board.feature);
    let mut cargo = Command::new(std::env::var_os("TINYTRAIN_CARGO").unwrap_or("cargo".into()));
    clean_environment(&mut cargo);
    cargo.env("CARGO_TARGET_DIR", target_dir);
    cargo
        .current_dir(firmware)
        .args(["build", "--release", "--bin", bin, "--no-default-features"])
        .args(["--features", &features])
        .env("TINYTRAIN_DEVICE_RUN", run)
        // No stray built-in weights.
        .env_remove("TINYTRAIN_INIT_WEIGHTS")
        .env_remove("TINYTRAIN_INIT_EXPERIMENT");
    if board.transport() == "rtt" && on_path("flip-link") {
        // Knurling's flip-link puts the stack below the statics, so an overflow faults instead of
        // silently overwriting the model (as `cargo run-f411` links).
        cargo.args(["--config", &format!("target.{TARGET}.linker='flip-link'")]);
    }
    if quiet {
        cargo.arg("--quiet");
    }
    let output = cargo
        .stdout(std::process::Stdio::null())
        .stderr(if quiet {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::inherit()
        })
        .output()
        .context("cannot run cargo (the firmware is built with cargo and rustup)")?;
    if !output.status.success() {
        let errors = String::from_utf8_lossy(&output.stderr);
        let hint = if errors.contains(TARGET) && errors.contains("rustup target add") {
            format!("\nthe firmware's toolchain lacks the {TARGET} target: run `rustup target add {TARGET}` in {}", firmware.display())
        } else {
            String::new()
        };
        bail!(
            "building the firmware for {} failed ({}){hint}\n{}",
            board.name,
            output.status,
            errors.trim_end()
        );
    }
    Ok(target_dir.join(TARGET).join("release").join(bin))
}
