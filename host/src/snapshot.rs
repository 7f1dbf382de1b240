//! The snapshot tests' one switch: `TINYTRAIN_BLESS=1` rewrites a snapshot instead of comparing
//! with it (the plot's SVG, the firmware's log, the probe-rs fixture).

/// `true` when `TINYTRAIN_BLESS` is exactly `1` (any other value compares, as unset does). Under CI
/// (`CI` set) blessing is refused with a panic: CI compares every snapshot, it never rewrites one.
pub fn blessing() -> bool {
    let bless = std::env::var_os("TINYTRAIN_BLESS").is_some_and(|v| v == "1");
    assert!(
        !(bless && std::env::var_os("CI").is_some()),
        "TINYTRAIN_BLESS=1 with CI set: CI compares snapshots, it never rewrites them"
    );
    bless
}
