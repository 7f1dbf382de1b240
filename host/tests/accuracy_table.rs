//! README's accuracy table, protected cheaply: `tinytrain accuracy --seeds 1` (about a second) must
//! print, for every bundled dataset, exactly the seed-1 score of README's table. A change that moves a
//! score fails here, so the table is re-measured (`cargo run --release -p tinytrain-host --
//! accuracy`) and README updated with it, instead of going stale.

use std::path::Path;
use std::process::Command;

#[test]
fn seed_1_scores_are_the_readmes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[readme
        .find("## Accuracy")
        .expect("README has an Accuracy section")..];
    // `| dataset | rows×features | setting | seed 1 | …`: the dataset's first word and column 4.
    let table: Vec<(String, String)> = section
        .lines()
        .skip_while(|l| !l.starts_with("| dataset |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells[1].split_whitespace().next().unwrap().to_string();
            (name, cells[4].to_string())
        })
        .collect();
    assert_eq!(table.len(), 5, "README's accuracy table: {table:?}");

    let output = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(["accuracy", "--seeds", "1"])
        .current_dir(&root)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for (name, readme_score) in &table {
        let prefix = format!("{name} seed 1: ");
        let measured = text
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no '{prefix}…' line in:\n{text}"));
        assert_eq!(
            measured, readme_score,
            "{name}: seed 1 scores {measured}, README's table says {readme_score}"
        );
    }
}
