//! Compile-time shape checks of `tinytrain::network!`: widths that do not chain, a dropout
//! probability ≥ 1 and a first layer that is not dense must each fail to compile, with the
//! message of `Plan::of_const`'s panic (the `.stderr` snapshots in `tests/ui/`, generated with
//! `TRYBUILD=overwrite` on the pinned rustc 1.95.0 and checked by hand to show that message, not an
//! unrelated error). A valid network compiles and runs, so the failures are about the shapes.

#[test]
fn network_shapes_are_checked_at_compile_time() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/valid_network.rs");
    t.compile_fail("tests/ui/width_mismatch.rs");
    t.compile_fail("tests/ui/dropout_p_one.rs");
    t.compile_fail("tests/ui/first_layer_not_dense.rs");
}
